"""releaseml's tasks: `invoke --list` shows them, `invoke --help TASK` explains one.

Each task parses its arguments, calls the releaseml library and prints; a
mistake in the input is reported as one clear message, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

from invoke import Exit, task

from releaseml import local
from releaseml.errors import UserError

CONFIG = "releaseml.yaml"
ML_ROOT = str(local.DEFAULT_ML_ROOT)
ENGINE_HELP = "auto (docker when an engine answers, else process), docker or process"


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
    }
)
@_user_errors_exit
def train_local(c, config=CONFIG, data=None, validation=None, ml_root=ML_ROOT, engine="auto"):
    """Train a model on local data, in the SageMaker layout, and print its metrics."""
    outcome = local.train(Path(config), _path(data), _path(validation), Path(ml_root), engine)
    if outcome.exit_code != 0:
        raise Exit(f"error: {outcome.failure or f'training exited with code {outcome.exit_code}'}", code=outcome.exit_code)
    print(f"\nModel: {outcome.model_dir}")
    print(json.dumps(outcome.metrics, indent=2))


def _path(value):
    return Path(value) if value else None
