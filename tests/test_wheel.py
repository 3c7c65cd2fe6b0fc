"""A pip-installed user: the built wheel, installed into a fresh virtual environment, gives the
``periodic-keras`` command, which runs a job from outside the checkout.

The wheel is built offline (no build isolation: setuptools comes with the ``test`` extra) and
installed without dependencies; the new environment sees the test environment's packages
(TensorFlow, pandas, ...) through a ``.pth`` line, so nothing is downloaded, but
``periodic_keras`` itself can only come from the wheel (the checkout's editable hook is not
processed there, and the commands run outside the checkout).
"""

import glob
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.slow


def _run(cmd, cwd, timeout=600, env=None):
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(bin dir, environment for commands, scratch dir)`` of a fresh venv holding the wheel."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"  # what the wheel is built from, copied: the build writes nothing into the checkout
    shutil.copytree(os.path.join(ROOT, "periodic_keras"), source / "periodic_keras",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(base / "dist"),
          str(source)], cwd=str(base))
    (wheel,) = glob.glob(str(base / "dist" / "periodic_keras-*.whl"))
    env_dir = base / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], cwd=str(base))
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=str(base))
    site = site.stdout.strip()
    with open(os.path.join(site, "outer.pth"), "w") as fh:  # the test environment's packages, not its hooks
        fh.write(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", wheel],
         cwd=str(base))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
    return bin_dir, env, base


def test_the_package_comes_from_the_wheel(installed):
    bin_dir, env, base = installed
    done = _run([str(bin_dir / "python"), "-c", "import periodic_keras, sys; print(periodic_keras.__file__)"],
                cwd=str(base), env=env)
    where = done.stdout.strip()
    assert where.startswith(str(base / "env")) and not where.startswith(ROOT), where


def test_console_command_help_and_a_quick_job(installed):
    bin_dir, env, base = installed
    command = str(bin_dir / "periodic-keras")
    done = _run([command, "--help"], cwd=str(base), env=env)
    assert "train-freq" in done.stdout and "forecast" in done.stdout
    done = _run([command, "train-freq", "--help"], cwd=str(base), env=env)
    assert "usage: periodic-keras train-freq" in done.stdout and "--export-dir" in done.stdout
    table = base / "exports.md"  # a quick job: the committed exports tabulated from their metadata
    done = _run([command, "export-table", "--exported", os.path.join(ROOT, "exported"), "--output", str(table)],
                cwd=str(base), env=env)
    assert "| freq | freq | float32 | litert |" in done.stdout and "done in" in done.stdout
    assert table.read_text().startswith("| export |")
    bad = subprocess.run([command, "no-such-command"], cwd=str(base), env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command" in bad.stderr
