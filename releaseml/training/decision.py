"""A binary model's decision: the probability above which a row is labelled positive.

Chosen once, on the validation rows (out-of-fold with `folds:`), by the config's `decision:`:
- `costs`: the threshold with the lowest total cost false_positive x FP + false_negative x FN;
- `min_recall`: the highest threshold that still catches that share of the positive rows (so the
  fewest rows are flagged for that recall);
- `min_precision`: the lowest threshold whose flagged rows are at least that share positive (so the
  most positives are caught at that precision).
A row is positive when P(positive) >= threshold. Every distinct validation probability is tried,
and the threshold is set half-way between the chosen one and the next lower, so the validation
rows get the labels that were scored and new rows near the cut fall either side evenly. Saved in
schema.json as `threshold`; every path that labels (server, batch, score, API) applies it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from releaseml.common.errors import UserError

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Curve:
    """Every candidate threshold (descending) with the counts it gives on the validation rows."""

    thresholds: np.ndarray
    true_positives: np.ndarray
    false_positives: np.ndarray
    positives: int
    rows: int

    @property
    def false_negatives(self) -> np.ndarray:
        return self.positives - self.true_positives

    @property
    def recall(self) -> np.ndarray:
        return self.true_positives / max(self.positives, 1)

    @property
    def precision(self) -> np.ndarray:
        flagged = self.true_positives + self.false_positives
        return np.divide(self.true_positives, flagged, out=np.ones_like(flagged, dtype=float), where=flagged > 0)

    @property
    def flagged_share(self) -> np.ndarray:
        return (self.true_positives + self.false_positives) / max(self.rows, 1)


@dataclass(frozen=True)
class Decision:
    threshold: float
    rule: str  # "costs", "min_recall" or "min_precision"
    recall: float
    precision: float
    flagged_share: float
    cost: float | None = None  # with costs: the total on the validation rows
    cost_at_default: float | None = None  # the same at 0.5, to compare

    def as_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}


def curve(positive: np.ndarray, probability: np.ndarray) -> Curve:
    """Counts at every distinct probability taken as the threshold (p >= t is positive), highest first,
    then at +inf (nothing flagged)."""
    positive = np.asarray(positive, dtype=bool)
    probability = np.asarray(probability, dtype=float)
    order = np.argsort(-probability, kind="mergesort")
    sorted_p, sorted_y = probability[order], positive[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(sorted_p)), len(sorted_p) - 1] if len(sorted_p) else np.array([], dtype=int)
    tp = np.cumsum(sorted_y)[last_of_each] if len(sorted_p) else np.array([], dtype=int)
    fp = (last_of_each + 1) - tp
    return Curve(
        thresholds=np.r_[np.inf, sorted_p[last_of_each]],
        true_positives=np.r_[0, tp],
        false_positives=np.r_[0, fp],
        positives=int(positive.sum()),
        rows=len(positive),
    )


def choose(positive: np.ndarray, probability: np.ndarray, rule, positive_class: str = "positive") -> Decision:
    """The threshold the config's `decision:` asks for, on these validation rows."""
    found = curve(positive, probability)
    if found.positives == 0:
        raise UserError(f"decision: the validation rows hold no {positive_class!r} row, so no threshold can be chosen; give more data")
    if rule.costs is not None:
        costs = rule.costs.false_positive * found.false_positives + rule.costs.false_negative * found.false_negatives
        best = int(np.argmin(costs))  # the first (highest threshold) of equal costs: fewest rows flagged
        default = _index_at(found, DEFAULT_THRESHOLD)
        return _decision(found, best, "costs", cost=float(costs[best]), cost_at_default=float(costs[default]))
    if rule.min_recall is not None:
        reaching = np.flatnonzero(found.recall >= rule.min_recall - 1e-12)
        return _decision(found, int(reaching[0]), "min_recall")  # recall 1 is always reached at the lowest threshold
    reaching = np.flatnonzero((found.precision >= rule.min_precision - 1e-12) & (found.true_positives > 0))
    if not len(reaching):
        flagged = np.flatnonzero(found.true_positives > 0)
        best = flagged[int(np.argmax(found.precision[flagged]))]
        raise UserError(
            f"decision: no threshold reaches min_precision {rule.min_precision:g} on the validation rows; the best is "
            f"{found.precision[best]:.3f} (at threshold {_midpoint(found, best):.3g}). Lower min_precision, or improve the model"
        )
    return _decision(found, int(reaching[-1]), "min_precision")


def labels_positive(probability: np.ndarray, threshold: float) -> np.ndarray:
    """The one rule every path labels by: positive when P(positive) >= threshold."""
    return np.asarray(probability) >= threshold


def _decision(found: Curve, index: int, rule: str, **cost) -> Decision:
    return Decision(
        threshold=_midpoint(found, index),
        rule=rule,
        recall=float(found.recall[index]),
        precision=float(found.precision[index]),
        flagged_share=float(found.flagged_share[index]),
        **cost,
    )


def _midpoint(found: Curve, index: int) -> float:
    """Half-way between the chosen threshold and the next lower candidate (or 0 below the lowest)."""
    chosen = found.thresholds[index]
    if not np.isfinite(chosen):
        return 1.0 + 1e-9  # nothing flagged: above every probability
    lower = found.thresholds[index + 1] if index + 1 < len(found.thresholds) else 0.0
    return float((chosen + lower) / 2)


def _index_at(found: Curve, threshold: float) -> int:
    """The candidate whose labels equal those of `threshold`: the lowest candidate still >= it."""
    at_or_above = np.flatnonzero(found.thresholds >= threshold)
    return int(at_or_above[-1]) if len(at_or_above) else 0
