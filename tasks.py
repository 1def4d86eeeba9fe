"""releaseml's tasks: `invoke --list` shows them, `invoke --help TASK` explains one.

Each task parses its arguments, calls the releaseml library and prints; a
mistake in the input is reported as one clear message, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from invoke import Exit, task

# Only modules that import nothing heavy: `invoke --list` and `--help` load this file (the
# test in tests/test_command_line.py checks that CatBoost, pandas, boto3 and docker stay out).
from releaseml import cli, defaults
from releaseml.errors import UserError

CONFIG = defaults.CONFIG_FILE
ML_ROOT = defaults.LOCAL_ML_ROOT
ENGINE_HELP = "auto (docker when an engine answers and the image exists, else process), docker or process"
IMAGE_HELP = f"image for the docker engine (default {defaults.IMAGE})"
AWS_HELP = {
    "region": "AWS region (default: aws.region in the config, RELEASEML_AWS_REGION, then the AWS session's)",
    "role": "SageMaker execution role, ARN or name (default: aws.role, RELEASEML_AWS_ROLE)",
    "bucket": "S3 bucket (default: aws.bucket, RELEASEML_AWS_BUCKET, then sagemaker-<region>-<account>)",
    "config": f"config file (default {CONFIG})",
    "timeout": "stop waiting after this many seconds (the job goes on); default: wait until it ends",
    "quiet": "no progress bars or log lines, only the result",
    "json_": "print the result as one JSON document on stdout (logs go to stderr): for scripts",
}


def _user_errors_exit(function):
    """Turn a UserError into a one-line message and exit code 1 (3 when an AWS job outlives the wait)."""

    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except UserError as exc:
            from releaseml.errors import StillRunning

            raise Exit(str(exc) if isinstance(exc, StillRunning) else f"error: {exc}", code=exc.exit_code) from None

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
        "quiet": "no training log, only the result",
        "json_": AWS_HELP["json_"],
    }
)
@_user_errors_exit
def train_local(c, config=CONFIG, data=None, validation=None, ml_root=ML_ROOT, engine="auto", image=None, quiet=False, json_=False):
    """Train a model on local data, in the SageMaker layout; print its metrics and where its report is."""
    import json

    from releaseml import local

    with _log_stream(quiet, json_):
        outcome = local.train(Path(config), _path(data), _path(validation), Path(ml_root), engine, image)
    if outcome.exit_code != 0:
        raise Exit(f"error: {outcome.failure or f'training exited with code {outcome.exit_code}'}", code=outcome.exit_code)
    if json_:
        print(cli.as_json(outcome.summary()))
        return
    print(f"\nModel: {outcome.model_dir}")
    print(f"Report: {outcome.report or '-'}  (`invoke report --open` shows it)")
    print(json.dumps(outcome.metrics, indent=2))


@contextlib.contextmanager
def _log_stream(quiet: bool, json_: bool):
    """Where logs go: nowhere (--quiet), stderr (--json, so stdout holds only the JSON), or stdout."""
    from releaseml import progress

    progress.set_quiet(quiet)
    if quiet:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            yield
    elif json_:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    else:
        yield


@task(
    help={
        "ml_root": f"the local /opt/ml whose report to show (default {ML_ROOT})",
        "reports": "directory of reports that `invoke deploy` downloaded (default reports/)",
        "open_": "open it in a web browser",
    }
)
@_user_errors_exit
def report(c, ml_root=ML_ROOT, reports="reports", open_=False):
    """Print (or --open) the newest training report: the local run's, or a SageMaker job's that deploy downloaded."""
    from releaseml.report import latest

    path = latest([Path(ml_root) / "output" / "data" / "report.html", Path(reports)]).resolve()
    if open_:
        import webbrowser

        if not webbrowser.open(path.as_uri()):
            print(f"No web browser found here; open {path.as_uri()} on a machine with one.")
            return
    print(path)


def _path(value):
    return Path(value) if value else None


@task(
    help={
        "ml_root": f"the local /opt/ml holding model/ (default {ML_ROOT})",
        "port": f"port to listen on (default {defaults.PORT})",
        "engine": ENGINE_HELP,
        "image": IMAGE_HELP,
    }
)
@_user_errors_exit
def serve_local(c, ml_root=ML_ROOT, port=str(defaults.PORT), engine="auto", image=None):
    """Serve the trained model on http://localhost:PORT until Ctrl-C (/ping, /invocations)."""
    from releaseml import local

    raise Exit(code=local.serve(Path(ml_root), cli.port(port), engine, image))


