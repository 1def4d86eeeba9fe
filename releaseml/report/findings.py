"""What the report says in words: the data summary, the metrics explained, and the model's known limits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from releaseml.common import threads
from releaseml.data.schema import BINARY, CATEGORICAL, REGRESSION, Schema, labels
from releaseml.training.evaluation import Scored

SMALL_DATA_ROWS = 1000
MINORITY_SHARE = 0.10
RARE_POSITIVE_SHARE = 0.20  # binary: below this share of positives, accuracy says little and recall matters
VALIDATION_ABOVE_TRAINING = 0.02  # validation accuracy (or r2) this far above training's earns a word
FEW_VALIDATION_ROWS_PER_CLASS = 10
MOSTLY_MISSING = 0.30
DOMINANT_FEATURE_SHARE = 60.0  # % of importance

# What each metric means; {positive} is the positive class of a binary model, quoted.
METRIC_WORDS = {
    "accuracy": ("share of rows given the right class", "higher is better"),
    "logloss": ("how confident and right the probabilities are", "lower is better; 0 is perfect"),
    "auc": ("chance that a random {positive} row gets a higher probability than a random other row", "1 is perfect, 0.5 is guessing"),
    "f1": ("balance of precision and recall for {positive}", "higher is better"),
    "precision": ("of the rows predicted {positive}, the share that are", "higher is better"),
    "recall": ("of the {positive} rows, the share the model found (at the 0.5 threshold)", "higher is better"),
    "f1_weighted": ("F1 averaged over classes, weighted by class size", "higher is better"),
    "f1_macro": ("F1 averaged over classes, each class counting the same", "higher is better; low when small classes are missed"),
    "rmse": ("typical size of an error, in the target's units; large errors weigh more", "lower is better"),
    "mae": ("average size of an error, in the target's units", "lower is better"),
    "r2": ("share of the target's variation the model explains", "1 is perfect, 0 is no better than always predicting the average"),
}


def metric_words(name: str, positive=None) -> tuple[str, str]:
    """(what the metric means, which way is better), naming the positive class where the metric is about it."""
    meaning, direction = METRIC_WORDS.get(name, ("", ""))
    return meaning.format(positive=f"'{positive}'" if positive is not None else "positive"), direction


def positive_label(schema: Schema):
    """The class a binary model's f1, precision and recall are about (CatBoost's class 1)."""
    return schema.positive_class if schema.positive_class is not None else schema.classes[1]


def number(value: float, digits: int = 4) -> str:
    """A number to read, not to parse: four significant digits and thousands separators (12,350, not 1.235e+04);
    four-digit numbers go without one, as style guides write them (a year reads 2007, not 2,007)."""
    if not np.isfinite(value) or value == 0:
        return f"{value:g}"
    rounded = float(f"{value:.{digits}g}")
    decimals = max(digits - 1 - int(np.floor(np.log10(abs(rounded)))), 0)
    text = f"{rounded:{',' if abs(rounded) >= 10_000 else ''}.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class Column:
    name: str
    role: str
    kind: str
    missing: int
    distinct: int
    example: str


def columns(frame: pd.DataFrame, schema: Schema) -> list[Column]:
    """Each column's role, kind, missing and distinct values, and range or most frequent values (columns side by side)."""
    return threads.each(lambda named: _column(*named, schema), [(name, frame[name]) for name in frame.columns])


def _column(name, values: pd.Series, schema: Schema) -> Column:
    role = "target" if name == schema.target else "feature" if name in schema.features else "not used"
    kind = (
        schema.kinds.get(name, "text" if values.dtype == object else "numeric")
        if name != schema.target
        else ("classes" if schema.classes else "number")
    )
    if kind == "numeric" or (name == schema.target and schema.task == REGRESSION):
        present = values.dropna()
        numbers = pd.to_numeric(present, errors="coerce").dropna()
        example = f"{number(numbers.min())} to {number(numbers.max())}, median {number(numbers.median())}" if len(numbers) else "-"
        missing, distinct = len(values) - len(present), present.nunique()
    else:
        counts, distinct = _text_counts(values)
        example = ", ".join(f"{value} ({count:,})" for value, count in counts.head(3).items())
        missing = len(values) - int(counts.sum())
    return Column(str(name), role, kind, missing, int(distinct), example)


def counts_as_text(values: pd.Series) -> pd.Series:
    """`values.astype(str).value_counts()`: a column of text (the usual target) counted as it is, the same counts
    in the same order (most first, ties as they first come) in a quarter of the time."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values.value_counts()
    return values.astype(str).value_counts()


def _text_counts(values: pd.Series) -> tuple[pd.Series, int]:
    """How often each present value occurs as text (most frequent first), and how many distinct values
    there are. A column of text (most are) is counted as it is: writing a million cells as text again
    first took four times as long (tests/test_report_reading.py checks both ways agree)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        counts = values.value_counts(dropna=True)
        return counts, len(counts)
    present = values.dropna()
    return present.astype(str).value_counts(), present.nunique()  # as text 0.0 and -0.0 differ; as numbers they do not


