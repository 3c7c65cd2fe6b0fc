"""The report of :mod:`periodic_keras.classical.diagnose`: :class:`WindowDiagnosis`, its verdict and advice."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is built, so the classical face stays NumPy-only
    import pandas as pd


#: A floor below this fraction of the constant predictor's error counts as no conflict.
CONFLICT_FRACTION = 0.02
#: Below this fraction of windows with a near-identical neighbour, a floor is weak evidence.
MIN_COVERAGE = 0.2
#: Above this share of the inputs' variance explained by a straight line, inputs "trend".
TREND_SHARE = 0.5


@dataclasses.dataclass
class WindowDiagnosis:
    """What :func:`diagnose_windows` / :func:`diagnose_sequences` found.

    Attributes:
        kind: ``"regression"`` (floor is an MSE) or ``"classification"`` (an error rate).
        floor: estimated best error of any model that sees only one window, over the
            sampled windows that have a near-identical one (0 when none has).
        baseline: error of the best constant prediction (target variance, or minority rate).
        coverage: fraction of sampled windows that have at least one near-identical window.
        window: steps per window.
        n_windows, n_queries: windows searched, and windows sampled as queries.
        tolerance: the relative input difference counted as near-identical.
        conflicts: the worst conflicting pairs found (``window``, ``other``,
            ``input_difference``, ``target_difference``; for sequences also
            ``sequence``/``step`` of both).
        context: for sequences, one row per context length: ``context``; ``estimate``,
            the spread among the windows that have a near-identical one (NaN if none);
            ``coverage``; ``weak`` (coverage below :data:`MIN_COVERAGE`); and ``floor``, the
            lowest estimate at this or any shorter well-covered context -- a model given
            more context can ignore it, so a floor never grows with context. The last row is
            the whole sequence, from its start.
        context_needed: the shortest well-covered context with no conflict (``None`` if none).
        repeat_lag: for sequences, the median over sampled windows of the shortest step
            distance to a conflicting window of the same sequence (``None`` if none).
        verdict: ``"fits"`` (no conflict), ``"weak"`` (no conflict found, but few windows
            have a neighbour), ``"conflict"`` (windows only: noise or missing context),
            ``"needs_memory"`` (the floor falls to ~0 with enough context),
            ``"noisy"`` (it does not, at any well-covered context: the targets are noisy or
            depend on what the inputs never show), ``"undetermined"`` (longer contexts too
            weakly covered to tell).
        trend_share: share of the inputs' variance a straight line in time explains (per
            sequence, averaged), for sequences.
        detrended: whether windows were compared less their own mean (``detrend=True``).
    """

    kind: str
    floor: float
    baseline: float
    coverage: float
    window: int
    n_windows: int
    n_queries: int
    tolerance: float
    conflicts: pd.DataFrame
    context: pd.DataFrame | None = None
    context_needed: int | None = None
    repeat_lag: float | None = None
    verdict: str = ""
    trend_share: float | None = None
    detrended: bool = False

    @property
    def conflicting(self) -> bool:
        """True when the floor is a substantial part of the constant predictor's error, on
        enough windows with a neighbour (coverage at least :data:`MIN_COVERAGE`) to say so."""
        return self.coverage >= MIN_COVERAGE and self.floor > CONFLICT_FRACTION * self.baseline

    def recommendation(self) -> str:
        """One paragraph: what the numbers mean and what to do."""
        text = self._verdict_text()
        if self.trend_share is not None and self.trend_share > TREND_SHARE and not self.detrended:
            text += (f" The inputs trend (a straight line explains {self.trend_share:.0%} of their variance): windows "
                     "are compared by level, which the trend dominates; detrend=True compares them by shape, each "
                     "less its own mean.")
        return text

    def _verdict_text(self) -> str:
        unit = "MSE" if self.kind == "regression" else "error rate"
        if not self.conflicting:
            if self.coverage < MIN_COVERAGE:
                return (f"Only {self.coverage:.0%} of the windows have a near-identical one: too few to tell "
                        "whether a memoryless model can fit these targets (the check is weak here; more windows or "
                        "a larger tolerance make it stronger).")
            return (f"No conflicting windows: a model that sees one window of {self.window} steps can fit "
                    f"these targets (floor {unit} {self.floor:.3g} vs {self.baseline:.3g} for a constant).")
        text = (f"Near-identical input windows carry conflicting targets: a memoryless model that sees one window "
                f"of {self.window} steps cannot beat {unit} ~{self.floor:.3g} (a constant prediction scores "
                f"{self.baseline:.3g}).")
        if self.context is None:
            return text + (" Either the targets are noisy or they depend on steps before the window: "
                           "diagnose_sequences on the whole sequences tells which, and what context removes it.")
        if self.verdict == "noisy":
            best = float(self.context.floor.min())
            return text + (f" More context does not remove it: the floor stays at ~{best:.3g} with every context up "
                           "to the whole sequence. The targets vary for the same inputs (noise, or information the "
                           "inputs never carry): no model gets below that, and memory will not help.")
        if self.verdict == "undetermined":
            return text + (f" Longer contexts have too few near-identical windows (coverage below "
                           f"{MIN_COVERAGE:.0%}) to tell whether context removes it (noise) or not (memory): the "
                           "check is weak beyond the window; more sequences make it stronger.")
        length = int(self.context["context"].iloc[-1])
        lag = f" Conflicting windows of one sequence lie ~{self.repeat_lag:.0f} steps apart," \
              if self.repeat_lag is not None else ""
        if self.context_needed >= length:
            return (text + " The conflict disappears only when the context reaches the sequence start: the target "
                    "depends on what happened since the start. Carry the state across consecutive windows of a "
                    "sequence and reset it between sequences (stateful windows or whole sequences)."
                    + (lag + " so train with windows (truncated back-propagation) longer than that." if lag else ""))
        return text + (f" It disappears with {self.context_needed} steps of context: use windows that long, or "
                       f"carry the state from earlier windows.")

    def __str__(self) -> str:
        unit = "MSE" if self.kind == "regression" else "error rate"
        lines = [f"memoryless floor ({unit}) {self.floor:.3g}, constant predictor {self.baseline:.3g}, "
                 f"coverage {self.coverage:.0%} of {self.n_queries} sampled windows "
                 f"(of {self.n_windows}; window {self.window}, tolerance {self.tolerance:g}"
                 + (", detrended" if self.detrended else "") + f"); verdict: {self.verdict}"]
        if self.context is not None:
            lines.append("context  floor  estimate  coverage")
            lines += [f"{int(r.context):7d}  {r.floor:.3g}  {r.estimate:.3g}  {r.coverage:.0%}"
                      + ("  (weak)" if r.weak else "") for r in self.context.itertuples()]
        lines.append(self.recommendation())
        return "\n".join(lines)
