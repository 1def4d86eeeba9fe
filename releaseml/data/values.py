"""The one rule that types a value, wherever it comes from.

A cell read from a training file, from a small or a large CSV body, from JSON or JSON Lines, or
by a data check is typed here and nowhere else, so the model sees at serving exactly what it saw
at training:

- missing: the text, with surrounding white space removed, is one of MISSING_MARKERS in any
  letter case (`NA`, `n/a`, `NULL`, `nan ` ...), or JSON null;
- a number: what Python's `float()` reads (`3`, ` 3.5 `, `1e5`, `-inf`, `1_000`, `١٢`); a
  JSON true/false is never a number;
- a true/false value, in a column whose every value is one: `true`, `FALSE`, `True` ... are
  the categories `True` and `False` (JSON true/false too);
- otherwise text, with surrounding white space removed (a JSON number in a text column is
  written as JSON writes it: 1 is "1", 1.5 is "1.5");
- never a byte-order mark (U+FEFF) inside a value: one may open a body or a file, and one anywhere
  else is what joining two such files leaves behind, refused rather than read as another category.

A column's kind is inferred once, at training, from all its values (`infer_kind`), and saved in the
schema. Columns of many rows are typed by `column` through the distinct values (text) or numpy's
float cast, which is Python's `float()` itself; `tests/test_values.py` checks on generated values
that they agree with the one-value functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from releaseml.common.errors import BadValue

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BOOLEAN = "boolean"  # categorical to CatBoost, its values spelled True / False whatever the input
CATEGORY_KINDS = (CATEGORICAL, BOOLEAN)
# CatBoost refuses NaN in categorical features; a missing category is this text.
MISSING_CATEGORY = ""
# pandas' default missing markers (what training read before this rule), compared in lower case.
MISSING_MARKERS = frozenset(
    ["", "#n/a", "#n/a n/a", "#na", "-1.#ind", "-1.#qnan", "-nan", "1.#ind", "1.#qnan", "<na>", "n/a", "na", "null", "nan", "none"]
)
LONGEST_MARKER = max(map(len, MISSING_MARKERS))
TRUE_FALSE = {"true": "True", "false": "False"}
BYTE_ORDER_MARK = "\ufeff"
# A value up to this long is stripped and looked up at once; a longer one is a marker or true/false only
# if white space pads it, and only then is it stripped (a long word or number costs no copy).
_LONGEST_WORD = max(LONGEST_MARKER, *map(len, TRUE_FALSE))
_QUICK_LENGTH = _LONGEST_WORD + 8


def _long_word(value: str) -> str | None:
    """A long value in lower case without the white space around it, if that could be a marker or true/false; else None."""
    if not (value[0].isspace() or value[-1].isspace()):
        return None
    value = value.strip()
    return value.lower() if len(value) <= _LONGEST_WORD else None


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    if isinstance(value, str):
        word = value.strip().lower() if len(value) <= _QUICK_LENGTH else _long_word(value)
        return word in MISSING_MARKERS
    return False


def number(value: Any) -> float | None:
    """The value as a float, NaN when missing, None when it is not a number."""
    if type(value) is str:  # noqa: E721 (the common case first; float() reads 'nan' and '-nan' as NaN, like the markers)
        try:
            return float(value)
        except (ValueError, OverflowError):
            return float("nan") if is_missing(value) else None
    if is_missing(value):
        return float("nan")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        try:
            return float(value)
        except (ValueError, OverflowError):
            return None
    return None


def true_false(value: Any) -> str | None:
    """'True' or 'False' for a true/false value in any spelling, else None."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return TRUE_FALSE.get(value.strip().lower() if len(value) <= _QUICK_LENGTH else _long_word(value))
    return None


def text(value: Any) -> str | None:
    """The value as category text (MISSING_CATEGORY when missing), None for a list, an object or a byte-order mark inside."""
    if is_missing(value):
        return MISSING_CATEGORY
    if isinstance(value, str):
        return value.strip() if BYTE_ORDER_MARK not in value else None
    if isinstance(value, bool):
        return "true" if value else "false"  # as JSON spells it, like the same value in a CSV body
    if isinstance(value, (int, float)):
        return repr(value)
    return None


def typed(value: Any, kind: str, name: str, row: int) -> Any:
    """One value typed for a feature of this kind; BadValue names the row and column."""
    if kind == NUMERIC:
        result = number(value)
    elif kind == BOOLEAN:
        result = true_false(value) if not is_missing(value) else MISSING_CATEGORY
        result = result if result is not None else text(value)
    else:
        result = text(value)
    if result is None:
        raise BadValue(f"row {row}, column {name!r}: {_refusal(value, kind)}", row=row, column=name)
    return result


def _refusal(value: Any, kind: str) -> str:
    """Why a value cannot be typed, and what to send instead."""
    if isinstance(value, str) and BYTE_ORDER_MARK in value:
        return (
            f"{_shown(value)} holds a byte-order mark (U+FEFF); only one is allowed, at the very start of a body or file "
            "(were two files joined?)"
        )
    wanted = "a number" if kind == NUMERIC else "text or a number"
    return f"{_shown(value)} is not {wanted} (leave it empty or null if it is missing)"


