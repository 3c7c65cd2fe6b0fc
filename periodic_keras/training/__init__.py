"""Training: seeding, compiling, fitting with atomic backups and resume, and distribution.

- :func:`set_seed`, :func:`adam_cosine`, :func:`compile_regressor`,
  :func:`compile_binary_classifier`: the one place that seeds and compiles.
- :func:`fit` (``model.fit`` with epochs cut from steps, backups every epoch, resume after a
  crash, any of :data:`STRATEGIES`), :func:`fit_closed_loop`, :class:`ResetStatesEvery`,
  :func:`reset_rnn_states`, :func:`clear_backups`.
- ``tf.distribute``: :func:`get_strategy`, :func:`fit_custom` (the multi-worker loop that
  Keras 3's ``model.fit`` cannot run), :func:`is_multi_worker`, :func:`local_model`,
  :func:`worker_dirs`, :func:`worker_info`; :mod:`periodic_keras.training.backups` holds the
  backup files themselves.

>>> from periodic_keras import training
>>> training.set_seed(0)
>>> training.STRATEGIES
('default', 'mirrored', 'multi-worker')
"""

from periodic_keras.training import backups
from periodic_keras.training.cluster import worker_info
from periodic_keras.training.distributed import (STRATEGIES, fit_custom, get_strategy, is_multi_worker, local_model,
                                                 worker_dirs)
from periodic_keras.training.fit import (ResetStatesEvery, adam_cosine, clear_backups, compile_binary_classifier,
                                         compile_regressor, fit, fit_closed_loop, reset_rnn_states, set_seed)

__all__ = ["STRATEGIES", "ResetStatesEvery", "adam_cosine", "backups", "clear_backups", "compile_binary_classifier",
           "compile_regressor", "fit", "fit_closed_loop", "fit_custom", "get_strategy", "is_multi_worker",
           "local_model", "reset_rnn_states", "set_seed", "worker_dirs", "worker_info"]
