"""releaseml for notebooks and scripts: a thin face over the functions the tasks call.

    run = releaseml.train(data="sales.csv", target="churned")     # a new run, as `train-local`
    model = releaseml.load("latest")                               # or a run id, or a model folder
    scores = model.predict(frame)                                  # the columns `releaseml score` writes
    releaseml.runs()                                               # what `releaseml runs --json` prints

No second code path: training is `local.runner.train` (the container's `train` in a process),
predicting is `local.scoring.Scorer` (the server's typing rule), runs are `local.runs`.
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from releaseml.common import defaults
from releaseml.common.errors import UserError
from releaseml.common.layout import MODEL_FILE
from releaseml.config import config_file
from releaseml.local import project, runner
from releaseml.local import runs as run_store
from releaseml.local.scoring import Scorer
from releaseml.model import bundle


@dataclass
class Model:
    """A trained model, loaded once: `predict` and `explain` score frames in this process."""

    bundle: bundle.Bundle
    model_dir: Path

    @property
    def features(self) -> list[str]:
        return list(self.bundle.schema.features)

    @property
    def classes(self) -> list[Any] | None:
        return self.bundle.schema.classes

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame's columns, then `prediction` and one `probability_<class>` per class (as `score` writes)."""
        return self._scored(frame, None)

    def explain(self, frame: pd.DataFrame, k: int = 3) -> pd.DataFrame:
        """`predict`, with the k strongest reasons per row: `reason_i` (a feature) and `contribution_i`."""
        if not isinstance(k, int) or k < 1:
            raise UserError(f"explain(frame, k): k is how many reasons per row, a whole number from 1; got {k!r}")
        return self._scored(frame, k)

    def _scored(self, frame: pd.DataFrame, explain: int | None) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise UserError(f"predict() takes a pandas DataFrame of rows, got {type(frame).__name__}")
        missing = [name for name in self.features if name not in frame.columns]
        if missing:
            raise UserError(f"the frame has no column(s) {missing}; the model's features are {self.features}")
        scorer = Scorer(self.bundle, explain)
        taken = [name for name in scorer.columns() if name in frame.columns]
        if taken:
            raise UserError(f"the frame has column(s) {taken} that the scores are written to: rename or drop them first")
        scored, rejects = scorer.score(frame[self.features].reset_index(drop=True))
        if rejects:
            first = rejects[0]
            raise UserError(f"row {first.row} of the frame (position {first.row - 1}): {first.reason}")
        scored.index = frame.index
        return pd.concat([frame, scored], axis=1)


@dataclass
class Run:
    """One training run: its id, metrics, report (and its known limits) and model."""

    id: str
    metrics: dict[str, Any]
    report: Path | None
    model_dir: Path
    status: str
    limits: list[str] = field(default_factory=list)

    def load(self) -> Model:
        return load(self.model_dir)

    @property
    def model(self) -> Model:
        return self.load()

    def _repr_html_(self) -> str:
        validation = self.metrics.get("validation", {})
        cells = "".join(f"<tr><td>{html.escape(name)}</td><td>{value:.4g}</td></tr>" for name, value in validation.items())
        report = f'<p>Report: <a href="{self.report.resolve().as_uri()}">{html.escape(str(self.report))}</a></p>' if self.report else ""
        return f"<p><b>releaseml run {html.escape(self.id)}</b>: {html.escape(self.status)}</p><table>{cells}</table>{report}"


def train(
    config: str | Path | dict | None = None,
    data: str | Path | pd.DataFrame | None = None,
    target: str | None = None,
    validation: str | Path | pd.DataFrame | None = None,
    engine: str = "process",
) -> Run:
    """Train a new run, as `releaseml train-local` does; `config` is a file, a dict, or found as the tasks find it.

    With a dict (or only `target`), the run goes into the current folder's project (`.releaseml/runs/`).
    A DataFrame is written to Parquet first, so its column types are kept as they are.
    """
    config_path, settings = _config(config, target)
    with tempfile.TemporaryDirectory(prefix="releaseml-api-") as scratch:
        outcome = runner.train(
            config_path, _data_path(data, Path(scratch), "training"), _data_path(validation, Path(scratch), "validation"),
            engine=engine, config=settings, verbose=False,
        )  # fmt: skip
    if outcome.exit_code != 0:
        raise UserError(outcome.failure or f"training exited with code {outcome.exit_code}")
    return Run(outcome.run_id or "", outcome.metrics, outcome.report, outcome.model_dir, "succeeded", outcome.limits)


def load(ref: str | Path = run_store.LATEST, project_dir: str | Path | None = None) -> Model:
    """A model: `latest` (the default) or a run id of the project here, or a model folder (or an ML root)."""
    path = Path(ref)
    for candidate in (path, path / "model"):
        if (candidate / MODEL_FILE).is_file():
            return Model(bundle.load(candidate), candidate)
    store = _store(project_dir)
    return load(store.resolve(str(ref)).model_dir)


def runs(project_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every run of the project, oldest first: what `releaseml runs --json` prints."""
    from releaseml.local import run_listing

    return run_listing.summaries(_store(project_dir).all())


def _store(project_dir: str | Path | None) -> run_store.RunStore:
    if project_dir is not None:
        return run_store.RunStore(Path(project_dir))
    return run_store.RunStore.of_config(project.config_path())


def _config(config: str | Path | dict | None, target: str | None) -> tuple[Path, config_file.Config]:
    """The config file the run is filed under (its folder is the project) and the validated settings."""
    if isinstance(config, dict):
        raw = {**config, **({"target": target} if target else {})}
        return Path.cwd() / defaults.CONFIG_FILE, config_file.validate(raw, source="the config given to train()")
    if config is None and target is not None and project.find_config() is None:
        return Path.cwd() / defaults.CONFIG_FILE, config_file.validate({"target": target}, source="train(target=...)")
    path = project.config_path(config)
    settings = config_file.load(path)
    if target is not None:
        settings = config_file.validate({**settings.model_dump(mode="json", exclude_unset=True), "target": target}, source=str(path))
    return path, settings


def _data_path(data: str | Path | pd.DataFrame | None, scratch: Path, name: str) -> Path | None:
    if data is None or isinstance(data, (str, Path)):
        return Path(data) if data is not None else None
    if not isinstance(data, pd.DataFrame):
        raise UserError(f"data= takes a file or folder path, or a pandas DataFrame; got {type(data).__name__}")
    path = scratch / f"{name}.parquet"
    try:
        data.to_parquet(path, index=False)
    except (ValueError, TypeError, ImportError) as exc:  # a column of mixed types Parquet cannot hold: CSV text
        import pyarrow

        if not isinstance(exc, (pyarrow.ArrowException, ValueError, TypeError)):
            raise
        path = path.with_suffix(".csv")
        data.to_csv(path, index=False)
    return path
