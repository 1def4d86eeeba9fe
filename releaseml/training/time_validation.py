"""Honest validation for time-ordered data: hold out the latest rows, score them period by period.

A random hold-out lets the model learn from rows recorded after the ones it is scored on, so on data
with a trend it overstates how the model will do on next month's rows. With `time: <column>` in the
config, training uses the earlier rows and validation the latest `validation_fraction` of them, as
the model will be used. Rows that share the cut's time all go to validation (a day is never split),
and rows with no time stay in training (they cannot be the latest).

The time column holds dates (ISO 8601 such as 2024-03-31 or 2024-03-31T14:00:00Z, or other common
spellings) or numbers (a year, a day count); it orders rows and is not a feature unless listed in
`features`. Also here: the check for columns that order the rows as the target does (a leak).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from releaseml.common.errors import UserError
from releaseml.data.schema import BINARY, REGRESSION, Schema, labels
from releaseml.data.values import NUMERIC

PERIODS = 4  # the validation rows are scored in up to this many consecutive periods
# A column whose rank correlation with the target (or 2 AUC - 1, for a binary target) is at least this
# orders the rows as the target does: computed from it, or recorded after it.
LEAK_ORDERING = 0.98
LEAK_CHECK_ROWS = 50_000  # the check runs on a seeded sample of this many rows at most


@dataclass
class TimeSplit:
    column: str
    times: pd.Series  # every row's time as numbers or UTC datetimes; NaN/NaT when missing
    train_rows: np.ndarray
    valid_rows: np.ndarray

    def describe(self) -> str:
        """Which rows were held out, in the words the log and the report use."""
        valid, train = self.times.iloc[self.valid_rows], self.times.iloc[self.train_rows].dropna()
        untimed = int(self.times.iloc[self.train_rows].isna().sum())
        also = f", and {untimed} rows with no {self.column} trained on" if untimed else ""
        return (
            f"the latest {len(valid)} of {len(self.times)} rows by {self.column} ({span(valid)}) held out; "
            f"trained on the earlier rows ({span(train)}){also}"
        )


def times_of(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as sortable times: numbers as they are, text parsed as dates; a UserError otherwise."""
    values = frame[column]
    if values.isna().all():
        raise UserError(f"time: the column {column!r} has no value in any row; name a column of dates or numbers, or remove `time:`")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    text = values.astype(object)
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    if (parsed.isna() & text.notna()).any():
        parsed = pd.to_datetime(text, format="mixed", utc=True, errors="coerce")
    unreadable = text[parsed.isna() & text.notna()]
    if len(unreadable):
        examples = ", ".join(repr(value) for value in unreadable.drop_duplicates().head(3))
        raise UserError(
            f"time: the column {column!r} must hold dates or numbers, but {len(unreadable)} row(s) hold other text ({examples}). "
            "Use a column of dates (2024-03-31, 2024-03-31 14:00) or numbers (a year, a day count), or remove `time:`."
        )
    return parsed


def hold_out_latest(frame: pd.DataFrame, column: str, fraction: float) -> TimeSplit:
    """Training rows (the earlier ones) and validation rows (the latest `fraction`, whole times only)."""
    times = times_of(frame, column).reset_index(drop=True)
    present = times.notna().to_numpy()
    ordered = np.sort(times[present].to_numpy())
    held = max(1, int(round(len(ordered) * fraction)))
    cut = ordered[len(ordered) - held]
    valid = present & (times >= cut).to_numpy()
    if valid.sum() == len(ordered):
        raise UserError(
            f"time: the rows of {column!r} share too few different times to hold out the latest {fraction:.0%}: "
            f"the latest time, {label(cut)}, is on every row with a time. Use a finer time column, or give validation data."
        )
    return TimeSplit(column, times, np.flatnonzero(~valid), np.flatnonzero(valid))


