"""TensorFlow Datasets builder for the sine-frequency task, built fully offline.

The dataset ``sine_frequency`` holds fixed, reproducible sets of sine windows made
by :func:`periodic_keras.signals.sine_windows`: nothing is downloaded, every example
is synthesised from seeds derived from the config and the split, so two builds of the
same config and :attr:`SineFrequency.VERSION` give identical data on any machine.

Each example is a dict::

    window     float32 [window, 1]  the samples, x[n] = A sin(2 pi f n / N + phi) + noise
    frequency  float32 []           f, in cycles per window, uniform in [fmin, fmax]
    snr_db     float32 []           the window's SNR in dB (inf for a noiseless window)
    amplitude  float32 []           A
    phase      float32 []           phi, in [0, 2 pi)

with ``supervised_keys = ("window", "frequency")``, so ``as_supervised=True`` gives
``(window, frequency)`` pairs ready for ``model.fit``.  Splits: ``train`` and
``validation`` at an SNR drawn per window uniformly in the config's ``snr_db`` range,
``test`` noiseless.

Configs (``sine_frequency/<name>``):

* ``w100_f1_30`` (default): window 100, f in [1, 30], SNR in [0, 40] dB,
  50 000 / 5 000 / 5 000 windows (about 30 MB on disk, ~6 s to build).
* ``small``: window 32, f in [1, 8], SNR in [0, 40] dB, 1 000 / 200 / 200 windows,
  for tests and quick looks.

This module imports ``tensorflow_datasets`` at the top; it is imported only on
demand (never by ``periodic_keras.data``).  Importing it registers the builder
with TFDS, after which the ordinary ``tfds.load`` call builds the data offline on
first use and reads it back afterwards::

    import tensorflow_datasets as tfds
    import periodic_keras.data.tfds_sine_frequency  # noqa: F401  (registers the builder)

    ds = tfds.load("sine_frequency/small", split="train", data_dir=d,
                   try_gcs=False, download=True, as_supervised=True)

``try_gcs=False`` is the default of ``tfds.load`` and is spelled out only to make
the intent plain; TFDS 4.9 also never contacts its GCS bucket unless explicitly
enabled.  ``build_sine_frequency(d, "small")`` does the same build and returns the
builder (``builder.as_dataset(...)``).  Besides the records under
``d/sine_frequency/<config>/1.0.0/``, TFDS writes ``d/sine_frequency/.config/metadata.json``
(the default config's name) and an empty ``d/downloads/extracted/``.

Example:

>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> builder = build_sine_frequency(d, "small")  # doctest: +ELLIPSIS
Downloading and preparing dataset ...
Dataset sine_frequency downloaded and prepared to .../sine_frequency/small/1.0.0. Subsequent calls will reuse this data.
>>> {k: v.num_examples for k, v in sorted(builder.info.splits.items())}
{'test': 200, 'train': 1000, 'validation': 200}
>>> ex = next(iter(builder.as_dataset(split="test").take(1)))
>>> tuple(ex["window"].shape), ex["window"].dtype.name, float(ex["snr_db"])
((32, 1), 'float32', inf)
>>> import shutil; shutil.rmtree(d)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from periodic_keras import signals
from periodic_keras.data._tfds import build, offline_info
from periodic_keras.data.frequency import SPLITS

__all__ = ["SineFrequency", "SineFrequencyConfig", "build_sine_frequency"]

#: Split names and their index in the seed (shared with the tf.data pipelines).
SPLIT_INDEX = SPLITS

#: Windows generated per call to ``sine_windows``; each chunk has its own seed
#: ``SeedSequence([config.seed, split index, chunk index])``.  Changing it changes
#: the data, so it is part of the dataset's definition (bump VERSION if you do).
CHUNK = 4096

#: The project has no public URL yet; TFDS then shows its own catalog address
#: (https://www.tensorflow.org/datasets/catalog/sine_frequency), which does not exist.
#: Set this when the project is published.
HOMEPAGE = None

_CITATION = """\
@misc{periodic_keras_sine_frequency,
  title  = {sine\\_frequency: synthetic noisy sine windows for frequency regression},
  author = {{periodic\\_keras contributors}},
  note   = {Generated offline by periodic\\_keras.data.tfds\\_sine\\_frequency}
}
"""

_DESCRIPTION = """\
Synthetic single-tone windows for frequency estimation. Each example is a window of
N samples x[n] = A sin(2 pi f n / N + phi) + w[n] with f (cycles per window) drawn
uniformly in [fmin, fmax], phase phi uniform in [0, 2 pi), amplitude A uniform in
[0.5, 2] and white Gaussian noise w at an SNR A^2 / (2 sigma^2) drawn per window
uniformly in the config's range (train and validation); the test split is
noiseless. The target is f. Everything is generated locally from fixed seeds by
periodic_keras.signals.sine_windows; nothing is downloaded.
"""


@dataclasses.dataclass(eq=False)
class SineFrequencyConfig(tfds.core.BuilderConfig):
    """A ``sine_frequency`` config: window length, frequency range, noise and sizes.

    Attributes:
        window: samples per window ``N``.
        fmin, fmax: frequency range in cycles per window, ``0 < fmin <= fmax < N/2``.
        snr_db: ``(low, high)`` SNR range in dB for ``train`` and ``validation``
            (``None``: noiseless); ``test`` is always noiseless.
        amplitude: ``(low, high)`` tone amplitude range.
        num_train, num_validation, num_test: windows per split.
        seed: base seed of every split's seed sequence.
    """

    window: int = 100
    fmin: float = 1.0
    fmax: float = 30.0
    snr_db: tuple[float, float] | None = (0.0, 40.0)
    amplitude: tuple[float, float] = (0.5, 2.0)
    num_train: int = 50_000
    num_validation: int = 5_000
    num_test: int = 5_000
    seed: int = 0

    def __post_init__(self):
        signals.check_frequency_range(self.window, self.fmin, self.fmax)
        if self.snr_db is not None:
            self.snr_db = tuple(float(v) for v in self.snr_db)
        for name in ("num_train", "num_validation", "num_test"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")

    def split_snr_db(self, split: str):
        """The ``snr_db`` argument of ``sine_windows`` for ``split``."""
        return None if split == "test" else self.snr_db

    def split_size(self, split: str) -> int:
        return getattr(self, f"num_{split}")


def _config(name, **kwargs) -> SineFrequencyConfig:
    c = SineFrequencyConfig(name=name, **kwargs)
    snr = "noiseless" if c.snr_db is None else f"SNR uniform in [{c.snr_db[0]:g}, {c.snr_db[1]:g}] dB"
    c.description = (
        f"window {c.window}, f uniform in [{c.fmin:g}, {c.fmax:g}] cycles/window; "
        f"train {c.num_train} and validation {c.num_validation} windows at {snr}, "
        f"test {c.num_test} noiseless windows."
    )
    return c


class SineFrequency(tfds.core.GeneratorBasedBuilder):
    """Sine windows and their frequency (cycles per window), generated offline."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        _config("w100_f1_30", window=100, fmin=1.0, fmax=30.0, snr_db=(0.0, 40.0)),
        _config(
            "small",
            window=32,
            fmin=1.0,
            fmax=8.0,
            snr_db=(0.0, 40.0),
            num_train=1_000,
            num_validation=200,
            num_test=200,
        ),
    ]
    DEFAULT_CONFIG_NAME = "w100_f1_30"

    def _info(self) -> tfds.core.DatasetInfo:
        c = self.builder_config
        scalar = lambda doc: tfds.features.Scalar(dtype=np.float32, doc=doc)  # noqa: E731
        info = tfds.core.DatasetInfo(
            builder=self,
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "window": tfds.features.Tensor(
                        shape=(c.window, 1), dtype=np.float32, doc="Samples of the window."
                    ),
                    "frequency": scalar("Tone frequency, cycles per window."),
                    "snr_db": scalar("Signal-to-noise ratio in dB (inf: noiseless)."),
                    "amplitude": scalar("Tone amplitude A."),
                    "phase": scalar("Tone phase in radians, [0, 2 pi)."),
                }
            ),
            supervised_keys=("window", "frequency"),
            # Examples are already i.i.d.; keep generation order so that example i
            # of a split is reproducible straight from sine_windows.
            disable_shuffling=True,
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
            seed = np.random.SeedSequence([c.seed, SPLIT_INDEX[split], chunk])
            x, f, info = signals.sine_windows(
                min(CHUNK, n - start),
                window=c.window,
                fmin=c.fmin,
                fmax=c.fmax,
                snr_db=c.split_snr_db(split),
                amplitude=c.amplitude,
                seed=seed,
            )
            for i in range(len(x)):
                yield start + i, {
                    "window": x[i, :, None],
                    "frequency": f[i],
                    "snr_db": np.float32(info["snr_db"][i]),
                    "amplitude": np.float32(info["amplitude"][i]),
                    "phase": np.float32(info["phase"][i]),
                }


def build_sine_frequency(data_dir, config="w100_f1_30") -> SineFrequency:
    """Build ``sine_frequency/<config>`` under ``data_dir`` (offline) and return the builder.

    A second call with the same ``data_dir`` reuses the prepared files.

    Args:
        data_dir: TFDS data directory; the data land in
            ``data_dir/sine_frequency/<config>/1.0.0/``.
        config: a config name (``"w100_f1_30"``, ``"small"``) or a
            :class:`SineFrequencyConfig`.

    Returns:
        The prepared :class:`SineFrequency` builder; read it with
        ``builder.as_dataset(split="train", as_supervised=True)``.
    """
    return build(SineFrequency, data_dir, config)
