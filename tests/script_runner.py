"""Run a script of ``scripts/`` in a subprocess, as a user would (shared by the script tests)."""

import functools
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(script, *args, timeout=300):
    """``python scripts/<script> *args`` from the repository root; the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", script), *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)


def runner(script):
    """``run(*args, timeout=...)`` for one script."""
    return functools.partial(run_script, script)
