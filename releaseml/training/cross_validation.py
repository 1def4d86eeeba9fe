"""Cross-validation (`folds: K`): every row validated once, by a model that did not train on it.

On small data one random hold-out is a noisy judge; K folds give each metric's mean and its spread.
releaseml makes the folds (seeded; stratified by class, so each fold has every class's share) and
CatBoost's own `cv()` trains the K models on them, so the means and spreads are CatBoost's. The
final model then trains on all rows for the number of trees at which the folds' mean validation
loss was lowest. Two things are fixed so that this number means the same for the final model:
the learning rate (CatBoost picks one from the data's size and whether it watches held-out rows,
so it is taken once from a fold and then used everywhere) and the data's quantization (cv()
quantizes all rows once; so does the final fit).

metrics.json keeps its shape: `validation` holds the folds' means, `validation_std` their standard
deviations, `train` the final model on all rows. The report's figures use the out-of-fold
predictions: each row as predicted by the fold model that did not see it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoost, CatBoostError, Pool, cv

from releaseml.common.errors import UserError
from releaseml.config.tasks import TASK_METRICS
from releaseml.data.schema import REGRESSION, Schema, labels
from releaseml.training import fitting
from releaseml.training.evaluation import Scored

# Settings cv() takes as its own arguments, or refuses (class_names: it matches labels itself).
_NOT_FOR_CV = ("early_stopping_rounds", "verbose", "class_names", "use_best_model")


@dataclass
class CrossValidated(fitting.TrainingResult):
    history: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # mean loss per tree, training and validation folds
    best_iteration: int = 0
    scored: Scored | None = None  # out-of-fold predictions of every row


def make_folds(frame: pd.DataFrame, schema: Schema, count: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training rows, validation rows) of each fold; rows dealt in turn, class by class, after a seeded shuffle."""
    rows = len(frame)
    if count > rows:
        raise UserError(
            f"folds: {count} folds need at least {count} rows with a target, and the data has {rows}; use fewer folds (5 is usual)"
        )
    groups = fitting.class_groups(labels(frame, schema), schema)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(rows, dtype=int)
    dealt = 0
    for group in groups:  # each class continues where the last stopped, so fold sizes differ by one at most
        shuffled = rng.permutation(group)
        fold_of[shuffled] = (np.arange(len(shuffled)) + dealt) % count
        dealt += len(shuffled)
    return [(np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)) for fold in range(count)]


def run(frame: pd.DataFrame, schema: Schema, params: dict[str, Any], count: int, seed: int) -> CrossValidated:
    """Cross-validate, then train the final model on every row."""
    folds = make_folds(frame, schema, count, seed)
    pool = fitting.pool(frame, schema)
    specs = TASK_METRICS[schema.task]
    with tempfile.TemporaryDirectory(prefix="catboost-") as scratch:
        learning_rate = float(params.get("learning_rate") or _learning_rate(pool, params, folds[0], scratch))
        settings = {
            # cv() refuses thread_count -1 ("every core"), which is its default anyway
            **{key: value for key, value in params.items() if key not in _NOT_FOR_CV and not (key == "thread_count" and value == -1)},
            "learning_rate": learning_rate,
            "custom_metric": [spec for spec in specs.values() if spec != params["loss_function"]],
            "train_dir": scratch,
        }
        print(
            f"Cross-validation: {count} folds of about {len(frame) // count} rows; CatBoost trains {count} models, then the final one.",
            flush=True,
        )
        try:
            results, models = cv(
                pool,
                settings,
                folds=folds,
                early_stopping_rounds=params.get("early_stopping_rounds"),
                as_pandas=True,
                verbose=params.get("verbose", 100),
                return_models=True,
            )
        except CatBoostError as exc:
            raise UserError(
                f"CatBoost could not cross-validate with these settings: {exc}. Check `folds:` and the `catboost:` section."
            ) from None
        loss = _column(results, "test", str(params["loss_function"]))
        best = int(np.argmin(results[loss].to_numpy()))
        final_params = {
            **{k: v for k, v in params.items() if k != "early_stopping_rounds"},
            "learning_rate": learning_rate,
            "iterations": best + 1,
        }
        print(
            f"Cross-validation chose {best + 1} trees (lowest mean validation loss); training the final model on all {len(frame)} rows.",
            flush=True,
        )
        model = CatBoost({**final_params, "train_dir": scratch})
        model.fit(pool)
        measured, sampled = fitting.training_sample(pool, int(params.get("random_seed", 0)))
        trained = fitting.evaluate(model, measured, schema.task)
    means = {name: float(results[_column(results, "test", spec, "mean")].iloc[best]) for name, spec in specs.items()}
    spreads = {name: float(results[_column(results, "test", spec, "std")].iloc[best]) for name, spec in specs.items()}
    history = {
        "learn": {params["loss_function"]: results[_column(results, "train", str(params["loss_function"]))].tolist()},
        "validation": {params["loss_function"]: results[loss].tolist()},
    }
    return CrossValidated(
        model=model,
        metrics={"train": trained, "validation": means, "validation_std": spreads},
        params=final_params,
        rows={"train": len(frame), "validation": len(frame)},
        history=history,
        best_iteration=best,
        scored=_out_of_fold(models, folds, pool, frame, schema, best + 1),
        train_measured=sampled,
    )


