"""The tasks that work on AWS: train on SageMaker, follow a job, batch-predict, endpoints, public APIs.

Each task parses its arguments, calls releaseml.aws and prints; a mistake is one line. Nothing
about an AWS account is hardcoded: the config's `aws:` section, RELEASEML_AWS_* and the flags
say it, and the AWS session fills in the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

from invoke import Exit, task

from releaseml.cli.support import AWS_HELP, aws_context, log_stream, path, user_errors_exit
from releaseml.common import arguments, defaults


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
@user_errors_exit
def deploy(
    c,
    data=None,
    out=defaults.TRAINING_OUTPUT,
    wait=True,
    timeout=None,
    config=None,
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
    ctx = aws_context(
        config,
        region=region,
        role=role,
        bucket=bucket,
        training_instance_type=instance_type,
        training_instance_count=instance_count,
        spot=spot or None,  # no --spot: the config's (or RELEASEML_AWS_SPOT's) choice
        max_wait_seconds=max_wait,
    )
    outcome = workflows.deploy(ctx, path(data), image, Path(out), wait, arguments.seconds(timeout), force=force)
    registered = workflows.register_version(ctx, outcome.job_name) if outcome.status == "Completed" else None
    _print_training_outcome(outcome, json_, registered)
    if not json_:
        print(f"Outcome written to {out} and {Path(out).with_suffix('.json')}")
        if outcome.status == "InProgress":
            print(f"The job goes on; `releaseml logs {outcome.job_name}` follows it to the end (and registers its model).")


def _version_line(registered) -> str:
    return (
        f"Model version {registered.number} of {registered.group}: {registered.status} "
        f"(`releaseml promote --version {registered.number} --endpoint NAME` puts it in service when it beats the one there)"
    )


def _print_training_outcome(outcome, json_: bool, registered=None) -> None:
    if json_:
        found = json.loads(arguments.as_json(outcome))
        if registered is not None:
            found["model_version"] = registered.as_dict()
        print(json.dumps(found, indent=2))
        return
    print(
        f"Training job {outcome.job_name}: {outcome.status}"
        + "".join(f"\n  {name} = {value:.6g}" for name, value in sorted(outcome.metrics.items()))
    )
    if outcome.report:
        print(f"Report: {outcome.report}")
    if outcome.spot_savings:
        print(f"Spot: {outcome.spot_savings}")
    if registered is not None:
        print(_version_line(registered))


@task(
    help={
        "job": "training job name",
        "out": "write the outcome here too (text, and .json beside it)",
        **{k: AWS_HELP[k] for k in ("timeout", "config", "region", "quiet", "json_")},
    }
)
@user_errors_exit
def logs(c, job, out=None, timeout=None, config=None, region=None, quiet=False, json_=False):
    """Attach to a SageMaker training job: stream its log until it ends, fetch its report, print its outcome."""
    from releaseml.aws import sagemaker_training, workflows
    from releaseml.common import progress

    progress.set_quiet(quiet)
    ctx = aws_context(config, region=region)
    outcome = sagemaker_training.attach(ctx.aws, job, path(out), arguments.seconds(timeout), reports=Path(defaults.REPORTS_DIR))
    registered = workflows.register_version(ctx, outcome.job_name, once=True) if outcome.status == "Completed" else None
    _print_training_outcome(outcome, json_, registered)


@task(
    help={
        "data": "what to predict: a CSV file without header row, a JSON Lines or Parquet file, or a directory of them (default data/predict)",
        "job": "training job whose model predicts (default: the one in --from)",
        "from_": f"outcome file written by `releaseml deploy` (default {defaults.TRAINING_OUTPUT}) or `releaseml tune` ({defaults.TUNING_OUTPUT})",
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
@user_errors_exit
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
    config=None,
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
    ctx = aws_context(
        config, region=region, role=role, bucket=bucket, transform_instance_type=instance_type, transform_instance_count=instance_count
    )
    if attach:
        outcome = transform.attach(ctx.aws, attach, Path(out), arguments.seconds(timeout))
    else:
        job = job or sagemaker_training.job_from_outcome_file(Path(from_))
        outcome = workflows.batch_predict(
            ctx,
            Path(data),
            job,
            Path(out),
            join,
            arguments.seconds(timeout),
            explain=arguments.reasons(explain),
            check=check,
            strict=strict,
        )
    if json_:
        print(arguments.as_json(outcome))
        return
    print(f"Batch transform {outcome.job_name}: {outcome.status}; predictions in:")
    print("\n".join(f"  {path}" for path in outcome.files))


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
        "from_": f"outcome file written by `releaseml deploy` (default {defaults.TRAINING_OUTPUT}) or `releaseml tune` ({defaults.TUNING_OUTPUT})",
        "delete": "delete the endpoint and all that hangs on it (monitor schedule, public API, keys, usage plan, autoscaling, config)",
        "status": "print the endpoint's status instead",
        "public": "also make a public HTTPS API with an API key, callable with curl (prints the URL and the key once)",
        "instance_type": "endpoint instance type (default: aws.endpoint_instance_type, ml.m5.large)",
        "version": "serve this registered model version instead of a job's model (`releaseml models` lists them)",
        "capture": "capture this percentage of requests and answers to S3 (aws.capture_prefix; 0 turns it off; default: as before)",
        **ENDPOINT_KIND_HELP,
        **API_HELP,
        **{k: v for k, v in AWS_HELP.items() if k != "bucket"},
    },
)
@user_errors_exit
def endpoint(
    c,
    name=None,
    job=None,
    from_=defaults.TRAINING_OUTPUT,
    version=None,
    capture=None,
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
    config=None,
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
    with log_stream(quiet, json_):
        ctx = aws_context(
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
            number = _whole(version, "--version", 1)
            if number is not None and job:
                raise Exit("error: choose one of --version and --job (a registered version, or a training job's model)", code=2)
            job = job or (None if number is not None else sagemaker_training.job_from_outcome_file(Path(from_)))
            outcome = workflows.create_endpoint(
                ctx, job, name, public, timeout=arguments.seconds(timeout), version=number, capture=_whole(capture, "--capture", 0)
            )
            result, message = outcome.as_dict(), _endpoint_message(outcome)
    print(arguments.as_json(result) if json_ else message)


def _endpoint_message(outcome) -> str:
    how = "`releaseml predict PAYLOAD --endpoint {0}" + (" --async`" if outcome.kind == "async" else "`")
    lines = [f"Endpoint {outcome.name} ({outcome.kind}): {outcome.status}. Call it with {how.format(outcome.name)}."]
    if outcome.version is not None:
        lines.append(f"Serves model version {outcome.version}.")
    if outcome.capture:
        from releaseml.aws import capture

        lines.append(capture.describe(outcome.capture, outcome.name))
    if outcome.reason:
        lines.append(f"Failure: {outcome.reason}")
    if outcome.scaling:
        scaling = outcome.scaling
        aim = f", aiming at {scaling['target']:g} {scaling['metric']}" if "target" in scaling else ""
        lines.append(f"Autoscaling: {scaling['min_instances']} to {scaling['max_instances']} instances{aim}.")
    if outcome.public:
        lines += _public_lines(outcome.public)
    if outcome.monitor:
        lines.append(_monitor_line(outcome.monitor))
    lines.append(f"Delete it with `releaseml endpoint --delete --name {outcome.name}`.")
    return "\n".join(lines)


def _monitor_line(followed) -> str:
    return f"Monitor schedule {followed.schedule} now checks against the model it serves, {followed.model_data} (was {followed.was})."


def _public_lines(public) -> list[str]:
    lines = [f"Public URL: {public.url}"]
    if public.key:
        lines += [
            f"API key (shown once; `releaseml api --rotate-key` makes a new one): {public.key}",
            f'  curl -H "x-api-key: $KEY" -H "Content-Type: text/csv" --data-binary @rows.csv {public.url}',
        ]
    else:
        lines.append("API key: as made before (`releaseml api --rotate-key` replaces it, if it is lost)")
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
@user_errors_exit
def api(c, name=None, status=False, rotate_key=False, delete=False, api_role=None, config=None, region=None, quiet=False, json_=False):
    """Make an endpoint callable by anyone with a key: a public HTTPS API (API Gateway) in front of it."""
    from releaseml.aws import workflows

    if sum((status, rotate_key, delete)) > 1:
        raise Exit("error: choose one of --status, --rotate-key and --delete", code=2)
    with log_stream(quiet, json_):
        ctx = aws_context(config, region=region, api_role=api_role)
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
    print(arguments.as_json(result) if json_ else message)


def _whole(value, flag: str, low: int):
    """A flag's whole number (at least `low`), or None when not given."""
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise Exit(f"error: {flag} {value!r}: give a whole number, e.g. {flag} {max(low, 1)}", code=1) from None
    if number < low:
        raise Exit(f"error: {flag} {value!r}: give a whole number of at least {low}", code=1)
    return number


