"""The validation rows scored by the model: what the report's figures and warnings are made of.

ROC, precision-recall and the confusion matrix are computed here with NumPy (a few lines each),
so the image needs no scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import pandas as pd
from catboost import CatBoost, Pool

from releaseml.data.schema import REGRESSION, Schema, labels
from releaseml.training import pools


@dataclass
class Scored:
    """Validation truth and model output: values for regression, class probabilities otherwise."""

    truth: np.ndarray
    predicted: np.ndarray  # regression: values; classification: labels
    probabilities: Optional[np.ndarray] = None  # (rows, classes) in schema.classes order
    classes: Optional[list[Any]] = None


def score(model: CatBoost, frame: pd.DataFrame, schema: Schema) -> Scored:
    return scored(model, pools.pool(frame, schema, labelled=False), labels(frame, schema).to_numpy(), schema)


def scored(model: CatBoost, pool: Pool, truth: np.ndarray, schema: Schema) -> Scored:
    """The rows of a pool scored by the model, beside their labels (`schema.labels`)."""
    if schema.task == REGRESSION:
        return Scored(truth=truth.astype(float), predicted=np.asarray(model.predict(pool), dtype=float))
    probabilities = np.asarray(model.predict(pool, prediction_type="Probability"))
    classes = list(schema.classes)
    predicted = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
    return Scored(truth=truth, predicted=predicted, probabilities=probabilities, classes=classes)


def confusion(scored: Scored) -> np.ndarray:
    """Counts[i, j]: rows of true class i predicted as class j."""
    names = pd.Index([str(c) for c in scored.classes])
    truth, predicted = (names.get_indexer(np.asarray(values, dtype=object).astype(str)) for values in (scored.truth, scored.predicted))
    if (truth < 0).any() or (predicted < 0).any():
        raise KeyError(f"a label that is not one of the classes {list(names)}")
    return np.bincount(truth * len(names) + predicted, minlength=len(names) ** 2).reshape(len(names), len(names))


def roc_curve(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """False and true positive rates over every threshold, and the area under the curve."""
    order = np.argsort(-scores, kind="mergesort")
    positive, scores = positive[order], scores[order]
    distinct = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # last row of each tied score
    tp = np.cumsum(positive)[distinct]
    fp = (distinct + 1) - tp
    tpr = np.r_[0, tp / max(tp[-1], 1)]
    fpr = np.r_[0, fp / max(fp[-1], 1)]
    return fpr, tpr, float(np.trapezoid(tpr, fpr) if hasattr(np, "trapezoid") else np.trapz(tpr, fpr))


def pr_curve(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Recall and precision over every threshold, and the average precision."""
    order = np.argsort(-scores, kind="mergesort")
    positive, scores = positive[order], scores[order]
    distinct = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tp = np.cumsum(positive)[distinct]
    precision = tp / (distinct + 1)
    recall = tp / max(positive.sum(), 1)
    full = np.flatnonzero(recall >= 1)
    if len(full):  # past full recall, lower thresholds only add false positives: stop there
        precision, recall = precision[: full[0] + 1], recall[: full[0] + 1]
    average_precision = float(np.sum(np.diff(np.r_[0, recall]) * precision))
    return np.r_[0, recall], np.r_[1, precision], average_precision


# Figures show at most this many classes (the most frequent): a target with hundreds of classes
# would otherwise take minutes and gigabytes to draw, and nobody can read such a figure.
MAX_CLASSES_SHOWN = 20


def shown_classes(scored: Scored) -> list[int]:
    """Positions (in scored.classes) of the classes figures show: all, or the MAX_CLASSES_SHOWN most frequent."""
    if len(scored.classes) <= MAX_CLASSES_SHOWN:
        return list(range(len(scored.classes)))
    counts = pd.Series(scored.truth.astype(str)).value_counts()
    frequency = [counts.get(str(c), 0) for c in scored.classes]
    return sorted(sorted(range(len(frequency)), key=lambda i: -frequency[i])[:MAX_CLASSES_SHOWN])


def one_vs_rest(scored: Scored) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(class, is-this-class, probability-of-this-class) for each shown class; binary: the positive class only."""
    classes = scored.classes[1:] if len(scored.classes) == 2 else [scored.classes[i] for i in shown_classes(scored)]
    truth = scored.truth.astype(str)
    return [(str(c), truth == str(c), scored.probabilities[:, scored.classes.index(c)]) for c in classes]
