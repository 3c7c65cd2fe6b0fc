"""Export trained models to ``exported/<task>/``: SavedModel, TFLite, metadata, parity.

Everything is written to a staging directory beside the target, verified there
(the TFLite files are loaded back through :mod:`periodic_keras.edge`, exactly as a
device would, and compared with Keras on held-out inputs), and only then renamed
into place. An interrupted or failed export leaves the previous export untouched.

An export replaces its target only when the target is new, empty, or a previous export
holding nothing else; a file, a link or a folder of other files is refused before any
work (:func:`periodic_keras.runs.check_export_target`). Two exports to one target at once:
the second is refused. :func:`recover` finishes a swap that a killed process left midway.

- :func:`export_model`: single-input models (frequency windows, timestamps).
- :func:`export_step_model`: step models ``(x, state) -> (y, state')`` for streaming.
- :func:`export_forecaster`: a fitted :class:`periodic_keras.forecasting.Forecaster` with its time axis.
- :func:`check_nothing_lost`: an export never replaces TFLM figures or a C array it cannot rebuild.
- :func:`tflite_models`, :func:`op_names`: Keras to builtin-ops TFLite variants
  (:data:`TFLITE_VARIANTS`: float32, float16, dynamic range, int8 full or mixed).
"""

from periodic_keras.errors import ExportError
from periodic_keras.export.convert import INT8_ACTIVATIONS, TFLITE_VARIANTS, op_names, tflite_models
from periodic_keras.export.forecast import export_forecaster, time_axis
from periodic_keras.export.keep import check_nothing_lost
from periodic_keras.export.model import export_model
from periodic_keras.export.step import export_step_model
from periodic_keras.runs import check_export_target, recover

__all__ = ["ExportError", "INT8_ACTIVATIONS", "TFLITE_VARIANTS", "check_export_target", "check_nothing_lost",
           "export_forecaster", "export_model", "export_step_model", "op_names", "recover", "tflite_models",
           "time_axis"]
