"""scripts/benchmark_seeds.py: one short clock seed end to end (tables written, key figures present)."""

import pandas as pd
import pytest

from script_runner import main_runner as runner  # main(argv), in this process

run = runner("benchmark_seeds.py")


@pytest.mark.slow
def test_clock_seed_table(tmp_path):
    done = run("--task", "clock", "--seeds", "3", "--steps", "20", "--output-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    seeds = pd.read_csv(tmp_path / "seeds.csv")
    assert list(seeds.columns) == ["seed", "train_s", "exact_day", "exact_test", "errors_test"]
    assert seeds["seed"].tolist() == [3] and seeds["exact_test"].between(0, 1).all()
    assert (tmp_path / "spread.csv").exists() and not (tmp_path / "seed3" / "exported").exists()


def test_unknown_task_is_refused(tmp_path):
    done = run("--task", "nope", "--output-dir", str(tmp_path), timeout=60)
    assert done.returncode == 2 and "invalid choice" in done.stderr
