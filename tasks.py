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
from releaseml.common import arguments as cli
from releaseml.common import defaults
from releaseml.common.errors import UserError

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
            from releaseml.common.errors import StillRunning

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

    from releaseml.local import runner as local

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


@task(
    help={
        "config": f"config file with a `tune:` section (default {CONFIG})",
        "data": "training data, as for train-local and deploy (default: `data:` in the config)",
        "local": "tune on this machine with Optuna instead of a SageMaker tuning job",
        "validation": "--local: optional validation data; replaces the random hold-out split",
        "ml_root": f"--local: the local /opt/ml the best model is trained into (default {ML_ROOT})",
        "engine": "--local: " + ENGINE_HELP,
        "image": f"image: --local's docker engine, or the one pushed to ECR (default {defaults.IMAGE})",
        "out": f"SageMaker: where to write the outcome naming the best training job (default {defaults.TUNING_OUTPUT})",
        "wait": "SageMaker: wait for the tuning job, showing its trials (--no-wait returns once it is created)",
        "attach": "SageMaker: follow a tuning job started before (by name) instead of starting one",
        "instance_type": "SageMaker: training instance type of each trial (default: aws.training_instance_type)",
        "spot": "SageMaker: trials on managed spot capacity (aws.spot)",
        "force": "SageMaker: start even when the data looks too large for the instance's memory",
        **AWS_HELP,
    }
)
@_user_errors_exit
def tune(
    c,
    config=CONFIG,
    data=None,
    local=False,
    validation=None,
    ml_root=ML_ROOT,
    engine="auto",
    image=None,
    out=defaults.TUNING_OUTPUT,
    wait=True,
    attach=None,
    timeout=None,
    region=None,
    role=None,
    bucket=None,
    instance_type=None,
    spot=False,
    force=False,
    quiet=False,
    json_=False,
):
    """Search the config's `tune:` ranges for a better model: a SageMaker tuning job, or --local with Optuna."""
    if local:
        _tune_here(config, data, validation, ml_root, engine, image, quiet, json_)
        return
    if validation or ml_root != ML_ROOT or engine != "auto":
        raise UserError("--validation, --ml-root and --engine are for `invoke tune --local`; on SageMaker, --data names all the data")
    from releaseml.aws import sagemaker_tuning, workflows
    from releaseml.common import progress

    progress.set_quiet(quiet)
    ctx = _aws_context(config, region=region, role=role, bucket=bucket, training_instance_type=instance_type, spot=spot or None)
    if attach:
        outcome = sagemaker_tuning.attach(ctx.aws, attach, Path(out), cli.seconds(timeout), reports=Path(defaults.REPORTS_DIR))
    else:
        outcome = workflows.tune(ctx, _path(data), image or defaults.IMAGE, Path(out), wait, cli.seconds(timeout), force=force)
    if json_:
        print(cli.as_json(outcome))
        return
    print("\n".join(outcome.said(Path(out))))


def _tune_here(config, data, validation, ml_root, engine, image, quiet, json_) -> None:
    from releaseml.local import tuning

    with _log_stream(quiet, json_):
        outcome = tuning.run(Path(config), _path(data), _path(validation), Path(ml_root), engine, image)
    if json_:
        print(cli.as_json(outcome.summary()))
        return
    print(
        f"\nBest: trial {outcome.best['trial']}, {outcome.objective} {outcome.best['value']:.6g} (the config as it is: {outcome.defaults:.6g})"
    )
    print(f"Model: {outcome.training.model_dir}")
    print(f"Report: {outcome.training.report or '-'}; tuning page: {outcome.page}")


@contextlib.contextmanager
def _log_stream(quiet: bool, json_: bool):
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
    from releaseml.local import runner as local

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
    from releaseml.image import build as image

    image_id = image.build(name, base_image)
    print(f"Built {name} ({image_id[:19]}).")


