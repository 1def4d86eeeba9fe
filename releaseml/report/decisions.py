"""The report's decision part for binary models: where the threshold sits, what it does, whether the
probabilities can be taken at their word (calibration), and what a rare positive class does.

Everything is computed on the validation rows (out-of-fold with `folds:`), the rows the threshold
was chosen on (training/decision.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from releaseml.report import figures
from releaseml.training import decision, evaluation

CALIBRATION_BINS = 10
# The probabilities are "clearly off" when a bin of at least MIN_BIN_ROWS rows misses its observed
# share by more than CALIBRATION_BOUND (10 points): a gap that size is past the binomial noise of
# such a bin at the shares where it matters (a bin of 50 at 50% has a standard error of 7 points).
CALIBRATION_BOUND = 0.10
MIN_BIN_ROWS = 50
SUGGESTED_RECALL = 0.8


@dataclass
class DecisionPart:
    figures: list[tuple[str, str, Path]]
    sentences: list[str]  # for the headline's paragraph and the known limits
    brier: float


def part(scored: evaluation.Scored, positive, chosen: dict | None, config, figure_dir: Path, balanced: dict | None) -> DecisionPart:
    is_positive = scored.truth.astype(str) == str(positive)
    probability = scored.probabilities[:, 1]
    curve = decision.curve(is_positive, probability)
    threshold = chosen["threshold"] if chosen else None
    costs = (
        (config.decision.costs.false_positive, config.decision.costs.false_negative) if config.decision and config.decision.costs else None
    )
    tradeoff = figures.tradeoff(curve, threshold, costs, str(positive), figure_dir / "decision.png")
    sentences = [_sentence(chosen, positive) if chosen else _suggestion(is_positive, probability, positive, curve)]
    shown = [("Decision: the threshold", _tradeoff_caption(threshold, costs, positive), tradeoff)]
    labels_at = probability >= (threshold if threshold is not None else 0.5)
    counts = np.array(
        [
            [np.sum(~is_positive & ~labels_at), np.sum(~is_positive & labels_at)],
            [np.sum(is_positive & ~labels_at), np.sum(is_positive & labels_at)],
        ]
    )
    where = f"at the chosen threshold {threshold:.3g}" if threshold is not None else "at 0.5"
    matrix = figures.confusion_matrix(counts, [f"not '{positive}'", f"'{positive}'"], figure_dir / "decision_confusion.png")
    shown.append((f"Confusion matrix {where}", f"The validation rows labelled as the model labels them {where}.", matrix))
    bins = reliability_bins(is_positive, probability)
    brier, calibration = _calibration(is_positive, probability, bins, positive, figure_dir)
    shown.append(calibration)
    off = _miscalibrated(bins)
    if off:
        sentences.append(off)
    if balanced:
        sentences.append(_balanced_sentence(balanced, positive))
    return DecisionPart(shown, sentences, brier)


def _sentence(chosen: dict, positive) -> str:
    said = (
        f"At {chosen['threshold']:.3g} the model catches {chosen['recall']:.0%} of {str(positive)!r} and flags {chosen['flagged_share']:.0%} "
        f"of the rows ({chosen['precision']:.0%} of those flagged are {str(positive)!r}); every path that labels uses this threshold."
    )
    if "cost" in chosen:
        said += f" Its cost on the validation rows is {chosen['cost']:,.4g}, against {chosen['cost_at_default']:,.4g} at 0.5."
    return said


def _suggestion(is_positive: np.ndarray, probability: np.ndarray, positive, found: decision.Curve) -> str:
    """Without `decision:`, labels are at 0.5: say what that catches, and a setting that would catch more."""
    at_half = probability >= 0.5
    recall_half = at_half[is_positive].mean() if is_positive.any() else 0.0
    said = (
        f"Labels are decided at 0.5: the model catches {recall_half:.0%} of {str(positive)!r} and flags {at_half.mean():.0%} of the rows."
    )
    if recall_half < SUGGESTED_RECALL and is_positive.any():
        index = int(np.flatnonzero(found.recall >= SUGGESTED_RECALL)[0])
        said += (
            f" To catch {SUGGESTED_RECALL:.0%}, set `decision: {{min_recall: {SUGGESTED_RECALL}}}` (it would flag {found.flagged_share[index]:.0%} "
            "of the rows), or say what each mistake costs with `decision: {costs: {false_positive: 1, false_negative: 10}}`."
        )
    return said


def _tradeoff_caption(threshold, costs, positive) -> str:
    caption = (
        f"Moving the threshold trades recall (the share of {str(positive)!r} caught) against precision (the share of flagged rows that "
        "really are) and the share of rows flagged. "
    )
    if costs:
        caption += "The green line is the total cost of the mistakes at each threshold; the chosen threshold is its lowest point. "
    return caption + (
        "The black line is the chosen threshold, the dashed one 0.5."
        if threshold is not None
        else "The dashed line is 0.5, where labels are decided now."
    )


def _calibration(is_positive: np.ndarray, probability: np.ndarray, bins, positive, figure_dir: Path):
    brier = float(np.mean((probability - is_positive) ** 2))
    predicted, observed, counts = bins
    path = figures.reliability(predicted, observed, counts, str(positive), figure_dir / "calibration.png")
    caption = (
        f"Rows sorted by their predicted probability of {str(positive)!r} and cut into {CALIBRATION_BINS} bins of equal size (the number "
        f"beside each point is its rows): on the dashed diagonal a predicted 30% comes true 30% of the time. Brier score {brier:.4f} "
        "(the mean squared gap between probability and outcome: 0 is perfect)."
    )
    return brier, ("Calibration: can the probabilities be taken at their word?", caption, path)


def reliability_bins(is_positive: np.ndarray, probability: np.ndarray):
    order = np.argsort(probability, kind="mergesort")
    parts = [part for part in np.array_split(order, min(CALIBRATION_BINS, len(order))) if len(part)]
    predicted = np.array([probability[p].mean() for p in parts])
    observed = np.array([is_positive[p].mean() for p in parts])
    return predicted, observed, np.array([len(p) for p in parts])


def _miscalibrated(bins) -> str | None:
    """A limit when a bin of at least MIN_BIN_ROWS rows (`reliability_bins`) misses its observed share by more than the bound."""
    predicted, observed, counts = bins
    gaps = np.abs(predicted - observed)[counts >= MIN_BIN_ROWS]
    if not len(gaps) or gaps.max() <= CALIBRATION_BOUND:
        return None
    return (
        f"The probabilities are off: in a bin of validation rows the predicted share misses the observed one by {gaps.max():.0%} "
        f"(more than the {CALIBRATION_BOUND:.0%} this report allows). Rank rows by them, but do not read them as exact chances."
    )


def _balanced_sentence(balanced: dict, positive) -> str:
    trained, weighted = balanced["as_trained"], balanced["balanced"]
    return (
        f"The positive class {str(positive)!r} is rare. As trained, the model catches {trained['recall']:.0%} of it at 0.5 "
        f"(precision {trained['precision']:.0%}, AUC {trained['auc']:.3f}); trained with CatBoost's `auto_class_weights: Balanced` "
        f"it would catch {weighted['recall']:.0%} (precision {weighted['precision']:.0%}, AUC {weighted['auc']:.3f}). "
        "Weights move the probabilities (they stop being calibrated); a `decision:` threshold moves the labels and keeps them: pick one."
    )
