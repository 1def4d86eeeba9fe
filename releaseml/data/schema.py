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

from releaseml.common.errors import UserError
from releaseml.config.config_file import Config
from releaseml.config.tasks import BINARY, MULTICLASS, REGRESSION  # noqa: F401 (others import them from here)
from releaseml.data import values
from releaseml.data.values import CATEGORICAL, CATEGORY_KINDS, NUMERIC  # noqa: F401 (the kinds live in values; others import them from here)

# Whole numbers with at most this many distinct values are read as class labels.
MAX_CLASSES_FOR_NUMERIC_TARGET = 10


@dataclass
class Schema:
    target: str
    task: str
    features: list[str]
    kinds: dict[str, str]
    classes: Optional[list[Any]] = None
    ignored: list[str] = field(default_factory=list)
    positive_class: Optional[Any] = None  # binary: the class f1, precision and recall are about (classes[1])

    @property
    def known_columns(self) -> frozenset[str]:
        """Every column a request may name: the features, the target and the columns training left out."""
        return frozenset([*self.features, self.target, *self.ignored])

    @property
    def categorical(self) -> list[str]:
        return [name for name in self.features if self.kinds[name] in CATEGORY_KINDS]

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
    if config.time is not None:
        _require_columns([config.time], columns, "time")
    not_features = {config.target, *config.drop, config.time}  # the time column orders rows; it is a feature only when listed
    features = list(config.features) if config.features is not None else [c for c in columns if c not in not_features]
    if not features:
        raise UserError("no feature columns are left: the data needs at least one column besides the target that is not dropped")
    kinds = {name: _kind(frame[name], name in config.categorical) for name in features}
    target = frame[config.target].dropna()
    task = _task(target, config)
    if task != REGRESSION:
        target = labels(frame, Schema(config.target, task, [], {})).dropna()
    classes = _classes(target, task, config.target)
    positive = None
    if task == BINARY:
        positive = positive_class(classes, target, config.positive_class, config.target)
        classes = [next(c for c in classes if c != positive), positive]  # CatBoost's class 1 is the positive one
    elif config.positive_class is not None:
        raise UserError(f"positive_class: is for a binary target; {config.target!r} is a {task} target (leave positive_class out)")
    ignored = [c for c in columns if c not in features and c != config.target]
    return Schema(
        target=config.target, task=task, features=features, kinds=kinds, classes=classes, ignored=ignored, positive_class=positive
    )


POSITIVE_WORDS = ("yes", "true", "1", "y", "positive", "pos")  # a binary target spelt so: this class is the positive one


def positive_class(classes: list[Any], target: pd.Series, given: Any, name: str) -> Any:
    """The class a binary decision is about: `positive_class:` if given, else yes/true/1, else the rarer class."""
    if given is not None:
        for label in classes:
            if label == given or str(label) == str(given) or _same_number(label, given):
                return label
        raise UserError(f"positive_class: {given!r} is not a class of {name!r}; its classes are {classes}")
    for word in POSITIVE_WORDS:
        for label in classes:
            if str(label).strip().lower() == word or _same_number(label, word):
                return label
    counts = target.astype(str).value_counts()
    return min(classes, key=lambda label: (counts.get(str(label), 0), str(label)))


def _same_number(label: Any, other: Any) -> bool:
    try:
        return float(label) == float(other)
    except (TypeError, ValueError):
        return False


def model_frame(frame: pd.DataFrame, schema: Schema, first_row: int = 1) -> pd.DataFrame:
    """The feature columns in schema order, typed by `values` for CatBoost (numbers as floats, categories as text)."""
    out = values.columns({name: (frame[name].to_numpy(), schema.kinds[name]) for name in schema.features}, first_row)
    return pd.DataFrame(out, index=frame.index)


def typed_row(row: list[Any], schema: Schema, number: int) -> list[Any]:
    """One row of raw values (CSV text or JSON values) typed as `model_frame` types a frame."""
    return [values.typed(value, schema.kinds[name], name, number) for value, name in zip(row, schema.features)]


def labels(frame: pd.DataFrame, schema: Schema) -> pd.Series:
    """The target column as the model sees it: whole numbers as integers, true/false as 'True'/'False'."""
    column = frame[schema.target]
    if schema.task == REGRESSION or not pd.api.types.is_float_dtype(column):
        return column
    whole = column.dropna()
    return column.astype("Int64").astype(object) if bool(np.all(np.mod(whole.to_numpy(), 1) == 0)) else column


def _kind(column: pd.Series, forced_categorical: bool) -> str:
    """The kind of a column that `dataset.typed_frame` typed: float64 is a number, True/False text is BOOLEAN."""
    if forced_categorical:
        return CATEGORICAL
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return NUMERIC
    kind = values.infer_kind(column.to_numpy(dtype=object))
    return CATEGORICAL if kind == NUMERIC else kind  # typed as text already: a Parquet text column of digits stays text


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
    if numeric and not np.all(np.isfinite(target.to_numpy(dtype="float64"))):
        raise UserError(
            f"the target column {config.target!r} holds an infinite value (inf): give every row a finite number, or leave it empty"
        )
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
    found = sorted(target.unique().tolist(), key=lambda v: (str(type(v)), v))
    found = [str(v) if isinstance(v, (bool, np.bool_)) else v for v in found]
    if len(found) < 2:
        shown = repr(found[0]) if found else "no value"
        raise UserError(
            f"the target column {name!r} has {shown} in every row with a value: a classifier needs at least two classes. "
            "Check that this is the column to predict and that the data is not filtered to one class."
        )
    if task == BINARY and len(found) != 2:
        raise UserError(f"task is binary but the target column {name!r} has {len(found)} classes ({found[:5]}...); use task: multiclass")
    return found


def _require_columns(names: list[str], columns: list[str], key: str) -> None:
    for name in names:
        if name not in columns:
            hint = difflib.get_close_matches(name, columns, n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            raise UserError(f"{key}: column {name!r} is not in the data.{suggestion} The columns are: {', '.join(map(str, columns))}.")
