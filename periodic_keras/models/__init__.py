"""Functional model builders, one module per task, plus the inference variants edge needs."""

from periodic_keras.models.frequency import FRONTENDS, frequency_regressor, inference_variant
from periodic_keras.models.generator import (
    CELLS, generate, keras_step_function, sequence_generator, sequence_model, step_model, zero_state,
)
from periodic_keras.models.memory import burst_model, divider_model, stream

__all__ = [
    "CELLS", "FRONTENDS", "burst_model", "divider_model", "frequency_regressor", "generate", "inference_variant",
    "keras_step_function", "sequence_generator", "sequence_model", "step_model", "stream", "zero_state",
]
