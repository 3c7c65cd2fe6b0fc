"""Classical estimators, NumPy only (pandas where a pandas series is given): the baselines every
learned model here is measured against, and the engines inside some of them.

- Fitting sums of sines where gradient descent cannot: :func:`fit_frequency`,
  :func:`fit_frequencies`, :func:`lomb_scargle`, :func:`crlb_omega_std` (pandas time indexes
  accepted as they are).
- Finding the significant periods of a series: :func:`find_periods`, :class:`PeriodReport`.
- Frequency of a window: :func:`ml_frequency`, :func:`mmse_frequency`, :func:`candan_frequency`,
  :func:`periodogram`, the Cramér–Rao bound (:func:`crlb_frequency_std`), and whether an
  estimate can be trusted (:func:`tone_quality`).
- Fundamental frequency of a harmonic window (any waveform): :func:`harmonic_frequency` (harmonic
  NLS with MAP order selection, optional trend and robust weights) and :func:`yin_frequency`.
- Can a memoryless model fit windowed data? :func:`diagnose_windows`, :func:`diagnose_sequences`.
- The periodic family the family generator continues: :func:`family_draws`, :func:`oracle_forecast`.

Everything imported here is NumPy-only, so the edge runtime may use it on a device.

>>> import numpy as np
>>> x = np.linspace(0.0, 10.0, 1001)
>>> round(fit_frequency(x, np.sin(31.0 * x)).omega, 6)
31.0
"""

from periodic_keras.classical.diagnose import (CONFLICT_FRACTION, MIN_COVERAGE, TREND_SHARE, WindowDiagnosis,
                                               diagnose_sequences, diagnose_windows)
from periodic_keras.classical.dsp import (candan_frequency, crlb_frequency_std, crlb_frequency_var, ml_frequency,
                                          mmse_frequency, periodogram, seasonal_naive)
from periodic_keras.classical.family import (FAMILY_AMPLITUDE, FAMILY_PERIODS, FamilyDraws, check_warmup, family_draws,
                                             family_split, oracle_forecast)
from periodic_keras.classical.fitting import (AUTO_TREND_MAX, CANDIDATES, MAX_DEFAULT_MESH, MAX_GRID_POINTS, MAX_TREND,
                                              SineFit, SinesFit, crlb_omega_std, fit_frequencies, fit_frequency,
                                              lomb_scargle)
from periodic_keras.classical.harmonic import MAX_HARMONIC_TREND, harmonic_frequency
from periodic_keras.classical.periods import MAX_HARMONIC, PeriodReport, false_alarm_probability, find_periods
from periodic_keras.classical.pitch import yin_frequency
from periodic_keras.classical.timeaxis import TimeAxis, series_xy
from periodic_keras.classical.trust import FLAGS, THRESHOLDS, tone_quality

__all__ = [
    "AUTO_TREND_MAX", "CANDIDATES", "CONFLICT_FRACTION", "FAMILY_AMPLITUDE", "FAMILY_PERIODS", "FLAGS",
    "MAX_DEFAULT_MESH", "MAX_GRID_POINTS", "MAX_HARMONIC", "MAX_HARMONIC_TREND", "MAX_TREND", "MIN_COVERAGE",
    "THRESHOLDS", "TREND_SHARE", "FamilyDraws", "PeriodReport", "SineFit", "SinesFit", "TimeAxis",
    "WindowDiagnosis", "candan_frequency", "check_warmup", "crlb_frequency_std", "crlb_frequency_var",
    "crlb_omega_std", "diagnose_sequences", "diagnose_windows", "false_alarm_probability", "family_draws",
    "family_split", "find_periods", "fit_frequencies", "fit_frequency", "harmonic_frequency", "lomb_scargle",
    "ml_frequency", "mmse_frequency", "oracle_forecast", "periodogram", "seasonal_naive", "series_xy",
    "tone_quality", "yin_frequency",
]