@task(
    help={
        "name": f"image name (default {defaults.IMAGE})",
        "base_image": f"base image with Python 3.10+ (default {defaults.BASE_IMAGE})",
    }
)
@_user_errors_exit
def build(c, name=defaults.IMAGE, base_image=defaults.BASE_IMAGE):
    """Build the container image (container/Dockerfile) with the Docker engine."""
    from releaseml import image

    image_id = image.build(name, base_image)
    print(f"Built {name} ({image_id[:19]}).")


@task(
    help={
        "payload": "file to send: .csv, .json or .jsonl",
        "content_type": "text/csv, application/json or application/jsonlines (default: from the file extension)",
        "accept": "answer type (default: the same as the request)",
        "url": f"model server (default {defaults.SERVER_URL})",
        "timeout": "seconds to wait for the answer (default 60)",
        "endpoint": "a SageMaker endpoint to call instead of the local server (requests signed by boto3)",
        **{key: AWS_HELP[key] for key in ("config", "region")},
    }
)
@_user_errors_exit
def predict(c, payload, content_type=None, accept=None, url=defaults.SERVER_URL, timeout=None, endpoint=None, config=CONFIG, region=None):
    """Send a payload to the model server (or a SageMaker endpoint) and print its predictions."""
    if endpoint:
        from releaseml.aws import endpoints

        print(endpoints.invoke(_aws_context(config, region=region).aws, endpoint, Path(payload), content_type, accept))
    else:
        from releaseml import client

        print(client.predict(Path(payload), content_type, accept, cli.server_url(url), cli.seconds(timeout) or 60))


def _aws_context(config, **flags):
    from releaseml.aws import workflows

    return workflows.context(Path(config), flags)


@task(
    help={
        "data": "training data: a CSV file, a directory of CSV files, or one with training/ and validation/ (default: `data:` in the config)",
        "out": "where to write the outcome (job, status, metrics, model, log); a .json goes beside it",
        "wait": "wait for the job and stream its log (--no-wait returns once it is created)",
        "image": f"local image to push (default {defaults.IMAGE})",
        "instance_type": "training instance type (default: aws.training_instance_type, ml.m5.large)",
        "instance_count": "training instances (default 1)",
        **AWS_HELP,
    }
)
@_user_errors_exit
def deploy(
    c,
    data=None,
    out=defaults.TRAINING_OUTPUT,
    wait=True,
    timeout=None,
    config=CONFIG,
    image=defaults.IMAGE,
    region=None,
    role=None,
    bucket=None,
    instance_type=None,
    instance_count=None,
    quiet=False,
    json_=False,
):
    """Train on SageMaker: push the image to ECR, upload the data to S3, run a training job, write its outcome and fetch its report."""
    from releaseml import progress
    from releaseml.aws import workflows

    progress.set_quiet(quiet)
    ctx = _aws_context(
        config, region=region, role=role, bucket=bucket, training_instance_type=instance_type, training_instance_count=instance_count
    )
    outcome = workflows.deploy(ctx, _path(data), image, Path(out), wait, cli.seconds(timeout))
    _print_training_outcome(outcome, json_)
    if not json_:
        print(f"Outcome written to {out} and {Path(out).with_suffix('.json')}")
        if outcome.status == "InProgress":
            print(f"The job goes on; `invoke logs {outcome.job_name}` follows it to the end.")


def _print_training_outcome(outcome, json_: bool) -> None:
    if json_:
        print(cli.as_json(outcome))
        return
    print(
        f"Training job {outcome.job_name}: {outcome.status}"
        + "".join(f"\n  {name} = {value:.6g}" for name, value in sorted(outcome.metrics.items()))
    )
    if outcome.report:
        print(f"Report: {outcome.report}")


@task(
    help={
        "job": "training job name",
        "out": "write the outcome here too (text, and .json beside it)",
        **{k: AWS_HELP[k] for k in ("timeout", "config", "region", "quiet", "json_")},
    }
)
@_user_errors_exit
def logs(c, job, out=None, timeout=None, config=CONFIG, region=None, quiet=False, json_=False):
    """Attach to a SageMaker training job: stream its log until it ends, fetch its report, print its outcome."""
    from releaseml import progress
    from releaseml.aws import sagemaker_training

    progress.set_quiet(quiet)
    outcome = sagemaker_training.attach(
        _aws_context(config, region=region).aws, job, _path(out), cli.seconds(timeout), reports=Path(defaults.REPORTS_DIR)
    )
    _print_training_outcome(outcome, json_)


