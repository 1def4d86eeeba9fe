"""Shared helpers: real data sets on disk in a real /opt/ml layout."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import palmerpenguins
import pytest
from hypothesis import HealthCheck, settings

from releaseml import hyperparameters
from releaseml.layout import ML_ROOT_ENV, MLPaths


# Shared machines are slow at times: judge properties, not generation speed.
settings.register_profile("releaseml", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("releaseml")


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    """The Palmer penguins data as the palmerpenguins package ships it (categoricals, missing values)."""
    return palmerpenguins.load_penguins()


def make_ml_root(root: Path, config: dict, training=None, validation=None) -> MLPaths:
    """A /opt/ml with hyperparameters.json from `config` and CSV channels from frames (or raw text)."""
    paths = MLPaths(root)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.hyperparameters.write_text(json.dumps(hyperparameters.flatten(config)))
    for name, content in (("training", training), ("validation", validation)):
        if content is None:
            continue
        channel = paths.channel(name)
        channel.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pd.DataFrame):
            content.to_csv(channel / "data.csv", index=False)
        else:
            (channel / "data.csv").write_bytes(content if isinstance(content, bytes) else content.encode())
    return paths


@pytest.fixture
def run_train(monkeypatch):
    """Run the container's `train` entry point in this process on an ML root; returns its exit code."""
    from releaseml import container

    def run(paths: MLPaths) -> int:
        monkeypatch.setenv(ML_ROOT_ENV, str(paths.root))
        return container.train()

    return run
