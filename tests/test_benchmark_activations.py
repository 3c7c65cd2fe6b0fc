"""periodic_keras.jobs.activations and scripts/benchmark_activations.py: a tiny study end to end."""

import math
import os

import numpy as np
import pandas as pd
import pytest

from periodic_keras import jobs
from script_runner import main_runner as runner  # main(argv), in this process

#: Fixtures that train or run a job: the tests using them are marked slow (tests/conftest.py).
SLOW_FIXTURES = ('tiny',)

COLUMNS = ["function", "model", "params", "mse_inside", "mse_left", "mse_right", "mse_outside", "train_s"]


run = runner('benchmark_activations.py')


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("activations")
    return jobs.benchmark_activations(functions=("sin", "x_plus_sin"), activations=("relu", "snake", "sine"),
                                      n_train=256, n_eval=200, width=32, depth=2, steps=300,
                                      output_dir=str(out), verbose=0)


def test_table_shape_files_and_finite_values(tiny):
    table = tiny["table"]
    assert list(table.columns) == COLUMNS
    assert len(table) == 2 * (2 + 3)
    per_function = table.groupby("function").model.apply(list).to_dict()
    assert per_function == {f: ["train mean", "linear fit", "relu", "snake", "sine"] for f in ("sin", "x_plus_sin")}
    mses = table[["mse_inside", "mse_left", "mse_right", "mse_outside"]].to_numpy()
    assert np.isfinite(mses).all() and (mses >= 0).all()
    assert np.allclose(table.mse_outside, (table.mse_left + table.mse_right) / 2)
    trained = table[~table.model.isin(["train mean", "linear fit"])]
    assert (trained.train_s > 0).all() and (trained.params > 100).all()
    assert table[table.model.isin(["train mean", "linear fit"])].train_s.isna().all()
    csv_path, md_path = tiny["table_paths"]
    assert pd.read_csv(csv_path).shape == table.shape
    assert open(md_path).readline().startswith("| function | model |")
    assert open(tiny["plot"], "rb").read(4) == b"\x89PNG"
    assert set(tiny["models"]) == {(f, a) for f in ("sin", "x_plus_sin") for a in ("relu", "snake", "sine")}
    assert tiny["intervals"]["right"] == pytest.approx((2 * math.pi, 6 * math.pi))
    text = jobs.activations_summary(tiny)
    assert "mse_right on [6.283, 18.85]" in text and "| x_plus_sin | snake |" in text


def test_baselines_have_the_expected_scale(tiny):
    rows = tiny["table"].set_index(["function", "model"])
    # sin over two whole periods: the mean predicts ~0, so its MSE is the mean of sin^2 = 1/2 everywhere.
    assert rows.loc[("sin", "train mean"), ["mse_inside", "mse_outside"]].to_numpy() == pytest.approx(0.5, abs=0.01)
    # the least-squares line of x + sin(x) is x plus that of sin(x): the same errors.
    line = rows.xs("linear fit", level="model")
    assert line.loc["x_plus_sin", "mse_outside"] == pytest.approx(line.loc["sin", "mse_outside"])


def test_trained_models_fit_the_interval_and_snake_follows_the_trend(tiny):
    rows = tiny["table"].set_index(["function", "model"])
    for act in ("snake", "sine"):  # even 300 steps fit sin(x) inside far better than its mean
        assert rows.loc[("sin", act)].mse_inside < 0.02 * rows.loc[("sin", "train mean")].mse_inside
    # Snake's x + sin^2 keeps the linear trend of x + sin(x) beyond the interval; the mean cannot.
    assert rows.loc[("x_plus_sin", "snake")].mse_outside < 0.1 * rows.loc[("x_plus_sin", "train mean")].mse_outside


@pytest.mark.parametrize("kwargs, message", [
    ({"functions": ["cos"]}, "unknown function 'cos'"),
    ({"functions": []}, "functions must name at least one"),
    ({"activations": ["gelu"]}, "unknown activation 'gelu'"),
    ({"activations": ["relu", "relu"]}, "activations lists 'relu' twice"),
    ({"train_interval": (1.0, 1.0)}, "train_interval must have LOW < HIGH"),
    ({"train_interval": (2.0, -2.0)}, "train_interval must have LOW < HIGH"),
    ({"train_interval": (0.0,)}, "train_interval must be a pair"),
    ({"train_interval": (0.0, float("inf"))}, "train_interval HIGH must be a finite number"),
    ({"extrapolation": 0.0}, "extrapolation must be positive"),
    ({"steps": 0}, "steps must be a positive integer"),
    ({"width": 2.5}, "width must be a positive integer"),
    ({"learning_rate": -1e-3}, "learning_rate must be positive"),
])
def test_bad_arguments_raise_before_anything_is_written(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        jobs.benchmark_activations(**kwargs, output_dir=str(tmp_path / "out"), verbose=0)
    assert not os.path.exists(tmp_path / "out")


@pytest.mark.slow
def test_script_quick_run(tmp_path):
    out = tmp_path / "run"
    done = run("--quick", "--functions", "sin", "--activations", "tanh", "fourier", "--output-dir", str(out))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "results.csv")
    assert list(table.model) == ["train mean", "linear fit", "tanh", "fourier"] and list(table.columns) == COLUMNS
    assert (out / "activations.png").read_bytes()[:4] == b"\x89PNG"
    assert "| sin | fourier |" in done.stdout and "sin / tanh: mse inside" in done.stdout


def test_script_bad_name_is_one_line(tmp_path):
    done = run("--activations", "relu", "swish", "--output-dir", str(tmp_path / "out"), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "benchmark_activations.py: error: unknown activation 'swish': expected one of "
        "('relu', 'tanh', 'snake', 'sine', 'fourier', 'fan')"]
    assert not os.path.exists(tmp_path / "out")


def test_job_and_model_builder_agree_on_the_activations():
    from periodic_keras.jobs.activations import ACTIVATIONS as JOB_ACTIVATIONS
    from periodic_keras.models import ACTIVATIONS, activation_mlp

    assert JOB_ACTIVATIONS == ACTIVATIONS
    for name in ACTIVATIONS:
        assert activation_mlp(name, width=4, depth=1).output_shape == (None, 1)
    with pytest.raises(ValueError, match="unknown activation"):
        activation_mlp("swish")
