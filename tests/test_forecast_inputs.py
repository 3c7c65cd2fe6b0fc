"""Forecasting inputs that used to give silent wrong answers (issue 29): each is refused with one
clear line before any training and before the output directory is claimed, or handled correctly."""

import faulthandler
import os
import re

import numpy as np
import pandas as pd
import pytest

from script_runner import main_runner as runner  # main(argv), in this process

from periodic_keras.classical import find_periods, fit_frequency
from periodic_keras.data import csv_series, regular_series
from periodic_keras.forecasting import DISCOVERY_STEPS, Forecaster, check_values

run = runner("forecast.py")


def hourly_frame(n=400, seed=0):
    t = np.arange(n)
    y = 10 + 2 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(seed).normal(0, 0.2, n)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h").astype(str), "y": y})


def listing(root):
    """Every file under ``root`` with its bytes: what a refused run must leave as it was."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                out[os.path.relpath(path, root)] = handle.read()
    return out


def refused(tmp_path, frame_or_bytes, *args, time_column="time"):
    """Run forecast.py on a CSV that must be refused: exit 2, exactly one line on stderr, the
    output directory never claimed, no file changed. Returns that line."""
    csv = tmp_path / "in.csv"
    if isinstance(frame_or_bytes, bytes):
        csv.write_bytes(frame_or_bytes)
    else:
        frame_or_bytes.to_csv(csv, index=False)
    before = listing(tmp_path)
    argv = ["--csv", str(csv), "--column", "y", "--horizon", "12", "--output-dir", str(tmp_path / "out"), *args]
    if time_column:
        argv += ["--time-column", time_column]
    done = run(*argv)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("forecast.py: error: "), done.stderr
    assert listing(tmp_path) == before and not os.path.exists(tmp_path / "out")
    return lines[0]


# --- 1. times out of order or repeated -------------------------------------------------------------------


def test_descending_times_are_refused_not_forecast_backwards(tmp_path):
    line = refused(tmp_path, hourly_frame().iloc[::-1])
    assert "must be strictly increasing" in line and "data row 2" in line and "sort the file by time" in line
    assert "in.csv" in line


def test_one_time_out_of_order_names_its_row(tmp_path):
    frame = hourly_frame()
    frame.loc[[40, 41], "time"] = frame.loc[[41, 40], "time"].to_numpy()
    line = refused(tmp_path, frame)
    assert "data row 42 (2024-01-02 16:00:00) comes before data row 41 (2024-01-02 17:00:00)" in line


def test_repeated_times_are_refused(tmp_path):
    frame = hourly_frame()
    frame.loc[11, "time"] = frame.loc[10, "time"]
    line = refused(tmp_path, frame)
    assert "repeats time 2024-01-01 10:00:00 (data rows 11 and 12)" in line and "aggregate" in line


def test_an_empty_time_cell_is_refused(tmp_path):
    frame = hourly_frame()
    frame.loc[5, "time"] = None
    assert "empty cell at data row 6" in refused(tmp_path, frame)


def test_regular_series_refuses_descending_and_repeated_indexes():
    y = np.arange(6.0)
    down = pd.date_range("2024-01-01", periods=6, freq="h")[::-1]
    with pytest.raises(ValueError, match=r"strictly increasing: time 2024-01-01 04:00:00 \(position 1\) comes "
                                         r"before 2024-01-01 05:00:00 \(position 0\)"):
        regular_series(pd.Series(y, index=down))
    with pytest.raises(ValueError, match=r"time 3 is repeated \(positions 2 and 3\)"):
        regular_series(pd.Series(y, index=[1, 2, 3, 3, 4, 5]))
    with pytest.raises(ValueError, match="strictly increasing"):
        regular_series(pd.Series(y, index=pd.period_range("2020-01", periods=6, freq="M")[::-1]))
    with pytest.raises(ValueError, match="time step must be positive"):
        regular_series(pd.Series(y, index=down[::-1]), step="-1h")


# --- 2. values beyond what float32 (and float64) compute with -------------------------------------------


@pytest.mark.parametrize("values, message", [
    ("one", r"holds 1e\+308 at step 7: beyond the magnitude the float32 model computes with"),
    ("all", r"beyond the magnitude the float32 model computes with"),
    ("tiny", r"varies too little for the float32 model: standard deviation 1\.4\de-300"),
    ("level", r"varies by a standard deviation of 0\.00\d+ around values up to 1e\+06: below float32's resolution"),
])
def test_values_float32_cannot_hold_are_refused_before_any_work(tmp_path, values, message):
    frame = hourly_frame()
    y = frame["y"].to_numpy()
    frame["y"] = {"one": np.where(np.arange(y.size) == 7, 1e308, y), "all": 1e308 * (1 + (y - 10) / 1e3),
                  "tiny": 1e-300 * (y - 10), "level": 1e6 + (y - 10) / 1e3}[values]
    assert re.search(message, refused(tmp_path, frame))


def test_check_values_accepts_ordinary_and_constant_series():
    check_values(regular_series(np.sin(np.arange(100.0))))
    check_values(regular_series(np.full(50, 3.0)))  # a constant forecasts itself
    check_values(regular_series(1e14 * np.sin(np.arange(100.0))))
    with pytest.raises(ValueError, match="varies too little"):
        check_values(regular_series(np.full(50, 1e-9)))


def test_fit_frequency_refuses_a_fit_that_overflows():
    x = np.arange(200.0)
    y = np.zeros(200)
    y[-1] = 1e308  # used to give amplitude=inf at omega = pi
    with pytest.raises(ValueError, match=r"the fit overflows float64: y reaches 1e\+308"):
        fit_frequency(x, y)
    fit = fit_frequency(x, 1e300 * np.sin(0.3 * x))  # large but with headroom: still right
    assert abs(fit.omega - 0.3) < 1e-9 and abs(fit.amplitude / 1e300 - 1) < 1e-9


# --- 3. numeric times: finite, within range, representable ----------------------------------------------


def numeric_times_frame(times):
    frame = hourly_frame(len(times))
    frame["time"] = times
    return frame


def test_numeric_times_whose_forecast_overflows_are_refused_up_front(tmp_path):
    line = refused(tmp_path, numeric_times_frame(1e308 + 1e306 * np.arange(70)))
    assert re.search(r"step 81 of the time grid \(start 1e\+308, step 1e\+306\) lies beyond the times", line)
    top = np.iinfo(np.int64).max
    line = refused(tmp_path, numeric_times_frame(top - 705 + np.arange(700, dtype=np.int64)))
    assert "beyond the times the index can hold" in line and "beyond int64" in line


def test_non_finite_numeric_times_are_refused(tmp_path):
    times = np.arange(400.0)
    times[9] = np.inf
    assert "holds inf at data row 10: times must be finite numbers" in refused(tmp_path, numeric_times_frame(times))


def test_huge_numeric_times_on_a_representable_grid_work():
    """Times 2**70 apart (beyond int64) used to raise OverflowError in times() after the fit."""
    n = 100
    s = regular_series(pd.Series(np.sin(np.arange(n)), index=2.0**70 * np.arange(1, n + 1)))
    assert s.step == 2.0**70 and s.future_index(2).tolist() == [101 * 2.0**70, 102 * 2.0**70]
    Forecaster(4, periods=[6.0]).prepare(s)


def test_integer_times_beyond_float64_precision_stay_exact():
    ns = 1_700_000_000_000_000_123 + 3_600_000_000_000 * np.arange(50, dtype=np.int64)  # hourly, in ns
    s = regular_series(pd.Series(np.sin(np.arange(50)), index=ns))
    assert s.step == 3_600_000_000_000 and s.start == 1_700_000_000_000_000_123
    assert int(s.future_index(1)[0]) == int(ns[-1]) + 3_600_000_000_000


def test_times_too_close_for_float64_or_too_sparse_are_refused():
    with pytest.raises(ValueError, match="float64 resolves only"):
        regular_series(pd.Series(np.arange(4.0), index=1e17 + np.array([0.0, 0.5, 1.0, 1.5]) * 64))
    with pytest.raises(ValueError, match="grid would be almost all gaps"):
        regular_series(pd.Series(np.arange(3.0), index=[0, 1, 10**12]))


# --- 4. long series ---------------------------------------------------------------------------------------


def test_a_million_steps_prepare_in_seconds_not_minutes():
    """prepare on 1e6 steps (periods discovered on the last DISCOVERY_STEPS steps) used to run
    for over 12 minutes. No timed assertion (the report records the time: about 3 s); a
    hang guard ends the run with a traceback if it ever takes minutes again."""
    t = np.arange(1_000_000)
    noise = np.random.default_rng(0).normal(0, 0.3, t.size)
    y = 10 + 2 * np.sin(2 * np.pi * t / 24) + np.sin(2 * np.pi * t / 168) + noise
    y[1::97] = np.nan  # gaps: a lattice with holes
    faulthandler.dump_traceback_later(600, exit=True)
    try:
        f = Forecaster(24).prepare(y)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert [round(p, 3) for p in sorted(f.periods_)] == [24.0, 168.0] and f.context_ == 336
    assert len(f.series_) == t.size and DISCOVERY_STEPS < t.size


# --- 5. small things ---------------------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_names_file_and_line(tmp_path):
    text = hourly_frame(30).to_csv(index=False).encode()
    lines = text.split(b"\n")
    lines[17] = lines[17].replace(b",", b",\xe9", 1)
    line = refused(tmp_path, b"\n".join(lines))
    assert "in.csv" in line and "is not UTF-8 text: byte 0xe9 at line 18" in line


def test_huge_periods_are_refused_compactly(tmp_path):
    line = refused(tmp_path, hourly_frame(), "--periods", "1e308")
    assert "a period of 1e+308 steps is not shorter than the series (400 steps)" in line and len(line) < 300
    assert "finite" in refused(tmp_path, hourly_frame(), "--periods", "inf")
    assert "steps >= 2" in refused(tmp_path, hourly_frame(), "--periods", "1.5")
    assert re.search(r"longest period \(300 steps\)", refused(tmp_path, hourly_frame(), "--periods", "300"))


def test_true_false_columns_are_refused(tmp_path):
    frame = hourly_frame()
    frame["y"] = frame["y"] > 10
    assert "column 'y' of" in (line := refused(tmp_path, frame)) and "True/False values" in line
    frame["y"] = frame["y"].astype(object)
    frame.loc[3, "y"] = None  # pandas reads True/False with gaps as objects
    assert "True/False values (first True at data row 1)" in refused(tmp_path, frame)


def test_csv_series_reads_what_it_refuses_nothing_of(tmp_path):
    path = tmp_path / "ok.csv"
    hourly_frame(50).to_csv(path, index=False)
    s = csv_series(path, "y", "time")
    assert len(s) == 50 and s.index.is_monotonic_increasing
    assert find_periods(s).periods  # the same Series feeds the classical search
