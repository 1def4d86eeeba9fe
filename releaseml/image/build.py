"""Build the container image with the Docker SDK, streaming the build log.

The Dockerfile and the entry point scripts ship inside the package (beside this module), and the
build context is assembled from the installed package, so `releaseml build` works from any folder.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from releaseml.common import defaults
from releaseml.common.errors import UserError

DEFAULT_IMAGE = defaults.IMAGE
DEFAULT_BASE_IMAGE = defaults.BASE_IMAGE
IMAGE_FILES = Path(__file__).resolve().parent  # Dockerfile, requirements.txt, train, serve, monitor
PACKAGE_DIR = IMAGE_FILES.parent
ENTRY_POINTS = ("train", "serve", "monitor")  # scripts SageMaker runs by name: `docker run IMAGE train`
CONTEXT_FILES = ("Dockerfile", "requirements.txt", *ENTRY_POINTS)


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


def build(name: str = DEFAULT_IMAGE, base_image: str = DEFAULT_BASE_IMAGE, echo=print) -> str:
    """Build the image from the packaged Dockerfile into image `name`; returns the image id."""
    client = docker_client()
    with tempfile.TemporaryDirectory(prefix="releaseml-build-") as context:
        _assemble_context(Path(context))
        stream = client.api.build(
            path=context,
            dockerfile="Dockerfile",
            tag=name,
            buildargs={"BASE_IMAGE": base_image},
            network_mode="host",
            rm=True,
            decode=True,
        )
        return _follow(client, name, stream, echo)


def _assemble_context(context: Path) -> None:
    """The Dockerfile's files and a copy of the installed package, without byte code."""
    for name in CONTEXT_FILES:
        shutil.copy2(IMAGE_FILES / name, context / name)
    for script in ENTRY_POINTS:  # a wheel may not keep the mode
        (context / script).chmod(0o755)
    shutil.copytree(PACKAGE_DIR, context / "releaseml", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _follow(client, name: str, stream, echo) -> str:
    """Echo the build log; the image id, or a UserError with the build's own error."""
    import docker.errors

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
