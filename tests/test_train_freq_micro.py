"""scripts/train_freq.py --preset micro end to end: the microcontroller model, trained, exported
as mixed int8 under 64 KB and measured in TFLM (its own file: the suite's longest run)."""

import numpy as np
import pandas as pd
import pytest

from periodic_keras import edge
from script_runner import main_runner

run_in = main_runner("train_freq.py")  # main(argv) in this process


@pytest.mark.slow
def test_micro_preset_exports_a_mixed_int8_model_under_64_kb(tmp_path):
    import json

    out = tmp_path / "run"
    done = run_in("--preset", "micro", "--n-test", "100", "--eval-snr", "10", "0", "--output-dir", str(out),
                  "--export-dir", str(tmp_path / "exp"), "--verbose", "0")
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "exp" / "metadata.json").read_text())
    training = meta["training"]
    assert training["refine_from"] == "all" and training["train_on_estimate"] and training["bin_units"] == 16
    int8 = meta["tflite"]["int8"]
    assert int8["bytes"] <= 64 * 1024 and "refined" in int8["float_layers"]
    assert int8["tflm"]["runs"] and int8["tflm"]["rmse_over_crlb_10dB"] <= 1.3  # the target, in TFLM
    assert meta["c_array"]["variant"] == "int8" and meta["c_array"]["length"] == int8["bytes"]
    got = edge.load(str(tmp_path / "exp"), "int8", runtime="tflm").predict(np.sin(2 * np.pi * 7.3 * np.arange(100) / 100))
    assert abs(got[0] - 7.3) < 1e-3
    table = pd.read_csv(out / "results.csv")
    assert {"lstm_only", "lstm_refined", "peaks_refined", "ml"} <= set(table["estimator"])
