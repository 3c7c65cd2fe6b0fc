"""TensorFlow Datasets builder ``clock``: int64 seconds since the epoch and the HH:MM:SS a clock shows.

Synthesised offline from seeds (nothing is downloaded) by
:func:`periodic_keras.signals.clock_times`: timestamps uniform over ``±years`` around
the epoch (negative ones included), labels by integer arithmetic in UTC. Each example:
``t`` int64, ``hh``/``mm``/``ss`` int32. Splits ``train``, ``validation`` and ``test``
(plus ``day``: every second of one day, 0..86399, for exhaustive checks). Configs:
``default`` (1 000 000 / 10 000 / 1 000 000 examples over ±120 years) and ``small``.

Importing this module registers the builder; ``tfds.load("clock/small", data_dir=d,
try_gcs=False)`` builds offline on first use, as does ``build_clock_dataset(d, "small")``.

Example:

>>> import tempfile, shutil
>>> d = tempfile.mkdtemp()
>>> builder = build_clock_dataset(d, "small")  # doctest: +ELLIPSIS
Downloading and preparing dataset ...
Dataset clock downloaded and prepared to .../clock/small/1.0.0. Subsequent calls will reuse this data.
>>> ex = next(iter(builder.as_dataset(split="test").take(1)))
>>> ex["t"].dtype.name, sorted(ex)
('int64', ['hh', 'mm', 'ss', 't'])
>>> shutil.rmtree(d)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from periodic_keras import signals
from periodic_keras.data._tfds import build, offline_info

__all__ = ["Clock", "ClockConfig", "build_clock_dataset"]

_SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}


@dataclasses.dataclass(eq=False)
class ClockConfig(tfds.core.BuilderConfig):
    """A ``clock`` config: examples per split, the ± range in years, seed."""

    num_train: int = 1_000_000
    num_validation: int = 10_000
    num_test: int = 1_000_000
    years: float = 120.0
    seed: int = 0

    def __post_init__(self):
        signals.check_positive_int(num_train=self.num_train, num_validation=self.num_validation,
                                   num_test=self.num_test)
        signals.clock_times(1, self.years)  # validates the range


class Clock(tfds.core.GeneratorBasedBuilder):
    """Seconds since 1970-01-01T00:00:00Z (int64) and the digital clock's HH, MM, SS."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        ClockConfig(name="default", description="1e6 train / 1e4 validation / 1e6 test timestamps over ±120 years"),
        ClockConfig(name="small", num_train=2000, num_validation=200, num_test=2000,
                    description="a few thousand timestamps, for tests"),
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self):
        return offline_info(tfds.core.DatasetInfo(
            builder=self,
            description="Random int64 seconds since the Unix epoch (negative before 1970) and what a 24-hour "
                        "UTC clock shows. Generated locally by periodic_keras.signals.clock_times.",
            features=tfds.features.FeaturesDict({
                "t": tfds.features.Scalar(dtype=np.int64, doc="Seconds since the epoch."),
                "hh": tfds.features.Scalar(dtype=np.int32, doc="Hours, 0-23."),
                "mm": tfds.features.Scalar(dtype=np.int32, doc="Minutes, 0-59."),
                "ss": tfds.features.Scalar(dtype=np.int32, doc="Seconds, 0-59."),
            }),
            supervised_keys=None,
            disable_shuffling=True,
        ))

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {split: self._generate_examples(split) for split in (*_SPLIT_SEEDS, "day")}

    def _generate_examples(self, split):
        c = self.builder_config
        if split == "day":
            t = np.arange(86_400, dtype=np.int64)
        else:
            n = {"train": c.num_train, "validation": c.num_validation, "test": c.num_test}[split]
            t, _ = signals.clock_times(n, c.years, seed=np.random.SeedSequence([c.seed, _SPLIT_SEEDS[split]]))
        digits = signals.clock_digits(t).astype(np.int32)
        for i in range(len(t)):
            yield i, {"t": t[i], "hh": digits[i, 0], "mm": digits[i, 1], "ss": digits[i, 2]}


def build_clock_dataset(data_dir, config: str = "default"):
    """Build ``clock/<config>`` under ``data_dir`` offline; return the builder."""
    return build(Clock, data_dir, config)
