"""The /opt/ml directory layout of SageMaker's container contract.

The root is /opt/ml inside a container; set RELEASEML_ML_ROOT (or pass a root)
to run the very same code on a local directory such as test_dir/.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ML_ROOT_ENV = "RELEASEML_ML_ROOT"
DEFAULT_ML_ROOT = "/opt/ml"
TRAINING_CHANNELS = ("training", "train")  # SageMaker users name it either way
VALIDATION_CHANNEL = "validation"


@dataclass(frozen=True)
class MLPaths:
    root: Path

    @classmethod
    def from_env(cls) -> "MLPaths":
        return cls(Path(os.environ.get(ML_ROOT_ENV, DEFAULT_ML_ROOT)))

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
    def output_data_dir(self) -> Path:
        return self.root / "output" / "data"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"