@task(
    help={
        "payload": "file to send: .csv, .json, .jsonl, or .parquet (sent as CSV with a header row)",
        "content_type": "text/csv, application/json or application/jsonlines (default: from the file extension)",
        "accept": "answer type (default: the same as the request)",
        "url": f"model server (default {defaults.SERVER_URL})",
        "timeout": "seconds to wait for the answer (default 60)",
        "endpoint": "a SageMaker endpoint to call instead of the local server (requests signed by boto3)",
        "async_": "with --endpoint: an async endpoint (the payload goes through S3, up to 1 GB; waits for the answer)",
        "explain": "add the K strongest reasons (SHAP contributions) to each prediction",
        **{key: AWS_HELP[key] for key in ("config", "region")},
    }
)
@_user_errors_exit
def predict(
    c,
    payload,
    content_type=None,
    accept=None,
    url=defaults.SERVER_URL,
    timeout=None,
    endpoint=None,
    async_=False,
    explain=None,
    config=CONFIG,
    region=None,
):
    """Send a payload to the model server (or a SageMaker endpoint) and print its predictions."""
    reasons = cli.reasons(explain)
    if async_ and not endpoint:
        raise Exit("error: --async calls a SageMaker async endpoint: add --endpoint NAME", code=2)
    if endpoint and async_:
        from releaseml.aws import workflows

        ctx = _aws_context(config, region=region)
        print(workflows.predict_async(ctx, endpoint, Path(payload), content_type, accept, cli.seconds(timeout), explain=reasons))
    elif endpoint:
        from releaseml.aws import endpoints

        print(endpoints.invoke(_aws_context(config, region=region).aws, endpoint, Path(payload), content_type, accept, reasons))
    else:
        from releaseml.serving import client

        print(client.predict(Path(payload), content_type, accept, cli.server_url(url), cli.seconds(timeout) or 60, reasons))


def _aws_context(config, **flags):
    from releaseml.aws import workflows

    return workflows.context(Path(config), flags)


