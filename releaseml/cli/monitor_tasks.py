"""The `monitor` task: a live model's captured traffic checked against its training.

Thin, like the other tasks: parse the flags, call `releaseml.checking.monitor`, write the page, print.
"""

from __future__ import annotations

from pathlib import Path

from invoke import task

from releaseml.cli.support import CONFIG_HELP, ML_ROOT_HELP, RUN_HELP, path, resolve_ml_root, user_errors_exit
from releaseml.common import arguments


@task(
    help={
        "captured": "SageMaker data-capture files (ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl): a local folder, or an s3:// prefix",
        "labels": "ground truth in SageMaker's merge format (a folder or an s3:// prefix), joined by inferenceId or eventId: live metrics",
        "region": "AWS region for s3:// paths (default: aws.region in the config, then the AWS session's)",
        "run": RUN_HELP,
        "ml_root": ML_ROOT_HELP,
        "since": "only requests since then: 7d, 24h, or an ISO date or time (2026-12-01, 2026-12-01T10:00Z); default: all captured",
        "out": "where to write monitor.html and its figures (default monitor/)",
        "json_": "print the result as one JSON document on stdout: for scripts",
        "config": CONFIG_HELP,
    }
)
@user_errors_exit
def monitor(c, captured, labels=None, run=None, ml_root=None, since=None, out="monitor", json_=False, config=None, region=None):
    """Check a live model's captured traffic against its training: refusals, drift per day, live metrics from ground truth."""
    from releaseml.checking import capture
    from releaseml.common.layout import MLPaths

    start = capture.since_time(since)
    captured, labels = (_local(value, config, region) if value else None for value in (captured, labels))
    events = capture.Captured(Path(captured), since=start)  # a wrong folder is named before pandas and CatBoost load
    model_dir = MLPaths(resolve_ml_root(run, ml_root, config)).model_dir
    from releaseml.checking import monitor as monitoring
    from releaseml.report import monitor_page

    result = monitoring.monitor(events, model_dir, labels=path(labels), since=start)
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


def _local(where: str, config, region) -> str:
    """A local folder as given; an s3:// prefix downloaded once into the project's .releaseml/capture/ (files kept by key)."""
    if not where.startswith("s3://"):
        return where
    import hashlib

    from releaseml.aws import storage
    from releaseml.cli.support import aws_context, config_path
    from releaseml.local import project

    folder = project.output_dir(config_path(config)) / "capture" / hashlib.sha256(where.encode()).hexdigest()[:16]
    files = storage.download_prefix(aws_context(config, region=region).aws, where, folder)
    print(f"Downloaded {len(files)} file(s) from {where} into {folder}")
    return str(folder)


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
