"""tf.data pipelines, one module per task, plus adapters for a user's own series."""

from periodic_keras.data.adapters import as_series, windowed_dataset
from periodic_keras.data.frequency import frequency_arrays, frequency_dataset
from periodic_keras.data.generator import next_step_dataset, random_windows, stateful_windows, step_weights

__all__ = ["as_series", "frequency_arrays", "frequency_dataset", "next_step_dataset", "random_windows",
           "stateful_windows", "step_weights", "windowed_dataset"]
