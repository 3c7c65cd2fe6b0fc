"""periodic_keras.jobs.periods and scripts/benchmark_find_periods.py: a small run end to end."""

import os

import numpy as np
import pandas as pd
import pytest

from periodic_keras import jobs
from periodic_keras.jobs.periods import COLUMNS
from script_runner import main_runner as runner  # main(argv), in this process

#: Fixtures that train or run a job: the tests using them are marked slow (tests/conftest.py).
SLOW_FIXTURES = ('small',)

run = runner("benchmark_find_periods.py")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("find_periods")
    return jobs.benchmark_find_periods(draws=30, output_dir=str(out), verbose=0)


def test_table_files_and_what_it_measures(small):
    table = small["table"]
    assert list(table.columns) == list(COLUMNS)
    assert not any("|" in str(v) for v in table.to_numpy().ravel())  # would break the markdown table
    noise = table[table.case == 1]
    assert len(noise) == 6 and all(0 <= float(v) <= 0.2 for v in noise.measured)
    agree = table[table.case == 2].set_index("metric").measured
    assert float(agree["same detection decision"]) >= 0.8
    assert float(agree["median abs. difference of log10 FAP"]) < 0.2
    real = table[table.case == 3]
    assert set(real.name) == {"sunspots, yearly", "CO2 weekly, raw (gaps)", "SF temperature, hourly"}
    ours = real[real.method == "find_periods"].set_index("name").measured
    assert ours["CO2 weekly, raw (gaps)"].startswith("365.") and ours["sunspots, yearly"].startswith("11.0")
    md = open(small["table_paths"][1]).read().splitlines()
    assert md[0] == "| " + " | ".join(COLUMNS) + " |" and len(md) == 2 + len(table)
    assert pd.read_csv(small["table_paths"][0]).shape == table.shape
    assert open(small["plot"], "rb").read(4) == b"\x89PNG"
    assert "benchmark" in jobs.find_periods_summary(small)


@pytest.mark.parametrize("kwargs, message", [
    ({"draws": 0}, "draws must be a positive integer"),
    ({"n_points": 5}, "n_points must be an integer >= 20"),
    ({"seed": -2}, "seed must be an integer >= 0"),
    ({"verbose": 2}, "verbose must be 0 or 1"),
])
def test_bad_arguments_raise_before_anything_is_written(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        jobs.benchmark_find_periods(**{"verbose": 0, **kwargs}, output_dir=str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")


def test_script_bad_argument_is_one_line(tmp_path):
    done = run("--draws", "0", "--output-dir", str(tmp_path / "out"), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "benchmark_find_periods.py: error: draws must be a positive integer, got 0"]
    assert not os.path.exists(tmp_path / "out")
