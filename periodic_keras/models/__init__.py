"""Functional model builders, one module per task, plus the inference variants edge needs.

>>> from periodic_keras.models import frequency_regressor
>>> frequency_regressor(32, 1, 8, lstm_units=4, dense_units=4).output_shape
(None, 1)
"""

from periodic_keras.models.activations import ACTIVATIONS, activation_mlp
from periodic_keras.models.clock import CLOCK_PERIODS, NAIVE_CLOCKS, clock_model, clock_reader, naive_clock_model
from periodic_keras.models.forecaster import forecaster_model, masked_scaled_mse
from periodic_keras.models.fundamental import (ANSWER_COLUMNS, FIT_CHOICE_RATIO, MAX_MOVE, TONE_CHECK_F,
                                              fundamental_answer, fundamental_regressor, grid_targets)
from periodic_keras.models.fundamental import finish as finish_fundamental
from periodic_keras.models.frequency import (
    FRONTENDS, HEDGE_TEMPERATURE, REFINE_FROM, frequency_regressor, inference_variant, micro_variant,
)
from periodic_keras.models.generator import (
    CELLS, generate, keras_step_function, oscillator_generator, rollout, sequence_generator, sequence_model, step_model,
    zero_state,
)
from periodic_keras.models.memory import burst_model, divider_model, stream

__all__ = [
    "ACTIVATIONS", "ANSWER_COLUMNS", "CELLS", "FIT_CHOICE_RATIO", "MAX_MOVE", "CLOCK_PERIODS", "FRONTENDS",
    "HEDGE_TEMPERATURE", "NAIVE_CLOCKS", "REFINE_FROM", "TONE_CHECK_F", "activation_mlp", "burst_model",
    "clock_model", "clock_reader", "divider_model", "finish_fundamental", "forecaster_model", "frequency_regressor",
    "fundamental_answer", "fundamental_regressor", "generate", "grid_targets",
    "inference_variant", "keras_step_function", "masked_scaled_mse", "micro_variant", "naive_clock_model",
    "oscillator_generator", "rollout", "sequence_generator", "sequence_model", "step_model", "stream", "zero_state",
]