@task(help={k: v for k, v in AWS_HELP.items() if k in ("config", "region", "quiet", "json_")})
@user_errors_exit
def models(c, config=None, region=None, quiet=False, json_=False):
    """List the registered model versions (one per deploy): metrics, approval status, and which endpoint serves which."""
    from releaseml.aws import workflows

    with log_stream(quiet, json_):
        ctx = aws_context(config, region=region)
        group, found = workflows.list_versions(ctx)
    if json_:
        print(arguments.as_json({"group": group, "region": ctx.aws.region, "versions": [v.as_dict() for v in found]}))
        return
    if not found:
        print(f"Model group {group} ({ctx.aws.region}) has no versions yet: every `releaseml deploy` registers one.")
        return
    print(f"Model group {group} ({ctx.aws.region}): {len(found)} version(s), newest last")
    for each in found:
        scores = ", ".join(
            f"{name.split(':', 1)[1]} {value:.4g}" for name, value in sorted(each.metrics.items()) if name.startswith("validation:")
        )
        served = f"; serves {', '.join(each.endpoints)}" if each.endpoints else ""
        print(f"  {each.number:>3}  {each.status:<21}  {each.training_job or '-'}  {scores or '(no validation metrics)'}{served}")


@task(
    help={
        "endpoint": "the endpoint whose model (the champion) the challenger must beat",
        "version": "the challenger: a registered version (default: the newest)",
        "data": "rows with the target column to compare on (default: the challenger's own validation rows, made again from its data in S3)",
        "force": "skip the comparison: approve and deploy the challenger as it is",
        "shadow": "deploy the challenger as a shadow variant beside the champion instead: it gets a copy of each request, answers nobody",
        **{k: v for k, v in AWS_HELP.items() if k != "bucket"},
    }
)
@user_errors_exit
def promote(
    c,
    endpoint,
    version=None,
    data=None,
    force=False,
    shadow=False,
    timeout=None,
    config=None,
    region=None,
    role=None,
    quiet=False,
    json_=False,
):
    """Put a model version in service if it beats the endpoint's: both scored on the same rows, the gain beyond noise; blue/green, with alarms that roll it back."""
    from releaseml.aws import workflows

    if force and shadow:
        raise Exit("error: choose one of --force and --shadow (a shadow variant needs no gate)", code=2)
    with log_stream(quiet, json_):
        ctx = aws_context(config, region=region, role=role)
        outcome = workflows.promote(ctx, endpoint, _whole(version, "--version", 1), path(data), force, shadow, arguments.seconds(timeout))
    if json_:
        print(arguments.as_json(outcome))
        return
    if outcome.status == "shadow":
        print(
            f"Endpoint {endpoint} serves version {outcome.champion}, with version {outcome.challenger} beside it as a shadow variant "
            f"(a copy of every request; its answers go to nobody). Promote it for real with "
            f"`releaseml promote --version {outcome.challenger} --endpoint {endpoint}`."
        )
        return
    compared = outcome.comparison
    how = (
        f"{compared['metric']} {compared['challenger']:.4g} against {compared['champion']:.4g} on {compared['rows']} rows, "
        f"95% interval of the difference [{compared['low']:+.4g}, {compared['high']:+.4g}]"
        if compared
        else "not compared (--force)"
    )
    print(f"Version {outcome.challenger} approved: {how}.")
    routing = (outcome.deployment or {}).get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
    print(
        f"Endpoint {endpoint} now serves version {outcome.challenger} (config {outcome.endpoint_config}; it was version {outcome.champion}), "
        + (f"shifted {routing['Type']} with alarms {', '.join(outcome.alarms)} watching." if routing else "updated.")
    )
    if outcome.monitor:
        print(_monitor_line(outcome.monitor))