def periods(times: pd.Series, count: int = PERIODS) -> list[tuple[str, np.ndarray]]:
    """Consecutive periods of about equal rows, each named by its time range, with its row positions.

    Rows of one time fall in one period; rows without a time are left out.
    """
    values = times.to_numpy()
    present = np.flatnonzero(times.notna().to_numpy())
    ordered = np.sort(values[present])
    first_of_time = np.searchsorted(ordered, values[present], side="left")
    group = np.minimum(count - 1, first_of_time * count // max(len(present), 1))
    found = []
    for number in np.unique(group):
        rows = present[group == number]
        found.append((span(times.iloc[rows]), rows))
    return found


def span(times: pd.Series) -> str:
    if times.empty:
        return "none"
    low, high = times.min(), times.max()
    return label(low) if low == high else f"{label(low)} to {label(high)}"


def label(value) -> str:
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else f"{stamp:%Y-%m-%d %H:%M}"
    return f"{float(value):g}"


def ordering_leaks(frame: pd.DataFrame, schema: Schema, time_column: str | None = None, seed: int = 0) -> list[str]:
    """Warnings for number columns (and the time column) that order the rows almost as the target does.

    Regression: the rank correlation; binary: 2 AUC - 1 (how well the column alone sorts the two
    classes). Multiclass targets have no order and are not checked.
    """
    if schema.task not in (REGRESSION, BINARY):
        return []
    rows = frame if len(frame) <= LEAK_CHECK_ROWS else frame.sample(n=LEAK_CHECK_ROWS, random_state=seed)
    target = labels(rows, schema)
    if schema.task == BINARY:
        target = pd.Series((target.astype(str) == str(schema.classes[-1])).astype(float).to_numpy(), index=rows.index)
    candidates = {name: rows[name] for name in schema.features if schema.kinds[name] == NUMERIC}
    if time_column and time_column not in candidates:
        times = times_of(rows, time_column)
        is_date = pd.api.types.is_datetime64_any_dtype(times)
        candidates[time_column] = (times - pd.Timestamp(0, tz="UTC")).dt.total_seconds() if is_date else times
    found = []
    for name, column in candidates.items():
        strength = _ordering(column.astype(float), target.astype(float), binary=schema.task == BINARY)
        if strength >= LEAK_ORDERING:
            what = "The time column" if name == time_column else "The column"
            found.append(
                f"{what} {name} orders the rows almost exactly as {schema.target} does ({strength:.3f} of a perfect match, by rank): "
                f"a column computed from {schema.target}, or recorded after it, gives the answer away. Keep it only if it is known "
                "when predictions are made; otherwise list it under `drop:`."
                if name != time_column
                else f"{what} {name} orders the rows almost exactly as {schema.target} does ({strength:.3f} of a perfect match, by rank): "
                f"{schema.target} looks like a running total or a count over time. A model of it cannot predict past the last training "
                "time; predict the change per period instead."
            )
    return found


def _ordering(column: pd.Series, target: pd.Series, binary: bool) -> float:
    both = column.notna() & target.notna()
    x, y = column[both], target[both]
    if len(x) < 10 or x.nunique() < 2 or y.nunique() < 2:
        return 0.0
    ranks = x.rank().to_numpy()
    if binary:
        positive = y.to_numpy() == 1.0
        count_positive, count_negative = int(positive.sum()), int((~positive).sum())
        auc = (ranks[positive].sum() - count_positive * (count_positive + 1) / 2) / (count_positive * count_negative)
        return float(abs(2 * auc - 1))
    return float(abs(np.corrcoef(ranks, y.rank().to_numpy())[0, 1]))


@dataclass
class PeriodScores:
    label: str  # its time range
    rows: int
    metrics: dict[str, float]  # the task's metrics; a metric with no meaning on one value (AUC, R2) left out


def score_periods(model, valid: pd.DataFrame, schema: Schema, column: str) -> list[PeriodScores]:
    """The task's metrics on each period of the validation rows: does the model get worse with time?"""
    from releaseml.training import fitting

    if column not in valid.columns:
        return []
    valid = valid.reset_index(drop=True)
    found = []
    for name, rows in periods(times_of(valid, column)):
        part = valid.iloc[rows]
        metrics = fitting.evaluate(model, fitting.pool(part, schema), schema.task)
        if labels(part, schema).nunique() < 2:  # one class or one value: AUC and R2 say nothing
            metrics = {key: value for key, value in metrics.items() if key not in ("auc", "r2")}
        found.append(PeriodScores(name, len(rows), metrics))
    return found
