"""``python -m periodic_keras <command> [options]``: the same as the ``periodic-keras`` command."""

from periodic_keras.cli import run

run()