@task(
    help={
        "data": "what to predict: a CSV file without header row, a JSON Lines file, or a directory of them (default data/predict)",
        "job": "training job whose model predicts (default: the one in --from)",
        "from_": "outcome file written by `invoke deploy` (default training_output.txt)",
        "out": "directory for the predictions (default predictions/)",
        "join": "put each input row before its prediction on one line",
        "attach": "re-attach to a running batch transform of this name and download its results",
        "instance_type": "transform instance type (default: aws.transform_instance_type, ml.m5.large)",
        **AWS_HELP,
    }
)
@_user_errors_exit
def batch_predict(
    c,
    data=defaults.PREDICT_DIR,
    job=None,
    from_=defaults.TRAINING_OUTPUT,
    out=defaults.PREDICTIONS_DIR,
    join=False,
    attach=None,
    timeout=None,
    config=CONFIG,
    region=None,
    role=None,
    bucket=None,
    instance_type=None,
    quiet=False,
    json_=False,
):
    """Batch-predict files with a SageMaker batch transform, and download the predictions."""
    from releaseml import progress
    from releaseml.aws import sagemaker_training, transform, workflows

    progress.set_quiet(quiet)
    ctx = _aws_context(config, region=region, role=role, bucket=bucket, transform_instance_type=instance_type)
    if attach:
        outcome = transform.attach(ctx.aws, attach, Path(out), cli.seconds(timeout))
    else:
        job = job or sagemaker_training.job_from_outcome_file(Path(from_))
        outcome = workflows.batch_predict(ctx, Path(data), job, Path(out), join, cli.seconds(timeout))
    if json_:
        print(cli.as_json(outcome))
        return
    print(f"Batch transform {outcome.job_name}: {outcome.status}; predictions in:")
    print("\n".join(f"  {path}" for path in outcome.files))


@task(
    help={
        "name": "endpoint name (default: aws.repository, releaseml)",
        "job": "training job whose model serves (default: the one in --from)",
        "from_": "outcome file written by `invoke deploy` (default training_output.txt)",
        "delete": "delete the endpoint (and its config) instead",
        "status": "print the endpoint's status instead",
        "instance_type": "endpoint instance type (default: aws.endpoint_instance_type, ml.m5.large)",
        **{k: v for k, v in AWS_HELP.items() if k not in ("bucket", "json_")},
    }
)
@_user_errors_exit
def endpoint(
    c,
    name=None,
    job=None,
    from_=defaults.TRAINING_OUTPUT,
    delete=False,
    status=False,
    timeout=None,
    config=CONFIG,
    region=None,
    role=None,
    instance_type=None,
    quiet=False,
):
    """Deploy a training job's model to a real-time endpoint (billed while it runs), or --delete it."""
    from releaseml import progress
    from releaseml.aws import endpoints, sagemaker_training, workflows

    progress.set_quiet(quiet)
    ctx = _aws_context(config, region=region, role=role, endpoint_instance_type=instance_type)
    name = name or ctx.section.repository
    if delete:
        endpoints.delete(ctx.aws, name)
        print(f"Deleted endpoint {name}.")
    elif status:
        description = endpoints.describe(ctx.aws, name)
        print(f"Endpoint {name}: {description['EndpointStatus']} {description.get('FailureReason', '')}".rstrip())
    else:
        job = job or sagemaker_training.job_from_outcome_file(Path(from_))
        description = workflows.create_endpoint(ctx, job, name, timeout=cli.seconds(timeout))
        print(
            f"Endpoint {name}: {description['EndpointStatus']}. Call it with `invoke predict PAYLOAD --endpoint {name}`; delete it with `invoke endpoint --delete`."
        )


@task(
    help={
        "config": f"config file (default {CONFIG})",
        "ml_root": f"local /opt/ml (default {ML_ROOT})",
        "port": f"port for the server (default {defaults.PORT})",
        "engine": ENGINE_HELP,
    }
)
@_user_errors_exit
def demo(c, config=CONFIG, ml_root=ML_ROOT, port=str(defaults.PORT), engine="auto"):
    """Train on the demo data, serve the model, predict the test payloads, stop the server."""
    from releaseml import local

    local.demo(Path(config), Path(ml_root), cli.port(port), engine)
