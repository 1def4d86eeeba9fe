"""What every task shares: one-line errors instead of tracebacks, where logs go, the help texts.

Kept free of heavy imports: `releaseml --list` and `releaseml --list` load it (a test checks that
CatBoost, pandas, boto3 and docker stay out); a task imports what it uses when it runs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path

from invoke import Exit

from releaseml.common import defaults
from releaseml.common.errors import StillRunning, UserError

CONFIG_HELP = f"config file (default: {defaults.CONFIG_FILE} in this folder or the nearest folder above it)"
RUN_HELP = "the run to use: an id from `releaseml runs` (or a unique start or end of one), or latest (the default)"
ML_ROOT_HELP = "a local /opt/ml to use instead of a run (as SageMaker lays it out; e.g. test_dir)"
ENGINE_HELP = "auto (docker when an engine answers and the image exists, else process), docker or process"
IMAGE_HELP = f"image for the docker engine (default {defaults.IMAGE})"
AWS_HELP = {
    "region": "AWS region (default: aws.region in the config, RELEASEML_AWS_REGION, then the AWS session's)",
    "role": "SageMaker execution role, ARN or name (default: aws.role, RELEASEML_AWS_ROLE)",
    "bucket": "S3 bucket (default: aws.bucket, RELEASEML_AWS_BUCKET, then sagemaker-<region>-<account>)",
    "config": CONFIG_HELP,
    "timeout": "stop waiting after this many seconds (the job goes on); default: wait until it ends",
    "quiet": "no progress bars or log lines, only the result",
    "json_": "print the result as one JSON document on stdout (logs go to stderr): for scripts",
}


def user_errors_exit(function):
    """Turn a UserError into a one-line message and exit code 1 (3 when an AWS job outlives the wait);
    a closed output pipe (`releaseml predict ... | head`) ends quietly, as Unix tools do."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except UserError as exc:
            raise Exit(str(exc) if isinstance(exc, StillRunning) else f"error: {exc}", code=exc.exit_code) from None
        except BrokenPipeError:
            _quiet_broken_pipe()

    return wrapper


def _quiet_broken_pipe() -> None:
    """Python would print a BrokenPipeError at exit while flushing stdout: point stdout at nothing first."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise Exit(code=1)


@contextlib.contextmanager
def log_stream(quiet: bool, json_: bool):
    """Where logs go: nowhere (--quiet), stderr (--json, so stdout holds only the JSON), or stdout."""
    from releaseml.common import progress

    progress.set_quiet(quiet)
    if quiet:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            yield
    elif json_:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    else:
        yield


def path(value) -> Path | None:
    return Path(value) if value else None


def config_path(config) -> Path:
    """The config a task uses: --config, else releaseml.yaml here or above (a clear error if none)."""
    from releaseml.local import project

    return project.config_path(config)


def resolve_ml_root(run, ml_root, config=None) -> Path:
    """The ML root a task works on: --ml-root as given, else the project's run (--run, default latest)."""
    from releaseml.local import runs

    return runs.resolve_root(run, ml_root, config)


def aws_context(config, **flags):
    from releaseml.aws import workflows

    return workflows.context(config_path(config), flags)
