"""Periodic Keras layers (``keras.ops`` only, registered and serializable), and the few
``keras.ops`` helpers the model builders share (:func:`gelu_tanh`, :func:`class_index`).

>>> import numpy as np
>>> from periodic_keras.layers import Snake
>>> tuple(Snake()(np.zeros((1, 3), "float32")).shape)
(1, 3)
"""

from periodic_keras.layers._ops import class_index, first_max_onehot
from periodic_keras.layers.activations import FourierFeatures, Sine, Snake, gelu_tanh
from periodic_keras.layers.choice import ROBUST_NOISE_SCALE, CandidateChoice, FitChoice, ToneCheck, TrustFlag
from periodic_keras.layers.encoding import LearnedPeriodicEncoding, PeriodicEncoding
from periodic_keras.layers.fan import FAN
from periodic_keras.layers.harmonic import HarmonicFeatures, HarmonicRefinement, legendre_basis
from periodic_keras.layers.forecast import SeasonalLags, StepPositions, WindowScaler, patch_size
from periodic_keras.layers.oscillator import MIN_SAMPLES, OSCILLATOR_STATE, OscillatorLSTMCell
from periodic_keras.layers.posterior import PeakPosterior
from periodic_keras.layers.refine import RefinementGate, ToneRefinement
from periodic_keras.layers.spectral import SpectralFeatures

__all__ = [
    "FAN", "MIN_SAMPLES", "OSCILLATOR_STATE", "ROBUST_NOISE_SCALE", "CandidateChoice", "FitChoice", "FourierFeatures",
    "HarmonicFeatures", "HarmonicRefinement", "LearnedPeriodicEncoding", "OscillatorLSTMCell", "PeakPosterior",
    "PeriodicEncoding", "RefinementGate", "SeasonalLags", "Sine", "Snake", "SpectralFeatures", "StepPositions",
    "ToneCheck", "ToneRefinement", "TrustFlag", "WindowScaler", "class_index", "first_max_onehot", "gelu_tanh",
    "legendre_basis", "patch_size",
]
