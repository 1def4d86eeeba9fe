"""Fit CatBoost on a training frame, hold out a validation split, measure it."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoost, CatBoostError, Pool

from releaseml.common import environment, stage_timer
from releaseml.common.errors import UserError
from releaseml.common.layout import SNAPSHOT_FILE
from releaseml.config.config_file import Config
from releaseml.config.tasks import TASK_METRICS
from releaseml.data.schema import BINARY, MULTICLASS, REGRESSION, Schema
from releaseml.training import evaluation, pools
from releaseml.training.metrics import format_line

LOSS_FUNCTIONS = {REGRESSION: "RMSE", BINARY: "Logloss", MULTICLASS: "MultiClass"}
# Sensible for people who know no ML: enough trees, stop when validation stops improving.
DEFAULT_CATBOOST_PARAMS = {"iterations": 1000, "early_stopping_rounds": 100, "verbose": 100}
# The training rows' metrics are measured on at most this many of them, a seeded random sample above it:
# they are there to hold against the validation rows' (overfitting), which a sample this size does to
# about 0.001, and all 800,000 training rows of a million took two thirds of the metrics' time.
TRAIN_METRIC_ROWS = 200_000


@dataclass
class TrainingResult:
    model: CatBoost
    metrics: dict[str, dict[str, float]]
    params: dict[str, Any]
    rows: dict[str, int]
    scored: evaluation.Scored | None = None  # the validation rows scored by the model, when `fit` was asked to
    train_measured: int | None = None  # the training rows' metrics were measured on this many of them (a sample)


def split(labels: pd.Series, schema: Schema, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions for training and validation; classes keep their shares (stratified)."""
    rng = np.random.default_rng(seed)
    groups = class_groups(labels, schema)
    train, valid = [], []
    for group, n_valid in zip(groups, _validation_counts([len(g) for g in groups], fraction)):
        shuffled = rng.permutation(group)
        valid.append(shuffled[:n_valid])
        train.append(shuffled[n_valid:])
    train_rows, valid_rows = np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))
    total = len(labels)
    if len(valid_rows) == 0 and total * fraction < 0.5 and total >= 4:
        raise UserError(
            f"validation_fraction {fraction:g} of {total} rows holds out no row: use at least {1 / total:.2g} "
            "(the usual is 0.2), or give validation data"
        )
    lacking = [str(c) for c, rows in zip(schema.classes or [], train) if len(rows) == 0] if schema.task != REGRESSION else []
    if (len(train_rows) < 2 or lacking) and fraction > 0.5 and total >= 4:
        also = f" (no training row of class {', '.join(lacking[:5])})" if lacking else ""
        raise UserError(
            f"validation_fraction {fraction:g} leaves {len(train_rows)} of {total} rows to train on{also}: lower it (the usual is 0.2)"
        )
    if len(valid_rows) == 0 or len(train_rows) == 0 or lacking:
        raise UserError(f"{total} rows are too few to hold out a validation split; add rows or give validation data")
    return train_rows, valid_rows


def class_groups(labels: pd.Series, schema: Schema) -> list[np.ndarray]:
    """Row positions of each class (all rows as one group for regression): what stratified splits deal from."""
    if schema.task == REGRESSION:
        return [np.arange(len(labels))]
    truth = labels.to_numpy()
    return [np.flatnonzero(truth == label) for label in schema.classes]


def _validation_counts(sizes: list[int], fraction: float) -> list[int]:
    """Rows to hold out per class: the share rounded per class, and when that holds out none (many
    small classes), the overall share handed to the classes with the largest remainders; every class
    keeps a training row."""
    counts = [int(round(size * fraction)) if size > 1 else 0 for size in sizes]
    wanted = int(round(sum(sizes) * fraction))
    if sum(counts) == 0 and wanted > 0:
        order = sorted(range(len(sizes)), key=lambda i: (-(sizes[i] * fraction % 1), i))
        for i in order:
            if wanted == 0:
                break
            if sizes[i] - counts[i] >= 2:
                counts[i] += 1
                wanted -= 1
    return counts


def catboost_params(config: Config, schema: Schema) -> dict[str, Any]:
    """Our defaults, then the user's CatBoost parameters, then what releaseml must control."""
    params = {**DEFAULT_CATBOOST_PARAMS, "loss_function": LOSS_FUNCTIONS[schema.task], **config.catboost}
    params.update(random_seed=config.seed, allow_writing_files=False)
    if schema.task != REGRESSION:
        params["class_names"] = schema.classes
    _check_params(params, schema)
    return params


