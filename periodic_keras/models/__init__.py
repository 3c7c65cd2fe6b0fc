"""Functional model builders, one module per task, plus the inference variants edge needs."""

from periodic_keras.models.frequency import FRONTENDS, frequency_regressor, inference_variant
from periodic_keras.models.generator import generate, keras_step_function, sequence_generator, step_model, zero_state

__all__ = [
    "FRONTENDS", "frequency_regressor", "generate", "inference_variant", "keras_step_function",
    "sequence_generator", "step_model", "zero_state",
]