def column(values: Any, kind: str, name: str, first_row: int = 1, categories: bool = False) -> np.ndarray | pd.Categorical:
    """Many values of one feature typed as `typed` types each: float64 numbers or object text; with
    `categories`, the text as a pandas Categorical of it (each text once: what CatBoost reads fastest)."""
    if kind == NUMERIC and isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values  # typed already (the C parser's number columns, or a training frame)
    values = np.asarray(values, dtype=object)
    if kind == NUMERIC:
        return _numbers(values, name, first_row)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):  # JSON: True == 1 to a hash
        text = np.array([typed(value, kind, name, first_row + i) for i, value in enumerate(values)], dtype=object)
        return coded(*_factorize(text), kind, name, first_row, categories) if categories else text
    return coded(*_factorize(values), kind, name, first_row, categories)


def coded(
    distinct: np.ndarray, codes: np.ndarray, kind: str, name: str, first_row: int = 1, categories: bool = False
) -> np.ndarray | pd.Categorical:
    """Values given as their distinct texts and a code per row (-1: missing) typed as `column` types them:
    each distinct text once. `column` types text so; a training file's text columns come so (Categoricals).
    With `categories` (text kinds), a Categorical of the typed text."""
    mapped = np.empty(len(distinct) + 1, dtype=np.float64 if kind == NUMERIC else object)
    refused = []
    for position, value in enumerate(distinct):
        try:
            mapped[position] = typed(value, kind, name, first_row)
        except BadValue:
            refused.append(position)
    if refused:  # the first row holding a refused value is the one named, as typing row by row would
        row = int(np.argmax(np.isin(codes, refused)))
        typed(distinct[codes[row]], kind, name, first_row + row)
    mapped[-1] = float("nan") if kind == NUMERIC else MISSING_CATEGORY  # code -1: a missing value (None or NaN)
    if categories and kind != NUMERIC:  # distinct texts may type alike (" a" and "a"): each typed text once
        typed_codes, texts = pd.factorize(mapped if (codes < 0).any() else mapped[:-1])  # MISSING_CATEGORY only if used
        return pd.Categorical.from_codes(typed_codes[codes], dtype=pd.CategoricalDtype(pd.Index(texts, dtype=object)))
    return mapped[codes]


def _numbers(values: np.ndarray, name: str, first_row: int) -> np.ndarray:
    if pd.api.types.infer_dtype(values, skipna=True) in _NO_TRUE_FALSE:
        try:
            return values.astype(np.float64)  # numpy calls float() on each value: the same rule
        except (ValueError, TypeError, OverflowError):
            pass
    out = np.empty(len(values), dtype=np.float64)
    for position, value in enumerate(values):
        result = number(value)
        if result is None:
            typed(value, NUMERIC, name, first_row + position)  # raises BadValue with the row
        out[position] = result
    return out


# What pandas' infer_dtype says of arrays that hold no True/False (numpy's cast reads those as 1/0).
_NO_TRUE_FALSE = frozenset(["string", "floating", "integer", "mixed-integer-float", "empty"])


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of text (and missing) values, and each value's code (-1 for None/NaN)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(uniques, dtype=object), codes


def columns(named: dict[str, tuple[Any, str]], first_row: int = 1, categories: bool = False) -> dict[str, np.ndarray]:
    """Several columns typed by `column` ({name: (values, kind)}); of their errors, the first row's is raised,
    as typing the rows one by one would find it."""
    out, errors = {}, []
    for name, (items, kind) in named.items():
        try:
            out[name] = column(items, kind, name, first_row, categories)
        except BadValue as exc:
            errors.append(exc)
    if errors:
        raise min(errors, key=lambda exc: exc.row if exc.row is not None else 0)
    return out


def numbers_at_once(values: np.ndarray) -> np.ndarray | None:
    """The column as float64 when every value is a number or empty text, in one numpy cast; else None.

    The quick way for a file's number columns (most of a training file): no per-value Python, no
    table of distinct values. None means "decide value by value" (`infer_kind`, `column`): other
    missing spellings, text, True/False. It agrees with them wherever it answers (tests/test_values.py).
    """
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        return None
    empty = values == ""
    try:
        return (np.where(empty, "nan", values) if empty.any() else values).astype(np.float64)
    except (ValueError, TypeError, OverflowError):
        return None


def infer_kind(values: Any) -> str:
    """NUMERIC when every value present is a number, BOOLEAN when every one is true/false, else CATEGORICAL."""
    uniques, _ = _factorize(np.asarray(values, dtype=object))
    present = [value for value in uniques if not is_missing(value)]
    if all(number(value) is not None for value in present):
        return NUMERIC
    if all(true_false(value) is not None for value in present):
        return BOOLEAN
    return CATEGORICAL


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
