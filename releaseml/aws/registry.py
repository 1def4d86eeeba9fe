"""Push the local image to Amazon ECR (the Docker SDK does the push; ECR gives the login)."""

from __future__ import annotations

import base64
from urllib.parse import urlparse

from releaseml.aws.session import Aws, errors
from releaseml.common import progress
from releaseml.common.errors import UserError
from releaseml.image.build import docker_client


def push(aws: Aws, local_image: str, repository: str, tags: list[dict[str, str]]) -> str:
    """Push `local_image` to the ECR repository (created if missing); returns the pushed image URI.

    The tag is the image's own ID, so a job names exactly the image that was built.
    """
    from docker.errors import APIError

    engine, image = local_image_of(local_image)
    username, password, registry = _login(aws)
    auth = {"username": username, "password": password}
    try:  # before the repository is made: a failed login leaves nothing behind in the account
        engine.login(username=username, password=password, registry=registry, reauth=True)
    except APIError as exc:
        raise UserError(f"docker login to {registry} failed: {exc.explanation or exc}") from None
    repository_uri = ensure_repository(aws, repository, tags)
    tag = image.id.split(":")[-1][:12]
    image.tag(repository_uri, tag)
    _push_with_progress(engine, repository_uri, tag, auth)
    return f"{repository_uri}:{tag}"


def local_image_of(name: str):
    """(Docker client, image) for a local image, or a UserError saying to build it: checked before anything is made."""
    from docker.errors import ImageNotFound  # never `import docker...`: a local name `docker` would hide it

    engine = docker_client("start Docker: deploy pushes the image from the local engine")
    try:
        return engine, engine.images.get(name)
    except ImageNotFound:
        raise UserError(f"no local image {name!r}: build it first with `releaseml build`") from None


def ensure_repository(aws: Aws, name: str, tags: list[dict[str, str]]) -> str:
    ecr = aws.client("ecr")
    with errors(f"looking up ECR repository {name}"):
        try:
            return ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryUri"]
        except ecr.exceptions.RepositoryNotFoundException:
            pass
    with errors(f"creating ECR repository {name}"):
        created = ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True}, tags=tags)["repository"]
    progress.echo(f"Created ECR repository {created['repositoryUri']}.")
    return created["repositoryUri"]


def _login(aws: Aws) -> tuple[str, str, str]:
    with errors("getting an ECR login"):
        data = aws.client("ecr").get_authorization_token()["authorizationData"][0]
    username, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    endpoint = data["proxyEndpoint"]
    return username, password, urlparse(endpoint).netloc or endpoint


def _push_with_progress(engine, repository_uri: str, tag: str, auth: dict) -> None:
    """Stream the push: one bar for the bytes of all layers, and a clear error if the registry refuses."""
    layers: dict[str, tuple[int, int]] = {}
    with progress.bar(0, f"Pushing {repository_uri}:{tag}") as bar:
        for event in engine.api.push(repository_uri, tag=tag, stream=True, decode=True, auth_config=auth):
            if "error" in event:
                raise UserError(f"pushing the image to {repository_uri} failed: {event['error'].strip()}")
            detail = event.get("progressDetail") or {}
            if event.get("id") and detail.get("total"):
                layers[event["id"]] = (detail.get("current", 0), detail["total"])
                bar.total = sum(total for _, total in layers.values())
                bar.n = sum(min(current, total) for current, total in layers.values())
                bar.refresh()
            elif event.get("status") in ("Pushed", "Layer already exists") and event.get("id") in layers:
                layers[event["id"]] = (layers[event["id"]][1],) * 2
