"""The `monitor` task: a live model's captured traffic checked against its training, here or on a schedule on AWS.

Thin, like the other tasks: parse the flags, call `releaseml.checking.monitor` (or, for --schedule and
--unschedule, `releaseml.aws.monitor_schedule`), write the page, print.
"""

from __future__ import annotations

from pathlib import Path

from invoke import Exit, task

from releaseml.cli.support import CONFIG_HELP, ML_ROOT_HELP, RUN_HELP, aws_context, log_stream, path, resolve_ml_root, user_errors_exit
from releaseml.common import arguments, defaults
from releaseml.common.errors import UserError


@task(
    help={
        "captured": "SageMaker data-capture files (ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl): a local folder, or an s3:// prefix "
        "(default with --endpoint: the endpoint's capture prefix)",
        "labels": "ground truth in SageMaker's merge format (a folder or an s3:// prefix), joined by inferenceId or eventId: live metrics",
        "endpoint": "check against the model this SageMaker endpoint serves (downloaded once into .releaseml/models/); with --schedule, "
        "the endpoint to monitor",
        "job": "check against this SageMaker training job's model (downloaded once into .releaseml/models/)",
        "region": "AWS region for s3:// paths, --endpoint and --job (default: aws.region in the config, then the AWS session's)",
        "run": RUN_HELP,
        "ml_root": ML_ROOT_HELP,
        "since": "only requests since then: 7d, 24h, or an ISO date or time (2026-12-01, 2026-12-01T10:00Z); default: all captured",
        "until": "only requests before then (the same forms; a --since like 7d then counts back from it); default: no end",
        "out": "where to write monitor.html and its figures (default monitor/)",
        "json_": "print the result as one JSON document on stdout: for scripts",
        "schedule": "daily or hourly: run this monitor on AWS by itself (a SageMaker Processing job started by EventBridge Scheduler): "
        "pages to S3, each column's drift as a CloudWatch metric, an alarm when one drifts; with --endpoint (and --labels s3://PREFIX)",
        "unschedule": "remove --endpoint's schedule, metric filters and drift alarm (`endpoint --delete` removes them too)",
        "schedule_role": "IAM role EventBridge Scheduler assumes to start the monitor, ARN or name (aws.schedule_role, "
        "RELEASEML_AWS_SCHEDULE_ROLE)",
        "image": f"with --schedule: local image to push to ECR for the monitoring job (default {defaults.IMAGE})",
        "config": CONFIG_HELP,
    }
)
@user_errors_exit
def monitor(
    c,
    captured=None,
    labels=None,
    endpoint=None,
    job=None,
    run=None,
    ml_root=None,
    since=None,
    until=None,
    out="monitor",
    json_=False,
    config=None,
    region=None,
    schedule=None,
    unschedule=False,
    schedule_role=None,
    image=defaults.IMAGE,
):
    """Check a live model's captured traffic against its training: refusals, drift per day, live metrics from ground truth; --schedule runs it on AWS."""
    if schedule or unschedule:
        _scheduled(
            schedule, unschedule, endpoint, labels, image, config, region, schedule_role, json_,
            {"--captured": captured, "--job": job, "--run": run, "--ml-root": ml_root, "--since": since, "--until": until},
        )  # fmt: skip
        return
    from releaseml.checking import capture

    with log_stream(False, json_):  # notes go to stderr with --json
        end = capture.since_time(until, flag="--until")
        start = capture.since_time(since, now=end)
        captured, model = _sources(captured, endpoint, job, run, ml_root, config, region)
        labels = _local(labels, config, region) if labels else None
        events = capture.Captured(Path(captured), since=start, until=end)  # a wrong folder is named before pandas and CatBoost load
        model_dir = model()
        from releaseml.checking import monitor as monitoring
        from releaseml.report import monitor_page

        result = monitoring.monitor(events, model_dir, labels=path(labels), since=start, until=end)
        page = monitor_page.write(Path(out), result)
    if json_:
        print(arguments.as_json({**result.as_dict(), "page": str(page)}))
        return
    print(result.sentence())
    print("\n".join(_period_lines(result)))
    print(
        "\n".join([*(f"  error: {e}" for e in result.errors), *(f"  warning: {w}" for w in result.warnings)]) or "  no errors, no warnings"
    )
    print(f"Page: {page}")


