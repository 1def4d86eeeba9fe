"""Build the container image with the Docker SDK, streaming the build log."""

from __future__ import annotations

from pathlib import Path

from releaseml.common import defaults
from releaseml.common.errors import UserError

DEFAULT_IMAGE = defaults.IMAGE
DEFAULT_BASE_IMAGE = defaults.BASE_IMAGE
REPO_ROOT = Path(__file__).resolve().parents[1]


def docker_client(hint: str = "start Docker (the engine, `dockerd`, or Docker Desktop)"):
    """A Docker SDK client, or a UserError saying why no engine answers and what to do (`hint`)."""
    try:
        import docker
    except ImportError:
        raise UserError("the docker Python package is missing: pip install -e '.[cli]'") from None
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # the SDK raises several types for "no engine"
        raise UserError(f"no Docker engine answers ({type(exc).__name__}): {hint}") from None
    return client


def image_exists(client, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def build(name: str = DEFAULT_IMAGE, base_image: str = DEFAULT_BASE_IMAGE, context: Path = REPO_ROOT, echo=print) -> str:
    """Build container/Dockerfile into image `name`; returns the image id."""
    import docker.errors

    client = docker_client()
    stream = client.api.build(
        path=str(context),
        dockerfile="container/Dockerfile",
        tag=name,
        buildargs={"BASE_IMAGE": base_image},
        network_mode="host",
        rm=True,
        decode=True,
    )
    image_id = None
    for chunk in stream:
        if "stream" in chunk:
            echo(chunk["stream"].rstrip("\n"))
        if "error" in chunk:
            raise UserError(f"the image build failed: {chunk['error'].strip()}")
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    try:
        return image_id or client.images.get(name).id
    except docker.errors.ImageNotFound:
        raise UserError(f"the build did not produce image {name!r}") from None