def _learning_rate(pool: Pool, params: dict[str, Any], fold: tuple[np.ndarray, np.ndarray], scratch: str) -> float:
    """The learning rate CatBoost chooses for one fold with its held-out rows (read after one tree)."""
    quiet = {key: value for key, value in params.items() if key not in ("verbose", "logging_level", "silent", "verbose_eval")}
    probe = CatBoost({**quiet, "train_dir": scratch, "logging_level": "Silent"})
    try:
        probe.fit(pool.slice(fold[0]), eval_set=pool.slice(fold[1]), callbacks=[_StopAtOnce()])
    except CatBoostError as exc:
        raise UserError(f"CatBoost could not train with these settings: {exc}. Check the `catboost:` section of the config.") from None
    return float(probe.learning_rate_)


class _StopAtOnce:
    def after_iteration(self, info) -> bool:
        return False


def _column(results: pd.DataFrame, split: str, spec: str, statistic: str = "mean") -> str:
    """cv()'s column for a metric: `test-Logloss-mean`, `test-TotalF1:average=Weighted-mean`, ..."""
    name = spec.split(":")[0]
    wanted = f"{split}-{spec}-{statistic}"
    if wanted in results.columns:
        return wanted
    return next(c for c in results.columns if c.startswith(f"{split}-{name}") and c.endswith(f"-{statistic}"))


def _out_of_fold(models: list, folds, pool: Pool, frame: pd.DataFrame, schema: Schema, trees: int) -> Scored:
    """Every row predicted by the fold model that did not train on it, with the trees the folds chose
    (a fold that stopped early on its own validation loss, before that count, with all of its trees)."""
    truth = labels(frame, schema).to_numpy()
    if schema.task == REGRESSION:
        predicted = np.empty(len(frame))
        for model, (_, rows) in zip(models, folds):
            predicted[rows] = model.predict(pool.slice(rows), ntree_end=min(trees, model.tree_count_))
        return Scored(truth=truth.astype(float), predicted=predicted)
    classes = list(schema.classes)
    probabilities = np.empty((len(frame), len(classes)))
    for model, (_, rows) in zip(models, folds):
        found = np.asarray(model.predict(pool.slice(rows), prediction_type="Probability", ntree_end=min(trees, model.tree_count_)))
        order = [[str(c) for c in model.classes_].index(str(label)) for label in classes]
        probabilities[rows] = found[:, order]
    predicted = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
    return Scored(truth=truth, predicted=predicted, probabilities=probabilities, classes=classes)
