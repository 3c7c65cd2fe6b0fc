"""``python -m periodic_keras <command> [options]``: the same as the ``periodic-keras`` command."""

import sys

from periodic_keras.cli import main

sys.exit(main())
