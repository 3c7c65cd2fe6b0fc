#!/usr/bin/env python
"""Extrapolation study: small MLPs with ReLU, tanh, Snake, Sine (SIREN), Fourier

The command line lives in :mod:`periodic_keras.cli.benchmark_activations` (installed: ``periodic-keras benchmark-activations``);
``python scripts/benchmark_activations.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, benchmark_activations

if __name__ == "__main__":
    exit_command(benchmark_activations.main())
