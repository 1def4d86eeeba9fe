"""The saved model: CatBoost's native model.cbm plus schema.json (never a pickle).

schema.json says what the model expects and what it is: feature names and
kinds, class labels, target, task, metrics, parameters and versions.
"""

from __future__ import annotations

import functools
import json
import platform
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ContextManager, Optional, Protocol

import catboost
import numpy as np
import pandas as pd
from catboost import CatBoost, CatBoostError, FeaturesData, Pool

import releaseml
from releaseml.common.errors import UserError
from releaseml.common.layout import MODEL_FILE, SCHEMA_FILE
from releaseml.data.schema import CATEGORY_KINDS, REGRESSION, Schema
from releaseml.training import decision, intervals

FEW_ROWS = 64


class ThreadBudget(Protocol):
    def threads(self) -> ContextManager[int]:
        """The CatBoost threads one prediction may use, held while it runs."""


@dataclass
class Explanation:
    """Why, per row: the K features that moved the score most, by CatBoost's SHAP values.

    The score is CatBoost's raw score for the predicted class (regression: for the value; binary:
    the log-odds of the predicted class). `baseline` plus the contributions of all features is that
    score exactly; `names` and `contributions` hold the K largest by magnitude, largest first.
    """

    baseline: np.ndarray  # one per row
    names: list[list[str]]  # rows x K feature names
    contributions: np.ndarray  # rows x K


@dataclass
class Prediction:
    """One output per input row: a value (regression) or class probabilities (classification).

    A binary model with a decision labels a row positive (classes[1]) when its probability reaches
    `threshold`; without one, the likeliest class. A regression model with intervals gives each
    value its bounds. Both are the model's, so every path that encodes a Prediction agrees.
    """

    values: np.ndarray | None  # regression: one number per row
    probabilities: np.ndarray | None  # classification: rows x classes, in schema.classes order
    explanation: Explanation | None = None  # when asked for (explain=K)
    threshold: float | None = None  # binary: P(classes[1]) at which a row is labelled classes[1]
    intervals: np.ndarray | None = None  # regression with intervals: rows x 2 (lower, upper)

    @property
    def class_indices(self) -> np.ndarray:
        if self.threshold is not None and self.probabilities.shape[1] == 2:
            return decision.labels_positive(self.probabilities[:, 1], self.threshold).astype(np.intp)
        return self.probabilities.argmax(axis=1)

    def rows(self, start: int, end: int) -> "Prediction":
        """The predictions of rows start..end, everything about them kept (requests predicted together part here)."""

        def part(array):
            return None if array is None else np.ascontiguousarray(array[start:end])

        return Prediction(part(self.values), part(self.probabilities), None, self.threshold, part(self.intervals))

    def labels(self, classes: list[Any]) -> list[Any]:
        return [classes[i] for i in self.class_indices]


