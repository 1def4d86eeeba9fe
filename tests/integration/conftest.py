"""Container tests: a real Docker engine, the image built from container/Dockerfile.

RELEASEML_BASE_IMAGE names the base (default python:3.11-slim); on machines that
cannot pull images, container/make-test-base.sh makes one. No engine is a failure
with the reason, not a skip.
"""

import os

import pytest

from releaseml import image
from releaseml.errors import UserError

IMAGE = "releaseml-integration-test"


@pytest.fixture(scope="session")
def built_image() -> str:
    try:
        image.docker_client()
    except UserError as exc:
        pytest.fail(f"the integration tests need a Docker engine: {exc}", pytrace=False)
    base = os.environ.get("RELEASEML_BASE_IMAGE", image.DEFAULT_BASE_IMAGE)
    try:
        image.build(IMAGE, base, echo=lambda line: None)
    except UserError as exc:
        pytest.fail(
            f"{exc}\nWhere base image {base} cannot be pulled, make one with container/make-test-base.sh "
            "and set RELEASEML_BASE_IMAGE=releaseml-test-base:bookworm.",
            pytrace=False,
        )
    return IMAGE
