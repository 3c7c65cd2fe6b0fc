import os

import numpy as np
import pandas as pd
import pytest

from periodic_keras import edge
from script_runner import main_runner, runner

run = runner('train_freq.py')          # a fresh process, as a user runs it
run_in = main_runner('train_freq.py')   # main(argv) in this process


@pytest.mark.parametrize("args, message", [
    (["--fmax", "60"], "Nyquist"),
    (["--window", "4", "--fmax", "1.5"], "too short"),
    (["--fmin", "0"], "must be positive"),
    (["--steps", "0"], "steps must be a positive integer"),
    (["--clean-fraction", "1.5"], "clean_fraction"),
    (["--train-snr", "20", "10"], "LOW <= HIGH"),
    (["--frontend", "fft"], "invalid choice"),
    (["--eval-snr", "loud"], "invalid snr_arg value"),
    (["--hedge", "0"], "invalid hedge_arg value"),
    (["--hedge", "warm"], "invalid hedge_arg value"),
    (["--preset", "nano"], "invalid choice: 'nano'"),
    (["--refine-from", "peaks"], "invalid choice: 'peaks'"),
    (["--preset", "micro", "--refine-steps", "0"], "train_on_estimate needs refine_steps > 0"),
    (["--bin-units", "0"], "bin_units must be a positive integer"),
])
def test_bad_arguments_exit_nonzero_with_one_clear_line(args, message, tmp_path):
    done = run_in(*args, "--output-dir", str(tmp_path / "out"), "--no-export")
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not os.path.exists(tmp_path / "out" / "results.csv")


def test_help_documents_every_option():
    done = run_in("--help")
    assert done.returncode == 0
    for option in ("--window", "--fmin", "--fmax", "--train-snr", "--eval-snr", "--steps", "--seed",
                   "--output-dir", "--export-dir", "--quick", "--preset", "--refine-from", "--train-on-estimate",
                   "--bin-units", "--oversample"):
        assert option in done.stdout


@pytest.mark.slow
def test_quick_run_writes_table_plot_and_export(tmp_path):
    out = tmp_path / "run"
    done = run_in("--quick", "--steps", "30", "--n-test", "100", "--output-dir", str(out), "--verbose", "0")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "results.csv")
    stages = {"lstm_only", "lstm_refined", "peaks_refined", "peaks_hedged"}  # the model's parts, as estimators
    assert set(table["estimator"]) == {"lstm", "ml", "candan", "mmse_known_snr", "crlb"} | stages
    assert table[table.estimator == "mmse_known_snr"]["snr_db"].map(np.isfinite).all()  # told a finite SNR only
    assert sorted(table["snr_db"].unique()) == [-10.0, -6.0, -3.0, 0.0, 5.0, 10.0, 20.0, 30.0, 40.0, float("inf")]
    assert set(table.columns) >= {"mae", "rmse", "rmse_over_crlb", "n", "ms_per_window"}
    ml10 = table[(table.estimator == "ml") & (table.snr_db == 10)].iloc[0]
    assert ml10.rmse_over_crlb < 1.2  # the strong anchor, in the same table
    assert (table["n"] == 100).all()
    candan10 = table[(table.estimator == "candan") & (table.snr_db == 10)].iloc[0]
    assert 1.0 < candan10.rmse_over_crlb < 2.5
    assert (out / "results.md").read_text().startswith("| estimator |")
    assert (out / "predictions.png").read_bytes()[:4] == b"\x89PNG"
    model = edge.load(str(out / "exported"))
    assert model.metadata["window"] == 100 and model.metadata["evaluation"]["lstm@10dB"]["n"] == 100
    assert str(out / "exported") in done.stdout


def test_job_frontends_match_the_models():
    from periodic_keras import jobs, models, training
    from periodic_keras.jobs import evaluate

    assert jobs.FRONTENDS == models.FRONTENDS and jobs.REFINE_FROM == models.REFINE_FROM
    assert jobs.STRATEGIES == training.STRATEGIES
    assert jobs.HEDGE_TEMPERATURE == models.HEDGE_TEMPERATURE
    assert jobs.DEFAULT_EVAL_SNRS == evaluate.DEFAULT_SNRS


def test_bad_arguments_fail_before_tensorflow_loads(tmp_path):
    done = run("--fmax", "70", "--output-dir", str(tmp_path / "o"), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "train_freq.py: error: fmax=70.0 cycles/window is at or above the Nyquist limit window/2 = 50.0 "
        "for window=100"
    ]
