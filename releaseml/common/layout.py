"""The /opt/ml directory layout of SageMaker's container contract.

The root is /opt/ml inside a container; set RELEASEML_ML_ROOT (or pass a root)
to run the very same code on a local directory such as test_dir/.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from releaseml.common import environment

ML_ROOT_ENV = environment.ML_ROOT.name
DEFAULT_ML_ROOT = environment.ML_ROOT.default
TRAINING_CHANNELS = ("training", "train")  # SageMaker users name it either way
VALIDATION_CHANNEL = "validation"
# Files under model/ (SageMaker packs that directory into model.tar.gz).
MODEL_FILE = "model.cbm"  # CatBoost's own format
SCHEMA_FILE = "schema.json"  # features, kinds, classes, metrics, versions
PROFILE_FILE = "profile.json"  # the training data per feature: missing share, bins, categories (data checks)
# Files under output/data (SageMaker packs that directory into output.tar.gz).
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
LIMITS_FILE = "limits.json"  # the report's known limits, for the terminal and --json
FIGURES_DIR = "figures"
# In a channel that releaseml filled from a copy of the user's data: where each file came from.
STAGED_MARKER = ".releaseml-staged"
# SageMaker's CheckpointConfig.LocalPath (its default): present only for jobs with checkpoints.
CHECKPOINTS_DIR = "checkpoints"
# CatBoost's own snapshot, from which a restarted job resumes; named by the CatBoost parameters
# (`fitting.snapshot_name`), so trials of a tuning job never resume from one another's.
SNAPSHOT_FILE = "catboost-{key}.snapshot"


@dataclass(frozen=True)
class MLPaths:
    root: Path

    @classmethod
    def from_env(cls) -> "MLPaths":
        return cls(Path(environment.ML_ROOT.get()))

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def hyperparameters(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def input_data_config(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resource_config(self) -> Path:
        return self.config_dir / "resourceconfig.json"

    def channel(self, name: str) -> Path:
        return self.root / "input" / "data" / name

    def training_channel(self) -> Path:
        """The first of `training` or `train` that exists (`training` if neither does)."""
        for name in TRAINING_CHANNELS:
            if self.channel(name).is_dir():
                return self.channel(name)
        return self.channel(TRAINING_CHANNELS[0])

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def model_file(self) -> Path:
        return self.model_dir / MODEL_FILE

    @property
    def schema_file(self) -> Path:
        return self.model_dir / SCHEMA_FILE

    @property
    def output_data_dir(self) -> Path:
        return self.root / "output" / "data"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def metrics(self) -> Path:
        """Every metric of the run, also printed as `#releaseml metric` lines for SageMaker."""
        return self.output_data_dir / METRICS_FILE

    @property
    def report(self) -> Path:
        return self.output_data_dir / REPORT_FILE

    @property
    def limits(self) -> Path:
        """The report's known limits (a JSON list of sentences), which `train-local` prints too."""
        return self.output_data_dir / LIMITS_FILE

    @property
    def figures_dir(self) -> Path:
        return self.output_data_dir / FIGURES_DIR

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINTS_DIR

    def relative_to_data(self, path: Path) -> str:
        """A data file's name as the report shows it: where releaseml copied it from, else relative to input/data."""
        sources = self.staged_sources(path.parent)
        return sources.get(path.name) or str(path.relative_to(self.root / "input" / "data"))

    @staticmethod
    def staged_sources(channel: Path) -> dict[str, str]:
        """The files of a channel releaseml filled, by name: the path of the user's file each copies."""
        import json

        try:
            return json.loads((channel / STAGED_MARKER).read_text(encoding="utf-8")).get("sources", {})
        except (OSError, ValueError, AttributeError):
            return {}
