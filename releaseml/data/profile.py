"""The training profile: what each feature looked like in training, to compare new data with.

Written at training beside schema.json (`profile.json`, part of the bundle) and read by whatever
checks data; never by the server's hot path. Per feature: the share of missing values; for numbers,
quantile bin edges and the share of rows per bin; for categories, the share of each frequent value
and of the rest, and the values seen (up to SEEN_LIMIT). A few KB per feature at most.

Drift is the population stability index (PSI) over those bins: sum of (new - old) * ln(new / old)
over the bins' shares. The usual reading: below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 large.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd

from releaseml.common import threads
from releaseml.common.errors import UserError
from releaseml.common.layout import PROFILE_FILE
from releaseml.data import values
from releaseml.data.schema import Schema

BINS = 10  # quantile bins per number column
FREQUENT = 20  # categories given their own bin; the rest share one
SEEN_LIMIT = 200  # categories remembered to tell new ones from known ones
OTHER = "(other)"
SHARE_FLOOR = 1e-4  # an empty bin counts as this share, so PSI stays finite
STABLE, MODERATE = 0.1, 0.25  # PSI below STABLE: stable; up to MODERATE: moderate; above: large


def build(features: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """The profile of typed feature rows (`schema.model_frame`'s output, its categories maybe as
    Categoricals of their text, as training gives them to CatBoost): the training data's."""
    columns = [(features[name], schema.kinds[name]) for name in schema.features]
    return {"rows": len(features), "features": dict(zip(schema.features, threads.each(lambda column: _feature(*column), columns)))}


def _feature(column: pd.Series, kind: str) -> dict[str, Any]:
    if kind == values.NUMERIC:
        numbers = column.to_numpy(dtype=float)
        present = numbers[~np.isnan(numbers)]
        edges = np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1])) if len(present) else np.array([])
        return {
            "kind": kind,
            "missing": _share(len(numbers) - len(present), len(numbers)),
            "edges": edges.tolist(),
            "shares": bin_shares(present, edges).tolist(),
        }
    counts, missing = _category_counts(column)
    total = int(counts.sum())
    frequent = counts.head(FREQUENT)
    return {
        "kind": kind,
        "missing": _share(missing, len(column)),
        "categories": {str(value): _share(int(count), total) for value, count in frequent.items()},
        "other": _share(total - int(frequent.sum()), total),
        "seen": [str(value) for value in counts.index[:SEEN_LIMIT]],
        "seen_all": len(counts) <= SEEN_LIMIT,
    }


def _category_counts(column: pd.Series) -> tuple[pd.Series, int]:
    """The rows of each present category as text, most frequent first (ties in the order the values first
    come, as `value_counts` orders them), and the rows missing (MISSING_CATEGORY).

    A Categorical of text is counted by its codes: writing a million cells as text to count them took
    ten times as long (tests/test_profile.py checks both ways agree)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, texts = column.cat.codes.to_numpy(), np.asarray(column.cat.categories, dtype=object)
        if not (codes < 0).any() and all(type(text) is str for text in texts):
            rows = np.bincount(codes, minlength=len(texts))
            order = pd.unique(codes)  # each category once, in the order of its first row
            present = order[texts[order] != values.MISSING_CATEGORY]
            counts = pd.Series(rows[present], index=pd.Index(texts[present], dtype=object), name="count")
            return counts.sort_values(ascending=False, kind="stable"), int(rows[texts == values.MISSING_CATEGORY].sum())
    text = column.astype(str)
    missing = text == values.MISSING_CATEGORY
    return text[~missing].value_counts(), int(missing.sum())


def bin_shares(numbers: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of the (non-missing) numbers in each bin; bin i holds edges[i-1] < x <= edges[i]."""
    return _bin_counts(numbers, edges) / max(len(numbers), 1)


def _bin_counts(numbers: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The numbers in each bin. With finite edges (sorted, as the profile keeps them), the numbers at most each
    edge, counted edge by edge: a third of the time of placing each number by a binary search."""
    if len(edges) and np.isfinite(edges).all():
        at_most = [np.count_nonzero(numbers <= edge) for edge in edges]
        return np.diff([0, *at_most, len(numbers)])
    return np.bincount(np.searchsorted(edges, numbers, side="left"), minlength=len(edges) + 1)


def category_shares(text: pd.Series, profile: dict[str, Any]) -> np.ndarray:
    """Share of the (non-missing) values in each of the profile's category bins, then the rest."""
    counts = text.value_counts()
    total = max(int(counts.sum()), 1)
    known = [int(counts.get(value, 0)) for value in profile["categories"]]
    return np.array([*known, total - sum(known)]) / total


def training_shares(profile: dict[str, Any]) -> np.ndarray:
    if profile["kind"] == values.NUMERIC:
        return np.array(profile["shares"])
    return np.array([*profile["categories"].values(), profile["other"]])


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of `actual` shares against `expected` ones (same bins)."""
    e, a = np.maximum(expected, SHARE_FLOOR), np.maximum(actual, SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def reading(index: float) -> str:
    return "stable" if index < STABLE else "moderate" if index <= MODERATE else "large"


def save(model_dir: Path, profile: dict[str, Any]) -> None:
    (model_dir / PROFILE_FILE).write_text(json.dumps(profile, separators=(",", ":")) + "\n", encoding="utf-8")


def load(model_dir: Path) -> Optional[dict[str, Any]]:
    """The profile, or None for a model trained before profiles were written."""
    path = model_dir / PROFILE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{path} is damaged ({exc}); train the model again to write it anew") from None


def _share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0