def headline(schema: Schema, metrics: dict[str, dict[str, float]], scored: Scored, rows: dict[str, int]) -> str:
    """The sentences an analyst reads first, each score next to the naive baseline it has to beat."""
    valid = metrics.get("validation", {})
    n = rows.get("validation", len(scored.truth))
    if schema.task == REGRESSION:
        baseline = float(np.mean(np.abs(scored.truth - scored.truth.mean())))
        return (
            f"On {n:,} validation rows, predictions of {schema.target} are off by {number(valid.get('mae', float('nan')))} on average "
            f"(always predicting the average would be off by {number(baseline)}); the model explains {valid.get('r2', float('nan')):.0%} of the variation."
        )
    truth = pd.Series(scored.truth.astype(str))
    common, share = truth.value_counts().index[0], truth.value_counts(normalize=True).iloc[0]
    accuracy = valid.get("accuracy", float("nan"))
    sentence = (
        f"On {n:,} validation rows, the model picks the right {schema.target} {accuracy:.1%} of the time "
        f"(always answering the most common class, '{common}', would be right {share:.1%} of the time"
        + ("; the model does no better)." if accuracy <= share else ").")
    )
    return f"{sentence} {_binary_headline(schema, valid, scored)}" if schema.task == BINARY else sentence


def _binary_headline(schema: Schema, valid: dict[str, float], scored: Scored) -> str:
    """Accuracy flatters a rare positive class: say how many of it are caught, and the scores that do not depend on a threshold."""
    positive = positive_label(schema)
    caught, total, _ = caught_positives(scored, positive)
    if not total:
        return f"No validation row is '{positive}', so how many of '{positive}' it catches is unknown."
    prior = total / len(scored.truth)
    said = f"It catches {caught / total:.0%} of '{positive}' ({caught:,} of {total:,} validation rows) at the usual 0.5 threshold"
    if "auc" in valid:
        said += f"; it ranks '{positive}' rows above the others with an AUC of {valid['auc']:.3f} (0.5 would be guessing)"
    if "logloss" in valid and 0 < prior < 1:
        baseline = float(-(prior * np.log(prior) + (1 - prior) * np.log(1 - prior)))
        better = 1 - valid["logloss"] / baseline
        said += (
            f", and its logloss is {valid['logloss']:.3g} against {baseline:.3g} for always predicting the {prior:.1%} share of "
            f"'{positive}' ({abs(better):.0%} {'lower' if better >= 0 else 'higher: worse than that baseline'})"
        )
    return f"{said}."


def caught_positives(scored: Scored, positive) -> tuple[int, int, int]:
    """(positives predicted positive, positives, rows predicted positive) on the validation rows, at the 0.5 threshold."""
    truth, predicted = scored.truth.astype(str) == str(positive), scored.predicted.astype(str) == str(positive)
    return int((truth & predicted).sum()), int(truth.sum()), int(predicted.sum())


def limits(
    frame: pd.DataFrame,
    schema: Schema,
    metrics: dict,
    scored: Scored,
    importance: dict[str, float],
    trees: int,
    iterations: int,
    described: list[Column] | None = None,
) -> list[str]:
    """Known limits worth a warning, in plain words with what to do; empty when none apply.

    `described`: `columns(frame, schema)` when the caller has it (counting a million rows again took 0.6 s)."""
    described_by_name = {column.name: column for column in described or columns(frame, schema)}
    found = []
    if len(frame) < SMALL_DATA_ROWS:
        found.append(
            f"Small data: {len(frame):,} rows. Expect the metrics on new data to differ by a few points; more rows make a steadier model."
        )
    if schema.classes is not None:
        found += _class_limits(frame, schema, scored)
    for name in schema.features:
        found += _column_limits(frame, name, schema.kinds[name], described_by_name[str(name)])
    if importance:
        top, share = max(importance.items(), key=lambda item: item[1])
        if share >= DOMINANT_FEATURE_SHARE:
            found.append(
                f"The model leans on one column: {top} carries {share:.0f}% of the importance. Check that {top} is known when predictions are made (otherwise it leaks the answer)."
            )
    found += _score_limits(schema, metrics)
    if trees >= iterations:
        found.append(
            f"Still improving when training stopped at {iterations} trees: raise `catboost: {{iterations: {iterations * 2}}}` for a better model."
        )
    return found


