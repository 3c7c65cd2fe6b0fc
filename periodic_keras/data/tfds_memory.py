"""TensorFlow Datasets builders for the memory tasks: ``sine_divider`` and ``sine_burst``.

Both are synthesised offline from seeds (nothing is downloaded) by
:func:`periodic_keras.signals.divider_sequences` and
:func:`periodic_keras.signals.burst_sequences`, with the seeds the training scripts use
(train: seed 0, held out: seed 1), so a model trained on either compares one to one.

``sine_divider`` examples: ``inputs`` float32 ``[length, 1]`` (``sin(2 pi i / P)``),
``targets`` float32 ``[length, 1]`` (``sin(pi i / P)``), ``period`` float32. The test
sequences are ``test_factor`` times longer than the training ones. Configs:
``default`` (4096 x 512 train, 64 x 5120 test, P in [40, 80]) and ``small`` (for tests).

``sine_burst`` examples: ``inputs`` float32 ``[length, 1]``, ``targets`` int32
``[length]`` (1 until the burst has ended), ``start``, ``burst_length`` (int32) and
``amplitude`` (float32). Splits ``train`` (130 steps), ``test`` (130) and ``test_long``
(1300). Configs: ``fixed`` (10-step bursts of amplitude 1), ``random`` (length 5-20,
amplitude 0.2-2) and ``small`` (for tests).

Importing this module registers both; ``tfds.load("sine_burst/fixed", data_dir=d,
try_gcs=False)`` builds offline on first use, as does ``build_memory_dataset(d, "sine_burst", "fixed")``.

Example:

>>> import tempfile, shutil
>>> d = tempfile.mkdtemp()
>>> builder = build_memory_dataset(d, "sine_burst", "small")  # doctest: +ELLIPSIS
Downloading and preparing dataset ...
Dataset sine_burst downloaded and prepared to .../sine_burst/small/1.0.0. Subsequent calls will reuse this data.
>>> ex = next(iter(builder.as_dataset(split="test_long").take(1)))
>>> tuple(ex["inputs"].shape), tuple(ex["targets"].shape)
((1300, 1), (1300,))
>>> shutil.rmtree(d)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from periodic_keras import signals
from periodic_keras.data._tfds import build, offline_info

__all__ = ["BurstConfig", "DividerConfig", "SineBurst", "SineDivider", "build_memory_dataset"]


@dataclasses.dataclass(eq=False)
class DividerConfig(tfds.core.BuilderConfig):
    """A ``sine_divider`` config: sequence counts and lengths, input period range, seed."""

    num_train: int = 4096
    num_test: int = 64
    length: int = 512
    test_factor: int = 10
    period: tuple = (40.0, 80.0)
    seed: int = 0

    def __post_init__(self):
        signals.check_positive_int(num_train=self.num_train, num_test=self.num_test, length=self.length,
                                   test_factor=self.test_factor)


class SineDivider(tfds.core.GeneratorBasedBuilder):
    """Frequency divider sequences: input sin(t), target sin(t / 2), from t = 0."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        DividerConfig(name="default", description="4096 x 512 train, 64 x 5120 test, input period 40-80 steps"),
        DividerConfig(name="small", num_train=64, num_test=8, length=128,
                      description="64 x 128 train, 8 x 1280 test, for tests"),
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self):
        return offline_info(tfds.core.DatasetInfo(
            builder=self,
            description="Input sin(2 pi i / P), target sin(pi i / P) (half the frequency), every sequence from "
                        "phase 0. Generated locally by periodic_keras.signals.divider_sequences.",
            features=tfds.features.FeaturesDict({
                "inputs": tfds.features.Tensor(shape=(None, 1), dtype=np.float32, doc="Input sin(t)."),
                "targets": tfds.features.Tensor(shape=(None, 1), dtype=np.float32, doc="Target sin(t / 2)."),
                "period": tfds.features.Scalar(dtype=np.float32, doc="Input period in steps."),
            }),
            disable_shuffling=True,
        ))

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {"train": self._generate_examples("train"), "test": self._generate_examples("test")}

    def _generate_examples(self, split):
        c = self.builder_config
        n, length = (c.num_train, c.length) if split == "train" else (c.num_test, c.test_factor * c.length)
        x, y, info = signals.divider_sequences(n, length, tuple(c.period), seed=c.seed + (split != "train"))
        for i in range(n):
            yield i, {"inputs": x[i, :, None], "targets": y[i, :, None], "period": np.float32(info["period"][i])}


