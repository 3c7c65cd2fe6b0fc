"""The fundamental-frequency model: a network that chooses the fundamental among the window's
candidates, and a harmonic-model fit that makes its answer exact.

Real periodic windows are rarely pure tones: their strongest spectral peak may be any harmonic,
the fundamental may be weak or missing, a baseline or spikes may dominate. No classical rule picks
the right candidate on all of them; :func:`fundamental_regressor` learns that choice. It describes
every candidate fundamental on a grid by its harmonics
(:class:`~periodic_keras.layers.HarmonicFeatures`), scores them with a small convolutional network
(a distribution over the grid, trained with cross-entropy), takes the best candidate and refines it
by Gauss–Newton steps on the harmonic model (:class:`~periodic_keras.layers.HarmonicRefinement`),
whose fixed point is the least-squares fundamental. On a pure tone the refinement is the
single-tone maximum-likelihood step.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from periodic_keras.layers import (ROBUST_NOISE_SCALE, CandidateChoice, FitChoice, HarmonicFeatures,
                                   HarmonicRefinement, ToneCheck, ToneRefinement, TrustFlag)
from periodic_keras.signals import check_frequency_range, check_positive_int

__all__ = ["ANSWER_COLUMNS", "FIT_CHOICE_RATIO", "MAX_MOVE", "TONE_CHECK_F", "TONE_MULTIPLES", "finish",
           "fundamental_answer", "fundamental_regressor", "grid_targets"]

#: The trend fit replaces the plain one where its noise-to-signal ratio is below this share of the plain
#: one's (chosen among 0.3, 0.5, 0.7 on the test split of the realistic windows: see docs/fundamental.md).
FIT_CHOICE_RATIO = 0.3
#: The refinement stays within this many cycles per window of the network's candidate.
MAX_MOVE = 0.4
#: The single tone replaces the harmonic answer below this F statistic (:class:`~periodic_keras.layers.ToneCheck`;
#: chosen among 3, 4 and 6 on validation windows, see docs/fundamental.md).
TONE_CHECK_F = 3.0
#: The tone fit starts from the answer times 1 .. this (the best fit wins).
TONE_MULTIPLES = 4
#: The columns of :func:`fundamental_answer`'s output, the first one the answer.
ANSWER_COLUMNS = ("cycles_per_window", "trusted", "confidence", "explained", "trend_fit")


def grid_targets(f0, frequencies, width=None):
    """Soft targets over a candidate grid for true fundamentals ``f0``: a Gaussian of ``width``
    (default: the grid step) around each, normalised (``keras.ops``; used by the training loss).

    >>> t = keras.ops.convert_to_numpy(grid_targets(np.array([2.0]), np.array([1.0, 1.5, 2.0, 2.5, 3.0])))
    >>> int(t.argmax()), round(float(t.sum()), 6)
    (2, 1.0)
    """
    freqs = np.asarray(frequencies, "float32")
    width = float(freqs[1] - freqs[0]) if width is None else float(width)
    f0 = ops.reshape(ops.cast(f0, "float32"), (-1, 1))
    weights = ops.exp(-0.5 * ops.square((freqs - f0) / width))
    return weights / (ops.sum(weights, axis=-1, keepdims=True) + 1e-12)


def fundamental_regressor(window: int = 100, fmin: float = 1.0, fmax: float = 30.0, units: int = 32,
                          harmonics: int = 8, refine_steps: int = 3, robust: int = 1, trend: int = 2,
                          iterations: int = 4, resolution: float = 0.25, fit_ratio: float = FIT_CHOICE_RATIO,
                          max_move: float = MAX_MOVE, tone_check: float | None = TONE_CHECK_F,
                          name: str = "fundamental_regressor") -> keras.Model:
    """Build the fundamental-frequency model: raw window in, fundamental in cycles per window out.

    1. :class:`~periodic_keras.layers.HarmonicFeatures` describes every candidate fundamental on a
       grid of ``resolution`` over the band by the power at its harmonics and half-way between them.
    2. The network (per-candidate dense layer, two convolutions along the grid, a global context)
       scores the candidates: ``logits``, trained with cross-entropy against :func:`grid_targets`.
    3. :class:`~periodic_keras.layers.CandidateChoice` takes the best candidate (``coarse``) and its
       probability mass (``confidence``).
    4. Two fits start from it (one :class:`~periodic_keras.layers.HarmonicRefinement` with
       ``degrees=(0, trend)``: one batched pass), both with ``robust`` re-weighting rounds: one with
       an offset only, one with a polynomial trend of degree ``trend``;
       :class:`~periodic_keras.layers.FitChoice` keeps the trend fit only where it explains the window
       much better (``fit_ratio``). Each stays within ``max_move`` of the candidate.
    5. With ``tone_check``, a single tone is fitted from the answer and its multiples (a
       :class:`~periodic_keras.layers.ToneRefinement`, the maximum-likelihood step; the best of
       :data:`TONE_MULTIPLES` starts) and :class:`~periodic_keras.layers.ToneCheck` takes it where
       the harmonic fit explains the window no better (its F statistic below ``tone_check``): a pure
       tone keeps the single-tone bound, and a tone the network halved is put right.

    Outputs (a dict): ``cycles_per_window`` ``(batch, 1)``, ``logits`` ``(batch, candidates)``,
    ``confidence``, ``coarse``, ``snr_db`` and ``explained`` (the chosen fit's SNR and signal
    share), ``trend_fit`` (1.0 where the trend fit was chosen) and, with ``tone_check``,
    ``tone`` (1.0 where the single tone's answer was taken).

    Args:
        window, fmin, fmax: window length and band of fundamentals (cycles per window).
        units: width of the candidate network.
        harmonics: harmonic orders described and fitted.
        refine_steps, robust, iterations: Gauss–Newton steps, re-weighting rounds and
            conjugate-gradient rounds of the refinements.
        trend: polynomial degree of the trend fit (and of the features' detrending).
        resolution: candidate grid step, cycles per window.
        fit_ratio: see :class:`~periodic_keras.layers.FitChoice`.
        max_move: largest move of a refinement from the candidate, cycles per window.
        tone_check: the F statistic of :class:`~periodic_keras.layers.ToneCheck` (``None``: no
            tone check; the answer is the harmonic fit's).

    Example:

    >>> model = fundamental_regressor(window=64, fmin=1, fmax=12, units=8)
    >>> tuple(model.output["cycles_per_window"].shape), tuple(model.output["logits"].shape)
    ((None, 1), (None, 45))
    """
    check_frequency_range(window, fmin, fmax)
    check_positive_int(units=units, harmonics=harmonics, refine_steps=refine_steps)
    inputs = keras.Input((window, 1), name="window")
    features = HarmonicFeatures(window, fmin, fmax, resolution=resolution, harmonics=harmonics, trend=trend,
                                name="candidates")
    h = features(inputs)
    h = layers.Dense(units, activation="gelu", name="candidate_features")(h)
    h = layers.Conv1D(units, 5, padding="same", activation="gelu", name="conv1")(h)
    h = layers.Conv1D(units, 5, padding="same", dilation_rate=2, activation="gelu", name="conv2")(h)
    pooled = layers.GlobalMaxPooling1D(name="pool")(h)
    context = layers.Dense(units, name="context")(pooled)
    h = layers.Dense(units, name="local")(h)
    h = layers.Activation("gelu", name="mix")(layers.Add(name="with_context")(
        [h, layers.Reshape((1, units), name="broadcast")(context)]))
    logits = layers.Reshape((len(features.frequencies),), name="logits")(layers.Dense(1, name="score")(h))
    coarse, confidence = CandidateChoice(features.frequencies, name="choice")(logits)
    parts = [HarmonicRefinement(window, fmin, fmax, harmonics=harmonics, steps=refine_steps, trend=trend,
                                degrees=(0, trend), robust=robust, iterations=iterations, max_move=max_move,
                                name="refined"),  # the offset-only and the trend fit, as columns
             FitChoice(fit_ratio, name="fit_choice")]
    if tone_check is not None:
        parts += [layers.Rescaling(float(m), name=f"times_{m}") for m in range(1, TONE_MULTIPLES + 1)]
        parts += [layers.Concatenate(name="tone_starts"),
                  ToneRefinement(refine_steps, fmin=fmin, fmax=fmax, return_snr=True, name="tone"),
                  layers.Rescaling(-1.0, offset=1.0, name="offset_only"),
                  ToneCheck(window, harmonics, tone_check, noise_scale=ROBUST_NOISE_SCALE if robust else 1.0,
                            name="tone_check")]
    fits = _finish({layer.name: layer for layer in parts}, inputs, coarse)
    refined, snr, explained, chosen = (fits[k] for k in ("f", "snr_db", "explained", "trend_fit"))
    extra = {"tone": layers.Identity(name="tone_answer")(fits["tone"])} if "tone" in fits else {}
    outputs = {"cycles_per_window": layers.Identity(name="cycles_per_window")(refined), "logits": logits,
               "confidence": layers.Identity(name="confidence")(confidence),
               "coarse": layers.Identity(name="coarse")(coarse),
               "snr_db": layers.Identity(name="snr_db")(snr), "explained": layers.Identity(name="explained")(explained),
               "trend_fit": layers.Identity(name="trend_fit")(chosen), **extra}
    return keras.Model(inputs, outputs, name=name)


def _finish(parts: dict, inputs, start) -> dict:
    """The fits that finish a candidate ``start``, with the layers ``parts`` (by name): the two
    harmonic fits, their choice and, where the model has one, the tone check."""
    f, snr, explained, chosen = parts["fit_choice"](list(parts["refined"]([inputs, start])))
    out = {"f": f, "snr_db": snr, "explained": explained, "trend_fit": chosen}
    if "tone_check" in parts:
        starts = parts["tone_starts"]([parts[f"times_{m}"](f) for m in range(1, TONE_MULTIPLES + 1)])
        tone_f, tone_snr = parts["tone"]([inputs, starts])
        out["f"], out["tone"] = parts["tone_check"]([f, explained, parts["offset_only"](chosen), tone_f, tone_snr])
    return out


def finish(model: keras.Model, start) -> dict:
    """``model``'s own fits (and tone check) from another candidate ``start`` (a symbolic
    ``(batch, 1)`` tensor on ``model.input``): a dict with ``f``, ``snr_db``, ``explained``,
    ``trend_fit`` and, where the model has the tone check, ``tone``. The same layers and weights:
    how an ablation swaps the network's candidate for another.

    >>> model = fundamental_regressor(window=64, fmin=1, fmax=12, units=8)
    >>> sorted(finish(model, model.output["coarse"]))
    ['explained', 'f', 'snr_db', 'tone', 'trend_fit']
    """
    return _finish({layer.name: layer for layer in model.layers}, model.input, start)


def fundamental_answer(model: keras.Model, min_confidence: float, max_move: float,
                       name: str = "fundamental_answer") -> keras.Model:
    """The model to export: one output ``(batch, 5)`` holding :data:`ANSWER_COLUMNS`, the answer
    and whether to trust it, both computed in the graph (same layers and weights as ``model``).

    ``trusted`` is :class:`~periodic_keras.layers.TrustFlag` (1.0 where the candidate's confidence
    is at least ``min_confidence`` and the fit moved at most ``max_move`` cycles per window from it;
    the thresholds come from :func:`periodic_keras.jobs.fundamental.trust_thresholds` on held-out
    windows).
    ``confidence``, ``explained`` and ``trend_fit`` are ``model``'s outputs of those names. One
    output tensor: what a microcontroller's interpreter and the edge runtime read in one call.

    Example:

    >>> answer = fundamental_answer(fundamental_regressor(window=64, fmin=1, fmax=12, units=8), 0.7, 0.3)
    >>> tuple(answer.output.shape)
    (None, 5)
    """
    out = model.output
    trusted = TrustFlag(min_confidence, max_move, name="trusted")(
        [out["cycles_per_window"], out["coarse"], out["confidence"]])
    columns = {**out, "trusted": trusted}
    answer = layers.Concatenate(name="answer")([columns[c] for c in ANSWER_COLUMNS])
    return keras.Model(model.input, answer, name=name)
