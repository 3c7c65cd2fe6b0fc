"""The one place that seeds, compiles and fits: schedules, clipping and callbacks.

A script and a user's own code get the same training from :func:`fit` (and the
same data from :mod:`periodic_keras.data`).
"""

from __future__ import annotations

import contextlib
import os

import keras
import tensorflow as tf

from periodic_keras._io import STATE, dir_lock
from periodic_keras.signals import check_positive_int
from periodic_keras.training import backups, distributed

__all__ = [
    "ResetStatesEvery", "adam_cosine", "compile_binary_classifier", "compile_regressor", "fit", "clear_backups",
    "fit_closed_loop", "reset_rnn_states", "set_seed",
]


def set_seed(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras so weight init and dropout repeat.

    >>> set_seed(0)
    """
    keras.utils.set_random_seed(int(seed))


def adam_cosine(steps: int, learning_rate: float = 3e-3, final_fraction: float = 0.01, warmup_steps: int = 0,
                clipnorm: float | None = 1.0) -> keras.optimizers.Adam:
    """Adam on a cosine-decay schedule with global gradient-norm clipping.

    The rate decays from ``learning_rate`` to ``learning_rate * final_fraction`` over
    ``steps`` optimizer steps, after an optional linear warm-up; the global gradient
    norm is clipped to ``clipnorm`` so a bad batch cannot blow a run up.

    >>> round(float(adam_cosine(100, 1e-2).learning_rate), 6)
    0.01
    """
    check_positive_int(steps=steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate if not warmup_steps else 0.0,
        decay_steps=max(steps - warmup_steps, 1),
        alpha=final_fraction,
        warmup_target=learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
    return keras.optimizers.Adam(schedule, global_clipnorm=clipnorm)


def compile_regressor(
    model: keras.Model,
    steps: int,
    learning_rate: float = 3e-3,
    final_fraction: float = 0.01,
    warmup_steps: int = 0,
    clipnorm: float | None = 1.0,
) -> keras.Model:
    """Compile ``model`` with :func:`adam_cosine`, MSE loss and MAE metric.

    Example:

    >>> from periodic_keras.models import frequency_regressor
    >>> m = compile_regressor(frequency_regressor(64, 1, 20, lstm_units=4, dense_units=4), steps=10)
    >>> m.loss
    'mse'
    """
    model.compile(optimizer=adam_cosine(steps, learning_rate, final_fraction, warmup_steps, clipnorm),
                  loss="mse", metrics=["mae"])
    return model


def compile_binary_classifier(model: keras.Model, steps: int, learning_rate: float = 1e-2,
                              final_fraction: float = 0.01, clipnorm: float | None = 1.0) -> keras.Model:
    """Compile a model with sigmoid outputs: :func:`adam_cosine`, binary cross-entropy, accuracy.

    Example:

    >>> from periodic_keras.models import burst_model
    >>> compile_binary_classifier(burst_model(4), steps=10).loss
    'binary_crossentropy'
    """
    model.compile(optimizer=adam_cosine(steps, learning_rate, final_fraction, 0, clipnorm),
                  loss="binary_crossentropy", metrics=["binary_accuracy"])
    return model


def fit(
    model: keras.Model,
    train: tf.data.Dataset,
    steps: int,
    validation: tf.data.Dataset | None = None,
    steps_per_epoch: int = 500,
    run_dir: str | None = None,
    tensorboard: bool = False,
    verbose: int | str = "auto",
    callbacks=(),
    strategy=None,
    run_args: dict | None = None,
) -> keras.callbacks.History:
    """Train a compiled model for ``steps`` optimizer steps on an endless dataset.

    Training is cut into equal epochs of at most ``steps_per_epoch`` steps so progress
    and validation show regularly (1920 steps: 4 epochs of 480; when ``steps`` does not
    divide evenly, the epochs round up, by less than one step per epoch). With ``run_dir``, an
    atomic backup (:mod:`periodic_keras.training.backups`: weights, optimizer state, finished epochs)
    is written to ``run_dir/.periodic_keras/backup`` after every epoch, so the same call after
    a crash (even ``kill -9``) resumes at the last finished epoch; it stays when training
    completes (a repeated call then trains nothing) until :func:`clear_backups` removes it.
    The backup is refused, naming what differs, when this call trains something else: another
    model, optimizer or schedule, ``steps``, data spec, or ``run_args`` (a JSON-able dict of
    what the model cannot show: seed, data options). A second process fitting into the same
    ``run_dir`` at the same time is refused. TensorBoard logs go to ``run_dir/logs`` when
    ``tensorboard`` is set.

    ``strategy``: a ``tf.distribute`` strategy the model was built and compiled under
    (:func:`get_strategy`). ``model.fit`` runs under ``default`` and ``mirrored``; under
    ``multi-worker`` (where Keras 3's ``model.fit`` fails) :func:`periodic_keras.training.fit_custom`
    trains with ``strategy.run`` instead, with its own backups in ``run_dir``.

    Example:

    >>> from periodic_keras.data import frequency_dataset
    >>> from periodic_keras.models import frequency_regressor
    >>> m = compile_regressor(frequency_regressor(64, 1, 20, lstm_units=4, dense_units=4), steps=2)
    >>> h = fit(m, frequency_dataset(window=64, fmin=1, fmax=20, batch_size=8), steps=2, verbose=0)
    >>> len(h.history["loss"])
    1
    """
    check_positive_int(steps=steps, steps_per_epoch=steps_per_epoch)
    if strategy is not None and distributed.is_multi_worker(strategy):
        if callbacks:
            raise ValueError(f"multi-worker training runs a custom loop without Keras callbacks; got "
                             f"{[type(c).__name__ for c in callbacks]}: use strategy 'default' or 'mirrored'")
        return distributed.fit_custom(model, train, steps, strategy, steps_per_epoch, validation, run_dir, verbose,
                                      run_args)
    epochs = -(-steps // steps_per_epoch)
    per_epoch = -(-steps // epochs)
    callbacks = list(callbacks)
    with contextlib.ExitStack() as stack:
        first = 0
        if run_dir is not None:
            stack.enter_context(dir_lock(os.path.join(run_dir, STATE), f"the run directory {run_dir!r}", "run"))
            key = dict(data=train.element_spec, run_args=run_args)
            first = backups.restore(run_dir, model, epochs, per_epoch, **key)
            if first >= epochs:  # finished before: nothing to run (and no data iterator to start)
                history = keras.callbacks.History()
                history.set_model(model)
                history.on_train_begin()
                return history
            callbacks.append(_Backup(run_dir, epochs, per_epoch, key))
            if tensorboard:
                callbacks.append(keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")))
        # Keras needs one steps_per_epoch for every epoch; a few rounded-up steps past the end of
        # a schedule built for `steps` run at its floor rate.
        return model.fit(
            train,
            steps_per_epoch=per_epoch,
            epochs=epochs,
            initial_epoch=first,  # resumed: the epochs already in the backup are not run again
            validation_data=validation,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # the streams are already random; Keras cannot shuffle a tf.data pipeline
        )


class _Backup(keras.callbacks.Callback):
    """Write an atomic :mod:`periodic_keras.training.backups` backup at the end of every epoch."""

    def __init__(self, run_dir, epochs, per_epoch, key):
        super().__init__()
        self.run_dir, self.epochs, self.per_epoch, self.key = run_dir, epochs, per_epoch, key

    def on_epoch_end(self, epoch, logs=None):
        backups.save(self.run_dir, self.model, epoch + 1, self.epochs, self.per_epoch, **self.key)


def clear_backups(run_dir: str) -> None:
    """Remove the training backups of ``run_dir`` (its ``.periodic_keras/backup`` folder only).

    >>> clear_backups("/nonexistent/run")
    """
    backups.clear(run_dir)


def fit_closed_loop(model: keras.Model, train: tf.data.Dataset, steps: int, warm: int, verbose: int = 0,
                    run_dir: str | None = None, backup_every: int = 100, run_args: dict | None = None) -> list:
    """Fine-tune a compiled sequence generator closed-loop for ``steps`` optimizer steps.

    Each batch ``(x, y)`` or ``(x, y, sample_weight)`` of windows is run by
    :func:`periodic_keras.models.rollout`: teacher-forced on the (noisy)
    inputs ``x`` for ``warm`` steps, then fed its own predictions; the loss is the
    (weighted) MSE against ``y`` over the warm-up plus that over the free-running
    steps (the two parts count equally), so errors that grow in free running
    (a slightly wrong period, a drifting amplitude) are trained away. It continues the
    compiled optimizer (its state, step count and learning-rate schedule), so call it
    after :func:`fit` on the steps that the schedule has left.

    With ``run_dir`` an atomic backup is written every ``backup_every`` steps, and the
    same call after a crash resumes from it (as :func:`fit` does, with ``run_args``).

    Returns the loss of every 100th step (of the steps run by this call).
    """
    from periodic_keras.models import rollout

    check_positive_int(steps=steps, warm=warm)
    window = train.element_spec[0].shape[1]
    if window is not None and window <= warm:
        raise ValueError(f"the windows ({window} steps) leave no free-running step after warm={warm}")
    optimizer, variables = model.optimizer, model.trainable_variables

    @tf.function
    def step(batch):
        x, y = batch[0], batch[1]
        w = batch[2] if len(batch) > 2 else tf.ones(tf.shape(y)[:2])
        with tf.GradientTape() as tape:
            err = tf.square(rollout(model, x, warm, training=True) - y)[..., 0] * w
            loss = tf.reduce_mean(err[:, :warm]) + tf.reduce_mean(err[:, warm:])
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    check_positive_int(backup_every=backup_every)
    chunks = -(-steps // backup_every)
    key = dict(data=train.element_spec, run_args={**(run_args or {}), "warm": warm})
    done = 0 if run_dir is None else backups.restore(run_dir, model, chunks, backup_every, **key) * backup_every
    losses = []
    if done >= steps:  # finished before (iterating take(0) of some pipelines blocks)
        return losses
    for i, batch in enumerate(train.take(steps - done), start=done):
        loss = step(batch)
        if i % 100 == 0:
            losses.append(float(loss))
            if verbose:
                print(f"closed-loop step {i}/{steps}: loss {losses[-1]:.3g}", flush=True)
        if run_dir is not None and ((i + 1) % backup_every == 0 or i + 1 == steps):
            backups.save(run_dir, model, -(-(i + 1) // backup_every), chunks, backup_every, **key)
    return losses


def reset_rnn_states(model: keras.Model) -> int:
    """Reset the state of every stateful recurrent layer in ``model``; return how many.

    Keras 3 dropped ``Model.reset_states``; this walks nested layers and calls
    ``layer.reset_state()`` on each ``stateful=True`` one.
    """
    layers = [l for l in model._flatten_layers(include_self=False) if getattr(l, "stateful", False)]
    for layer in layers:
        layer.reset_state()
    return len(layers)


class ResetStatesEvery(keras.callbacks.Callback):
    """Reset stateful RNN layers before every ``every``-th training batch (and at the start).

    Use with :func:`periodic_keras.data.stateful_windows`: pass its
    ``windows_per_sequence`` so the state is carried across the windows of one group
    of sequences and reset when the next group starts. The count runs across epochs.

    Example:

    >>> cb = ResetStatesEvery(10)
    >>> cb.every
    10
    """

    def __init__(self, every: int):
        super().__init__()
        check_positive_int(every=every)
        self.every = every
        self._batches = 0

    def on_train_begin(self, logs=None):
        self._batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        if self._batches % self.every == 0:
            reset_rnn_states(self.model)
        self._batches += 1
