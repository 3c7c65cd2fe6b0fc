"""Run a script of ``scripts/`` (or any Python) in a fresh process, as a user would (shared by the tests)."""

import functools
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(*args, timeout=300):
    """``python *args`` in a fresh process from the repository root (the package importable);
    the CompletedProcess, output captured as text."""
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)


def run_script(script, *args, timeout=300):
    """``python scripts/<script> *args`` from the repository root; the CompletedProcess."""
    return run_python(os.path.join(ROOT, "scripts", script), *args, timeout=timeout)


def runner(script):
    """``run(*args, timeout=...)`` for one script."""
    return functools.partial(run_script, script)