@dataclass
class Bundle:
    model: CatBoost
    schema: Schema
    info: dict[str, Any]
    # CatBoost threads for a prediction of many rows: every core for one caller (score, the Python
    # API); a server's workers share the cores through a budget (serving/core_budget.py).
    cores: Optional[ThreadBudget] = None

    @functools.cached_property
    def threshold(self) -> float | None:
        """The decision's threshold (schema.json `threshold`), when training chose one."""
        value = self.info.get("threshold")
        return float(value) if value is not None else None

    @functools.cached_property
    def interval_half_width(self) -> float | None:
        interval = self.info.get("interval")
        return float(interval["half_width"]) if interval else None

    def predict(self, features: pd.DataFrame | list[list[Any]]) -> Prediction:
        """Predict for rows typed like `schema.model_frame` does (a frame, or lists for a few rows).

        A few rows go to CatBoost on one thread: handing them to a pool of threads costs more than
        the prediction itself; more rows get the threads `cores` allows (see there). Lists become a
        Pool here, with the categorical positions known in advance: CatBoost's own conversion asks
        the model for them on every call (~20 us of ~150). A frame becomes a Pool through
        `_features_data`.
        """
        with self._threads(len(features)) as threads:
            if isinstance(features, list):
                features = Pool(features, cat_features=self._categorical_positions, thread_count=threads)
            else:
                features = Pool(self._features_data(features), thread_count=threads)
            if self.schema.task == REGRESSION:
                values = self.model.predict(features, prediction_type="RawFormulaVal", thread_count=threads)
                half_width = self.interval_half_width
                return Prediction(values, None, intervals=None if half_width is None else intervals.bounds(values, half_width))
            probabilities = self.model.predict(features, prediction_type="Probability", thread_count=threads)
            return Prediction(values=None, probabilities=probabilities, threshold=self.threshold)

    def _threads(self, rows: int) -> ContextManager[int]:
        if rows <= FEW_ROWS:
            return nullcontext(1)
        return self.cores.threads() if self.cores is not None else nullcontext(-1)

    def _features_data(self, frame: pd.DataFrame) -> FeaturesData:
        """A typed frame as CatBoost's FeaturesData: its numbers as one float32 matrix, its categories
        as one matrix of text, matched to the model's features by name.

        CatBoost keeps features as float32, so the values it sees are the same as from the frame
        itself (tests/test_bundle_features.py checks predictions agree bit for bit); what differs is
        the cost: CatBoost converts a frame column by column, checking each value's type, which took
        2-3x the time of the prediction on a 10,000-row body of the demo model.
        """
        numbers, categories = self._feature_names_by_kind
        return FeaturesData(
            num_feature_data=_matrix(frame, numbers, np.float32),
            cat_feature_data=_matrix(frame, categories, object),
            num_feature_names=numbers or None,
            cat_feature_names=categories or None,
        )

    @functools.cached_property
    def _feature_names_by_kind(self) -> tuple[list[str], list[str]]:
        kinds = self.schema.kinds
        numbers = [name for name in self.schema.features if kinds[name] not in CATEGORY_KINDS]
        return numbers, [name for name in self.schema.features if kinds[name] in CATEGORY_KINDS]

    @functools.cached_property
    def _categorical_positions(self) -> list[int]:
        return [position for position, name in enumerate(self.schema.features) if self.schema.kinds[name] in CATEGORY_KINDS]

    def predict_and_explain(self, features: pd.DataFrame | list[list[Any]], count: int) -> Prediction:
        """`predict`, with the `count` largest SHAP contributions per row (all features at most)."""
        prediction = self.predict(features)
        contributions, baseline = self.contributions(features, prediction)
        count = min(count, contributions.shape[1])
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :count]
        names = np.asarray(self.schema.features, dtype=object)[order].tolist()
        prediction.explanation = Explanation(baseline, names, np.take_along_axis(contributions, order, axis=1))
        return prediction

    def contributions(self, features: pd.DataFrame | list[list[Any]], prediction: Prediction) -> tuple[np.ndarray, np.ndarray]:
        """Each feature's SHAP contribution to the predicted class's raw score (rows x features), and the baseline per row."""
        shap = self.shap_values(features)  # rows x features+1 (binary, regression) or rows x classes x features+1
        if shap.ndim == 3:  # multiclass: the predicted class's
            shap = shap[np.arange(len(shap)), prediction.class_indices]
        elif prediction.probabilities is not None:  # binary: SHAP explains the second class's log-odds
            shap = np.where((prediction.class_indices == 1)[:, None], shap, -shap)
        return shap[:, :-1], shap[:, -1]

    def shap_values(self, features: pd.DataFrame | list[list[Any]]) -> np.ndarray:
        """CatBoost's own SHAP values (`ShapValues`): per row, each feature's contribution and, last, the baseline."""
        pool = Pool(features, cat_features=self.schema.categorical, feature_names=self.schema.features)
        with self._threads(len(features)) as threads:
            return self.model.get_feature_importance(pool, type="ShapValues", thread_count=threads, verbose=False)


def _matrix(frame: pd.DataFrame, names: list[str], dtype) -> np.ndarray | None:
    """The named columns as one C-ordered matrix of `dtype` (None when there are none)."""
    if not names:
        return None
    matrix = np.empty((len(frame), len(names)), dtype=dtype)
    with np.errstate(over="ignore"):  # past float32's range is infinite, as CatBoost casts it
        for position, name in enumerate(names):
            matrix[:, position] = frame[name].to_numpy(dtype=dtype)
    return matrix


def answer_columns(schema: Schema, reasons: int = 0, with_intervals: bool = False) -> list[str]:
    """The names of an answer's columns, in order: what `score` writes, the API returns, and a CSV
    answer's header row says (`Accept: text/csv; header=present`)."""
    names = ["prediction"]
    if schema.task != REGRESSION:
        names += [f"probability_{label}" for label in schema.classes]
    elif with_intervals:
        names += ["lower", "upper"]
    for i in range(1, reasons + 1):
        names += [f"reason_{i}", f"contribution_{i}"]
    return names


def save(model_dir: Path, model: CatBoost, schema: Schema, details: dict[str, Any]) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save_model(str(model_dir / MODEL_FILE), format="cbm")
    info = {
        **schema.to_dict(),
        **details,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"releaseml": releaseml.__version__, "catboost": catboost.__version__, "python": platform.python_version()},
    }
    (model_dir / SCHEMA_FILE).write_text(json.dumps(info, indent=2, default=_json_default) + "\n", encoding="utf-8")


def load(model_dir: Path) -> Bundle:
    model_path, schema_path = model_dir / MODEL_FILE, model_dir / SCHEMA_FILE
    for path in (model_path, schema_path):
        if not path.is_file():
            raise UserError(f"no trained model at {model_dir}: {path.name} is missing. Train first (releaseml train-local).")
    retrain = "Train the model again (releaseml train-local, or deploy) to replace it."
    try:
        info = json.loads(schema_path.read_text(encoding="utf-8"))
        schema = Schema.from_dict(info)
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise UserError(f"{schema_path} is damaged or not releaseml's ({type(exc).__name__}: {exc}). {retrain}") from None
    model = CatBoost()
    try:
        model.load_model(str(model_path), format="cbm")
    except CatBoostError as exc:
        raise UserError(f"{model_path} is damaged or not a CatBoost model ({str(exc).strip().splitlines()[-1]}). {retrain}") from None
    return Bundle(model=model, schema=schema, info=info)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
