"""tf.data pipelines, one module per task, plus adapters for a user's own series."""

from periodic_keras.data.adapters import as_series, windowed_dataset
from periodic_keras.data.frequency import frequency_arrays, frequency_dataset

__all__ = ["as_series", "frequency_arrays", "frequency_dataset", "windowed_dataset"]