# Losses for each kind of task (CatBoost's names, before any `:option`); a loss of the wrong kind
# fails deep inside CatBoost, or worse, trains something else.
CLASSIFICATION_LOSSES = {BINARY: ("Logloss", "CrossEntropy", "MultiClass"), MULTICLASS: ("MultiClass", "MultiClassOneVsAll")}


def _check_params(params: dict[str, Any], schema: Schema) -> None:
    """Refuse settings CatBoost would crash on (thread_count 0 kills the process) or misread."""
    threads = params.get("thread_count", -1)
    if isinstance(threads, bool) or not isinstance(threads, int) or not (threads == -1 or threads >= 1):
        raise UserError(f"catboost.thread_count {threads!r}: use -1 (every core) or a whole number of threads from 1")
    loss = str(params["loss_function"]).split(":", 1)[0]
    all_classification = {name for names in CLASSIFICATION_LOSSES.values() for name in names}
    if schema.task == REGRESSION and loss in all_classification:
        raise UserError(
            f"catboost.loss_function {loss} is a classification loss, but the task is regression: remove it or use RMSE, MAE, ..."
        )
    if schema.task != REGRESSION and loss not in CLASSIFICATION_LOSSES[schema.task]:
        allowed = " or ".join(CLASSIFICATION_LOSSES[schema.task])
        raise UserError(
            f"catboost.loss_function {loss} does not fit the task {schema.task} (the target {schema.target!r} has "
            f"{len(schema.classes or [])} classes): use {allowed}, or `task: regression` if the target is a number to predict"
        )


def drop_unlabelled(frame: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, int]:
    keep = frame[schema.target].notna()
    return frame.loc[keep].reset_index(drop=True), int((~keep).sum())


def fit(
    train: pd.DataFrame | pools.Rows,
    valid: pd.DataFrame | pools.Rows,
    schema: Schema,
    params: dict[str, Any],
    checkpoints: Path | None = None,
    callbacks: tuple = (),
    score: bool = False,
) -> TrainingResult:
    """Fit on `train`, watch `valid` for early stopping, and measure both; with `score`, keep the
    validation rows' predictions too (the report's and the decision's), from the pool already built.
    `train` and `valid` are rows of a typed frame, or such rows typed for CatBoost already (`pools.rows`).

    With a `checkpoints` directory (SageMaker's, for spot jobs), CatBoost writes a snapshot there
    every RELEASEML_CHECKPOINT_SECONDS and, finding one at the start, resumes from it: the model is
    the one an uninterrupted run makes, and the iterations done before are not done again.
    """
    with stage_timer.stage("pools"):
        valid = valid if isinstance(valid, pools.Rows) else pools.rows(valid, schema)
        built = {
            "train": (train if isinstance(train, pools.Rows) else pools.rows(train, schema)).pool(schema),
            "validation": valid.pool(schema),
        }
    rows = {"train": len(train), "validation": len(valid)}
    del train  # when the caller passed a copy of the training rows, it is freed here: the pool holds them now
    # CatBoost's scratch files (eval_metrics writes some even with allow_writing_files off) go to a
    # temporary directory: the working directory of a container may not be writable.
    with tempfile.TemporaryDirectory(prefix="catboost-") as scratch:
        model = CatBoost({**params, "train_dir": scratch, **_snapshots(checkpoints, params)})
        with stage_timer.stage("fit"):
            try:
                model.fit(
                    built["train"], eval_set=built["validation"], callbacks=[_Progress(int(params.get("iterations", 1000))), *callbacks]
                )
            except CatBoostError as exc:
                raise UserError(
                    f"CatBoost could not train with these settings: {exc}. Check the `catboost:` section of the config."
                ) from None
        with stage_timer.stage("metrics"):
            measured, sampled = training_sample(built["train"], int(params.get("random_seed", 0)))
            metrics = {"train": evaluate(model, measured, schema.task), "validation": evaluate(model, built["validation"], schema.task)}
            scored = evaluation.scored(model, built["validation"], valid.labels, schema) if score else None
    return TrainingResult(model=model, metrics=metrics, params=params, rows=rows, scored=scored, train_measured=sampled)


