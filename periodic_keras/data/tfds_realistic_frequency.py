"""TensorFlow Datasets builder for realistic frequency windows, built fully offline.

The dataset ``realistic_frequency`` holds fixed, reproducible sets of every kind of window
of :mod:`periodic_keras.data.realistic` (harmonic waveforms, coloured noise, baselines,
spikes, clipping, interference, modulation, drift, quantisation, lost samples and their
``mixed`` combinations): nothing is downloaded, every example is synthesised from seeds
derived from the config, the split, the chunk and the kind, so two builds of the same config
and :attr:`RealisticFrequency.VERSION` give identical data on any machine.

Each example is a dict::

    window     float32 [window, 1]  the samples (random scale and offset)
    frequency  float32 []           the fundamental f0, cycles per window, in [fmin, fmax]
    kind       int64 []             the kind, an index into realistic.KINDS (a ClassLabel)
    snr_db     float32 []           the window's SNR in dB (inf for a noiseless window)

with ``supervised_keys = ("window", "frequency")``.  All three splits mix the kinds in equal
shares (within every chunk of ``CHUNK`` windows, shuffled) at an SNR drawn per window
uniformly in the config's ``snr_db`` range, ``clean_fraction`` of them noiseless.

Configs (``realistic_frequency/<name>``):

* ``w100_f1_30`` (default): window 100, f0 in [1, 30], SNR in [0, 40] dB, 20 % clean,
  50 000 / 5 000 / 5 000 windows.
* ``small``: window 64, f0 in [1, 8], the same noise, 600 / 120 / 120 windows, for tests.

Importing this module registers the builder with TFDS (``tfds.load("realistic_frequency/small",
data_dir=d, try_gcs=False, download=True)``); ``build_realistic_frequency(d, "small")`` does the
same build and returns the builder.

Example:

>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> builder = build_realistic_frequency(d, "small")  # doctest: +ELLIPSIS
Downloading and preparing dataset ...
Dataset realistic_frequency downloaded and prepared to .../small/1.0.0. Subsequent calls will reuse this data.
>>> {k: v.num_examples for k, v in sorted(builder.info.splits.items())}
{'test': 120, 'train': 600, 'validation': 120}
>>> ex = next(iter(builder.as_dataset(split="test").take(1)))
>>> tuple(ex["window"].shape), ex["window"].dtype.name, builder.info.features["kind"].num_classes
((64, 1), 'float32', 16)
>>> import shutil; shutil.rmtree(d)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from periodic_keras import signals
from periodic_keras.data._tfds import build, offline_info
from periodic_keras.data.frequency import SPLITS
from periodic_keras.data.realistic import KINDS, check_kind, realistic_windows

__all__ = ["RealisticFrequency", "RealisticFrequencyConfig", "build_realistic_frequency"]

#: Split names and their index in the seed (shared with the tf.data pipelines).
SPLIT_INDEX = SPLITS

#: Windows per chunk; chunk ``c`` of a split draws kind ``j`` from
#: ``SeedSequence([config.seed, split index, c, j])`` and is shuffled by
#: ``SeedSequence([config.seed, split index, c, len(KINDS)])``.  Changing it changes the data.
CHUNK = 4096

#: No public URL yet (see ``tfds_sine_frequency.HOMEPAGE``).
HOMEPAGE = None

_CITATION = """\
@misc{periodic_keras_realistic_frequency,
  title  = {realistic\\_frequency: synthetic realistic windows for fundamental-frequency regression},
  author = {{periodic\\_keras contributors}},
  note   = {Generated offline by periodic\\_keras.data.tfds\\_realistic\\_frequency}
}
"""

_DESCRIPTION = """\
Synthetic windows for fundamental-frequency estimation under realistic disturbances. Each
example is a window of N samples: a tone or a harmonic waveform (sawtooth, square, triangle,
pulse or random harmonic profile, possibly with a weak or missing fundamental) with a random
scale and offset, white or coloured noise at an SNR drawn per window, and one kind of
disturbance (baseline, pink or brown noise, spikes, clipping, an interfering tone, amplitude
modulation, damping, drift, quantisation, lost samples) or a mix of them. The target is the
fundamental frequency f0 in cycles per window. Generated locally from fixed seeds by
periodic_keras.data.realistic; nothing is downloaded.
"""


@dataclasses.dataclass(eq=False)
class RealisticFrequencyConfig(tfds.core.BuilderConfig):
    """A ``realistic_frequency`` config: window length, frequency range, noise and sizes.

    Attributes:
        window: samples per window ``N``.
        fmin, fmax: range of ``f0`` in cycles per window (every kind must fit, see
            :func:`periodic_keras.data.realistic.check_kind`).
        snr_db: ``(low, high)`` SNR range in dB (``None``: noiseless), all splits.
        clean_fraction: fraction of noiseless windows.
        num_train, num_validation, num_test: windows per split.
        seed: base seed of every split's seed sequences.
    """

    window: int = 100
    fmin: float = 1.0
    fmax: float = 30.0
    snr_db: tuple[float, float] | None = (0.0, 40.0)
    clean_fraction: float = 0.2
    num_train: int = 50_000
    num_validation: int = 5_000
    num_test: int = 5_000
    seed: int = 0

    def __post_init__(self):
        for kind in KINDS:
            check_kind(kind, self.window, self.fmin, self.fmax)
        if self.snr_db is not None:
            self.snr_db = signals.check_range("snr_db", self.snr_db, -np.inf)
        realistic_windows(0, "tone", self.window, self.fmin, self.fmax, self.snr_db, self.clean_fraction)
        for name in ("num_train", "num_validation", "num_test"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")

    def split_size(self, split: str) -> int:
        return getattr(self, f"num_{split}")


def _config(name, **kwargs) -> RealisticFrequencyConfig:
    c = RealisticFrequencyConfig(name=name, **kwargs)
    snr = "noiseless" if c.snr_db is None else f"SNR uniform in [{c.snr_db[0]:g}, {c.snr_db[1]:g}] dB"
    c.description = (
        f"window {c.window}, f0 uniform in [{c.fmin:g}, {c.fmax:g}] cycles/window, all {len(KINDS)} kinds "
        f"in equal shares, {snr} ({c.clean_fraction:.0%} noiseless); "
        f"{c.num_train} / {c.num_validation} / {c.num_test} windows."
    )
    return c


class RealisticFrequency(tfds.core.GeneratorBasedBuilder):
    """Realistic windows and their fundamental frequency (cycles per window), generated offline."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        _config("w100_f1_30", window=100, fmin=1.0, fmax=30.0),
        _config("small", window=64, fmin=1.0, fmax=8.0, num_train=600, num_validation=120, num_test=120),
    ]
    DEFAULT_CONFIG_NAME = "w100_f1_30"

    def _info(self) -> tfds.core.DatasetInfo:
        c = self.builder_config
        info = tfds.core.DatasetInfo(
            builder=self,
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "window": tfds.features.Tensor(shape=(c.window, 1), dtype=np.float32, doc="Samples of the window."),
                    "frequency": tfds.features.Scalar(dtype=np.float32, doc="Fundamental f0, cycles per window."),
                    "kind": tfds.features.ClassLabel(names=list(KINDS), doc="Kind of window (realistic.KINDS)."),
                    "snr_db": tfds.features.Scalar(dtype=np.float32, doc="SNR in dB (inf: noiseless)."),
                }
            ),
            supervised_keys=("window", "frequency"),
            disable_shuffling=True,  # already shuffled within each chunk; keep it reproducible
            homepage=HOMEPAGE,
            citation=_CITATION,
        )
        return offline_info(info)

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {split: self._generate_examples(split) for split in SPLIT_INDEX}

    def _generate_examples(self, split: str):
        c = self.builder_config
        n = c.split_size(split)
        for chunk, start in enumerate(range(0, n, CHUNK)):
            size = min(CHUNK, n - start)
            counts = size // len(KINDS) + (np.arange(len(KINDS)) < size % len(KINDS))
            xs, fs, ks, snrs = [], [], [], []
            for j, (kind, count) in enumerate(zip(KINDS, counts)):
                seed = np.random.SeedSequence([c.seed, SPLIT_INDEX[split], chunk, j])
                x, f, info = realistic_windows(int(count), kind, c.window, c.fmin, c.fmax, c.snr_db,
                                               c.clean_fraction, seed=seed)
                xs.append(x)
                fs.append(f)
                ks.append(np.full(len(f), j))
                snrs.append(info["snr_db"])
            order = np.random.default_rng([c.seed, SPLIT_INDEX[split], chunk, len(KINDS)]).permutation(size)
            x, f, k, snr = (np.concatenate(a)[order] for a in (xs, fs, ks, snrs))
            for i in range(size):
                yield start + i, {
                    "window": x[i, :, None],
                    "frequency": f[i],
                    "kind": int(k[i]),
                    "snr_db": np.float32(snr[i]),
                }


def build_realistic_frequency(data_dir, config="w100_f1_30") -> RealisticFrequency:
    """Build ``realistic_frequency/<config>`` under ``data_dir`` (offline) and return the builder.

    Args:
        data_dir: TFDS data directory; the data land in ``data_dir/realistic_frequency/<config>/1.0.0/``.
        config: ``"w100_f1_30"``, ``"small"`` or a :class:`RealisticFrequencyConfig`.

    Returns:
        The prepared :class:`RealisticFrequency` builder (``builder.as_dataset(split=..., as_supervised=True)``).
    """
    return build(RealisticFrequency, data_dir, config)
