"""tf.data pipelines, one module per task, adapters for a user's own series, the regular time
grid of a series to forecast (``grid``), a series read from a CSV file (``csv``), the windows a
forecaster trains on (``forecast``), realistic windows for frequency estimation (``realistic``: harmonics,
coloured noise, baselines, clipping, drift, lost samples...), and real series that ship inside packages
(:mod:`periodic_keras.data.real`), and real recordings with a fundamental-frequency truth
(:mod:`periodic_keras.data.recordings`).

The TFDS builders live in ``periodic_keras.data.tfds_*``: importing one registers its builder.
"""

from periodic_keras.data import real, recordings
from periodic_keras.data.adapters import as_series, windowed_dataset
from periodic_keras.data.clock import CLOCK_OUTPUTS, clock_arrays, clock_dataset, clock_targets
from periodic_keras.data.csvfile import csv_series
from periodic_keras.data.forecast import forecast_windows, window_scale
from periodic_keras.data.frequency import SPLITS, frequency_arrays, frequency_dataset
from periodic_keras.data.generator import next_step_dataset, random_windows, stateful_windows, step_weights
from periodic_keras.data.grid import RegularSeries, regular_series
from periodic_keras.data.memory import burst_dataset, divider_dataset, independent_windows, sequence_dataset
from periodic_keras.data.realistic import GROSS_ABSOLUTE, GROSS_RELATIVE, KINDS, gross_errors, realistic_windows
from periodic_keras.data.realistic_pipeline import realistic_arrays, realistic_dataset
from periodic_keras.data.windows import consecutive_windows, paired_sequences

__all__ = [
    "CLOCK_OUTPUTS", "GROSS_ABSOLUTE", "GROSS_RELATIVE", "KINDS", "SPLITS", "RegularSeries", "as_series",
    "burst_dataset", "clock_arrays", "clock_dataset", "clock_targets", "consecutive_windows", "csv_series",
    "divider_dataset", "forecast_windows", "frequency_arrays", "frequency_dataset", "gross_errors",
    "independent_windows", "next_step_dataset", "paired_sequences", "random_windows", "real", "realistic_arrays", "recordings",
    "realistic_dataset", "realistic_windows", "regular_series", "sequence_dataset", "stateful_windows",
    "step_weights", "window_scale", "windowed_dataset",
]
