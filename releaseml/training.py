"""Fit CatBoost on a training frame, hold out a validation split, measure it."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoost, CatBoostError, Pool

from releaseml.config import Config
from releaseml.errors import UserError
from releaseml.metrics import TASK_METRICS
from releaseml.schema import BINARY, MULTICLASS, REGRESSION, Schema, labels, model_frame

LOSS_FUNCTIONS = {REGRESSION: "RMSE", BINARY: "Logloss", MULTICLASS: "MultiClass"}
# Sensible for people who know no ML: enough trees, stop when validation stops improving.
DEFAULT_CATBOOST_PARAMS = {"iterations": 1000, "early_stopping_rounds": 100, "verbose": 100}


@dataclass
class TrainingResult:
    model: CatBoost
    metrics: dict[str, dict[str, float]]
    params: dict[str, Any]
    rows: dict[str, int]


def split(labels: pd.Series, schema: Schema, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions for training and validation; classes keep their shares (stratified)."""
    rng = np.random.default_rng(seed)
    groups = [np.arange(len(labels))] if schema.task == REGRESSION else [np.flatnonzero(labels.to_numpy() == c) for c in schema.classes]
    train, valid = [], []
    for group in groups:
        shuffled = rng.permutation(group)
        n_valid = int(round(len(shuffled) * fraction)) if len(shuffled) > 1 else 0
        valid.append(shuffled[:n_valid])
        train.append(shuffled[n_valid:])
    train_rows, valid_rows = np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))
    if len(valid_rows) == 0 or len(train_rows) == 0:
        raise UserError(f"{len(labels)} rows are too few to hold out a validation split; add rows or give validation data")
    return train_rows, valid_rows


def catboost_params(config: Config, schema: Schema) -> dict[str, Any]:
    """Our defaults, then the user's CatBoost parameters, then what releaseml must control."""
    params = {**DEFAULT_CATBOOST_PARAMS, "loss_function": LOSS_FUNCTIONS[schema.task], **config.catboost}
    params.update(random_seed=config.seed, allow_writing_files=False)
    if schema.task != REGRESSION:
        params["class_names"] = schema.classes
    return params


def drop_unlabelled(frame: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, int]:
    keep = frame[schema.target].notna()
    return frame.loc[keep].reset_index(drop=True), int((~keep).sum())


def fit(train: pd.DataFrame, valid: pd.DataFrame, schema: Schema, params: dict[str, Any]) -> TrainingResult:
    """Fit on `train`, watch `valid` for early stopping, and measure both."""
    pools = {name: _pool(frame, schema) for name, frame in (("train", train), ("validation", valid))}
    # CatBoost's scratch files (eval_metrics writes some even with allow_writing_files off) go to a
    # temporary directory: the working directory of a container may not be writable.
    with tempfile.TemporaryDirectory(prefix="catboost-") as scratch:
        model = CatBoost({**params, "train_dir": scratch})
        try:
            model.fit(pools["train"], eval_set=pools["validation"])
        except CatBoostError as exc:
            raise UserError(f"CatBoost could not train with these settings: {exc}. Check the `catboost:` section of the config.") from None
        metrics = {name: evaluate(model, pool, schema.task) for name, pool in pools.items()}
    return TrainingResult(model=model, metrics=metrics, params=params, rows={"train": len(train), "validation": len(valid)})


def evaluate(model: CatBoost, pool: Pool, task: str) -> dict[str, float]:
    """CatBoost's own value of each of the task's metrics for the final model."""
    specs = TASK_METRICS[task]
    tree_count = model.tree_count_
    values = model.eval_metrics(pool, list(specs.values()), ntree_start=0, eval_period=tree_count)
    return {name: float(values[_result_key(values, spec)][-1]) for name, spec in specs.items()}


def _result_key(values: dict[str, list[float]], spec: str) -> str:
    # eval_metrics names results like "TotalF1:average=Weighted" (as asked) or "AUC:type=Classic".
    if spec in values:
        return spec
    return next(key for key in values if key.split(":")[0] == spec.split(":")[0] and spec.split(":", 1)[-1] in key)


def _pool(frame: pd.DataFrame, schema: Schema) -> Pool:
    return Pool(model_frame(frame, schema), label=labels(frame, schema).to_numpy(), cat_features=schema.categorical)
