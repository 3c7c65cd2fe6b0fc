"""Convert Keras models to TFLite flatbuffers: builtin ops only, batch 1, and the variants
an export writes (float32, float16, dynamic range, full-integer int8 for microcontrollers).

:mod:`periodic_keras.export` writes, verifies and publishes them; this module only converts.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings

import keras
import numpy as np
import tensorflow as tf

from periodic_keras.errors import ExportError
from periodic_keras.models import inference_variant

__all__ = ["INT8_ACTIVATIONS", "TFLITE_VARIANTS", "export_fixed_saved_model", "op_names", "tflite_models"]

#: TFLite variants: file name and converter settings. All use builtin ops only.
TFLITE_VARIANTS = {
    "float32": {"file": "model.tflite", "description": "float32 weights and activations"},
    "float16": {"file": "model_fp16.tflite", "description": "float16 weights, float32 compute"},
    "dynamic_range": {"file": "model_dynamic_range.tflite", "description": "int8 weights, float activations"},
    "int8": {"file": "model_int8.tflite",
             "description": "full-integer: int8 weights, int16 activations (int8 where 'activations' says so), "
                            "float32 input and output; for microcontrollers (TFLM)"},
}
#: Activations of the int8 variant: int16 keeps an LSTM's state (int8 activations: the burst
#: detector gets 6 steps of 780 wrong and the divider an RMS stream error of 0.023 in TFLM;
#: int16: none wrong, 0.0022).
INT8_ACTIVATIONS = ("int16", "int8")


def export_fixed_saved_model(model: keras.Model, path: str, unroll: bool = True) -> None:
    """SavedModel with static shapes: batch 1, LSTMs unrolled.

    A multi-input model's signature takes the inputs positionally, in ``model.inputs``
    order (TFLite names them ``args_0``, ``args_0_1``, ...; ``metadata.json`` records the
    meaning of each position). A multi-input model whose inputs already have static
    shapes (a step model with explicit state) is exported as built.
    """
    if len(model.inputs) == 1 or any(None in tuple(t.shape) for t in model.inputs):
        model = inference_variant(model, batch_size=1, unroll=unroll)
    specs = [keras.InputSpec(shape=tuple(t.shape), dtype=t.dtype) for t in model.inputs]
    model.export(path, format="tf_saved_model", input_signature=specs if len(specs) == 1 else [specs], verbose=False)


def tflite_models(model: keras.Model, variants=("float32",), unroll: bool = True, saved_model: str | None = None,
                  representative=None, activations: str = "int16", float_layers=()) -> dict:
    """Convert a Keras model to builtin-ops-only TFLite flatbuffers with batch 1.

    The model is copied once by :func:`periodic_keras.models.inference_variant`
    (static batch 1, LSTMs unrolled) and exported to one temporary SavedModel that
    every variant is converted from (or the caller's ``saved_model``, already written by
    the same fixed-shape export). Flex (``SELECT_TF_OPS``) is never enabled: a graph
    that needs it fails here instead of failing on a device.

    The ``int8`` variant is quantised in full (weights int8, activations ``activations``:
    ``"int16"`` or ``"int8"``, see :data:`INT8_ACTIVATIONS`; input and output stay float32)
    with ranges calibrated on ``representative``: a sequence of model inputs, each a list of
    batch-1 arrays in ``model.inputs`` order (take them from the task's own pipeline).

    ``float_layers`` (names of ``model``'s layers) makes the ``int8`` variant mixed: those
    layers' operations and the model's outputs stay float32, everything else is int8
    (``activations="int8"`` only). Use it for in-graph signal processing whose range an 8-bit
    step would ruin (the frequency model's spectrum and Gauss–Newton refinement; a quantised
    output would round the answer to the int8 step, a silent 2x error). TFLM runs such a
    file: it holds QUANTIZE/DEQUANTIZE where int8 and float parts meet.

    Returns:
        ``{variant: bytes}`` for each of ``variants`` (see :data:`TFLITE_VARIANTS`).

    Example:

    >>> import numpy as np
    >>> from periodic_keras.models import frequency_regressor
    >>> model = frequency_regressor(32, 1, 8, lstm_units=4, dense_units=4)
    >>> blobs = tflite_models(model)
    >>> blobs["float32"][4:8]
    b'TFL3'
    >>> from keras import layers
    >>> mlp = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])
    >>> samples = [[np.random.default_rng(i).normal(size=(1, 3)).astype("float32")] for i in range(20)]
    >>> len(tflite_models(mlp, ("int8",), representative=samples)["int8"]) > 0
    True
    """
    unknown = sorted(set(variants) - set(TFLITE_VARIANTS))
    if unknown:
        raise ValueError(f"unknown TFLite variant(s) {unknown}: expected some of {sorted(TFLITE_VARIANTS)}")
    float_layers = [float_layers] if isinstance(float_layers, str) else list(float_layers)
    if "int8" in variants:
        if activations not in INT8_ACTIVATIONS:
            raise ValueError(f"activations must be one of {INT8_ACTIVATIONS}, got {activations!r}")
        if float_layers and activations != "int8":
            raise ValueError("float_layers (a mixed int8/float32 model) needs activations='int8'")
        unknown = sorted(set(float_layers) - {layer.name for layer in model.layers})
        if unknown:
            raise ValueError(f"float_layers {unknown} are not layers of {model.name!r}")
        representative = list(representative or [])
        if not representative:
            raise ValueError("the int8 variant needs representative inputs to calibrate its ranges")
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        saved = saved_model
        if saved is None:
            saved = os.path.join(tmp, "saved_model")
            export_fixed_saved_model(model, saved, unroll)
        for variant in variants:
            converter = tf.lite.TFLiteConverter.from_saved_model(saved)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
            if variant != "float32":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            if variant == "float16":
                converter.target_spec.supported_types = [tf.float16]
            if variant == "int8":
                # the SavedModel's signature takes the inputs positionally: args_0, args_0_1, ...
                names = ["args_0", *(f"args_0_{i}" for i in range(1, len(model.inputs)))]
                converter.representative_dataset = lambda: (
                    {n: np.asarray(v) for n, v in zip(names, item)} for item in representative)
                converter.target_spec.supported_ops = [
                    tf.lite.OpsSet.TFLITE_BUILTINS if float_layers  # the float part stays float
                    else tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
                    if activations == "int16" else tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            try:
                with warnings.catch_warnings():  # calibration runs tf.lite.Interpreter, which warns it is deprecated
                    warnings.simplefilter("ignore", UserWarning)
                    if variant == "int8" and float_layers:
                        blob = _mixed_int8(converter, saved, float_layers)
                    else:
                        blob = converter.convert()
                    out[variant] = _strip_tensor_names(blob)
            except Exception as exc:  # the converter raises a zoo of types
                raise ExportError(f"TFLite conversion ({variant}) with builtin ops only failed: {exc}") from exc
    return out


def _mixed_int8(converter, saved_model: str, float_layers) -> bytes:
    """``converter`` (int8, calibrated) applied with the tensors of ``float_layers`` and the
    outputs kept float32, through TensorFlow's quantisation debugger's denylist.

    The same model and calibration give the same bytes in every process: outputs that no
    operation reads are made graph outputs while the quantiser runs, then removed again
    (see :func:`_read_every_output`)."""
    from tensorflow.lite.python import schema_py_generated as schema

    plain = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    plain.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    graph = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(plain.convert()), 0)).subgraphs[0]
    names = [t.name.decode() for t in graph.tensors]
    # A tensor's name is the op's scope, "<model>/<layer>_<n>/<op>", fused ops joined by ";".
    pattern = re.compile("|".join(rf"{re.escape(n)}(_\d+)?" for n in float_layers))
    denied = {names[i] for i in graph.outputs}
    denied |= {n for n in names if any(pattern.fullmatch(part) for op in n.split(";") for part in op.split("/")[:-1])}
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=sorted(denied))
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=converter.representative_dataset, debug_options=options)
    debugger.calibrated_model, unread = _read_every_output(debugger.calibrated_model)
    return _drop_outputs(debugger.get_nondebug_quantized_model(), unread)


#: Signature names of the outputs :func:`_read_every_output` adds (removed again by :func:`_drop_outputs`).
_UNREAD = "periodic_keras_unread_"


def _read_every_output(blob: bytes) -> tuple:
    """``blob`` (a calibrated flatbuffer) with every tensor that an operation writes and nothing
    reads made an output of its signature; returns the new bytes and those outputs' names.

    TensorFlow 2.21's quantiser decides an operation with an unread output by chance: an
    unrolled LSTM's first step splits its gates four ways and, its initial cell state being
    zero, the forget gate's product is folded away, leaving that SPLIT an output nothing reads.
    Quantised or kept float32 (with a DEQUANTIZE before and a QUANTIZE after each gate) varied
    from call to call on the same calibrated model: the frequency model's int8 file was 143 280
    or 143 576 bytes, the larger in 8 to 25 % of calls (measured). Read, the output is quantised every time.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(blob))
    if not model.signatureDefs:
        return blob, []
    signature = model.signatureDefs[0]
    graph = model.subgraphs[signature.subgraphIndex]
    read = {i for op in graph.operators for i in op.inputs} | set(graph.outputs)
    unread = [i for op in graph.operators for i in op.outputs if i >= 0 and i not in read]
    if not unread:
        return blob, []
    added = []
    for i in unread:
        entry = schema.TensorMapT()
        entry.name, entry.tensorIndex = f"{_UNREAD}{len(added)}".encode(), i
        signature.outputs.append(entry)
        added.append(entry.name.decode())
    graph.outputs = [*graph.outputs, *unread]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), added


