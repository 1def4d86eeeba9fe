"""Local runs of the container's jobs on a local /opt/ml (test_dir/ by default)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from releaseml import config as config_module, engines, staging
from releaseml.layout import MLPaths
from releaseml.training_job import METRICS_FILE

DEFAULT_ML_ROOT = Path("test_dir")


@dataclass
class TrainingOutcome:
    exit_code: int
    model_dir: Path
    metrics: dict
    failure: Optional[str]


def train(
    config_path: Path,
    data: Optional[Path] = None,
    validation: Optional[Path] = None,
    ml_root: Path = DEFAULT_ML_ROOT,
    engine: str = "auto",
) -> TrainingOutcome:
    """Stage config and data like SageMaker would, then run the container's `train`."""
    config = config_module.load(config_path)
    data = data or _configured(config_path, config.data.training if config.data else None)
    validation = validation or _configured(config_path, config.data.validation if config.data else None)
    paths = MLPaths(ml_root)
    staging.stage_training(paths, config, data, validation)
    runner, why = engines.choose(engine)
    print(why, flush=True)
    exit_code = runner.train(paths)
    return TrainingOutcome(
        exit_code=exit_code,
        model_dir=paths.model_dir,
        metrics=_read_json(paths.output_data_dir / METRICS_FILE) if exit_code == 0 else {},
        failure=paths.failure.read_text(encoding="utf-8").strip() if paths.failure.exists() else None,
    )


def serve(ml_root: Path = DEFAULT_ML_ROOT, port: int = 8080, engine: str = "auto") -> int:
    """Run the container's `serve` in the foreground until Ctrl-C."""
    runner, why = engines.choose(engine)
    print(why, flush=True)
    return runner.serve(MLPaths(ml_root), port)


def _configured(config_path: Path, value: Optional[str]) -> Optional[Path]:
    """A path from the config file, relative to the file's own directory."""
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else config_path.parent / path


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
