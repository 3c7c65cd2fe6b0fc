"""periodic_keras.jobs.fitting and scripts/benchmark_fit_frequency.py: a small benchmark end to end.

Timings are machine- and load-dependent: they are checked to be finite, never against a target.
"""

import os

import numpy as np
import pandas as pd
import pytest

from periodic_keras import jobs
from periodic_keras.jobs.fitting import COLUMNS
from script_runner import main_runner as runner  # main(argv), in this process

#: Fixtures that train or run a job: the tests using them are marked slow (tests/conftest.py).
SLOW_FIXTURES = ('small',)

METRICS = [  # (case, metric) of every row, in order, for trials=5, repeats=2, epochs=2, draws=4
    (1, "relative error of omega"), (1, "seconds per fit (median of 2)"), (1, "draws exact to 1e-6 of 4"),
    (1, "slowest of 4 fits (s)"), (1, "absolute error of omega"),
    (1, "relative error of the period (vs 365.2422 days)"), (2, "RMSE / CRLB over 5 trials"),
    (3, "max omega error / width over 5 trials"), (3, "max omega error / width over 5 trials"),
    (4, "converged (of 3)"), (4, "converged (of 1)"), (5, "from_data period error (s)"),
    (5, "period error after 2 epochs (s)"), (5, "period error after 2 epochs (s)"),
]


run = runner('benchmark_fit_frequency.py')


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit_frequency")
    return jobs.benchmark_fit_frequency(trials=5, repeats=2, gd_starts=3, gd_steps=100, epochs=2, draws=4,
                                        output_dir=str(out), verbose=0)


def test_table_rows_files_and_finite_values(small):
    table = small["table"]
    assert list(table.columns) == list(COLUMNS)
    assert list(zip(table.case, table.metric)) == METRICS
    assert np.isfinite(table.measured).all() and (table.measured >= 0).all()
    assert np.isfinite(table.seconds).all() and (table.seconds >= 0).all()
    assert table.passed.dtype == bool
    assert not any("|" in str(v) for v in table.to_numpy().ravel())  # would break the markdown table
    csv_path, md_path = small["table_paths"]
    assert pd.read_csv(csv_path).shape == table.shape
    md = open(md_path).read().splitlines()
    assert md[0] == "| " + " | ".join(COLUMNS) + " |" and len(md) == 2 + len(table)
    assert open(small["plot"], "rb").read(4) == b"\x89PNG"
    assert small["train_seconds"] > 0 and small["seconds"] >= small["train_seconds"]
    assert small["errors"]["omega_error"].shape == small["errors"]["crlb"].shape == (5,)
    text = jobs.fit_frequency_summary(small)
    assert "targets met" in text.splitlines()[0] and "| 5 | naive start 2 % off |" in text


def test_deterministic_cases_pass(small):
    # the first row of each (case, metric); a non-unique MultiIndex .loc differs between pandas 2 and 3
    rows = {}
    for _, row in small["table"].iterrows():
        rows.setdefault((row.case, row.metric), row)
    noiseless = rows[(1, "relative error of omega")]
    assert noiseless.passed and noiseless.measured <= 1e-6
    assert rows[(1, "draws exact to 1e-6 of 4")].measured == 4  # no band given
    assert rows[(1, "absolute error of omega")].measured <= 1e-9  # clustered sampling
    assert rows[(1, "relative error of the period (vs 365.2422 days)")].measured <= 2e-3  # raw CO2, default args
    from_data = rows[(5, "from_data period error (s)")]
    assert from_data.passed and from_data.measured <= 1.0
    two_tones = small["table"][small["table"].case == 3]
    assert two_tones.passed.all()  # both tones found and separated, errors small against a resolution width
    gd = small["table"][small["table"].case == 4]
    assert list(gd.measured) == [0, 0]  # gradient descent does not find omega = 31, even from 31.0001


@pytest.mark.parametrize("kwargs, message", [
    ({"trials": 0}, "trials must be a positive integer"),
    ({"trials": 2.5}, "trials must be a positive integer"),
    ({"repeats": 0}, "repeats must be a positive integer"),
    ({"epochs": -1}, "epochs must be a positive integer"),
    ({"gd_steps": True}, "gd_steps must be a positive integer"),
    ({"n_points": 8}, "n_points must be an integer >= 16"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"verbose": 3}, "verbose must be 0, 1 or 2"),
    ({"snr_db": float("nan")}, "snr_db must be a finite number"),
    ({"half_span": 0.0}, "half_span must be positive"),
    ({"half_span": 0.5}, "half_span=0.5 is too short"),
    ({"gd_learning_rate": -1e-2}, "gd_learning_rate must be positive"),
])
def test_bad_arguments_raise_before_anything_is_written(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        jobs.benchmark_fit_frequency(**{"verbose": 0, **kwargs}, output_dir=str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")


@pytest.mark.slow
def test_script_quick_run(tmp_path):
    out = tmp_path / "run"
    done = run("--quick", "--output-dir", str(out), "--verbose", "1")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "results.csv")
    assert list(table.columns) == list(COLUMNS) and list(table.case) == [1, 1, 1, 1, 1, 1, 2, 3, 3, 4, 4, 5, 5, 5]
    assert np.isfinite(table.measured).all()
    assert (out / "results.md").exists() and (out / "fit_frequency.png").read_bytes()[:4] == b"\x89PNG"
    assert "targets met" in done.stdout and "RMSE / CRLB over 10 trials" in done.stdout
    assert "case 1 omega=31, noiseless: relative error" in done.stdout


def test_script_bad_argument_is_one_line(tmp_path):
    done = run("--trials", "0", "--output-dir", str(tmp_path / "out"), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "benchmark_fit_frequency.py: error: trials must be a positive integer, got 0"]
    assert not os.path.exists(tmp_path / "out")
