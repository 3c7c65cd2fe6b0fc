"""Periodic Keras layers (``keras.ops`` only, registered and serializable)."""

from periodic_keras.layers.spectral import SpectralFeatures

__all__ = ["SpectralFeatures"]
