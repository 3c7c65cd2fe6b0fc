"""Distribution strategies, and a training loop for when ``model.fit`` cannot distribute.

``--strategy`` on the training scripts (and ``strategy=`` on the jobs) picks one of
:data:`STRATEGIES`:

- ``default``: no distribution (one device).
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over the local devices; ``model.fit`` works.
- ``multi-worker``: ``tf.distribute.MultiWorkerMirroredStrategy`` over the machines listed in
  ``TF_CONFIG`` (read as TensorFlow does). Keras 3.15's ``model.fit`` fails under it
  (keras-team/keras#20585), so :func:`fit_custom` trains instead: ``strategy.run`` of one
  step per replica (``model.compute_loss``, the compiled optimizer), gradients all-reduced,
  the loss reduced across workers, the data sharded by element (every worker keeps its part
  of each global batch, so N workers see exactly the batches one worker would).

Backups (:mod:`periodic_keras.training.backups`): with a ``run_dir`` every worker saves its (identical)
variables at the end of each epoch, atomically, under ``run_dir/backup`` (the chief) or
``run_dir/backup/worker-<i>``; the same command after a crash resumes from there.
"""

from __future__ import annotations

import os
import time

import numpy as np

from periodic_keras.training import backups
from periodic_keras.training.cluster import worker_info

__all__ = ["STRATEGIES", "fit_custom", "get_strategy", "is_multi_worker", "local_model", "worker_dirs", "worker_info"]

STRATEGIES = ("default", "mirrored", "multi-worker")

_MULTI_WORKER = None  # MultiWorkerMirroredStrategy must be created once per process


def get_strategy(name: str = "default"):
    """The ``tf.distribute`` strategy called ``name`` (one of :data:`STRATEGIES`).

    ``multi-worker`` needs ``TF_CONFIG`` and must be asked for before TensorFlow runs any
    op in the process (the jobs do it first); the strategy is created once and reused.

    >>> get_strategy("default").num_replicas_in_sync
    1
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}: expected one of {STRATEGIES}")
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    global _MULTI_WORKER
    if _MULTI_WORKER is None:
        if "TF_CONFIG" not in os.environ:
            raise ValueError("strategy 'multi-worker' needs TF_CONFIG: set it on every machine to the cluster "
                             "and this machine's task (see docs/reliability.md)")
        worker_info()  # validate before TensorFlow tries
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING)
        _MULTI_WORKER = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    return _MULTI_WORKER


def is_multi_worker(strategy) -> bool:
    """Whether ``strategy`` is a ``MultiWorkerMirroredStrategy`` (``model.fit`` cannot run under it)."""
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def worker_dirs(output_dir: str, export_dir):
    """Where this worker writes: the chief uses ``output_dir``/``export_dir``; worker ``i`` writes
    its results to ``output_dir/worker-<i>`` and exports nothing (its model equals the chief's).

    >>> worker_dirs("runs/freq", "exported/freq") if "TF_CONFIG" not in os.environ else None
    ('runs/freq', 'exported/freq')
    """
    info = worker_info()
    if info["chief"]:
        return output_dir, export_dir
    return os.path.join(output_dir, f"worker-{info['index']}"), None


def local_model(model):
    """A copy of ``model`` with the same weights, built outside any strategy (plain variables).

    Use it to evaluate, predict and export after distributed training.
    """
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _all_layers(model):
    stack = list(model.layers)
    while stack:
        layer = stack.pop()
        yield layer
        stack.extend(getattr(layer, "layers", []))


def fit_custom(model, train, steps: int, strategy, steps_per_epoch: int = 500, validation=None, run_dir=None,
               verbose: int = 1, run_args=None):
    """Train a compiled ``model`` for ``steps`` steps with ``strategy.run`` (a custom loop).

    ``model`` must have been built and compiled inside ``strategy.scope()``. ``train``
    yields ``(x, y)`` or ``(x, y, sample_weight)`` global batches; epochs are cut as
    :func:`periodic_keras.training.fit` cuts them. Stateful models and Keras callbacks
    are not supported here (``model.fit`` is, under the other strategies).

    Returns a ``keras.callbacks.History`` with ``loss`` (and ``val_loss``) per epoch.
    """
    import keras
    import tensorflow as tf


    stateful = [layer.name for layer in _all_layers(model) if getattr(layer, "stateful", False)]
    if stateful:
        raise ValueError(f"multi-worker training does not support stateful layers ({', '.join(stateful)}): "
                         "their batch size is fixed, while each worker gets part of every batch")
    if model.optimizer is None:
        raise ValueError("compile the model (inside strategy.scope()) before training it")
    epochs = -(-steps // steps_per_epoch)
    per_epoch = -(-steps // epochs)
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    iterator = iter(strategy.experimental_distribute_dataset(train.with_options(options)))
    replicas = strategy.num_replicas_in_sync

    def replica_step(data):
        x, y, weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=weight)
            scaled = loss / replicas  # gradients are summed over replicas
        grads = tape.gradient(scaled, model.trainable_variables)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_steps(n):
        total = tf.constant(0.0)
        for _ in tf.range(n):
            total += strategy.reduce(tf.distribute.ReduceOp.MEAN, strategy.run(replica_step, args=(next(iterator),)),
                                     axis=None)
        return total / tf.cast(n, tf.float32)

    def validation_loss():
        losses = []
        for batch in validation:
            x, y, weight = keras.utils.unpack_x_y_sample_weight(batch)
            losses.append(float(model.compute_loss(x=x, y=y, y_pred=model(x, training=False), sample_weight=weight)))
        return float(np.mean(losses))

    key = dict(data=train.element_spec, run_args=run_args)
    first = 0 if run_dir is None else backups.restore(run_dir, model, epochs, per_epoch, **key)
    history = keras.callbacks.History()
    history.set_model(model)
    history.on_train_begin()
    for epoch in range(first, epochs):
        start = time.time()
        logs = {"loss": float(train_steps(tf.constant(per_epoch)))}
        if validation is not None:
            logs["val_loss"] = validation_loss()
        history.on_epoch_end(epoch, logs)
        if run_dir is not None:
            backups.save(run_dir, model, epoch + 1, epochs, per_epoch, **key)
        if verbose and worker_info()["chief"]:
            figures = " - ".join(f"{k}: {v:.4g}" for k, v in logs.items())
            print(f"Epoch {epoch + 1}/{epochs} ({replicas} replicas) - {time.time() - start:.0f}s - {figures}",
                  flush=True)
    return history