@task(
    help={
        "data": "training data: a CSV or Parquet file, a directory of them, or one with training/ and validation/ (default: `data:` in the config)",
        "out": "where to write the outcome (job, status, metrics, model, log); a .json goes beside it",
        "wait": "wait for the job and stream its log (--no-wait returns once it is created)",
        "image": f"local image to push (default {defaults.IMAGE})",
        "instance_type": "training instance type (default: aws.training_instance_type, ml.m5.large)",
        "instance_count": "training instances (default 1)",
        "spot": "managed spot training: billed less, may be interrupted; resumes from CatBoost checkpoints (aws.spot)",
        "max_wait": "spot: seconds to wait for capacity and run in all (default twice aws.max_runtime_seconds)",
        "force": "start the job even when the data looks too large for the instance's memory",
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
    spot=False,
    max_wait=None,
    force=False,
    quiet=False,
    json_=False,
):
    """Train on SageMaker: push the image to ECR, upload the data to S3, run a training job, write its outcome and fetch its report."""
    from releaseml.aws import workflows
    from releaseml.common import progress

    progress.set_quiet(quiet)
    ctx = _aws_context(
        config,
        region=region,
        role=role,
        bucket=bucket,
        training_instance_type=instance_type,
        training_instance_count=instance_count,
        spot=spot or None,  # no --spot: the config's (or RELEASEML_AWS_SPOT's) choice
        max_wait_seconds=max_wait,
    )
    outcome = workflows.deploy(ctx, _path(data), image, Path(out), wait, cli.seconds(timeout), force=force)
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
    if outcome.spot_savings:
        print(f"Spot: {outcome.spot_savings}")


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
    from releaseml.aws import sagemaker_training
    from releaseml.common import progress

    progress.set_quiet(quiet)
    outcome = sagemaker_training.attach(
        _aws_context(config, region=region).aws, job, _path(out), cli.seconds(timeout), reports=Path(defaults.REPORTS_DIR)
    )
    _print_training_outcome(outcome, json_)


@task(
    help={
        "data": "what to predict: a CSV file without header row, a JSON Lines or Parquet file, or a directory of them (default data/predict)",
        "job": "training job whose model predicts (default: the one in --from)",
        "from_": f"outcome file written by `invoke deploy` (default {defaults.TRAINING_OUTPUT}) or `invoke tune` ({defaults.TUNING_OUTPUT})",
        "out": "directory for the predictions (default predictions/)",
        "join": "put each input row before its prediction on one line",
        "explain": "add the K strongest reasons (SHAP contributions) to each prediction (set in the transform's environment)",
        "check": "check the data against the model here first and stop on errors (--no-check skips it)",
        "strict": "also stop when a column drifted a lot (PSI above 0.25)",
        "attach": "re-attach to a running batch transform of this name and download its results",
        "instance_type": "transform instance type (default: aws.transform_instance_type, ml.m5.large)",
        "instance_count": "transform instances; large files are cut into parts so each gets work (default 1)",
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
    explain=None,
    check=True,
    strict=False,
    attach=None,
    timeout=None,
    config=CONFIG,
    region=None,
    role=None,
    bucket=None,
    instance_type=None,
    instance_count=None,
    quiet=False,
    json_=False,
):
    """Batch-predict files with a SageMaker batch transform, and download the predictions."""
    from releaseml.aws import sagemaker_training, transform, workflows
    from releaseml.common import progress

    progress.set_quiet(quiet)
    ctx = _aws_context(
        config, region=region, role=role, bucket=bucket, transform_instance_type=instance_type, transform_instance_count=instance_count
    )
    if attach:
        outcome = transform.attach(ctx.aws, attach, Path(out), cli.seconds(timeout))
    else:
        job = job or sagemaker_training.job_from_outcome_file(Path(from_))
        outcome = workflows.batch_predict(
            ctx, Path(data), job, Path(out), join, cli.seconds(timeout), explain=cli.reasons(explain), check=check, strict=strict
        )
    if json_:
        print(cli.as_json(outcome))
        return
    print(f"Batch transform {outcome.job_name}: {outcome.status}; predictions in:")
    print("\n".join(f"  {path}" for path in outcome.files))


@task(
    help={
        "data": "a scoring file (.csv, .json, .jsonl, .parquet) or a directory of them",
        "ml_root": f"the local /opt/ml whose model/ to check against (default {ML_ROOT})",
        "job": "check against a SageMaker training job's model instead (downloaded once into .releaseml/models/)",
        "out": "where to write check.html and its figures (default check/)",
        "strict": "exit 1 on large drift too, not only on errors",
        **{k: v for k, v in AWS_HELP.items() if k in ("config", "region", "json_")},
    }
)
@_user_errors_exit
def check_data(c, data, ml_root=ML_ROOT, job=None, out="check", strict=False, config=CONFIG, region=None, json_=False):
    """Check scoring data against the model before predicting: errors the server would answer, unseen categories, drift."""
    from releaseml.checking import data_check
    from releaseml.common.layout import MLPaths
    from releaseml.report import check_page

    if job:
        result = _check_against_job(config, region, Path(data), job)
    else:
        result = data_check.check(Path(data), MLPaths(Path(ml_root)).model_dir)
    page = check_page.write(Path(out), result)
    if json_:
        print(cli.as_json({**result.as_dict(), "page": str(page)}))
    else:
        print(result.sentence())
        print(
            "\n".join([*(f"  error: {e}" for e in result.errors), *(f"  warning: {w}" for w in result.warnings)])
            or "  no errors, no warnings"
        )
        print(f"Page: {page}")
    if result.errors or (strict and result.large_drift):
        raise Exit(code=1)


def _check_against_job(config, region, data: Path, job: str):
    from releaseml.aws import workflows

    return workflows.check_data(_aws_context(config, region=region), data, job)


ENDPOINT_KIND_HELP = {
    "serverless": "a serverless endpoint: billed per call, nothing while idle, a cold start after a pause (aws.endpoint_kind)",
    "async_": "an asynchronous endpoint: payloads up to 1 GB through S3, answers written to S3 (aws.endpoint_kind)",
    "memory_mb": "serverless memory: 1024, 2048 (default), 3072, 4096, 5120 or 6144 (aws.serverless_memory_mb)",
    "max_concurrency": "serverless: calls served at once, 1-200 (default 5; aws.serverless_max_concurrency)",
    "min_instances": "autoscaling: fewest instances (default 1; 0 for async; aws.min_instances)",
    "max_instances": "autoscaling: most instances; set it to turn autoscaling on (aws.max_instances)",
    "invocations_per_instance": "autoscaling target: calls per instance per minute (default 1000; aws.invocations_per_instance)",
}
API_HELP = {
    "api_role": "IAM role API Gateway assumes to call the endpoint, ARN or name (aws.api_role, RELEASEML_AWS_API_ROLE)",
}


@task(
    help={
        "name": "endpoint name (default: aws.repository, releaseml)",
        "job": "training job whose model serves (default: the one in --from)",
        "from_": f"outcome file written by `invoke deploy` (default {defaults.TRAINING_OUTPUT}) or `invoke tune` ({defaults.TUNING_OUTPUT})",
        "delete": "delete the endpoint and all that hangs on it (public API, keys, usage plan, autoscaling, config)",
        "status": "print the endpoint's status instead",
        "public": "also make a public HTTPS API with an API key, callable with curl (prints the URL and the key once)",
        "instance_type": "endpoint instance type (default: aws.endpoint_instance_type, ml.m5.large)",
        **ENDPOINT_KIND_HELP,
        **API_HELP,
        **{k: v for k, v in AWS_HELP.items() if k != "bucket"},
    },
    auto_shortflags=False,  # more options than letters: long names only, so none gets an empty short flag
)
@_user_errors_exit
def endpoint(
    c,
    name=None,
    job=None,
    from_=defaults.TRAINING_OUTPUT,
    delete=False,
    status=False,
    public=False,
    serverless=False,
    async_=False,
    memory_mb=None,
    max_concurrency=None,
    min_instances=None,
    max_instances=None,
    invocations_per_instance=None,
    api_role=None,
    timeout=None,
    config=CONFIG,
    region=None,
    role=None,
    instance_type=None,
    quiet=False,
    json_=False,
):
    """Deploy a training job's model to an endpoint (instance, serverless or async; optionally public), or --delete it."""
    from releaseml.aws import sagemaker_training, workflows

    if serverless and async_:
        raise Exit("error: choose one of --serverless and --async (an endpoint is one kind)", code=2)
    kind = "serverless" if serverless else "async" if async_ else None
    with _log_stream(quiet, json_):
        ctx = _aws_context(
            config,
            region=region,
            role=role,
            endpoint_instance_type=instance_type,
            endpoint_kind=kind,
            serverless_memory_mb=memory_mb,
            serverless_max_concurrency=max_concurrency,
            min_instances=min_instances,
            max_instances=max_instances,
            invocations_per_instance=invocations_per_instance,
            api_role=api_role,
        )
        name = name or ctx.section.repository
        if delete:
            deleted = workflows.delete_endpoint(ctx, name)
            result: dict = {"endpoint": name, "deleted": deleted}
            message = f"Deleted endpoint {name} and what hung on it:\n" + "\n".join(f"  {item}" for item in deleted)
        elif status:
            outcome = workflows.endpoint_status(ctx, name)
            result, message = outcome.as_dict(), _endpoint_message(outcome)
        else:
            job = job or sagemaker_training.job_from_outcome_file(Path(from_))
            outcome = workflows.create_endpoint(ctx, job, name, public, timeout=cli.seconds(timeout))
            result, message = outcome.as_dict(), _endpoint_message(outcome)
    print(cli.as_json(result) if json_ else message)


def _endpoint_message(outcome) -> str:
    how = "`invoke predict PAYLOAD --endpoint {0}" + (" --async`" if outcome.kind == "async" else "`")
    lines = [f"Endpoint {outcome.name} ({outcome.kind}): {outcome.status}. Call it with {how.format(outcome.name)}."]
    if outcome.reason:
        lines.append(f"Failure: {outcome.reason}")
    if outcome.scaling:
        scaling = outcome.scaling
        aim = f", aiming at {scaling['target']:g} {scaling['metric']}" if "target" in scaling else ""
        lines.append(f"Autoscaling: {scaling['min_instances']} to {scaling['max_instances']} instances{aim}.")
    if outcome.public:
        lines += _public_lines(outcome.public)
    lines.append(f"Delete it with `invoke endpoint --delete --name {outcome.name}`.")
    return "\n".join(lines)


def _public_lines(public) -> list[str]:
    lines = [f"Public URL: {public.url}"]
    if public.key:
        lines += [
            f"API key (shown once; `invoke api --rotate-key` makes a new one): {public.key}",
            f'  curl -H "x-api-key: $KEY" -H "Content-Type: text/csv" --data-binary @rows.csv {public.url}',
        ]
    else:
        lines.append("API key: as made before (`invoke api --rotate-key` replaces it, if it is lost)")
    limits = f"{public.rate_limit:g} requests/s, bursts of {public.burst_limit}"
    lines.append(f"Limits per key: {limits}" + (f", {public.daily_quota} a day" if public.daily_quota else ""))
    return lines


@task(
    help={
        "name": "endpoint name (default: aws.repository, releaseml)",
        "status": "print the public API's URL, key id and limits",
        "rotate_key": "make a new API key and delete the old one (shown once)",
        "delete": "delete the public API, its keys and usage plan (the endpoint stays)",
        **API_HELP,
        **{k: v for k, v in AWS_HELP.items() if k in ("config", "region", "quiet", "json_")},
    }
)
@_user_errors_exit
def api(c, name=None, status=False, rotate_key=False, delete=False, api_role=None, config=CONFIG, region=None, quiet=False, json_=False):
    """Make an endpoint callable by anyone with a key: a public HTTPS API (API Gateway) in front of it."""
    from releaseml.aws import workflows

    if sum((status, rotate_key, delete)) > 1:
        raise Exit("error: choose one of --status, --rotate-key and --delete", code=2)
    with _log_stream(quiet, json_):
        ctx = _aws_context(config, region=region, api_role=api_role)
        if delete:
            deleted = workflows.delete_public_api(ctx, name)
            result: dict = {"deleted": deleted}
            message = "Deleted:\n" + "\n".join(f"  {item}" for item in deleted)
        else:
            public = (
                workflows.public_api_of(ctx, name)
                if status
                else workflows.rotate_key(ctx, name)
                if rotate_key
                else workflows.publish(ctx, name)
            )
            result, message = public.as_dict(), "\n".join(_public_lines(public))
    print(cli.as_json(result) if json_ else message)


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
    from releaseml.local import runner as local

    local.demo(Path(config), Path(ml_root), cli.port(port), engine)