def training_sample(pool: Pool, seed: int) -> tuple[Pool, int | None]:
    """The training rows to measure the training metrics on: all of them, or a seeded random sample of
    TRAIN_METRIC_ROWS (and its size) when there are more."""
    if pool.num_row() <= TRAIN_METRIC_ROWS:
        return pool, None
    rows = np.sort(np.random.default_rng(seed).choice(pool.num_row(), TRAIN_METRIC_ROWS, replace=False))
    return pool.slice(rows), TRAIN_METRIC_ROWS


def snapshot_name(params: dict[str, Any]) -> str:
    """The snapshot's file name for these CatBoost parameters: the same for a restarted job, another for a
    tuning job's other trials, whose checkpoints may share an S3 prefix."""
    import hashlib
    import json

    key = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return SNAPSHOT_FILE.format(key=key)


def _snapshots(checkpoints: Path | None, params: dict[str, Any]) -> dict[str, Any]:
    if checkpoints is None:
        return {}
    snapshot = checkpoints / snapshot_name(params)
    if snapshot.is_file():
        print(f"Resuming from the checkpoint {snapshot} (a restarted job): iterations done before are not done again.", flush=True)
    return {
        "save_snapshot": True,
        "snapshot_file": str(snapshot),
        "snapshot_interval": environment.CHECKPOINT_SECONDS.get(),
        "allow_writing_files": True,  # CatBoost writes snapshots only then; its other files stay in the scratch directory
    }


class ObjectiveLines:
    """CatBoost callback for a trial of a SageMaker tuning job: the objective's metric line ten times
    while training, so the tuning job's early stopping (TrainingJobEarlyStoppingType Auto) can
    compare trials part-way. CatBoost measures only its loss tree by tree: lines come when the
    objective is that loss (logloss, rmse, mae: the default objectives); the final line, from the
    finished model, is printed after training as always and is the one the tuning job keeps."""

    LOSSES = {"logloss": "logloss", "multiclass": "logloss", "rmse": "rmse", "mae": "mae"}  # CatBoost's name -> ours
    LINES = 10

    def __init__(self, objective: str, iterations: int):
        self.split, _, self.name = objective.partition(":")
        self.every = max(1, iterations // self.LINES)

    def after_iteration(self, info) -> bool:
        if self.split != "validation" or (info.iteration + 1) % self.every:
            return True
        for catboost_name, values in info.metrics.get("validation", {}).items():
            if self.LOSSES.get(catboost_name.lower()) == self.name:
                print(format_line("validation", self.name, values[-1]), flush=True)
                break
        return True


class _Progress:
    """A line every PERIOD seconds while CatBoost trains: its own lines come every 100 trees, which on
    large data (or hundreds of classes) can be many minutes apart."""

    PERIOD = 15.0

    def __init__(self, iterations: int):
        self.iterations, self.started = iterations, time.monotonic()
        self.last = self.started

    def after_iteration(self, info) -> bool:
        now = time.monotonic()
        if now - self.last >= self.PERIOD:
            self.last = now
            done = info.iteration
            left = (now - self.started) / max(done, 1) * (self.iterations - done)
            print(
                f"Training: tree {done} of at most {self.iterations}, {now - self.started:.0f} s so far, at most ~{left:.0f} s left.",
                flush=True,
            )
        return True  # go on


def evaluate(model: CatBoost, pool: Pool, task: str) -> dict[str, float]:
    """CatBoost's own value of each of the task's metrics for the final model."""
    specs = TASK_METRICS[task]
    tree_count = model.tree_count_
    try:
        values = model.eval_metrics(pool, list(specs.values()), ntree_start=0, eval_period=tree_count)
    except CatBoostError as exc:
        raise UserError(f"CatBoost could not measure the model with these settings: {exc}. Check the `catboost:` section.") from None
    return {name: float(values[_result_key(values, spec)][-1]) for name, spec in specs.items()}


def _result_key(values: dict[str, list[float]], spec: str) -> str:
    # eval_metrics names results like "TotalF1:average=Weighted" (as asked) or "AUC:type=Classic".
    if spec in values:
        return spec
    return next(key for key in values if key.split(":")[0] == spec.split(":")[0] and spec.split(":", 1)[-1] in key)


def pool(frame: pd.DataFrame, schema: Schema) -> Pool:
    return pools.pool(frame, schema)
