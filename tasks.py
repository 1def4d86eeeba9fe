"""releaseml's tasks: `invoke --list` shows them, `invoke --help TASK` explains one.

Each task parses its arguments, calls the releaseml library and prints; a
mistake in the input is reported as one clear message, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

from invoke import Exit, task

from releaseml import client, image, local
from releaseml.errors import UserError

CONFIG = "releaseml.yaml"
ML_ROOT = str(local.DEFAULT_ML_ROOT)
ENGINE_HELP = "auto (docker when an engine answers and the image exists, else process), docker or process"
IMAGE_HELP = f"image for the docker engine (default {image.DEFAULT_IMAGE})"


def _user_errors_exit(function):
    """Turn a UserError into a one-line message and exit code 1."""

    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except UserError as exc:
            raise Exit(f"error: {exc}", code=1) from None

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = function.__name__, function.__doc__, function
    return wrapper


@task(
    help={
        "config": f"config file (default {CONFIG})",
        "data": "training data: a CSV file or a directory of CSV files (default: `data:` in the config, else what the ML root holds)",
        "validation": "optional validation data; replaces the random hold-out split",
        "ml_root": f"the local /opt/ml to train in (default {ML_ROOT})",
        "engine": ENGINE_HELP,
        "image": IMAGE_HELP,
    }
)
@_user_errors_exit
def train_local(c, config=CONFIG, data=None, validation=None, ml_root=ML_ROOT, engine="auto", image=None):
    """Train a model on local data, in the SageMaker layout, and print its metrics."""
    outcome = local.train(Path(config), _path(data), _path(validation), Path(ml_root), engine, image)
    if outcome.exit_code != 0:
        raise Exit(f"error: {outcome.failure or f'training exited with code {outcome.exit_code}'}", code=outcome.exit_code)
    print(f"\nModel: {outcome.model_dir}")
    print(json.dumps(outcome.metrics, indent=2))


def _path(value):
    return Path(value) if value else None


@task(help={"ml_root": f"the local /opt/ml holding model/ (default {ML_ROOT})", "port": "port to listen on (default 8080)", "engine": ENGINE_HELP, "image": IMAGE_HELP})
@_user_errors_exit
def serve_local(c, ml_root=ML_ROOT, port=8080, engine="auto", image=None):
    """Serve the trained model on http://localhost:PORT until Ctrl-C (/ping, /invocations)."""
    raise Exit(code=local.serve(Path(ml_root), int(port), engine, image))


@task(help={"name": f"image name (default {image.DEFAULT_IMAGE})", "base_image": f"base image with Python 3.10+ (default {image.DEFAULT_BASE_IMAGE})"})
@_user_errors_exit
def build(c, name=image.DEFAULT_IMAGE, base_image=image.DEFAULT_BASE_IMAGE):
    """Build the container image (container/Dockerfile) with the Docker engine."""
    image_id = image.build(name, base_image)
    print(f"Built {name} ({image_id[:19]}).")


@task(
    help={
        "payload": "file to send: .csv, .json or .jsonl",
        "content_type": "text/csv, application/json or application/jsonlines (default: from the file extension)",
        "accept": "answer type (default: the same as the request)",
        "url": f"model server (default {client.DEFAULT_URL})",
    }
)
@_user_errors_exit
def predict(c, payload, content_type=None, accept=None, url=client.DEFAULT_URL):
    """Send a payload to the model server and print its predictions."""
    print(client.predict(Path(payload), content_type, accept, url))


@task(help={"config": f"config file (default {CONFIG})", "ml_root": f"local /opt/ml (default {ML_ROOT})", "port": "port for the server (default 8080)", "engine": ENGINE_HELP})
@_user_errors_exit
def demo(c, config=CONFIG, ml_root=ML_ROOT, port=8080, engine="auto"):
    """Train on the demo data, serve the model, predict the test payloads, stop the server."""
    local.demo(Path(config), Path(ml_root), int(port), engine)
