"""What every export shares: TFLite files with checksums and ops, TFLM figures, the C array,
the metadata, the variants left out or refused, and the final parity check before publishing.

Used by :func:`periodic_keras.export.export_model`, :func:`~periodic_keras.export.export_step_model`
and :func:`~periodic_keras.export.export_forecaster`; everything here writes only inside the
export's own staging directory.

>>> build_metadata("freq", {}, {"fmin": 1.0}, input={"shape": [1, 100, 1]})["format_version"]
1
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import platform
import tempfile

import keras

from periodic_keras import edge
from periodic_keras._io import atomic_write_text, sha256_file
from periodic_keras.errors import ExportError
from periodic_keras.export.convert import TFLITE_VARIANTS, export_fixed_saved_model, op_names, tflite_models
from periodic_keras.runs import export_staging, publish
from periodic_keras.targets import FILES, file_listing

__all__ = ["FORMAT_VERSION", "build_metadata", "check_figure_limit", "check_variants", "measure_litert", "refuse_worse",
           "staging", "tflm_figures", "verify_and_publish", "write_c_array", "write_tflite"]

FORMAT_VERSION = 1


def _versions() -> dict:
    from importlib import metadata as md

    out = {"python": platform.python_version()}
    for dist in ("periodic-keras", "tensorflow", "keras", "numpy", "ai-edge-litert"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def write_tflite(directory: str, model: keras.Model, variants, saved_model: str | None = None,
                  failed: dict | None = None, **int8) -> dict:
    """Write each TFLite variant into ``directory`` (converted from ``saved_model`` when the
    fixed-shape SavedModel is already written; ``int8``: ``representative`` and
    ``activations`` for :func:`tflite_models`); return entries with size, SHA-256 and ops.
    An int8 conversion that fails is recorded in ``failed`` (``{variant: reason}``) when given."""
    entries, blobs = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        if saved_model is None:  # one fixed-shape SavedModel for every variant
            saved_model = os.path.join(scratch, "saved_model")
            export_fixed_saved_model(model, saved_model)
        for variant in variants:
            try:
                blobs.update(tflite_models(model, [variant], saved_model=saved_model,
                                           **(int8 if variant == "int8" else {})))
            except ExportError as exc:
                if variant != "int8" or failed is None:
                    raise
                failed[variant] = str(exc)[:600]  # the float variants are still exported: the metadata says why
    for variant, blob in blobs.items():
        entry = dict(TFLITE_VARIANTS[variant])
        path = os.path.join(directory, entry["file"])
        with open(path, "wb") as fh:
            fh.write(blob)
        entry.update(sha256=sha256_file(path), bytes=os.path.getsize(path), ops=op_names(blob))
        if variant == "int8":
            entry["activations"] = int8.get("activations", "int16")
            if int8.get("float_layers"):
                entry["float_layers"] = list(int8["float_layers"])
                entry["description"] = ("mixed: int8 weights and activations except float_layers and the output "
                                        "(float32); float32 input and output; for microcontrollers (TFLM)")
        entries[variant] = entry
    return entries


def tflm_figures(directory: str, entry: dict, measure) -> dict:
    """TFLM's figures for one variant: ``{"runs": True, "arena_bytes", **measure()}`` (``measure``
    runs the variant in TFLM), or ``{"runs": False, "error"}`` when TFLM cannot load or run it.
    Not measured (None) without the ``tflite-micro`` package."""
    if not edge.micro.available():
        return {"runs": None, "error": "not measured: tflite-micro is not installed"}
    with open(os.path.join(directory, entry["file"]), "rb") as fh:
        blob = fh.read()
    try:
        arena = edge.arena_bytes(blob)
        figures = measure()
    except (edge.MicroError, edge.ExportedModelError, edge.NonFiniteOutputError) as exc:
        return {"runs": False, "error": str(exc)[:400]}
    return {"runs": True, "arena_bytes": arena, **figures}


def write_c_array(directory: str, tflite: dict, inputs, outputs) -> dict | None:
    """``model_data.cc`` / ``.h`` for firmware: the int8 variant if TFLM runs it, else the
    float32 one if TFLM runs that; their metadata entry (None when TFLM runs neither), with
    the meaning of each ``interpreter.input(i)`` / ``output(i)`` (``inputs``, ``outputs``:
    the metadata's names in signature position order)."""

    variant = next((v for v in ("int8", "float32") if (tflite.get(v, {}).get("tflm") or {}).get("runs")), None)
    if variant is None:
        return None
    with open(os.path.join(directory, tflite[variant]["file"]), "rb") as fh:
        blob = fh.read()
    source, header = edge.c_array(blob, "g_model_data", "model_data.h")
    runner = edge.MicroRunner(blob)
    position = {name: i for i, name in enumerate(edge.signature_order(runner.inputs))}
    out_position = {name: i for i, name in enumerate(edge.signature_order(runner.outputs))}
    entry = {"variant": variant, "symbol": "g_model_data", "length": len(blob), "alignment": edge.micro.ALIGNMENT,
             "arena_bytes": tflite[variant]["tflm"]["arena_bytes"],
             "inputs": [inputs[position[n]] for n in runner.inputs],
             "outputs": [outputs[out_position[n]] for n in runner.outputs],
             "ops": tflite[variant]["ops"]}
    for key, name, text in (("source", "model_data.cc", source), ("header", "model_data.h", header)):
        atomic_write_text(os.path.join(directory, name), text)
        entry[key] = {"file": name, "sha256": sha256_file(os.path.join(directory, name))}
    return entry


def build_metadata(task: str, tflite: dict, extra: dict | None, **fields) -> dict:
    """The common metadata, the task's ``fields``, then the caller's ``extra`` merged in."""
    meta = {
        "task": task,
        "format_version": FORMAT_VERSION,
        "written_by": "periodic_keras",
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **fields,
        "tflite": tflite,
        "versions": _versions(),
    }
    for key, value in (extra or {}).items():
        meta[key] = {**meta[key], **value} if isinstance(meta.get(key), dict) and isinstance(value, dict) else value
    return meta


def verify_and_publish(tmp: str, out_dir: str, meta: dict, tolerance: float, what: str) -> None:
    """Refuse float32 parity beyond ``tolerance``; else write the final metadata and rename."""
    diff = meta["tflite"]["float32"]["parity_max_abs_diff"]
    if not diff <= tolerance:
        raise ExportError(f"{what} differs from Keras by {diff:.3g} > {tolerance}")
    micro = meta["tflite"]["float32"].get("tflm") or {}
    if micro.get("runs") and not micro["parity_max_abs_diff"] <= tolerance:  # a runtime that answers otherwise
        raise ExportError(f"{what} in TFLM differs from Keras by {micro['parity_max_abs_diff']:.3g} > {tolerance}")
    meta[FILES] = file_listing(tmp)  # the proof a later export needs before it replaces this one
    atomic_write_text(os.path.join(tmp, edge.METADATA), json.dumps(meta, indent=2))
    publish(tmp, out_dir)


def _no_space(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    # TensorFlow reports a full disk as ResourceExhaustedError / an OpError naming it
    return type(exc).__name__ in ("ResourceExhaustedError", "InternalError", "UnknownError") and (
        "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc))


@contextlib.contextmanager
def staging(out_dir: str):
    """:func:`periodic_keras.runs.export_staging` for the exporters: a full disk while the
    export is written becomes one :class:`ExportError` naming the target (the previous
    export is untouched: only the staging directory was being written)."""
    try:
        with export_staging(out_dir) as tmp:
            yield tmp
    except Exception as exc:
        if not _no_space(exc):
            raise
        raise ExportError(f"no space left on the device while writing the export {out_dir!r} (the previous export, "
                          "if any, is untouched): free some space or choose another export directory") from None


def check_variants(variants) -> None:
    if "float32" not in variants:
        raise ValueError("variants must include 'float32' (the reference TFLite model)")
    unknown = sorted(set(variants) - set(TFLITE_VARIANTS))
    if unknown:
        raise ValueError(f"unknown TFLite variant(s) {unknown}: expected some of {sorted(TFLITE_VARIANTS)}")


def check_figure_limit(figure_limit, evaluate) -> None:
    """Refuse a malformed ``figure_limit`` (``(name, ratio > 0)``, with ``evaluate``) up front."""
    if figure_limit is None:
        return
    if evaluate is None:
        raise ValueError("figure_limit needs evaluate= (the figures it limits)")
    if (not isinstance(figure_limit, (tuple, list)) or len(figure_limit) != 2 or not isinstance(figure_limit[0], str)
            or isinstance(figure_limit[1], bool) or not isinstance(figure_limit[1], (int, float))
            or not figure_limit[1] > 0):
        raise ValueError(f"figure_limit must be (figure name, ratio > 0), got {figure_limit!r}")


def _leave_out(directory: str, tflite: dict, variant: str, reason: str, **record) -> dict:
    """Take ``variant`` out of ``tflite`` and delete its file from the export's own staging
    ``directory`` (written there by this export); return its ``refused`` record."""
    os.remove(os.path.join(directory, tflite.pop(variant)["file"]))
    return {"reason": f"{reason}; its file is not published", **record}


def measure_litert(directory: str, tflite: dict, variant: str, check, refused: dict, *args) -> bool:
    """``tflite[variant].update(check("litert", *args))``; a variant other than float32 that
    produces NaN/inf is left out (recorded in ``refused``). Returns whether it is kept."""
    try:
        tflite[variant].update(check("litert", *args))
    except edge.NonFiniteOutputError as exc:
        if variant == "float32":
            raise
        refused[variant] = _leave_out(directory, tflite, variant, f"{exc} (in LiteRT)")
        return False
    return True


def refuse_worse(directory: str, tflite: dict, name: str, ratio: float) -> dict:
    """Remove (from ``tflite`` and the staging ``directory``) each variant whose figure ``name``
    in LiteRT or TFLM exceeds ``ratio`` times the float32 variant's in LiteRT; return
    ``{variant: reason}``."""
    reference = tflite["float32"].get(name)
    if reference is None:
        raise ExportError(f"figure_limit: the float32 variant has no figure {name!r} (from evaluate)")
    refused = {}
    for variant, entry in list(tflite.items()):
        for runtime, figures in (("LiteRT", entry), ("TFLM", entry.get("tflm") or {})):
            value = figures.get(name)
            if variant != "float32" and value is not None and not value <= ratio * reference:
                refused[variant] = _leave_out(
                    directory, tflite, variant, f"{name} in {runtime} is {value:.4g}, more than {ratio:g} x the "
                                                f"float32 variant's {reference:.4g}",
                    **{k: v for k, v in entry.items() if k not in ("file", "sha256")})
                break
    return refused