def _sources(captured, endpoint, job, run, ml_root, config, region):
    """Where the captured requests are (a local folder), and how to get the model's folder (called once they are found)."""
    named = [flag for flag, value in (("--endpoint", endpoint), ("--job", job), ("--run", run), ("--ml-root", ml_root)) if value]
    if len(named) > 1:
        raise UserError(
            f"give one of --endpoint, --job, --run and --ml-root, not {' and '.join(named)}: each names the model to check against"
        )
    if endpoint or job:
        from releaseml.aws import monitor_inputs
        from releaseml.local import project

        ctx = aws_context(config, region=region)
        cache = project.output_dir(ctx.config_path) / "models"
    if endpoint:
        served = monitor_inputs.served(ctx.aws, endpoint)
        if not captured:
            captured = served.captured_uri()
            print(f"Captured requests: {captured} (endpoint {endpoint}'s DataCaptureConfig)")
    if not captured:
        raise UserError(
            "say where the captured requests are: --captured PATH (a folder, or an s3:// prefix), "
            "or --endpoint NAME (the endpoint's own capture prefix)"
        )
    local = _local(captured, config, region)
    if endpoint:
        return local, lambda: monitor_inputs.endpoint_model(ctx.aws, served, cache)
    if job:
        return local, lambda: monitor_inputs.job_model(ctx.aws, job, cache)
    from releaseml.common.layout import MLPaths

    return local, lambda: MLPaths(resolve_ml_root(run, ml_root, config)).model_dir


def _local(where: str, config, region) -> str:
    """A local folder as given; an s3:// prefix downloaded once into the project's .releaseml/capture/ (files kept by key)."""
    if not where.startswith("s3://"):
        return where
    import hashlib

    from releaseml.aws import storage
    from releaseml.cli.support import config_path
    from releaseml.local import project

    folder = project.output_dir(config_path(config)) / "capture" / hashlib.sha256(where.encode()).hexdigest()[:16]
    files = storage.download_prefix(aws_context(config, region=region).aws, where, folder)
    print(f"Downloaded {len(files)} file(s) from {where} into {folder}")
    return str(folder)


def _scheduled(schedule, unschedule, endpoint, labels, image, config, region, schedule_role, json_, local_only: dict) -> None:
    """--schedule and --unschedule: the monitor on AWS, made or removed."""
    from releaseml.aws import monitor_schedule

    if schedule and unschedule:
        raise Exit("error: choose one of --schedule and --unschedule", code=2)
    flag = "--schedule" if schedule else "--unschedule"
    given = [name for name, value in local_only.items() if value]
    if given:
        raise UserError(
            f"{', '.join(given)}: not with {flag}; a scheduled monitor reads the endpoint's own model and capture prefix, "
            "one window per run (drop them, or run the monitor here without --schedule)"
        )
    if not endpoint:
        raise UserError(f"{flag} needs --endpoint NAME: the endpoint whose traffic is monitored (`releaseml models` lists them)")
    if schedule:
        monitor_schedule.every(schedule)  # a wrong period is named before AWS is asked anything
    with log_stream(False, json_):
        ctx = aws_context(config, region=region, schedule_role=schedule_role)
        if unschedule:
            removed = monitor_schedule.unschedule(ctx.aws, endpoint)
        else:
            made = monitor_schedule.schedule(ctx, endpoint, schedule, labels, image)
    if unschedule:
        lines = [f"Removed the monitor of endpoint {endpoint}:", *(f"  {item}" for item in removed)]
        print(arguments.as_json({"endpoint": endpoint, "removed": removed}) if json_ else "\n".join(lines))
        return
    print(arguments.as_json(made) if json_ else "\n".join(_schedule_lines(made)))


def _schedule_lines(made) -> list[str]:
    alarm_action = f"notifies {made.alarm_topic}" if made.alarm_topic else "notifies no one (set aws.drift_alarm_topic to an SNS topic ARN)"
    inputs = f"model {made.model_data}, capture {made.captured}" + (f", labels {made.labels}" if made.labels else "")
    return [
        f"{'Updated' if made.updated else 'Scheduled'} the monitor of endpoint {made.endpoint}: {made.when} "
        f"(schedule {made.schedule}, {made.expression}); next run {made.next_run}.",
        f"Each run: a SageMaker Processing job {made.job_name} with {made.image}: {inputs}.",
        f"Pages: {made.pages}<day>/monitor.html, with monitor.json beside it.",
        f"Metrics: {', '.join(made.metrics)}, from the job's log by metric filters {', '.join(made.filters)}.",
        f"Alarm: {made.alarm}, in ALARM when a run finds a drifted column; {alarm_action}.",
        "A window without requests is no failure: its run completes with Requests 0 (an alarm on Requests < 1 tells of a silent endpoint).",
        f"Remove it all with `releaseml monitor --unschedule --endpoint {made.endpoint}` (deleting the endpoint removes it too).",
    ]


def _period_lines(result) -> list[str]:
    """One line per period, for people: traffic, refusals, the most drifted column, the live metrics."""
    lines = []
    for period in result.periods:
        if not period.requests:
            lines.append(f"  {period.label}: no traffic")
            continue
        top = period.check.columns[0] if period.check and period.check.columns and period.check.columns[0].psi is not None else None
        drift = f", most drifted {top.name} (PSI {top.psi:.2f}{'' if period.judged else ', too few rows to judge'})" if top else ""
        scores = ", ".join(f"{name} {value:.4g}" for name, value in period.metrics.items())
        live = f", {scores} on {period.labelled} labelled rows" if scores else ""
        lines.append(f"  {period.label}: {period.requests} requests, {period.rows} rows, {period.refused} refused{drift}{live}")
    return lines
