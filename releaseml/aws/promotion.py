"""The promotion gate: is the challenger better than the champion on the same held-out rows, beyond noise?

Both models predict here, from their model.tar.gz, every row typed by the server's own rule
(`releaseml.local.scoring.Scorer`), and are compared on the task's main loss: log loss for
classification, RMSE for regression. One split of a few hundred rows can favour either model by
chance, so the gate is a paired bootstrap of the per-row losses: the rows are drawn again with
replacement DRAWS times, each draw scoring both models on the same rows, and the challenger passes
only when the whole 95% interval of (challenger - champion) is below zero.

Which rows, by default: the challenger's own validation rows, rows it did not train on, made again
here exactly as its training job made them (its data, read from S3 by the job's channels, split by
its hyperparameters' `validation_fraction`, `seed` or `time`; or its validation channel). The
champion may have trained on some of them if it was trained on other data: that can only flatter
the champion, so the gate errs on the side of keeping it. A cross-validated challenger (`folds:`)
held nothing out, so it needs `--data FILE`: rows with the target column that neither trained on.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from releaseml.aws import sagemaker_training, storage
from releaseml.aws.session import Aws, errors
from releaseml.common.errors import UserError
from releaseml.common.layout import SCHEMA_FILE, TRAINING_CHANNELS, VALIDATION_CHANNEL
from releaseml.data.schema import REGRESSION
from releaseml.model import bundle as bundle_module

DRAWS = 2000
CONFIDENCE = 0.95
SMALLEST = 1e-15  # a probability of 0 for the true class costs log(1e-15), not infinity
CELLS_PER_CHUNK = 4_000_000  # bootstrap draws are made this many row indices at a time


@dataclass
class Comparison:
    """Both models' loss on the same rows, and the bootstrap interval of the difference."""

    metric: str  # logloss or rmse: lower is better
    rows: int
    challenger: float
    champion: float
    low: float  # the interval of challenger - champion
    high: float
    source: str  # which rows, in words
    left_out: int = 0  # rows one of the models refused (values it cannot read), left out of both

    @property
    def difference(self) -> float:
        return self.challenger - self.champion

    @property
    def better(self) -> bool:
        return self.high < 0

    def sentence(self, challenger: str, champion: str) -> str:
        left = f" ({self.left_out} row(s) one model refused left out)" if self.left_out else ""
        return (
            f"on {self.source}{left}: {self.metric} {self.challenger:.4g} for {challenger} against {self.champion:.4g} for {champion}; "
            f"difference {self.difference:+.4g}, {CONFIDENCE:.0%} interval [{self.low:+.4g}, {self.high:+.4g}]"
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "difference": self.difference, "better": self.better}


def main_metric(task: str) -> str:
    return "rmse" if task == REGRESSION else "logloss"


def compare(
    challenger: bundle_module.Bundle, champion: bundle_module.Bundle, frame: pd.DataFrame, source: str, seed: int = 0
) -> Comparison:
    """Score both models on `frame` (features and the target) and bootstrap the difference of their losses."""
    task = challenger.schema.task
    if (champion.schema.task == REGRESSION) != (task == REGRESSION) or champion.schema.target != challenger.schema.target:
        raise UserError(
            f"the champion predicts {champion.schema.target!r} ({champion.schema.task}) and the challenger {challenger.schema.target!r} "
            f"({task}): they are not the same problem, so neither can replace the other"
        )
    target = challenger.schema.target
    if target not in frame.columns:
        raise UserError(f"the rows to compare on have no column {target!r}: the gate needs the true values (the target column)")
    frame = frame.loc[frame[target].notna()]
    ours, theirs = row_losses(challenger, frame), row_losses(champion, frame)
    common = ours.index.intersection(theirs.index)
    if len(common) < 2:
        raise UserError(f"only {len(common)} of the {len(frame)} rows could be scored by both models: the gate needs more rows")
    a, b = ours.loc[common].to_numpy(), theirs.loc[common].to_numpy()
    metric = main_metric(task)
    low, high = interval(a, b, metric, seed)
    return Comparison(metric, len(common), _aggregate(a, metric), _aggregate(b, metric), low, high, source, len(frame) - len(common))


def row_losses(model: bundle_module.Bundle, frame: pd.DataFrame) -> pd.Series:
    """Each row's loss (squared error, or -log of the true class's probability), by the frame's index;
    rows the model refuses are not in it."""
    from releaseml.data import schema as schema_module
    from releaseml.local.scoring import Scorer

    schema = model.schema
    scored, _refused = Scorer(model).score(frame[[c for c in frame.columns if c in schema.features]])
    truth = frame.loc[scored.index]
    if schema.task == REGRESSION:
        values = scored["prediction"].to_numpy(dtype=float)
        return pd.Series((values - truth[schema.target].to_numpy(dtype=float)) ** 2, index=scored.index)
    probabilities = scored[[f"probability_{label}" for label in schema.classes]].to_numpy(dtype=float)
    position = {str(label): i for i, label in enumerate(schema.classes)}
    labels = schema_module.labels(truth, schema).astype(str).to_numpy()
    chosen = np.array([probabilities[row, position[label]] if label in position else 0.0 for row, label in enumerate(labels)])
    return pd.Series(-np.log(np.clip(chosen, SMALLEST, 1.0)), index=scored.index)


