"""Functional model builders, one module per task, plus the inference variants edge needs."""

from periodic_keras.models.frequency import FRONTENDS, frequency_regressor, inference_variant

__all__ = ["FRONTENDS", "frequency_regressor", "inference_variant"]
