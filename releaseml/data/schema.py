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
# Past 2^53 not every whole number is a float of its own: as class labels, two codes could become one.
EXACT_INTEGERS = 2**53
# CatBoost keeps the target as 32-bit floats: past their largest it sees inf ("Too few sampling units").
LARGEST_TARGET = float(np.finfo(np.float32).max)
# A target of numbers but for at most this share of its values (or this many) is numbers with mistakes
# in it, not classes: one stray `lots` once made a 155-class model. `task:` says otherwise when meant.
STRAY_SHARE = 0.05
STRAY_COUNT = 3
STRAY_SHOWN = 5  # rows named in the message


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
    if target.empty:
        raise UserError(
            f"the target column {config.target!r} has no values: every one of its {len(frame)} rows is empty or a missing marker "
            f"(NA, N/A, null, None, NaN). Check that {config.target!r} is the column to predict (`target:`) and that the export "
            "filled it in; if its values are spelt like those markers, write them otherwise."
        )
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


def model_frame(frame: pd.DataFrame, schema: Schema, first_row: int = 1, categories: bool = False) -> pd.DataFrame:
    """The feature columns in schema order, typed by `values` for CatBoost (numbers as floats, categories as text).

    Text stays in object columns: pandas 3 would otherwise copy it into its own string type, which
    CatBoost then reads back value by value (about 0.1 ms per 1,000 values each way). With
    `categories`, each category column is a pandas Categorical of its text instead: CatBoost reads
    those fastest of all, and training trains on them (`training/pools.py`).
    """
    out = values.columns({name: (frame[name].to_numpy(), schema.kinds[name]) for name in schema.features}, first_row, categories)
    columns = {
        name: pd.Series(array, index=frame.index, dtype=object, copy=False) if array.dtype == object else array
        for name, array in out.items()
    }
    return pd.DataFrame(columns, index=frame.index, copy=False)


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
    cells = column.to_numpy(dtype=object)
    # Only a column of true/false alone is BOOLEAN: a first row that is neither missing nor true/false settles it
    # without a pass over every row (six text columns of a million rows: 0.15 s; tests/test_values.py).
    for value in cells[:1000]:
        if not values.is_missing(value) and values.true_false(value) is None:
            return CATEGORICAL
    kind = values.infer_kind(cells)
    return CATEGORICAL if kind == NUMERIC else kind  # typed as text already: a Parquet text column of digits stays text


def _task(target: pd.Series, config: Config) -> str:
    """The task `task:` names or the target's values imply, once the target is one CatBoost can train on."""
    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return _text_task(target, config)
    if not np.all(np.isfinite(target.to_numpy(dtype="float64"))):
        raise UserError(
            f"the target column {config.target!r} holds an infinite value (inf): give every row a finite number, or leave it empty"
        )
    task = config.task if config.task != "auto" else _numeric_task(target)
    _check_magnitude(target, task, config.target)
    return task


def _text_task(target: pd.Series, config: Config) -> str:
    """A target of text: classes, unless it is numbers but for a few values (a mistake, named by row)."""
    not_numbers = _not_numbers(target)
    if config.task == REGRESSION:
        row, example = (not_numbers.index[0] + 1, not_numbers.iloc[0]) if len(not_numbers) else (target.index[0] + 1, target.iloc[0])
        raise UserError(
            f"task is regression but the target column {config.target!r} is not numeric (e.g. {example!r} in row {row}); "
            "use task: binary or multiclass, or another target"
        )
    if config.task != "auto":
        return config.task
    if config.target not in config.categorical and _few(len(not_numbers), len(target)):
        shown = ", ".join(f"row {index + 1} {value!r}" for index, value in not_numbers.iloc[:STRAY_SHOWN].items())
        more = f" and {len(not_numbers) - STRAY_SHOWN} more" if len(not_numbers) > STRAY_SHOWN else ""
        raise UserError(
            f"the target column {config.target!r} holds numbers but for {len(not_numbers)} value(s) that are not: {shown}{more}. "
            f"Taken as it is, every distinct value would be a class ({target.nunique()} classes). Correct those values or leave them "
            "empty (rows with no target value are left out); if the values are classes after all, say so with task: multiclass "
            "(or task: binary)."
        )
    return BINARY if target.nunique() == 2 else MULTICLASS


def _not_numbers(target: pd.Series) -> pd.Series:
    """The values of a text target that are not numbers by the value rule, with their row positions."""
    codes, distinct = pd.factorize(target)
    number = np.array([values.number(value) is not None for value in distinct], dtype=bool)
    return target[~number[codes]]


def _few(strays: int, rows: int) -> bool:
    """Whether `strays` of `rows` values are few enough to be mistakes in a column of numbers."""
    return 0 < strays <= max(STRAY_COUNT, STRAY_SHARE * rows) and strays < rows - strays


def _numeric_task(target: pd.Series) -> str:
    """task: auto for numbers: two values are binary, a few whole numbers classes, the rest regression."""
    distinct = target.nunique()
    whole = bool(np.all(np.mod(target.to_numpy(dtype="float64"), 1) == 0))
    if distinct == 2:
        return BINARY
    if whole and distinct <= MAX_CLASSES_FOR_NUMERIC_TARGET:
        return MULTICLASS
    return REGRESSION


def _check_magnitude(target: pd.Series, task: str, name: str) -> None:
    """Numbers CatBoost cannot take as they are: past a 32-bit float (regression), or whole past 2^53 (classes)."""
    numbers = target.to_numpy(dtype="float64")
    position = int(np.argmax(np.abs(numbers)))
    largest, row = float(numbers[position]), target.index[position] + 1
    if task == REGRESSION and abs(largest) > LARGEST_TARGET:
        raise UserError(
            f"the target column {name!r} holds values too large to train on: the largest is {largest:g} (row {row}). CatBoost keeps "
            f"the target as 32-bit floats, which end at {LARGEST_TARGET:.2g}, so past that their spread overflows. Rescale the column "
            "(divide it by 1,000 to count in thousands, or by 1,000,000 for millions) or correct the value."
        )
    if task != REGRESSION and abs(largest) > EXACT_INTEGERS and bool(np.all(np.mod(numbers, 1) == 0)):
        raise UserError(
            f"the target column {name!r} holds whole numbers beyond 2^53 ({EXACT_INTEGERS}) as classes: {largest!r} in row {row}. "
            "Past 2^53 not every whole number has a float of its own, so two classes could become one. If they are codes, list the "
            "target in `categorical:` to read them exactly, as text; if they are amounts, set task: regression."
        )


def _classes(target: pd.Series, task: str, name: str) -> Optional[list[Any]]:
    if task == REGRESSION:
        return None
    found = sorted(target.unique().tolist(), key=lambda v: (str(type(v)), v))
    found = [str(v) if isinstance(v, (bool, np.bool_)) else v for v in found]
    if len(found) < 2:
        raise UserError(
            f"the target column {name!r} has {found[0]!r} in every row with a value: a classifier needs at least two classes. "
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
