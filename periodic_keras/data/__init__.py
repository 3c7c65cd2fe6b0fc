"""tf.data pipelines, one module per task, plus adapters for a user's own series."""

from periodic_keras.data.adapters import as_series, windowed_dataset
from periodic_keras.data.clock import CLOCK_OUTPUTS, clock_arrays, clock_dataset, clock_targets
from periodic_keras.data.frequency import frequency_arrays, frequency_dataset
from periodic_keras.data.generator import next_step_dataset, random_windows, stateful_windows, step_weights
from periodic_keras.data.memory import burst_dataset, divider_dataset, independent_windows, sequence_dataset
from periodic_keras.data.windows import consecutive_windows, paired_sequences

__all__ = ["CLOCK_OUTPUTS", "as_series", "burst_dataset", "clock_arrays", "clock_dataset", "clock_targets",
           "consecutive_windows", "divider_dataset", "frequency_arrays", "frequency_dataset", "independent_windows",
           "next_step_dataset", "paired_sequences", "random_windows", "sequence_dataset", "stateful_windows",
           "step_weights", "windowed_dataset"]
