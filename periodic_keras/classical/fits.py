"""The results of :mod:`periodic_keras.classical.fitting`: one tone (:class:`SineFit`) or several
(:class:`SinesFit`), each with its offset, polynomial trend and, for pandas time input, the
:class:`~periodic_keras.classical.TimeAxis` that gives periods in the index's own units."""

from __future__ import annotations

import dataclasses

import numpy as np

_TWO_PI = 2.0 * np.pi


@dataclasses.dataclass(frozen=True)
class _Model:
    """Shared by both fits: the trend and the conversion of ``x`` (times or numbers).

    Keyword-only fields, so that each fit's own fields keep their positions."""

    trend: tuple = dataclasses.field(default=(), kw_only=True)
    trend_origin: float = dataclasses.field(default=0.0, kw_only=True)
    trend_scale: float = dataclasses.field(default=1.0, kw_only=True)
    axis: object = dataclasses.field(default=None, kw_only=True)

    def _x(self, x) -> np.ndarray:
        if self.axis is not None:
            return self.axis.to_x(x)
        return np.asarray(x, dtype=np.float64)

    def trend_at(self, x) -> np.ndarray:
        """The offset plus the polynomial trend at ``x`` (no tones), float64."""
        return self._trend(self._x(x))

    def _trend(self, x) -> np.ndarray:
        u = (x - self.trend_origin) / self.trend_scale
        out = np.full(u.shape, self.offset)
        for power, coef in enumerate(self.trend, start=1):
            out += coef * u**power
        return out

    def _length(self, value: float):
        return value if self.axis is None else self.axis.period(value)


@dataclasses.dataclass(frozen=True)
class SineFit(_Model):
    """One tone ``y ~ trend(x) + amplitude * sin(omega * x + phase)``; ``omega`` in rad per unit of x.

    ``amplitude >= 0``, ``phase`` in ``[-pi, pi)`` (the phase at ``x = 0``), ``rmse`` the
    root-mean-square residual over the fitted samples (unweighted). The trend is
    ``offset + sum_j trend[j] * u**(j + 1)`` with ``u = (x - trend_origin) / trend_scale``
    (``trend = ()``: a constant offset). ``axis`` is set when x came from a pandas time
    index: ``x`` is then in its units (days, or PeriodIndex steps), :attr:`period` is a
    ``pd.Timedelta`` and :meth:`predict` takes times.

    >>> fit = SineFit(omega=np.pi, amplitude=2.0, phase=0.0, offset=1.0, rmse=0.0)
    >>> fit.period, fit.frequency, fit.predict([0.5, 1.5]).round(12).tolist()
    (2.0, 0.5, [3.0, -1.0])
    """

    omega: float
    amplitude: float
    phase: float
    offset: float
    rmse: float

    @property
    def period(self):
        """``2 pi / omega``, in units of x (a ``pd.Timedelta`` for time indexes with fixed steps)."""
        return self._length(_TWO_PI / self.omega)

    @property
    def frequency(self) -> float:
        """``omega / (2 pi)``: cycles per unit of x."""
        return self.omega / _TWO_PI

    def predict(self, x) -> np.ndarray:
        """The fitted curve at ``x`` (any shape; times when the fit has an ``axis``), float64."""
        x = self._x(x)
        return self._trend(x) + self.amplitude * np.sin(
            self.omega * x + self.phase)


@dataclasses.dataclass(frozen=True)
class SinesFit(_Model):
    """Several tones and one trend: ``y ~ trend(x) + sum_k amplitudes[k] sin(omegas[k] x + phases[k])``.

    Tuples of floats, tones sorted by decreasing amplitude; ``omegas`` in rad per unit of x,
    phases in ``[-pi, pi)`` at ``x = 0``, ``rmse`` the unweighted residual RMS; the trend,
    ``samples`` (how many were fitted) and ``axis`` as in :class:`SineFit`.

    >>> fit = SinesFit(omegas=(1.0, 2.0), amplitudes=(1.0, 0.5), phases=(0.0, 0.0), offset=0.0, rmse=0.0)
    >>> len(fit), fit.tones[1].amplitude, fit.predict([0.0]).tolist()
    (2, 0.5, [0.0])
    """

    omegas: tuple
    amplitudes: tuple
    phases: tuple
    offset: float
    rmse: float
    samples: int = dataclasses.field(default=0, kw_only=True)

    def __len__(self) -> int:
        return len(self.omegas)

    @property
    def periods(self) -> tuple:
        """``2 pi / omega`` for each tone (``pd.Timedelta`` for time indexes with fixed steps)."""
        return tuple(self._length(_TWO_PI / w) for w in self.omegas)

    @property
    def tones(self) -> tuple:
        """Each tone as a :class:`SineFit`; the first carries the offset and trend, the others 0."""
        keep = dict(trend_origin=self.trend_origin, trend_scale=self.trend_scale, axis=self.axis)
        return tuple(SineFit(w, a, p, self.offset if k == 0 else 0.0, self.rmse,
                             trend=self.trend if k == 0 else (), **keep)
                     for k, (w, a, p) in enumerate(zip(self.omegas, self.amplitudes, self.phases)))

    def predict(self, x) -> np.ndarray:
        """The fitted sum at ``x`` (any shape; times when the fit has an ``axis``), float64."""
        x = self._x(x)
        out = self._trend(x)
        for w, a, p in zip(self.omegas, self.amplitudes, self.phases):
            out += a * np.sin(w * x + p)
        return out