@dataclasses.dataclass(eq=False)
class BurstConfig(tfds.core.BuilderConfig):
    """A ``sine_burst`` config: counts, lengths, burst options, seed."""

    num_train: int = 8192
    num_test: int = 1000
    length: int = 130
    long_length: int = 1300
    burst_length: tuple = (10, 10)
    amplitude: tuple = (1.0, 1.0)
    seed: int = 0

    def __post_init__(self):
        signals.check_positive_int(num_train=self.num_train, num_test=self.num_test, length=self.length,
                                   long_length=self.long_length)


class SineBurst(tfds.core.GeneratorBasedBuilder):
    """Latching burst detector sequences: target 1 until the one burst has ended."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        BurstConfig(name="fixed", description="10-step bursts sin(j pi / 10), start uniform in [0, 50)"),
        BurstConfig(name="random", burst_length=(5, 20), amplitude=(0.2, 2.0),
                    description="bursts of random length 5-20 and amplitude 0.2-2"),
        BurstConfig(name="small", num_train=256, num_test=32, description="fixed bursts, few sequences, for tests"),
    ]
    DEFAULT_CONFIG_NAME = "fixed"

    def _info(self):
        return offline_info(tfds.core.DatasetInfo(
            builder=self,
            description="Zeros with one half-sine burst; target 1 until the burst has ended, then 0. "
                        "Generated locally by periodic_keras.signals.burst_sequences.",
            features=tfds.features.FeaturesDict({
                "inputs": tfds.features.Tensor(shape=(None, 1), dtype=np.float32, doc="The input sequence."),
                "targets": tfds.features.Tensor(shape=(None,), dtype=np.int32, doc="1 until the burst has ended."),
                "start": tfds.features.Scalar(dtype=np.int32, doc="First step of the burst."),
                "burst_length": tfds.features.Scalar(dtype=np.int32, doc="Steps of the burst."),
                "amplitude": tfds.features.Scalar(dtype=np.float32, doc="Burst amplitude."),
            }),
            disable_shuffling=True,
        ))

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {split: self._generate_examples(split) for split in ("train", "test", "test_long")}

    def _generate_examples(self, split):
        c = self.builder_config
        n = c.num_train if split == "train" else c.num_test
        length = c.long_length if split == "test_long" else c.length
        burst = c.burst_length[0] if c.burst_length[0] == c.burst_length[1] else tuple(c.burst_length)
        amplitude = c.amplitude[0] if c.amplitude[0] == c.amplitude[1] else tuple(c.amplitude)
        x, y, info = signals.burst_sequences(n, length, (0, 50), burst, amplitude, seed=c.seed + (split != "train"))
        for i in range(n):
            yield i, {"inputs": x[i, :, None], "targets": y[i], "start": np.int32(info["start"][i]),
                      "burst_length": np.int32(info["burst_length"][i]),
                      "amplitude": np.float32(info["amplitude"][i])}


_BUILDERS = {"sine_divider": SineDivider, "sine_burst": SineBurst}


def build_memory_dataset(data_dir, name: str = "sine_divider", config: str | None = None):
    """Build ``name/config`` (``sine_divider`` or ``sine_burst``) under ``data_dir`` offline."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown dataset {name!r}: expected one of {sorted(_BUILDERS)}")
    builder_cls = _BUILDERS[name]
    return build(builder_cls, data_dir, config or builder_cls.DEFAULT_CONFIG_NAME)
