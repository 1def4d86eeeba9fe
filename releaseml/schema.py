"""What a model expects: the task, its features and their kinds, the class labels.

Inferred once from the training data and saved beside the model, so serving
types a request's columns exactly as training typed the data.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import numpy as np
import pandas as pd

from releaseml.config import Config
from releaseml.errors import BadValue, UserError

NUMERIC = "numeric"
CATEGORICAL = "categorical"
REGRESSION, BINARY, MULTICLASS = "regression", "binary", "multiclass"
# Whole numbers with at most this many distinct values are read as class labels.
MAX_CLASSES_FOR_NUMERIC_TARGET = 10
# CatBoost refuses NaN in categorical features; a missing category is this string.
MISSING_CATEGORY = ""
# Text that means "missing", as pandas reads CSV files for training (its default na_values).
MISSING_TOKENS = frozenset(
    [
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    ]
)


@dataclass
class Schema:
    target: str
    task: str
    features: list[str]
    kinds: dict[str, str]
    classes: Optional[list[Any]] = None
    ignored: list[str] = field(default_factory=list)

    @property
    def categorical(self) -> list[str]:
        return [name for name in self.features if self.kinds[name] == CATEGORICAL]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Schema":
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


def infer(frame: pd.DataFrame, config: Config) -> Schema:
    """The schema of a training frame under a config, or a UserError saying what does not fit."""
    columns = list(frame.columns)
    _require_columns([config.target], columns, "target")
    _require_columns(config.drop, columns, "drop")
    _require_columns(config.categorical, columns, "categorical")
    if config.features is not None:
        _require_columns(config.features, columns, "features")
    features = list(config.features) if config.features is not None else [c for c in columns if c != config.target and c not in config.drop]
    if not features:
        raise UserError("no feature columns are left: the data needs at least one column besides the target that is not dropped")
    kinds = {name: _kind(frame[name], name in config.categorical) for name in features}
    target = frame[config.target].dropna()
    task = _task(target, config)
    classes = _classes(target, task, config.target)
    ignored = [c for c in columns if c not in features and c != config.target]
    return Schema(target=config.target, task=task, features=features, kinds=kinds, classes=classes, ignored=ignored)


def model_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The feature columns in schema order, typed for CatBoost (numbers as floats, categories as text)."""
    out = {}
    for name in schema.features:
        column = frame[name]
        if schema.kinds[name] == CATEGORICAL:
            out[name] = category_text(column)
        else:
            out[name] = numbers(column, name)
    return pd.DataFrame(out, index=frame.index)


def numbers(column: pd.Series, name: str) -> pd.Series:
    """A numeric feature as floats; text that is not a number is a BadValue naming its row."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype("float64")
    converted = pd.to_numeric(column, errors="coerce").astype("float64")
    bad = np.flatnonzero(converted.isna().to_numpy() & column.notna().to_numpy())
    if len(bad):
        value = column.iloc[bad[0]]
        raise BadValue(
            f"row {bad[0] + 1}, column {name!r}: {value!r} is not a number (leave it empty if it is missing)",
            row=int(bad[0]) + 1,
            column=name,
        )
    return converted


def category_text(column: pd.Series) -> pd.Series:
    """Category values as plain Python strings, missing ones as MISSING_CATEGORY."""
    if pd.api.types.is_string_dtype(column) and not pd.api.types.is_object_dtype(column):
        return column.fillna(MISSING_CATEGORY).astype(object)  # already text: skip the per-value str()
    text = column.astype(object).where(column.notna(), MISSING_CATEGORY)
    return text.map(str).astype(object)


def typed_row(values: list[Any], schema: Schema, row: int) -> list[Any]:
    """One row of raw values (CSV text or JSON values) typed as `model_frame` types a frame."""
    return [_typed_value(value, name, schema.kinds[name], row) for value, name in zip(values, schema.features)]


def _typed_value(value: Any, name: str, kind: str, row: int) -> Any:
    if value is None or (isinstance(value, str) and value.strip() in MISSING_TOKENS):
        return MISSING_CATEGORY if kind == CATEGORICAL else float("nan")
    if kind == CATEGORICAL:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, (int, float)):
            return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    elif not isinstance(value, bool) and not (isinstance(value, str) and "_" in value):  # "1_000": pandas says no
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            pass
    wanted = "a number" if kind == NUMERIC else "text or a number"
    raise BadValue(f"row {row}, column {name!r}: {value!r} is not {wanted} (leave it empty or null if it is missing)", row=row, column=name)


def _kind(column: pd.Series, forced_categorical: bool) -> str:
    if forced_categorical or pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        return CATEGORICAL
    return NUMERIC


def _task(target: pd.Series, config: Config) -> str:
    numeric = pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target)
    distinct = target.nunique()
    if config.task == REGRESSION and not numeric:
        example = target.iloc[0] if len(target) else None
        raise UserError(
            f"task is regression but the target column {config.target!r} is not numeric (e.g. {example!r}); use task: binary or multiclass, or another target"
        )
    if config.task != "auto":
        return config.task
    if not numeric:
        return BINARY if distinct == 2 else MULTICLASS
    whole = bool(np.all(np.mod(target.to_numpy(dtype="float64"), 1) == 0))
    if distinct == 2:
        return BINARY
    if whole and distinct <= MAX_CLASSES_FOR_NUMERIC_TARGET:
        return MULTICLASS
    return REGRESSION


def _classes(target: pd.Series, task: str, name: str) -> Optional[list[Any]]:
    if task == REGRESSION:
        if target.empty:
            raise UserError(f"the target column {name!r} has no values")
        return None
    labels = sorted(target.unique().tolist(), key=lambda v: (str(type(v)), v))
    labels = [str(v) if isinstance(v, (bool, np.bool_)) else v for v in labels]
    if len(labels) < 2:
        shown = repr(labels[0]) if labels else "no value"
        raise UserError(
            f"the target column {name!r} has {shown} in every row with a value: a classifier needs at least two classes. "
            "Check that this is the column to predict and that the data is not filtered to one class."
        )
    if task == BINARY and len(labels) != 2:
        raise UserError(f"task is binary but the target column {name!r} has {len(labels)} classes ({labels[:5]}...); use task: multiclass")
    return labels


def _require_columns(names: list[str], columns: list[str], key: str) -> None:
    for name in names:
        if name not in columns:
            hint = difflib.get_close_matches(name, columns, n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            raise UserError(f"{key}: column {name!r} is not in the data.{suggestion} The columns are: {', '.join(map(str, columns))}.")
