"""``periodic-keras <command> [options]``: one console command over every job.

Each command is the module of the same name in :mod:`periodic_keras.cli` (``train-freq`` is
:mod:`periodic_keras.cli.train_freq`, also run as ``python scripts/train_freq.py``); its
options are those of the script (``periodic-keras train-freq --help``).
"""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["COMMANDS", "exit_command", "main", "run"]

#: command -> module of :mod:`periodic_keras.cli` (and of ``scripts/``)
COMMANDS = {name.replace("_", "-"): name for name in (
    "train_freq", "train_generator", "train_divider", "train_burst", "train_clock", "forecast",
    "benchmark_forecast", "benchmark_freq_bound", "benchmark_fundamental", "benchmark_real_windows", "benchmark_seeds",
    "benchmark_fit_frequency", "benchmark_find_periods", "benchmark_activations", "export_table")}


def _usage() -> str:
    lines = ["usage: periodic-keras <command> [options]   (periodic-keras <command> --help for its options)", "",
             "commands:"]
    for command, module in COMMANDS.items():
        doc = importlib.import_module(f"periodic_keras.cli.{module}").__doc__ or ""
        lines.append(f"  {command:<24}{doc.strip().splitlines()[0] if doc.strip() else ''}")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run ``periodic-keras <command> [options]``; return its exit status (0 done, 2 a bad
    command line or input, 130/143 interrupted with finished outputs intact).

    >>> main(["--help"])  # doctest: +ELLIPSIS
    usage: periodic-keras <command> [options]...
    0
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command = argv[0].replace("_", "-")
    if command not in COMMANDS:
        print(f"periodic-keras: error: unknown command {argv[0]!r}; one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"periodic_keras.cli.{COMMANDS[command]}")
    return module.main(argv[1:], prog=f"periodic-keras {command}")


def exit_command(status: int):
    """End a command's process with ``status``. After an interrupt (130: Ctrl-C, 143: SIGTERM)
    the job has already unwound, its lock is released and its finished outputs are complete,
    so the process ends at once (``os._exit``): a training run stopped by SIGTERM under load
    printed its line and then hung in interpreter shutdown behind TensorFlow's threads (seen
    once in CI). Only the script and console entry points call this, never a library call."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    if status in (130, 143):
        os._exit(status)
    sys.exit(status)


def run():
    """The ``periodic-keras`` console entry point: :func:`main`, then :func:`exit_command`."""
    exit_command(main())

