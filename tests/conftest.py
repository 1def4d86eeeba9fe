"""Shared fixtures: the penguins data, trained models, a running server."""

from __future__ import annotations

import palmerpenguins
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from helpers import Server, train_model
from releaseml.common.layout import ML_ROOT_ENV, MLPaths

# Shared machines are slow at times: judge properties, not generation speed.
settings.register_profile("releaseml", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("releaseml")


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    """The Palmer penguins data as the palmerpenguins package ships it (categoricals, missing values)."""
    return palmerpenguins.load_penguins()


@pytest.fixture
def run_train(monkeypatch):
    """Run the container's `train` entry point in this process on an ML root; returns its exit code."""
    from releaseml.job import entrypoints as container

    def run(paths: MLPaths) -> int:
        monkeypatch.setenv(ML_ROOT_ENV, str(paths.root))
        return container.train()

    return run


@pytest.fixture(scope="session")
def species_model(tmp_path_factory, penguins) -> MLPaths:
    return train_model(
        tmp_path_factory.mktemp("species"), {"target": "species", "drop": ["year"], "catboost": {"iterations": 60}}, penguins
    )


@pytest.fixture(scope="session")
def mass_model(tmp_path_factory, penguins) -> MLPaths:
    return train_model(tmp_path_factory.mktemp("mass"), {"target": "body_mass_g", "catboost": {"iterations": 60}}, penguins)


@pytest.fixture(scope="session")
def species_server(species_model):
    server = Server(species_model.root)
    yield server
    server.stop()


# The image for container and AWS-emulator tests. RELEASEML_BASE_IMAGE names the base (default
# python:3.11-slim); on machines that cannot pull images, tests/tools/make-test-base.sh makes one.
# No engine is a failure with the reason, not a skip.
TEST_IMAGE = "releaseml-integration-test"


@pytest.fixture(scope="session")
def built_image() -> str:
    import os

    from releaseml.common.errors import UserError
    from releaseml.image import build as image

    try:
        image.docker_client()
    except UserError as exc:
        pytest.fail(f"these tests need a Docker engine: {exc}", pytrace=False)
    base = os.environ.get("RELEASEML_BASE_IMAGE", image.DEFAULT_BASE_IMAGE)
    try:
        image.build(TEST_IMAGE, base, echo=lambda line: None)
    except UserError as exc:
        pytest.fail(
            f"{exc}\nWhere base image {base} cannot be pulled, make one with tests/tools/make-test-base.sh "
            "and set RELEASEML_BASE_IMAGE=releaseml-test-base:bookworm.",
            pytrace=False,
        )
    return TEST_IMAGE


def imbalanced_multiclass(rows: int = 1500, seed: int = 7) -> pd.DataFrame:
    """A second multiclass data set, made here: four grades, one rare, from two numbers and a category."""
    import numpy as np

    rng = np.random.default_rng(seed)
    size, weight = rng.normal(50, 15, rows), rng.normal(10, 3, rows)
    region = rng.choice(["north", "south", "east"], rows)
    score = size / 15 + weight / 3 + (region == "north") * 1.5 + rng.normal(0, 0.6, rows)
    grade = np.select([score > 10, score > 7.5, score > 5.5], ["A", "B", "C"], "D")
    frame = pd.DataFrame({"size": size.round(1), "weight": weight.round(2), "region": region, "grade": grade})
    frame.loc[rng.random(rows) < 0.05, "weight"] = None
    return frame


# One training run per kind of report: the demo (multiclass), regression, binary, and a second
# multiclass data set with a rare class. Shared by the report tests and the browser test.
REPORT_CASES = {
    "demo-species": ({"target": "species"}, "penguins"),
    "regression-body-mass": ({"target": "body_mass_g", "catboost": {"iterations": 300}}, "penguins"),
    "binary-sex": ({"target": "sex", "catboost": {"iterations": 300}}, "penguins"),
    "multiclass-grades": ({"target": "grade", "catboost": {"iterations": 300}}, "grades"),
}


@pytest.fixture(scope="session")
def trained_reports(tmp_path_factory, penguins) -> dict[str, MLPaths]:
    frames = {"penguins": penguins, "grades": imbalanced_multiclass()}
    return {name: train_model(tmp_path_factory.mktemp(name), config, frames[data]) for name, (config, data) in REPORT_CASES.items()}