def _drop_outputs(blob: bytes, outputs) -> bytes:
    """``blob`` without the signature ``outputs`` :func:`_read_every_output` added, the
    operations that only computed them (the quantiser's DEQUANTIZE), their tensors and buffers."""
    if not outputs:
        return blob
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(blob))
    if not model.signatureDefs:
        raise ExportError("the quantiser dropped the model's signature")
    signature = model.signatureDefs[0]
    graph = model.subgraphs[signature.subgraphIndex]
    found = {t.name.decode(): t.tensorIndex for t in signature.outputs if t.name.decode() in outputs}
    if set(found) != set(outputs):
        raise ExportError(f"the quantiser lost the outputs {sorted(set(outputs) - set(found))}")
    signature.outputs = [t for t in signature.outputs if t.name.decode() not in found]
    kept = {t.tensorIndex for t in signature.outputs}
    graph.outputs = [i for i in graph.outputs if i in kept or i not in found.values()]
    # Remove what now computes nothing that is read, going back from the dropped outputs.
    candidates, dropped_ops = set(found.values()), set()
    while True:
        live = [n for n in range(len(graph.operators)) if n not in dropped_ops]
        read = {i for n in live for i in graph.operators[n].inputs} | set(graph.outputs)
        idle = {n for n in live if set(graph.operators[n].outputs) & candidates
                and not set(graph.operators[n].outputs) & read}
        if not idle:
            break
        dropped_ops |= idle
        for n in idle:
            candidates |= set(graph.operators[n].outputs) | {i for i in graph.operators[n].inputs if i >= 0}
    live = [graph.operators[n] for n in range(len(graph.operators)) if n not in dropped_ops]
    still = {i for op in live for i in [*op.inputs, *op.outputs]}
    still |= {i for op in live if op.intermediates is not None for i in op.intermediates}
    dropped_tensors = candidates - still - set(graph.inputs) - set(graph.outputs)
    graph.operators = [op for n, op in enumerate(graph.operators) if n not in dropped_ops]
    _remove_tensors(model, graph, signature, dropped_tensors)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _remove_tensors(model, graph, signature, dropped: set) -> None:
    """Remove the tensors ``dropped`` from ``graph`` (none of them referenced any more), and
    their buffers where nothing else refers to them; renumber the references that remain."""
    if not dropped:
        return
    new_index = {}
    tensors = []
    for i, tensor in enumerate(graph.tensors):
        if i not in dropped:
            new_index[i] = len(tensors)
            tensors.append(tensor)
    buffers_of_dropped = {graph.tensors[i].buffer for i in dropped}
    graph.tensors = tensors

    def renumber(indices):
        return None if indices is None else [new_index[i] if i >= 0 else i for i in indices]

    for op in graph.operators:
        op.inputs, op.outputs, op.intermediates = renumber(op.inputs), renumber(op.outputs), renumber(op.intermediates)
    graph.inputs, graph.outputs = renumber(graph.inputs), renumber(graph.outputs)
    for entry in [*signature.inputs, *signature.outputs]:
        entry.tensorIndex = new_index[entry.tensorIndex]
    # Buffer 0 is the empty sentinel; a buffer is dropped only if no tensor or metadata refers to it.
    referenced = {t.buffer for sg in model.subgraphs for t in sg.tensors}
    referenced |= {m.buffer for m in (model.metadata or [])}
    referenced |= set(model.metadataBuffer if model.metadataBuffer is not None else [])
    gone = {b for b in buffers_of_dropped if b > 0 and b not in referenced}
    if not gone:
        return
    new_buffer = {}
    buffers = []
    for b, buffer in enumerate(model.buffers):
        if b not in gone:
            new_buffer[b] = len(buffers)
            buffers.append(buffer)
    model.buffers = buffers
    for sg in model.subgraphs:
        for tensor in sg.tensors:
            tensor.buffer = new_buffer[tensor.buffer]
    for entry in model.metadata or []:
        entry.buffer = new_buffer[entry.buffer]
    if model.metadataBuffer is not None:
        model.metadataBuffer = [new_buffer[b] for b in model.metadataBuffer]


def op_names(blob: bytes) -> list:
    """Sorted names of the builtin operators in a TFLite flatbuffer (what a runtime must have).

    >>> from periodic_keras.models import frequency_regressor
    >>> "FULLY_CONNECTED" in op_names(tflite_models(frequency_regressor(32, 1, 8, lstm_units=4, dense_units=4))["float32"])
    True
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    names = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(blob))
    used = {op.opcodeIndex for sg in model.subgraphs for op in (sg.operators or [])}
    codes = [max(model.operatorCodes[i].builtinCode, model.operatorCodes[i].deprecatedBuiltinCode) for i in used]
    return sorted({names.get(code, "CUSTOM") for code in codes})


def _strip_tensor_names(blob: bytes) -> bytes:
    """The flatbuffer without tensor names and descriptions (a sixth of an unrolled model's
    bytes); the signature, which names the inputs and outputs, is kept."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(blob))
    model.description = None
    for subgraph in model.subgraphs:
        subgraph.name = None
        for tensor in subgraph.tensors:
            tensor.name = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
