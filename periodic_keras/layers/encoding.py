"""Periodic encodings of integer timestamps: exact fixed periods, and learnable periods.

Float32 cannot hold timestamps: near 3.8e9 seconds its representable values are 256 s
apart, so ``float32(3_800_000_007) % 60`` is 20, not 27, and Keras layers silently cast
float64 inputs to float32. These layers therefore take **int64** timestamps and reduce
them modulo the period in integer arithmetic *inside the graph*; only the remainder,
which float32 holds exactly (periods up to 2**24), is turned into a phase.

- :class:`PeriodicEncoding` — fixed integer periods, exact for any int64 or uint64 input.
- :class:`LearnedPeriodicEncoding` — trainable periods (any positive real), which can
  be initialised from a series with :meth:`LearnedPeriodicEncoding.from_data`.

Both output, per period ``P`` and harmonic ``k = 1..K``, ``sin(2πk·t/P)`` then
``cos(2πk·t/P)``: features ``[sin k=1..K, cos k=1..K]`` for the first period, then the
next period, ``2·K·len(periods)`` in all. They use ``keras.ops`` only and convert to
builtin-ops TFLite (FLOOR_MOD on int64, CAST, ROUND, SIN, COS).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import keras
from keras import ops

__all__ = ["LearnedPeriodicEncoding", "PeriodicEncoding"]

_TWO_PI = 2.0 * math.pi
#: Largest period whose remainders float32 holds exactly.
EXACT_PERIOD_LIMIT = 2**24
#: Seconds in a day: the periods :class:`PeriodicEncoding` ``(split_days=True)`` supports divide it.
DAY_SECONDS = 86_400


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _periods(values, integer: bool, layer: str) -> list:
    if _is_number(values):
        values = [values]
    values = list(values) if isinstance(values, (list, tuple, np.ndarray)) else None
    if not values:
        raise ValueError(f"{layer} needs a non-empty list of periods")
    out = []
    for p in values:
        if not _is_number(p) or not math.isfinite(p):
            raise ValueError(f"{layer} periods must be finite numbers, got {p!r}")
        if p <= 0:
            raise ValueError(f"{layer} periods must be > 0, got {p}")
        if integer:
            if p != int(p):
                raise ValueError(f"PeriodicEncoding periods must be whole numbers (got {p}); "
                                 "use LearnedPeriodicEncoding for a non-integer period")
            if p >= 2**62:
                raise ValueError(f"PeriodicEncoding period {int(p)} is too large for int64 arithmetic")
            out.append(int(p))
        else:
            out.append(float(p))
    return out


def _harmonics(value, count: int, layer: str) -> list:
    values = [value] * count if _is_number(value) else list(value)
    if len(values) != count:
        raise ValueError(f"{layer} harmonics: give one number, or one per period ({count}), got {len(values)}")
    for k in values:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"{layer} harmonics must be positive integers, got {k!r}")
    return [int(k) for k in values]


def _integer_timestamps(inputs, layer: str):
    dtype = keras.backend.standardize_dtype(inputs.dtype)
    if "int" not in dtype:
        raise TypeError(
            f"{layer} needs integer timestamps (int64), got {dtype}: float32 cannot hold large timestamps "
            "(near 3.8e9 its values are 256 apart). Use keras.Input(shape=(1,), dtype='int64') and pass int64 arrays."
        )
    return ops.cast(inputs, "int64")


def _squeeze_unit_axis(inputs):
    return inputs[..., 0] if len(inputs.shape) >= 2 and inputs.shape[-1] == 1 else inputs


def _output_shape(input_shape, features: int):
    shape = tuple(input_shape)
    if len(shape) >= 2 and shape[-1] == 1:
        shape = shape[:-1]
    return (*shape, features)


class _HarmonicEncoding(keras.layers.Layer):
    """Shared part: harmonics of per-period phases (in cycles) to sin/cos features."""

    def _features(self, phases, dtype):
        """``phases``: one function per period, ``k -> phase of harmonic k in cycles``
        (a float32 tensor), so each layer can reduce the harmonic its own exact way."""
        columns = []
        for phase, harmonics in zip(phases, self.harmonics):
            angles = [_TWO_PI * phase(k) for k in range(1, harmonics + 1)]
            columns += [ops.sin(a) for a in angles] + [ops.cos(a) for a in angles]
        return ops.cast(ops.stack(columns, axis=-1), dtype)

    @property
    def output_features(self) -> int:
        """Number of output features, ``2 · Σ harmonics``."""
        return 2 * sum(self.harmonics)


@keras.saving.register_keras_serializable(package="periodic_keras")
class PeriodicEncoding(_HarmonicEncoding):
    """Exact sin/cos encoding of int64 timestamps for fixed integer periods.

    For each period ``P`` it computes ``r = t mod P`` in int64 (floor modulo, so
    ``-1 mod 86400 = 86399``: correct for negative ``t``), reduces ``k·r mod P`` per
    harmonic in int64 too, and only then converts to float32 phases. The result is
    exact for every int64 input: a timestamp 120 years from the epoch gets the same
    features as its remainder. It is exact for every uint64 input too: a value
    ``u >= 2**63`` wraps to ``u - 2**64`` when cast to int64, and the layer adds
    ``2**64 mod P`` back to its remainder (Keras' own integer ops would truncate uint64
    to uint32, so the layer never does uint64 arithmetic).

    Args:
        periods: positive whole numbers, e.g. ``(60, 3600, 86400)``.
        harmonics: ``K`` (one for all periods, or one per period).

        split_days: take the timestamp as two int32 numbers ``(..., 2)``: whole days since
            the epoch and seconds of the day (:func:`periodic_keras.edge.days_seconds`), and
            reduce them in int32 arithmetic only, exactly: for runtimes without int64 or integer
            modulo kernels (TensorFlow Lite Micro). Every period must divide 86 400 s.

    Input: integer tensor ``(batch,)`` or ``(batch, ..., 1)`` (int32 is widened to
    int64, uint64 handled as above; floats are refused with a ``TypeError``); with
    ``split_days``, ``(batch, ..., 2)``.
    Output: ``(batch, ..., 2·ΣK)``.

    Example:

    >>> import numpy as np
    >>> enc = PeriodicEncoding(periods=[60], harmonics=1)
    >>> y = enc(np.array([[-1], [3_800_000_007]], dtype="int64"))   # t mod 60: 59 and 27
    >>> angle = np.arctan2(*keras.ops.convert_to_numpy(y).T)         # (sin, cos) -> angle
    >>> np.round(np.mod(angle, 2 * np.pi) * 60 / (2 * np.pi)).tolist()
    [59.0, 27.0]
    >>> u = keras.ops.convert_to_numpy(enc(np.array([[2**63 + 5]], dtype="uint64")))  # (2**63 + 5) mod 60 = 13
    >>> round(float(np.mod(np.arctan2(*u.T), 2 * np.pi)[0] * 60 / (2 * np.pi)), 3)
    13.0
    >>> split = PeriodicEncoding(periods=[60], harmonics=1, split_days=True)   # day -1, second 86399
    >>> bool(np.allclose(keras.ops.convert_to_numpy(split(np.array([[-1, 86399]], dtype="int32"))), y[:1], atol=1e-6))
    True
    """

    def __init__(self, periods=(60, 3600, 86400), harmonics=1, split_days: bool = False, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.periods = _periods(periods, integer=True, layer="PeriodicEncoding")
        self.harmonics = _harmonics(harmonics, len(self.periods), "PeriodicEncoding")
        self.split_days = bool(split_days)
        if self.split_days:
            odd = [p for p in self.periods if DAY_SECONDS % p]
            if odd:
                raise ValueError(f"PeriodicEncoding(split_days=True) needs periods that divide {DAY_SECONDS} s, got "
                                 f"{odd}")
            if max(p * k for p, k in zip(self.periods, self.harmonics)) >= EXACT_PERIOD_LIMIT:
                raise ValueError(f"PeriodicEncoding(split_days=True): period x harmonics must stay below "
                                 f"{EXACT_PERIOD_LIMIT} (float32 holds the products exactly)")

    def _split_phases(self, inputs):
        """Phases from ``(days, seconds of day)`` int32 pairs, in int32 and float32 ops only.
        ``t mod P = seconds mod P`` for ``P | 86400``; each modulo is ``x - floor(x / P) * P``
        with ``floor`` taken in float32 (exact: the operands stay below 2**24) and a
        correction step against the quotient's rounding."""
        if keras.backend.standardize_dtype(inputs.dtype) not in ("int32", "int64", "int16", "int8"):
            raise TypeError(f"PeriodicEncoding(split_days=True) needs int32 (days, seconds) pairs, got {inputs.dtype}")
        seconds = ops.cast(inputs, "int32")[..., 1]

        def mod(x, period):
            r = x - ops.cast(ops.floor(ops.cast(x, "float32") / np.float32(period)), "int32") * np.int32(period)
            return r + np.int32(period) * (ops.cast(r < 0, "int32") - ops.cast(r >= period, "int32"))

        phases = []
        for p in self.periods:
            r = mod(seconds, p)
            phases.append(lambda k, r=r, p=p: ops.cast(r if k == 1 else mod(r * np.int32(k), p), "float32")
                          * np.float32(1.0 / p))
        return phases

    def call(self, inputs):
        if self.split_days:
            return self._features(self._split_phases(inputs), self.compute_dtype)
        t = _squeeze_unit_axis(_integer_timestamps(inputs, "PeriodicEncoding"))
        # uint64 values u >= 2**63 arrive as u - 2**64 < 0: their remainders get 2**64 mod P back.
        wrapped = ops.cast(t < 0, "int64") if keras.backend.standardize_dtype(inputs.dtype) == "uint64" else None
        phases = []
        for p in self.periods:
            period = np.int64(p)
            r = ops.mod(t, period)
            if wrapped is not None:  # r + (2**64 mod P) < 2P <= 2**63: no overflow
                r = ops.mod(r + wrapped * np.int64(2**64 % p), period)

            def phase(k, r=r, period=period):
                rk = r if k == 1 else ops.mod(r * np.int64(k), period)
                return ops.cast(rk, "float32") * np.float32(1.0 / float(period))

            phases.append(phase)
        return self._features(phases, self.compute_dtype)

    def compute_output_spec(self, inputs):
        _integer_timestamps(inputs, "PeriodicEncoding")  # refuse a float model input when the model is built
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if self.split_days:
            if input_shape[-1] != 2:
                raise ValueError(f"PeriodicEncoding(split_days=True) takes (..., 2) (days, seconds) pairs, got "
                                 f"shape {tuple(input_shape)}")
            return (*tuple(input_shape)[:-1], self.output_features)
        return _output_shape(input_shape, self.output_features)

    def get_config(self):
        config = super().get_config()
        config.update(periods=list(self.periods), harmonics=list(self.harmonics), split_days=self.split_days)
        return config


