"""Real windows: the exported frequency model on windows of real series, against ML, or flagged."""

import os

import numpy as np
import pytest

from periodic_keras import jobs
from periodic_keras.data.real import REAL_SERIES, real_series
from script_runner import ROOT, run_main


def test_real_series_load_offline_as_windows():
    windows = real_series(100)
    assert set(windows) == set(REAL_SERIES)  # vega_datasets and statsmodels ship their data
    for name, x in windows.items():
        assert x.shape[1] == 100 and len(x) > 100 and np.isfinite(x).all(), name


def test_every_real_window_agrees_with_ml_or_is_flagged(tmp_path):
    out = jobs.benchmark_real_windows(os.path.join(ROOT, "exported", "freq"), output_dir=str(tmp_path / "real"))
    table = out["table"].set_index("series")
    assert set(table.index) == set(REAL_SERIES) and not out["missing"]
    assert (table["neither"] == 0).all(), table  # a trusted answer never disagrees with ML
    assert (table.loc[["sf_temps (hourly)", "seattle_temps (hourly)"], "agree"] > 0.95 * 347).all()
    assert (tmp_path / "real" / "results.md").exists()


def test_script_refuses_a_non_frequency_export(tmp_path):
    done = run_main("benchmark_real_windows.py", "--export-dir", os.path.join(ROOT, "exported", "clock"),
                      "--output-dir", str(tmp_path / "o"), timeout=120)
    assert done.returncode == 2 and "real windows need a frequency export" in done.stderr
    assert not (tmp_path / "o").exists()
