"""End-to-end jobs (train, evaluate, export) behind the scripts, callable from code.

Each script only parses its arguments and calls one job here; the same call in a
notebook gives the same run, tables, plots and export. TensorFlow-heavy modules are
imported inside the jobs, after the arguments are checked, so a bad command line
fails in a fraction of a second with one clean line.
"""

from periodic_keras.jobs.activations import (
    ACTIVATIONS as BENCHMARK_ACTIVATIONS, FUNCTIONS as BENCHMARK_FUNCTIONS, activations_summary, benchmark_activations,
)
from periodic_keras.jobs.clock import clock_summary, train_clock
from periodic_keras.jobs.common import (
    STRATEGIES, USER_ERRORS, add_export_benchmark_arguments, add_run_arguments, add_strategy_argument, hedge_arg,
    resolve_run_arguments, run_cli, run_script, snr_arg,
)
from periodic_keras.jobs.export_table import export_table, export_table_summary
from periodic_keras.jobs.family_generator import (
    DEFAULT_STEPS as FAMILY_STEPS, family_generator_summary, train_family_generator,
)
from periodic_keras.jobs.fitting import benchmark_fit_frequency, fit_frequency_summary
from periodic_keras.jobs.forecast import forecast_csv, forecast_summary
from periodic_keras.jobs.forecast_bench import benchmark_forecast, forecast_benchmark_summary
from periodic_keras.jobs.frequency import (
    DEFAULT_EVAL_SNRS, FRONTENDS, HEDGE_TEMPERATURE, MICRO as FREQ_MICRO, REFINE_FROM, frequency_summary,
    train_frequency,
)
from periodic_keras.jobs.frequency_bound import benchmark_frequency_bound, frequency_bound_summary
from periodic_keras.jobs.fundamental import benchmark_fundamental, export_fundamental, fundamental_summary
from periodic_keras.jobs.generator import forecast_sf_temps, generator_summary, train_generator
from periodic_keras.jobs.memory import memory_summary, train_burst, train_divider
from periodic_keras.jobs.periods import benchmark_find_periods, find_periods_summary
from periodic_keras.jobs.real_windows import benchmark_real_windows, real_windows_summary
from periodic_keras.jobs.seeds import SEED_TASKS, benchmark_seeds, seeds_summary

__all__ = [
    "BENCHMARK_ACTIVATIONS", "BENCHMARK_FUNCTIONS", "DEFAULT_EVAL_SNRS", "FAMILY_STEPS", "FREQ_MICRO", "FRONTENDS",
    "HEDGE_TEMPERATURE", "REFINE_FROM", "SEED_TASKS", "STRATEGIES", "USER_ERRORS", "activations_summary",
    "add_export_benchmark_arguments", "add_run_arguments", "add_strategy_argument", "benchmark_activations",
    "benchmark_find_periods", "benchmark_fit_frequency", "benchmark_fundamental", "benchmark_forecast",
    "benchmark_frequency_bound", "benchmark_real_windows", "benchmark_seeds", "clock_summary", "export_table",
    "export_fundamental", "export_table_summary", "family_generator_summary", "find_periods_summary",
    "fit_frequency_summary",
    "forecast_benchmark_summary", "forecast_csv", "forecast_sf_temps", "forecast_summary",
    "frequency_bound_summary", "frequency_summary", "fundamental_summary", "generator_summary", "hedge_arg",
    "memory_summary", "real_windows_summary", "resolve_run_arguments", "run_cli", "run_script", "seeds_summary",
    "snr_arg", "train_burst", "train_clock", "train_divider", "train_family_generator", "train_frequency",
    "train_generator",
]
