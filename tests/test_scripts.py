"""The exit-code contract of every script, in fresh processes as a user runs them: a bad command
line exits 2 with one ``<script>: error: ...`` line, no traceback, nothing written.

The other argument tables run the scripts' ``main(argv)`` in the test process
(``script_runner.run_main``); this file is where each script also starts as its own process.
All of them start at once, so the file costs about one interpreter start per core.
"""

import glob
import os
import re
import subprocess
import sys

import pytest

from periodic_keras import VERBOSE_ENV, cli
from script_runner import ROOT

#: One bad command line per script (each fails before any work), and what its line says.
BAD = {
    "benchmark_activations.py": (["--activations", "gelu"], r"unknown activation 'gelu'"),
    "benchmark_find_periods.py": (["--draws", "0"], r"draws must be a positive integer, got 0"),
    "benchmark_fit_frequency.py": (["--n-points", "3"], r"n_points must be an integer >= 16, got 3"),
    "benchmark_forecast.py": (["--origins", "0"], r"origins must be a positive integer, got 0"),
    "benchmark_freq_bound.py": (["--n", "0"], r"n must be a positive integer, got 0"),
    "benchmark_fundamental.py": (["--n-test", "0"], r"n_test must be a positive integer, got 0"),
    "benchmark_real_windows.py": (["--export-dir", os.path.join(ROOT, "exported", "clock")],
                                  r"holds a 'clock' export; real windows need a frequency export"),
    "benchmark_seeds.py": (["--task", "clock", "--seeds", "-1"], r"seed must be an integer >= 0, got -1"),
    "export_table.py": (["--exported", os.path.join(ROOT, "no", "such", "dir")], r"is not a directory"),
    "forecast.py": (["--csv", os.path.join(ROOT, "no-such.csv"), "--column", "y", "--horizon", "4"],
                    r"series CSV file not found"),
    "train_burst.py": (["--n-test", "-1"], r"n_test must be a positive integer, got -1"),
    "train_clock.py": (["--naive", "relu"], r"unknown naive baseline\(s\) \['relu'\]"),
    "train_divider.py": (["--window", "1000"], r"window=1000 is longer than the training sequences"),
    "train_freq.py": (["--fmax", "60"], r"fmax=60.0 cycles/window is at or above the Nyquist limit"),
    "train_generator.py": (["--early-weight", "2.5", "3"], r"--early-weight STEPS must be an integer, got 2.5"),
}


def test_every_script_is_a_command_and_has_a_case():
    scripts = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "scripts", "*.py")))
    assert scripts == sorted(BAD)
    assert sorted(f"{m}.py" for m in cli.COMMANDS.values()) == scripts
    for script in scripts:  # thin wrappers: no path edits, one call into the package
        text = open(os.path.join(ROOT, "scripts", script), encoding="utf-8").read()
        assert "sys.path" not in text and f"from periodic_keras.cli import exit_command, {script[:-3]}" in text, script
        assert f"exit_command({script[:-3]}.main())" in text, script  # an interrupt ends the process at once


@pytest.mark.slow
def test_every_script_exits_2_with_one_line_in_a_fresh_process(tmp_path):
    """stderr is exactly the error line: TensorFlow's start-up lines are held back (each script
    that imports TensorFlow before failing shows they are)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop(VERBOSE_ENV, None)
    procs = {}
    for script, (args, _) in BAD.items():
        out = str(tmp_path / script / "out")
        extra = [] if script == "export_table.py" else ["--output-dir", out]
        procs[script] = (out, subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", script), *args, *extra],
                                               cwd=str(tmp_path), env=env, text=True, stdout=subprocess.PIPE,
                                               stderr=subprocess.PIPE))
    failures = []
    for script, (out, proc) in procs.items():
        try:
            _, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        lines = err.splitlines()
        ok = (proc.returncode == 2 and "Traceback" not in err and len(lines) == 1
              and lines[0].startswith(f"{script}: error: ") and re.search(BAD[script][1], lines[0])
              and not os.path.exists(out))
        if not ok:
            failures.append(f"{script}: exit {proc.returncode}\n{err[-2000:]}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("script", ["train_freq.py"])
def test_help_exits_0_in_a_fresh_process(script):
    done = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", script), "--help"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0 and done.stdout.startswith(f"usage: {script}"), done.stderr[-2000:]


def test_the_console_command_dispatches_in_this_process(capsys):
    assert cli.main(["--help"]) == 0 and "train-freq" in capsys.readouterr().out
    assert cli.main([]) == 2 and "usage: periodic-keras" in capsys.readouterr().err
    assert cli.main(["nope"]) == 2 and "unknown command 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["train_freq", "--help"])  # underscores work too; argparse exits 0 after the help
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("usage: periodic-keras train-freq")


#: A stand-in for TensorFlow (a package named ``tensorflow`` first on the path): it prints what
#: TensorFlow's libraries print while they load, one line of its own, and fails if told to.
FAKE_TENSORFLOW = """import os
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
os.write(2, b"I0000 00:00:1796665891.385970   10955 cudart_stub.cc:31] Could not find cuda drivers on your machine\\n")
os.write(2, b"E0000 00:00:1796665891.385971   10955 loader.cc:1] a real error\\n")
if os.environ.get("FAKE_TF_FAILS"):
    raise ImportError("libtensorflow_framework.so.2: cannot open shared object file")
"""


@pytest.mark.parametrize("case", ["quiet", "verbose", "fails"])
def test_tensorflow_starts_quietly_unless_asked(tmp_path, case):
    """:func:`periodic_keras.quiet_tensorflow` holds back TensorFlow's start-up lines while it is
    imported (lazily, whenever that happens), shows them with ``PERIODIC_KERAS_VERBOSE=1``, replays
    everything if the import fails, and leaves stderr working after the import."""
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE_TENSORFLOW)
    env = {k: v for k, v in os.environ.items() if k not in (VERBOSE_ENV, "FAKE_TF_FAILS")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), ROOT])
    if case == "verbose":
        env[VERBOSE_ENV] = "1"
    if case == "fails":
        env["FAKE_TF_FAILS"] = "1"
    code = ("import sys, periodic_keras\nperiodic_keras.quiet_tensorflow()\nassert 'tensorflow' not in sys.modules\n"
            "import tensorflow\nprint('after the import', file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                          cwd=str(tmp_path))
    lines = done.stderr.splitlines()
    if case == "quiet":
        assert done.returncode == 0 and lines == ["E0000 00:00:1796665891.385971   10955 loader.cc:1] a real error",
                                                  "after the import"], done.stderr
    elif case == "verbose":
        assert done.returncode == 0 and len(lines) == 4 and "Could not find cuda drivers" in lines[1], done.stderr
    else:
        assert done.returncode == 1 and "Could not find cuda drivers" in done.stderr, done.stderr
        assert lines[-1].startswith("ImportError: libtensorflow_framework") and "after the import" not in done.stderr


def test_an_interrupted_command_ends_at_once_even_with_a_thread_that_holds_shutdown():
    with pytest.raises(SystemExit) as done:
        cli.exit_command(2)
    assert done.value.code == 2
    code = ("import threading, time\nfrom periodic_keras.cli import exit_command\n"
            "threading.Thread(target=time.sleep, args=(120,)).start()  # would hold interpreter shutdown\n"
            "print('stopped', flush=True)\nexit_command(143)\n")
    ended = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PYTHONPATH=ROOT))
    # a plain sys.exit would wait 120 s for the thread: the 60 s guard above would fail the test
    assert ended.returncode == 143 and ended.stdout == "stopped\n", ended.stderr[-2000:]
