"""Command lines over :mod:`periodic_keras.jobs`: ``periodic-keras <command>`` once installed
(``pyproject.toml``'s console entry point), ``python scripts/<command>.py`` in a checkout, or
``<command>.main(argv)`` in code. Each command module parses its options and calls one job.

>>> from periodic_keras import cli
>>> "train-freq" in cli.COMMANDS
True
"""

from periodic_keras.cli import (benchmark_activations, benchmark_find_periods, benchmark_fit_frequency,
                                benchmark_forecast, benchmark_freq_bound, benchmark_fundamental,
                                benchmark_real_windows, benchmark_seeds, export_table, forecast, train_burst,
                                train_clock, train_divider, train_freq, train_generator)
from periodic_keras.cli.main import COMMANDS, exit_command, main, run

__all__ = [
    "COMMANDS", "exit_command", "run", "benchmark_activations", "benchmark_find_periods", "benchmark_fit_frequency",
    "benchmark_forecast", "benchmark_freq_bound", "benchmark_fundamental", "benchmark_real_windows",
    "benchmark_seeds", "export_table", "forecast", "main", "train_burst", "train_clock", "train_divider",
    "train_freq", "train_generator",
]
