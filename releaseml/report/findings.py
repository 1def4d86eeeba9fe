"""What the report says in words: the data summary, the metrics explained, and the model's known limits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from releaseml.data.schema import CATEGORICAL, REGRESSION, Schema
from releaseml.training.evaluation import Scored

SMALL_DATA_ROWS = 1000
MINORITY_SHARE = 0.10
FEW_VALIDATION_ROWS_PER_CLASS = 10
MOSTLY_MISSING = 0.30
DOMINANT_FEATURE_SHARE = 60.0  # % of importance

METRIC_WORDS = {
    "accuracy": ("share of rows given the right class", "higher is better"),
    "logloss": ("how confident and right the probabilities are", "lower is better; 0 is perfect"),
    "auc": ("chance that a random positive row is ranked above a random negative one", "1 is perfect, 0.5 is guessing"),
    "f1": ("balance of precision and recall for the positive class", "higher is better"),
    "precision": ("of the rows predicted positive, the share that are", "higher is better"),
    "recall": ("of the positive rows, the share that were found", "higher is better"),
    "f1_weighted": ("F1 averaged over classes, weighted by class size", "higher is better"),
    "f1_macro": ("F1 averaged over classes, each class counting the same", "higher is better; low when small classes are missed"),
    "rmse": ("typical size of an error, in the target's units; large errors weigh more", "lower is better"),
    "mae": ("average size of an error, in the target's units", "lower is better"),
    "r2": ("share of the target's variation the model explains", "1 is perfect, 0 is no better than always predicting the average"),
}


@dataclass
class Column:
    name: str
    role: str
    kind: str
    missing: int
    distinct: int
    example: str


def columns(frame: pd.DataFrame, schema: Schema) -> list[Column]:
    described = []
    for name in frame.columns:
        values = frame[name]
        role = "target" if name == schema.target else "feature" if name in schema.features else "not used"
        kind = (
            schema.kinds.get(name, "text" if values.dtype == object else "numeric")
            if name != schema.target
            else ("classes" if schema.classes else "number")
        )
        present = values.dropna()
        if kind == "numeric" or (name == schema.target and schema.task == REGRESSION):
            numbers = pd.to_numeric(present, errors="coerce").dropna()
            example = f"{numbers.min():.4g} to {numbers.max():.4g}, median {numbers.median():.4g}" if len(numbers) else "-"
        else:
            top = present.astype(str).value_counts().head(3)
            example = ", ".join(f"{value} ({count})" for value, count in top.items())
        described.append(Column(str(name), role, kind, int(values.isna().sum()), int(present.nunique()), example))
    return described


def headline(schema: Schema, metrics: dict[str, dict[str, float]], scored: Scored, rows: dict[str, int]) -> str:
    """The one sentence an analyst reads first, with the naive baseline to compare against."""
    valid = metrics.get("validation", {})
    n = rows.get("validation", len(scored.truth))
    if schema.task == REGRESSION:
        baseline = float(np.mean(np.abs(scored.truth - scored.truth.mean())))
        return (
            f"On {n} validation rows, predictions of {schema.target} are off by {valid.get('mae', float('nan')):.4g} on average "
            f"(always predicting the average would be off by {baseline:.4g}); the model explains {valid.get('r2', float('nan')):.0%} of the variation."
        )
    truth = pd.Series(scored.truth.astype(str))
    common, share = truth.value_counts().index[0], truth.value_counts(normalize=True).iloc[0]
    return (
        f"On {n} validation rows, the model picks the right {schema.target} {valid.get('accuracy', float('nan')):.1%} of the time "
        f"(always answering the most common class, {common}, would be right {share:.1%} of the time)."
    )


def limits(
    frame: pd.DataFrame, schema: Schema, metrics: dict, scored: Scored, importance: dict[str, float], trees: int, iterations: int
) -> list[str]:
    """Known limits worth a warning, in plain words with what to do; empty when none apply."""
    found = []
    if len(frame) < SMALL_DATA_ROWS:
        found.append(
            f"Small data: {len(frame)} rows. Expect the metrics on new data to differ by a few points; more rows make a steadier model."
        )
    if schema.classes is not None:
        shares = frame[schema.target].astype(str).value_counts(normalize=True)
        rare = [(label, share) for label, share in shares.items() if share < MINORITY_SHARE]
        for label, share in rare[:5]:
            found.append(
                f"Class imbalance: {schema.target} = {label} is only {share:.1%} of rows, so the model sees few examples of it; check its row in the confusion matrix, and consider more data of that class."
            )
        if len(rare) > 5:
            found.append(f"{len(rare) - 5} more classes of {schema.target} are under {MINORITY_SHARE:.0%} of rows each.")
        counts = pd.Series(scored.truth.astype(str)).value_counts()
        few = [
            f"{label} ({counts.get(str(label), 0)})"
            for label in schema.classes
            if counts.get(str(label), 0) < FEW_VALIDATION_ROWS_PER_CLASS
        ]
        if few:
            more = f" and {len(few) - 10} more classes" if len(few) > 10 else ""
            found.append(f"Few validation rows for {', '.join(few[:10])}{more}: the scores for these classes rest on a handful of rows.")
    for name in schema.features:
        missing = frame[name].isna().mean()
        if missing > MOSTLY_MISSING:
            found.append(f"{name} is missing in {missing:.0%} of rows; the model can use it, but it says little where it is missing.")
        if schema.kinds[name] == CATEGORICAL:
            distinct = frame[name].nunique()
            if distinct > 50 and distinct > 0.5 * len(frame):
                found.append(
                    f"{name} has {distinct} different values in {len(frame)} rows: it looks like an identifier. Identifiers do not generalise; list it under `drop:`."
                )
    if importance:
        top, share = max(importance.items(), key=lambda item: item[1])
        if share >= DOMINANT_FEATURE_SHARE:
            found.append(
                f"The model leans on one column: {top} carries {share:.0f}% of the importance. Check that {top} is known when predictions are made (otherwise it leaks the answer)."
            )
    train, valid = metrics.get("train", {}), metrics.get("validation", {})
    key = "r2" if schema.task == REGRESSION else "accuracy"
    if key in train and key in valid and train[key] - valid[key] > (0.2 if key == "r2" else 0.1):
        found.append(
            f"Overfitting: {key} is {train[key]:.3f} on training rows but {valid[key]:.3f} on validation rows. Try `catboost: {{depth: 4}}` or more data."
        )
    if valid.get(key, 0) >= 0.9999:
        found.append(f"Validation {key} is perfect. That is rare on real data: check that no column gives the answer away.")
    if trees >= iterations:
        found.append(
            f"Still improving when training stopped at {iterations} trees: raise `catboost: {{iterations: {iterations * 2}}}` for a better model."
        )
    return found
