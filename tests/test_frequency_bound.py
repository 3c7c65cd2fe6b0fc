"""benchmark_frequency_bound: the committed export against ML and the MMSE bound, through the edge runtime."""

import os

import numpy as np

from periodic_keras import jobs
from script_runner import ROOT, run_main


def test_the_committed_model_ties_ml_above_the_threshold_and_hedges_below(tmp_path):
    out = jobs.benchmark_frequency_bound(os.path.join(ROOT, "exported", "freq"), snrs=(10.0, -10.0), n=600,
                                         output_dir=str(tmp_path / "bound"), verbose=0)
    ratios = out["ratios"].set_index("snr_db")
    assert list(ratios.columns) == ["ml/crlb", "model/ml", "ml/ml", "candan/ml", "mmse_known_snr/ml"]
    assert abs(ratios.loc[10.0, "model/ml"] - 1.0) < 0.01 and ratios.loc[10.0, "candan/ml"] > 1.2
    # At -10 dB most windows are noise peaks: posterior means beat the ML answers.
    assert ratios.loc[-10.0, "mmse_known_snr/ml"] < 0.95 and ratios.loc[-10.0, "model/ml"] < 0.95
    assert np.isfinite(out["table"].query("estimator == 'model'")["ms_per_window"]).all()
    assert sorted(os.listdir(tmp_path / "bound")) == [".periodic_keras", "ratios.csv", "ratios.md", "results.csv",
                                                      "results.md"]


def test_script_refuses_a_non_frequency_export(tmp_path):
    done = run_main("benchmark_freq_bound.py", "--export-dir", os.path.join(ROOT, "exported", "clock"),
                      "--output-dir", str(tmp_path / "o"), timeout=120)
    assert done.returncode == 2 and "the bound needs a frequency export" in done.stderr
    assert not (tmp_path / "o").exists()