def _class_limits(frame: pd.DataFrame, schema: Schema, scored: Scored) -> list[str]:
    """Rare classes (a rare positive class of a binary model in full), and classes with few validation rows."""
    found = []
    counts = counts_as_text(labels(frame, schema))
    shares = counts / counts.sum()  # what value_counts(normalize=True) divides
    positive = str(positive_label(schema)) if schema.task == BINARY else None
    if positive is not None and shares.get(positive, 0) < RARE_POSITIVE_SHARE:
        found.append(_rare_positive(schema, shares, scored))
    rare = [(label, share) for label, share in shares.items() if share < MINORITY_SHARE and label != positive]
    for label, share in rare[:5]:
        found.append(
            f"Class imbalance: {schema.target} = {label} is only {share:.1%} of rows, so the model sees few examples of it; check its row in the confusion matrix, and consider more data of that class."
        )
    if len(rare) > 5:
        found.append(f"{len(rare) - 5} more classes of {schema.target} are under {MINORITY_SHARE:.0%} of rows each.")
    counts = pd.Series(scored.truth.astype(str)).value_counts()
    few = [
        f"{label} ({counts.get(str(label), 0)})" for label in schema.classes if counts.get(str(label), 0) < FEW_VALIDATION_ROWS_PER_CLASS
    ]
    if few:
        more = f" and {len(few) - 10} more classes" if len(few) > 10 else ""
        found.append(f"Few validation rows for {', '.join(few[:10])}{more}: the scores for these classes rest on a handful of rows.")
    return found


def _rare_positive(schema: Schema, shares: pd.Series, scored: Scored) -> str:
    """A rare positive class makes accuracy look good for a model that misses most of it: say how many it catches."""
    positive = positive_label(schema)
    other = next(str(c) for c in schema.classes if str(c) != str(positive))
    caught, total, flagged = caught_positives(scored, positive)
    said = (
        f"Rare positive class: {schema.target} = '{positive}' is only {shares.get(str(positive), 0):.1%} of rows. Accuracy says little here: "
        f"always answering '{other}' would be right {shares.get(other, 0):.1%} of the time; judge the model by recall, precision and AUC."
    )
    if total:
        rows = f"{flagged:,} row" + ("s" if flagged != 1 else "")
        flags = f"; of the {rows} it flags, {caught / flagged:.0%} are '{positive}'" if flagged else "; it flags no row at all"
        said += f" At the 0.5 threshold it catches {caught / total:.0%} of '{positive}' ({caught:,} of {total:,} validation rows){flags}."
    return (
        f"{said} To catch more, act on the probability of '{positive}' at a lower threshold (the precision-recall curve shows what that costs), "
        "or train with `catboost: {auto_class_weights: Balanced}` (its probabilities then overstate the rare class)."
    )


def _column_limits(frame: pd.DataFrame, name: str, kind: str, described: Column) -> list[str]:
    """A feature with one value everywhere, mostly missing, or looking like an identifier (`described` counts its values)."""
    rows = len(frame)
    if described.distinct + (described.missing > 0) <= 1:  # one value, counting missing as one
        only = "missing" if described.missing == rows else str(frame[name].dropna().iloc[0])
        return [
            f"{name} has one value in every row ({only}): it cannot help the model. List it under `drop:`, or find out why it never changes."
        ]
    found = []
    missing = described.missing / rows
    if missing > MOSTLY_MISSING:
        found.append(f"{name} is missing in {missing:.0%} of rows; the model can use it, but it says little where it is missing.")
    if kind == CATEGORICAL:
        distinct = described.distinct
        if distinct > 50 and distinct > 0.5 * len(frame):
            found.append(
                f"{name} has {distinct:,} different values in {len(frame):,} rows: it looks like an identifier. Identifiers do not generalise; list it under `drop:`."
            )
    return found


def _score_limits(schema: Schema, metrics: dict) -> list[str]:
    """Training far above validation (overfitting), validation above training (worth a word), a perfect score."""
    found = []
    train, valid = metrics.get("train", {}), metrics.get("validation", {})
    key = "r2" if schema.task == REGRESSION else "accuracy"
    if key in train and key in valid and train[key] - valid[key] > (0.2 if key == "r2" else 0.1):
        found.append(
            f"Overfitting: {key} is {train[key]:.3f} on training rows but {valid[key]:.3f} on validation rows. Try `catboost: {{depth: 4}}` or more data."
        )
    if key in train and key in valid and valid[key] - train[key] > VALIDATION_ABOVE_TRAINING:
        found.append(
            f"Validation scores beat training scores ({key} {valid[key]:.3f} on validation rows, {train[key]:.3f} on training rows). "
            "That is not a bug: it happens when the validation rows are few or happen to be easier than average, and because CatBoost's "
            "regularisation and early stopping keep the model from fitting its training rows closely. Expect new data to score nearer the "
            "training score; `folds: 5` (cross-validation) gives a steadier estimate."
        )
    if valid.get(key, 0) >= 0.9999:
        found.append(f"Validation {key} is perfect. That is rare on real data: check that no column gives the answer away.")
    return found