@keras.saving.register_keras_serializable(package="periodic_keras")
class LearnedPeriodicEncoding(_HarmonicEncoding):
    """Sin/cos encoding whose periods are trainable weights.

    Each period is held as an integer anchor ``P₀ = round(P)`` plus a trainable offset
    ``δ`` (``P = P₀ + δ``). For integer inputs the layer splits ``t − origin = n·P₀ + r``
    exactly in int64 and uses the phase ``(r − n·δ) / P`` cycles, which equals
    ``(t − origin) / P`` modulo whole cycles but never forms the huge float product:
    precise for timestamps anywhere in int64 or uint64 as long as ``|n|`` (cycles since
    ``origin``) stays below 2²³ ≈ 8·10⁶. ``t − origin`` is formed in wrapping int64
    arithmetic, exact whenever ``|t − origin| < 2**63``, so uint64 timestamps ``>= 2**63``
    work with an ``origin`` near them (``origin`` may be any integer in ``[-2**63, 2**64)``).
    Float inputs use ``(x − origin) / P`` directly.

    Gradient descent cannot find a period from scratch (the loss in ``P`` is a comb
    of narrow basins); start it close with :meth:`from_data`, which fits the
    strongest sinusoids of a series with :func:`periodic_keras.classical.fit_frequencies`.

    Args:
        periods: initial periods (> 0), in units of the input.
        harmonics: ``K`` (one for all periods, or one per period).
        origin: subtracted from the input first (an integer for integer inputs); pick
            one near your data, e.g. its median timestamp.
        trainable_periods: ``False`` freezes the periods.

    Example:

    >>> import numpy as np
    >>> enc = LearnedPeriodicEncoding(periods=[86400.5], origin=1_700_000_000)
    >>> t = np.array([[1_700_000_000], [1_700_086_400]], dtype="int64")
    >>> np.round(keras.ops.convert_to_numpy(enc(t)), 4).tolist()   # sin, cos
    [[0.0, 1.0], [-0.0, 1.0]]
    >>> [round(float(p), 3) for p in enc.current_periods]
    [86400.5]
    """

    def __init__(self, periods, harmonics=1, origin=0, trainable_periods=True, **kwargs):
        super().__init__(**kwargs)
        self.periods = _periods(periods, integer=False, layer="LearnedPeriodicEncoding")
        self.harmonics = _harmonics(harmonics, len(self.periods), "LearnedPeriodicEncoding")
        if not _is_number(origin) or not math.isfinite(origin):
            raise ValueError(f"origin must be a finite number, got {origin!r}")
        integral = isinstance(origin, numbers.Integral) or float(origin).is_integer()
        self.origin = int(origin) if integral else float(origin)
        if isinstance(self.origin, int) and not -(2**63) <= self.origin < 2**64:
            raise ValueError(f"origin={self.origin} is outside the int64/uint64 range [-2**63, 2**64)")
        self.trainable_periods = bool(trainable_periods)
        self._anchors = [max(1, round(p)) for p in self.periods]

    def build(self, input_shape):
        offsets = [p - a for p, a in zip(self.periods, self._anchors)]
        self.period_offset = self.add_weight(
            name="period_offset", shape=(len(self.periods),),
            initializer=keras.initializers.Constant(offsets), trainable=self.trainable_periods,
        )

    @classmethod
    def from_data(cls, t, y, n_periods: int = 1, harmonics=1, min_period=None, max_period=None,
                  trainable_periods=True, **kwargs):
        """An encoding whose periods are the ``n_periods`` strongest in the series ``y(t)``.

        Fits ``y ~ trend + Σ A_i sin(2π t / P_i + φ_i)`` with
        :func:`periodic_keras.classical.fit_frequencies` (periodogram start, float64
        least squares, polynomial trend chosen from the data; ``t`` may be irregular,
        NaN values of ``y`` are dropped) and sets ``origin`` to the median of
        ``t``, so gradient descent starts inside the right basin and only refines.

        Args:
            t: sample times, 1-D (int64 timestamps or floats).
            y: values, 1-D, same length.
            n_periods: periods to find (strongest first).
            harmonics: ``K`` per period.
            min_period, max_period: search band, in units of ``t``.
            trainable_periods: let training refine the periods.
            **kwargs: other layer arguments (``name``, ...).

        Example:

        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> t = np.sort(rng.integers(1_700_000_000, 1_700_000_000 + 90 * 86400, size=2000))
        >>> y = np.sin(2 * np.pi * t / 86400.0 + 1.0) + 0.1 * rng.standard_normal(2000)
        >>> enc = LearnedPeriodicEncoding.from_data(t, y, min_period=3600, max_period=30 * 86400)
        >>> abs(enc.periods[0] - 86400) < 10, enc.origin == int(np.median(t))
        (True, True)
        """
        from periodic_keras.classical import fit_frequencies

        t = np.asarray(t)
        if t.ndim != 1:
            raise ValueError(f"t must be 1-D, got shape {t.shape}")
        integer = np.issubdtype(t.dtype, np.integer)
        for name, value in (("min_period", min_period), ("max_period", max_period)):
            if value is not None and not (_is_number(value) and value > 0):
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        fit = fit_frequencies(
            t.astype(np.float64), y, n_periods,
            min_frequency=None if max_period is None else _TWO_PI / max_period,
            max_frequency=None if min_period is None else _TWO_PI / min_period,
        )
        origin = int(np.median(t)) if integer else float(np.median(t))
        return cls(list(fit.periods), harmonics=harmonics, origin=origin, trainable_periods=trainable_periods, **kwargs)

    @property
    def current_periods(self) -> np.ndarray:
        """The periods now (anchor + trained offset), float64."""
        return np.asarray(self._anchors, dtype="float64") + keras.ops.convert_to_numpy(self.period_offset)

    def call(self, inputs):
        x = _squeeze_unit_axis(inputs)
        integer = "int" in keras.backend.standardize_dtype(x.dtype)
        phases = []
        for i, anchor in enumerate(self._anchors):
            delta = self.period_offset[i]
            period = np.float32(anchor) + delta
            if integer:
                if isinstance(self.origin, float):
                    raise TypeError(f"integer timestamps need an integer origin, got {self.origin}")
                # Wrapping int64 arithmetic (uint64 inputs >= 2**63 wrap on the cast, origins >= 2**63
                # are stored wrapped): d is exact whenever |t - origin| < 2**63.
                d = ops.cast(x, "int64") - np.int64(self.origin - 2**64 if self.origin >= 2**63 else self.origin)
                r = ops.mod(d, np.int64(anchor))
                # n = (d - r) / anchor is a whole number; float32 division and rounding give it
                # exactly while |n| < 2**23 (TFLite has no int64 FLOOR_DIV).
                n = ops.round(ops.cast(d - r, "float32") / np.float32(anchor))
                cycles = (ops.cast(r, "float32") - n * delta) / period
            else:
                cycles = (ops.cast(x, "float32") - np.float32(self.origin)) / period
            # the phase within the cycle, in [0, 1): harmonics and sin/cos then see small
            # arguments, so every runtime (TF, TFLite) rounds them alike
            cycles = cycles - ops.floor(cycles)
            phases.append(lambda k, c=cycles: c * np.float32(k))
        return self._features(phases, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return _output_shape(input_shape, self.output_features)

    def get_config(self):
        config = super().get_config()
        config.update(periods=list(self.periods), harmonics=list(self.harmonics), origin=self.origin,
                      trainable_periods=self.trainable_periods)
        return config
