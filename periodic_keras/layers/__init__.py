"""Periodic Keras layers (``keras.ops`` only, registered and serializable)."""

from periodic_keras.layers.activations import FourierFeatures, Sine, Snake
from periodic_keras.layers.fan import FAN
from periodic_keras.layers.encoding import LearnedPeriodicEncoding, PeriodicEncoding
from periodic_keras.layers.forecast import SeasonalLags, StepPositions, WindowScaler
from periodic_keras.layers.oscillator import OSCILLATOR_STATE, OscillatorLSTMCell
from periodic_keras.layers.posterior import PeakPosterior
from periodic_keras.layers.refine import RefinementGate, ToneRefinement
from periodic_keras.layers.spectral import SpectralFeatures

__all__ = ["FAN", "FourierFeatures", "LearnedPeriodicEncoding", "OSCILLATOR_STATE", "OscillatorLSTMCell", "PeakPosterior", "PeriodicEncoding", "RefinementGate",
           "SeasonalLags", "Sine", "Snake", "SpectralFeatures", "StepPositions", "ToneRefinement", "WindowScaler"]
