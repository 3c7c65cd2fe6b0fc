"""Many-to-one LSTM frequency regressor: raw sine window in, cycles per window out.

Everything a deployed model needs lives inside the graph: per-window standardisation
of the input (so amplitude and DC offset do not matter) and the scaling of the output
to cycles per window, so the exported model takes the raw window and returns the
frequency with no pre- or post-processing.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from periodic_keras.layers import PeakPosterior, SpectralFeatures, ToneRefinement, gelu_tanh
from periodic_keras.signals import check_frequency_range, check_hedge, check_nonnegative_int, check_positive_int

# Further spectral peaks the refinement also starts from (the best fit wins).
_CANDIDATES = 2
#: Temperature of the posterior-mean hedge: 1.25 measured best of 0.75-1.5 at -3 and -6 dB
#: (20 000 windows per SNR, N = 100, f in [1, 30]; 1.0 is slightly better at -10 dB).
HEDGE_TEMPERATURE = 1.25

__all__ = ["FRONTENDS", "HEDGE_TEMPERATURE", "REFINE_FROM", "frequency_regressor", "inference_variant", "micro_variant"]

#: Front ends in front of the LSTM. ``"spectral"``: the LSTM sweeps an oversampled DFT of
#: the window bin by bin (features relative to the peak bin) and regresses the offset
#: from the peak bin's frequency. ``"conv"``: Conv1D feature extractor, then the LSTM runs over
#: time (4x shorter sequence). ``"none"``: the LSTM reads the raw samples (the classic setup).
FRONTENDS = ("spectral", "conv", "none")
#: Where :func:`frequency_regressor`'s refinement starts: the LSTM's estimate and the spectral
#: peaks (the best fit wins), or the LSTM's estimate alone.
REFINE_FROM = ("all", "lstm")


def frequency_regressor(
    window: int = 100,
    fmin: float = 1.0,
    fmax: float = 30.0,
    frontend: str = "spectral",
    lstm_units: int = 24,
    dense_units: int = 64,
    oversample: int = 2,
    dropout: float = 0.0,
    refine_steps: int = 3,
    hedge: float | str | None = HEDGE_TEMPERATURE,
    bin_stride: int = 4,
    bidirectional: bool = False,
    refine_from: str = "all",
    bin_units: int = 32,
    name: str = "frequency_regressor",
) -> keras.Model:
    """Build the functional many-to-one LSTM regressor for sine-window frequency.

    Input: raw windows ``(batch, window, 1)`` (float32). Output: ``(batch, 1)``, the
    frequency in cycles per window. Train it with MSE on ``(window, frequency)`` pairs,
    for example from :func:`periodic_keras.data.frequency_dataset`.

    Args:
        window: samples per window.
        fmin, fmax: frequency range (cycles per window); the output is scaled to it.
        frontend: one of :data:`FRONTENDS`.
        lstm_units: LSTM width.
        dense_units: width of the dense layer after the LSTM.
        oversample: DFT oversampling of the spectral front end.
        dropout: dropout rate after the dense layer (0 disables it).
        refine_steps: Gauss–Newton steps of :class:`periodic_keras.layers.ToneRefinement`
            started from the LSTM's estimate and (spectral front end) the three strongest
            spectral peaks, the best fit kept (0: none). The refined estimate is the least-squares
            (maximum-likelihood) one in the chosen basin.
        hedge: with ``refine_steps``, move the refined estimate towards the posterior mean
            over the band's peaks (:class:`periodic_keras.layers.PeakPosterior`): below the
            ML estimator's threshold SNR this is what a minimum-mean-square-error estimator
            does; above it the refined estimate passes unchanged. A number is the
            posterior's temperature (:data:`HEDGE_TEMPERATURE` by default); ``"learned"``
            learns one per window from the LSTM's features and the fit's SNR (``softplus``,
            starting at :data:`HEDGE_TEMPERATURE`; MSE training over the SNR range pulls it
            towards the lowest SNRs' needs); ``None``: no hedge.
        bin_stride: with the spectral front end, a strided ``Conv1D`` shortens the bin
            sequence the LSTM sweeps by this factor (1: no convolution; faster on a device).
        bidirectional: the spectral front end's LSTM sweeps the bins both ways (else upwards).
        refine_from: ``"all"``: the refinement starts from the LSTM's estimate and the spectral
            peaks; ``"lstm"``: from the LSTM's estimate only (one fit instead of four: the small
            microcontroller model, whose LSTM is trained on its own estimate first, see below).
        bin_units: with the spectral front end, width of the per-bin features and of the
            strided convolution (its kernel, ``bin_stride × bin_units²`` weights, is most of
            a small int8 model's bytes).
        name: model name.

    The layers with weights do not depend on ``refine_steps``, ``refine_from`` or a fixed
    ``hedge``: weights trained with ``refine_steps=0`` (the loss on the LSTM's own estimate,
    which a refinement in the loss leaves untrained) load into the same call with a refinement.

    Example:

    >>> model = frequency_regressor(window=64, fmin=1, fmax=20, lstm_units=8, dense_units=8)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model.output_shape
    (None, 1)
    >>> small = dict(window=64, fmin=1, fmax=20, lstm_units=4, dense_units=4, hedge=None)
    >>> on_estimate = frequency_regressor(refine_steps=0, **small)  # train this one ...
    >>> refined = frequency_regressor(refine_steps=2, refine_from="lstm", **small)
    >>> refined.set_weights(on_estimate.get_weights())  # ... and deploy this one
    """
    check_frequency_range(window, fmin, fmax)
    check_positive_int(lstm_units=lstm_units, dense_units=dense_units, bin_stride=bin_stride, bin_units=bin_units)
    check_nonnegative_int(refine_steps=refine_steps)
    if frontend not in FRONTENDS:
        raise ValueError(f"unknown frontend {frontend!r}: expected one of {FRONTENDS}")
    check_hedge(hedge)
    if refine_from not in REFINE_FROM:
        raise ValueError(f"unknown refine_from {refine_from!r}: expected one of {REFINE_FROM}")
    inputs = keras.Input((window, 1), name="window")
    # Per-window standardisation: zero mean, unit variance over the whole window.
    x = layers.LayerNormalization(axis=[1, 2], center=False, scale=False, epsilon=1e-6, name="standardize")(inputs)
    anchor = others = None
    if frontend == "spectral":
        x, anchor, others = SpectralFeatures(window, fmin, fmax, oversample=oversample, name="spectrum",
                                             candidates=_CANDIDATES)(x)
        x = layers.Dense(bin_units, activation="gelu", name="bin_features")(x)
        stride = min(int(bin_stride), x.shape[1])  # a short band keeps at least one step
        if stride > 1:
            x = layers.Conv1D(bin_units, stride, strides=stride, activation="relu", name="bin_pool")(x)
        x = (layers.Bidirectional(layers.LSTM(lstm_units), name="lstm") if bidirectional
             else layers.LSTM(lstm_units, name="lstm"))(x)
    elif frontend == "conv":
        x = layers.Conv1D(32, 5, padding="same", activation="gelu", name="conv1")(x)
        x = layers.Conv1D(64, 4, strides=4, activation="gelu", name="conv2")(x)
        x = layers.LSTM(lstm_units, name="lstm")(x)
    else:
        x = layers.LSTM(lstm_units, name="lstm")(x)
    x = layers.Dense(dense_units, activation="gelu", name="dense")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    hidden = x
    x = layers.Dense(1, name="head")(x)
    last = "cycles_per_window" if not refine_steps else "lstm_estimate"
    if anchor is not None:
        # The head regresses the offset (cycles per window) from the spectral peak.
        outputs = layers.Add(name=last)([anchor, x])
    else:
        # The head works in [-1, 1] over the band; Rescaling maps it to cycles per window.
        outputs = layers.Rescaling((fmax - fmin) / 2, offset=(fmax + fmin) / 2, name=last)(x)
    if refine_steps:
        # Refine from the LSTM's estimate and, with the spectral front end, the three strongest
        # peaks: the best least-squares fit wins (what the ML estimator's global search picks).
        starts = (outputs if anchor is None or refine_from == "lstm"
                  else layers.Concatenate(name="starts")([outputs, anchor, others]))
        refined, snr = ToneRefinement(refine_steps, fmin=fmin, fmax=fmax, return_snr=True, name="refined")(
            [inputs, starts])
        if hedge == "learned":
            features = layers.Concatenate(name="posterior_features")(
                [hidden, layers.Rescaling(0.1, name="hedge_snr")(snr)])
            start = math.log(math.expm1(HEDGE_TEMPERATURE))  # softplus(start) = HEDGE_TEMPERATURE
            tau = layers.Dense(1, activation="softplus", kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(start), name="temperature")(features)
            refined = PeakPosterior(window, fmin, fmax, name="hedged")([inputs, refined, tau])
        elif hedge is not None:
            refined = PeakPosterior(window, fmin, fmax, temperature=hedge, name="hedged")([inputs, refined])
        outputs = layers.Identity(name="cycles_per_window")(refined)
    return keras.Model(inputs, outputs, name=name)


def _unrolled_config(layer) -> dict:
    """``layer``'s config with its recurrent layers (also inside wrappers) unrolled."""
    config = layer.get_config()
    stack = [config]
    while stack:
        c = stack.pop()
        if "unroll" in c:
            c["unroll"] = True
        stack.extend(v["config"] for v in c.values() if isinstance(v, dict) and isinstance(v.get("config"), dict))
    return config


def _unrolled(layer):
    """A fresh copy of ``layer`` whose recurrent layers (also inside wrappers) unroll."""
    return layer.__class__.from_config(_unrolled_config(layer))


def _clone(model: keras.Model, batch_size: int | None, clone_function) -> keras.Model:
    """``model`` rebuilt layer by layer with ``clone_function``, its inputs' batch fixed to
    ``batch_size`` (None: any), and its weights copied."""
    if batch_size is not None:
        check_positive_int(batch_size=batch_size)
    inputs = [keras.Input(batch_shape=(batch_size, *t.shape[1:]), dtype=t.dtype, name=t.name) for t in model.inputs]
    clone = keras.models.clone_model(model, input_tensors=inputs[0] if len(inputs) == 1 else inputs,
                                     clone_function=clone_function)
    clone.set_weights(model.get_weights())
    return clone


def inference_variant(model: keras.Model, batch_size: int = 1, unroll: bool = True) -> keras.Model:
    """Copy of a trained model with a fixed batch size (and unrolled LSTMs) for export.

    TFLite needs a static batch to convert a Keras 3 LSTM with builtin ops only;
    unrolling turns the recurrent loop into a straight-line graph without WHILE ops.
    The copy shares no variables with ``model`` but has equal weights. A model with
    several inputs gets every input's batch fixed.

    Example:

    >>> m = frequency_regressor(window=32, fmin=1, fmax=8, lstm_units=4, dense_units=4)
    >>> inference_variant(m).input_shape
    (1, 32, 1)
    """
    return _clone(model, batch_size, _unrolled if unroll else (lambda l: l.__class__.from_config(l.get_config())))


def _micro(dft):
    """Clone function for :func:`micro_variant`: unrolled, DFTs as matmuls, GELU written out."""
    def clone(layer):
        config = _unrolled_config(layer)
        if isinstance(layer, (SpectralFeatures, PeakPosterior)):
            config["dft"] = dft
        if config.get("activation") == "gelu" or getattr(layer, "activation", None) is keras.activations.gelu:
            config["activation"] = gelu_tanh
        return layer.__class__.from_config(config)
    return clone


def micro_variant(model: keras.Model, batch_size: int | None = None, dft: str = "factored") -> keras.Model:
    """Copy of a trained model that converts to ops TensorFlow Lite for Microcontrollers has.

    Like :func:`inference_variant` (unrolled LSTMs, equal weights; a fixed ``batch_size``, or
    None to keep any batch), and also:
    the DFTs of :class:`~periodic_keras.layers.SpectralFeatures` and
    :class:`~periodic_keras.layers.PeakPosterior` use ``dft`` (``"matmul"`` or ``"factored"``)
    instead of ``ops.rfft`` (RFFT2D, REAL, IMAG), and ``"gelu"`` activations become
    :func:`~periodic_keras.layers.gelu_tanh` (TFLM has no GELU). Measured on the
    committed ``exported/freq`` model: the TFLM output is within 5e-4 of Keras on 500 validation
    windows (the float32 TFLite's own parity) and the 10 dB RMSE is unchanged.

    Example:

    >>> m = frequency_regressor(window=32, fmin=1, fmax=8, lstm_units=4, dense_units=4)
    >>> micro_variant(m).get_layer("hedged").dft
    'factored'
    """
    return _clone(model, batch_size, _micro(dft))