def _aggregate(losses: np.ndarray, metric: str, axis: Optional[int] = None):
    mean = losses.mean(axis=axis)
    return np.sqrt(mean) if metric == "rmse" else mean


def interval(challenger: np.ndarray, champion: np.ndarray, metric: str, seed: int = 0) -> tuple[float, float]:
    """The paired bootstrap's central CONFIDENCE interval of metric(challenger) - metric(champion)."""
    draw = np.random.default_rng(seed)
    rows = len(challenger)
    differences = []
    chunk = max(1, CELLS_PER_CHUNK // rows)
    for start in range(0, DRAWS, chunk):
        picks = draw.integers(0, rows, size=(min(chunk, DRAWS - start), rows))
        differences.append(_aggregate(challenger[picks], metric, axis=1) - _aggregate(champion[picks], metric, axis=1))
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(np.concatenate(differences), [tail, 1 - tail])
    return float(low), float(high)


# -- the models and the rows ----------------------------------------------------------------------


def load_model(aws: Aws, model_data: str, directory: Path) -> bundle_module.Bundle:
    """A version's model.tar.gz, downloaded once into `directory`, loaded as the server loads it."""
    if not (directory / SCHEMA_FILE).is_file():
        with tempfile.TemporaryDirectory() as scratch:
            archive = storage.download_file(aws, model_data, Path(scratch) / "model.tar.gz")
            directory.mkdir(parents=True, exist_ok=True)
            with tarfile.open(archive) as tar:
                tar.extractall(directory, filter="data")
    return bundle_module.load(directory)


def read_rows(path: Path, models: list[bundle_module.Bundle]) -> tuple[pd.DataFrame, str]:
    """--data FILE (or directory): rows with the target column, read as training reads data."""
    from releaseml.data import dataset

    text = sorted({name for model in models for name in model.schema.categorical})
    frame = dataset.read_channel(path, text)
    return frame, f"the {len(frame)} rows of {path}"


def validation_rows(aws: Aws, job_name: str, version_label: str, work: Path) -> tuple[pd.DataFrame, str]:
    """The rows a training job validated on, made again from its data in S3 and its hyperparameters."""
    from releaseml.config import config_file, hyperparameters
    from releaseml.data import dataset
    from releaseml.data import schema as schema_module
    from releaseml.job import training_job
    from releaseml.training import fitting

    job = sagemaker_training.describe(aws, job_name)
    config = config_file.validate(hyperparameters.unflatten(job.get("HyperParameters") or {}), source=f"the hyperparameters of {job_name}")
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in job.get("InputDataConfig", [])}
    if VALIDATION_CHANNEL in channels:
        frame = dataset.read_channel(_download_channel(aws, channels[VALIDATION_CHANNEL], work / VALIDATION_CHANNEL), config.categorical)
        return frame, f"the {len(frame)} rows of {version_label}'s validation channel"
    if config.folds:
        raise UserError(
            f"{version_label} was cross-validated (folds: {config.folds}): every row trained its final model, so none was held out. "
            "Pass --data FILE with rows neither model trained on (and the target column)"
        )
    training = next((channels[name] for name in TRAINING_CHANNELS if name in channels), None)
    if training is None:
        raise UserError(f"training job {job_name} has no training channel to take validation rows from: pass --data FILE")
    frame = dataset.read_channel(_download_channel(aws, training, work / "training"), config.categorical)
    schema = schema_module.infer(frame, config)
    frame, _ = fitting.drop_unlabelled(frame, schema)
    _, valid_rows, how = training_job.held_out(frame, schema, config)
    return frame.iloc[valid_rows].reset_index(drop=True), f"the validation rows of {version_label} ({how})"


def _download_channel(aws: Aws, source: dict, target: Path) -> Path:
    """A channel as SageMaker lays it out: the objects a manifest lists (at their paths below its prefix), or a prefix."""
    if source["S3DataType"] != "ManifestFile":
        storage.download_prefix(aws, source["S3Uri"], target)
        return target
    bucket, key = storage.split_uri(source["S3Uri"])
    with errors(f"reading the manifest {source['S3Uri']}"):
        manifest = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    prefix = manifest[0]["prefix"].rstrip("/") + "/"
    for name in manifest[1:]:
        path = target / name
        if not path.resolve().is_relative_to(target.resolve()):
            raise UserError(f"refusing to write {name!r} outside {target}")
        storage.download_file(aws, prefix + name, path)
    return target
