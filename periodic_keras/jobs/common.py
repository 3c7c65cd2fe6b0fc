"""What every job shares: one-line errors for the scripts, argument parsers."""

from __future__ import annotations

import os
import sys

from periodic_keras.edge import ExportedModelError

__all__ = ["USER_ERRORS", "run_cli", "snr_arg", "summary"]

#: Errors that mean "bad input or environment": a script reports them in one line.
USER_ERRORS = (ValueError, TypeError, KeyError, OSError, ImportError, ExportedModelError)


def _is_user_error(exc: BaseException) -> bool:
    export = sys.modules.get("periodic_keras.export")  # ExportError exists only once export is loaded
    return isinstance(exc, USER_ERRORS) or (export is not None and isinstance(exc, export.ExportError))


def snr_arg(text: str):
    """Parse an SNR for argparse: a number in dB, or ``inf``/``clean`` for noiseless."""
    if text.lower() in ("inf", "clean", "none", "noiseless"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"SNR must be a number in dB or 'clean', got {text!r}") from None


def run_cli(job, kwargs: dict):
    """Run ``job(**kwargs)``; on a user error print one line to stderr and return None."""
    prog = os.path.basename(sys.argv[0]) or "periodic_keras"
    try:
        return job(**kwargs)
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{prog}: error: {message}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished outputs are intact, rerun the same command to resume", file=sys.stderr)
    return None


def summary(result: dict, export_figures=None) -> str:
    """Human-readable summary of a job's result: table, timing, paths, export parity.

    ``export_figures(name, entry, metadata)`` formats one TFLite variant's figures.
    """
    from periodic_keras import results

    lines = [results.to_markdown(result["table"]), "",
             f"training: {result['train_seconds']:.0f} s",
             f"table: {', '.join(result['table_paths'])}", f"plot: {result['plot']}"]
    meta = result.get("export")
    if meta is not None and export_figures is not None:
        figures = ", ".join(export_figures(k, v, meta) for k, v in meta["tflite"].items())
        lines.append(f"exported: {result['export_dir']} ({figures})")
    return "\n".join(lines)
