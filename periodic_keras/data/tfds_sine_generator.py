"""TensorFlow Datasets builder for sequence generation (learn a series, generate its future).

The dataset ``sine_generator`` is synthesised offline from seeds (nothing is
downloaded). Each example is a dict::

    series        float32 [length, 1]   the observed series (noisy where the config says so)
    continuation  float32 [horizon, 1]  its true, noiseless future: what generation should produce
    offset        int32 []              classic config: the series' offset (else -1)

Train a next-step model on ``series`` (``x[:-1] -> x[1:]``); on the test split warm up on
``series`` and compare ``horizon`` generated steps with ``continuation``.

Configs (``sine_generator/<name>``):

* ``classic`` (default): the classic LSTM demo's data, ``x[i] = sin((i + offset) / 20)``,
  ``length = horizon = 1000``; ``train`` = its 97 training series, ``test`` = its 3 test
  series, exactly as :func:`periodic_keras.signals.classic_sine_series` (seed 2) splits them.
* ``sums``: sums of 1–3 sines with periods of 8–64 steps (:func:`periodic_keras.signals.sum_of_sines`),
  20 dB SNR on the observed part, ``length = horizon = 1000``; 1000 / 100 series.
* ``sums_small``: the same with ``length = horizon = 200``; 64 / 16 series, for tests.

Importing this module registers the builder; ``tfds.load("sine_generator/classic",
data_dir=d, try_gcs=False)`` builds it offline on first use, as does
``build_sine_generator(d, "classic")``.

Example:

>>> import tempfile, shutil
>>> d = tempfile.mkdtemp()
>>> builder = build_sine_generator(d, "sums_small")  # doctest: +ELLIPSIS
Downloading and preparing dataset ...
Dataset sine_generator downloaded and prepared to .../sine_generator/sums_small/1.0.0. Subsequent calls will reuse this data.
>>> ex = next(iter(builder.as_dataset(split="test").take(1)))
>>> tuple(ex["series"].shape), tuple(ex["continuation"].shape)
((200, 1), (200, 1))
>>> shutil.rmtree(d)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from periodic_keras import signals
from periodic_keras.data._tfds import build, offline_info

__all__ = ["SineGenerator", "SineGeneratorConfig", "build_sine_generator"]

_DESCRIPTION = """\
Series for next-step generators: the observed series and its true future. The classic
config is the classic LSTM time-sequence demo's data (sin((i + offset) / 20), 100 series
of 1000 steps, 97 train / 3 test); the sums configs hold random sums of sines with
white noise on the observed part. Generated locally by periodic_keras.signals.
"""


@dataclasses.dataclass(eq=False)
class SineGeneratorConfig(tfds.core.BuilderConfig):
    """A ``sine_generator`` config.

    Attributes:
        kind: ``"classic"`` or ``"sums"``.
        length: observed steps per series.
        horizon: steps of true continuation per series.
        num_train, num_test: series per split (classic: fixed at 97 / 3).
        snr_db: noise on the observed part of ``sums`` series (``None``: clean).
        seed: base seed.
    """

    kind: str = "classic"
    length: int = 1000
    horizon: int = 1000
    num_train: int = 97
    num_test: int = 3
    snr_db: float | None = None
    seed: int = 2

    def __post_init__(self):
        if self.kind not in ("classic", "sums"):
            raise ValueError(f"kind must be 'classic' or 'sums', got {self.kind!r}")
        signals.check_positive_int(length=self.length, horizon=self.horizon, num_train=self.num_train,
                                   num_test=self.num_test)
        if self.kind == "classic" and (self.num_train, self.num_test) != (97, 3):
            raise ValueError("the classic config is fixed at 97 train and 3 test series")


class SineGenerator(tfds.core.GeneratorBasedBuilder):
    """Observed series and their true future, generated offline."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        SineGeneratorConfig(name="classic", description="the classic demo: sin((i + offset) / 20), 97 / 3 series"),
        SineGeneratorConfig(name="sums", kind="sums", num_train=1000, num_test=100, snr_db=20.0, seed=0,
                            description="sums of 1-3 sines, periods 8-64, 20 dB SNR, 1000 / 100 series"),
        SineGeneratorConfig(name="sums_small", kind="sums", length=200, horizon=200, num_train=64, num_test=16,
                            snr_db=20.0, seed=0, description="small sums of sines for tests, 64 / 16 series"),
    ]
    DEFAULT_CONFIG_NAME = "classic"

    def _info(self) -> tfds.core.DatasetInfo:
        c = self.builder_config
        return offline_info(tfds.core.DatasetInfo(
            builder=self,
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict({
                "series": tfds.features.Tensor(shape=(c.length, 1), dtype=np.float32, doc="Observed series."),
                "continuation": tfds.features.Tensor(shape=(c.horizon, 1), dtype=np.float32,
                                                     doc="True noiseless future of the series."),
                "offset": tfds.features.Scalar(dtype=np.int32, doc="Classic series offset (-1 otherwise)."),
            }),
            disable_shuffling=True,
        ))

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {"train": self._generate_examples("train"), "test": self._generate_examples("test")}

    def _arrays(self, split):
        c = self.builder_config
        if c.kind == "classic":
            x, offsets = signals.classic_sine_series(100, c.length, seed=c.seed)
            future = signals.sine_continuation(offsets, c.length, c.horizon)
            rows = slice(3, None) if split == "train" else slice(None, 3)
            return x[rows], future[rows], offsets[rows].astype(np.int32)
        n = c.num_train if split == "train" else c.num_test
        seed = np.random.SeedSequence([c.seed, 0 if split == "train" else 2])
        noisy, clean = signals.sum_of_sines(n, c.length + c.horizon, snr_db=c.snr_db, seed=seed)
        return noisy[:, :c.length], clean[:, c.length:], np.full(n, -1, np.int32)

    def _generate_examples(self, split):
        series, future, offsets = self._arrays(split)
        for i in range(len(series)):
            yield i, {"series": series[i, :, None], "continuation": future[i, :, None], "offset": offsets[i]}


def build_sine_generator(data_dir, config="classic") -> SineGenerator:
    """Build ``sine_generator/<config>`` under ``data_dir`` (offline) and return the builder."""
    return build(SineGenerator, data_dir, config)
