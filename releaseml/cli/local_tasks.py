"""The tasks that work on this machine: train, tune --local, report, serve, predict, score, check, build.

Each task parses its arguments, calls the releaseml library and prints; a mistake is one line.
"""

from __future__ import annotations

from pathlib import Path

from invoke import Exit, task

from releaseml.cli.support import (
    AWS_HELP,
    CONFIG_HELP,
    ENGINE_HELP,
    IMAGE_HELP,
    ML_ROOT_HELP,
    RUN_HELP,
    aws_context,
    config_path,
    log_stream,
    path,
    resolve_ml_root,
    user_errors_exit,
)
from releaseml.common import arguments, defaults


@task(
    help={
        "config": CONFIG_HELP,
        "data": "training data: a CSV or Parquet file or a directory of them (default: `data:` in the config)",
        "validation": "optional validation data; replaces the random hold-out split",
        "ml_root": "train in this local /opt/ml instead of a new run (as SageMaker lays it out; e.g. test_dir)",
        "engine": ENGINE_HELP,
        "image": IMAGE_HELP,
        "verbose": "show every line of the training log (CatBoost's own lines, the metric lines SageMaker reads)",
        "quiet": "no training log, only the result",
        "json_": AWS_HELP["json_"],
    }
)
@user_errors_exit
def train_local(
    c, config=None, data=None, validation=None, ml_root=None, engine="auto", image=None, verbose=False, quiet=False, json_=False
):
    """Train a model on local data as a new run of the project; print its metrics and where its report is."""
    from releaseml.local import runner

    config = config_path(config)
    with log_stream(quiet, json_):
        print(f"Config: {config}", flush=True)
        outcome = runner.train(config, path(data), path(validation), path(ml_root), engine, image, verbose=verbose)
    if outcome.exit_code != 0:
        raise Exit(f"error: {outcome.failure or f'training exited with code {outcome.exit_code}'}", code=outcome.exit_code)
    if json_:
        print(arguments.as_json(outcome.summary()))
        return
    opens = f"`releaseml report --open --ml-root {ml_root}`" if ml_root else "`releaseml report --open`"
    print("")
    if outcome.run_id:
        print(f"Run {outcome.run_id} is now the latest (`releaseml runs` lists every run).")
    print("\n".join(_metric_lines(outcome.metrics)))
    if outcome.limits:
        print(f"Known limits ({len(outcome.limits)}; the report explains them):")
        print("\n".join(f"  - {limit}" for limit in outcome.limits))
    print(f"Model: {outcome.model_dir}")
    print(f"Report: {outcome.report or '-'}  ({opens} shows it)")


def _metric_lines(metrics: dict) -> list[str]:
    """Each split's metrics, rounded for people (metrics.json and --json keep every digit)."""
    names = {"validation": "Validation", "validation_std": "  (spread across folds)", "train": "Training rows"}
    lines = [
        f"{names[split]}: " + ", ".join(f"{name} {value:.4g}" for name, value in values.items() if isinstance(value, (int, float)))
        for split, values in metrics.items()
        if split in names and isinstance(values, dict)
    ]
    chosen = metrics.get("decision")
    if isinstance(chosen, dict) and "threshold" in chosen:  # the scores above are CatBoost's at 0.5; labels use the threshold
        lines.append(
            f"At the decision's threshold {chosen['threshold']:.3g} (what labels use): recall {chosen['recall']:.4g}, "
            f"precision {chosen['precision']:.4g}, {chosen['flagged_share']:.1%} of rows flagged; the lines above are at 0.5"
        )
    return lines


@task(
    help={
        "config": CONFIG_HELP + "; with a `tune:` section",
        "data": "training data, as for train-local and deploy (default: `data:` in the config)",
        "local": "tune on this machine with Optuna instead of a SageMaker tuning job",
        "validation": "--local: optional validation data; replaces the random hold-out split",
        "ml_root": "--local: train the best values into this /opt/ml instead of a new run",
        "engine": "--local: " + ENGINE_HELP,
        "image": f"image: --local's docker engine, or the one pushed to ECR (default {defaults.IMAGE})",
        "out": f"SageMaker: where to write the outcome naming the best training job (default {defaults.TUNING_OUTPUT})",
        "wait": "SageMaker: wait for the tuning job, showing its trials (--no-wait returns once it is created)",
        "attach": "SageMaker: follow a tuning job started before (by name) instead of starting one",
        "instance_type": "SageMaker: training instance type of each trial (default: aws.training_instance_type)",
        "spot": "SageMaker: trials on managed spot capacity (aws.spot)",
        "force": "SageMaker: start even when the data looks too large for the instance's memory",
        **{k: v for k, v in AWS_HELP.items() if k != "config"},
    }
)
@user_errors_exit
def tune(
    c,
    config=None,
    data=None,
    local=False,
    validation=None,
    ml_root=None,
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
    if validation or ml_root or engine != "auto":
        raise Exit(
            "error: --validation, --ml-root and --engine are for `releaseml tune --local`; on SageMaker, --data names all the data", code=1
        )
    from releaseml.aws import sagemaker_tuning, workflows
    from releaseml.common import progress

    progress.set_quiet(quiet)
    ctx = aws_context(config, region=region, role=role, bucket=bucket, training_instance_type=instance_type, spot=spot or None)
    seconds = arguments.seconds(timeout)
    if attach:
        outcome = sagemaker_tuning.attach(ctx.aws, attach, Path(out), seconds, reports=Path(defaults.REPORTS_DIR))
    else:
        outcome = workflows.tune(ctx, path(data), image or defaults.IMAGE, Path(out), wait, seconds, force=force)
    print(arguments.as_json(outcome) if json_ else "\n".join(outcome.said(Path(out))))


def _tune_here(config, data, validation, ml_root_, engine, image, quiet, json_) -> None:
    from releaseml.local import tuning

    with log_stream(quiet, json_):
        outcome = tuning.run(config_path(config), path(data), path(validation), path(ml_root_), engine, image)
    if json_:
        print(arguments.as_json(outcome.summary()))
        return
    defaults_value = f"{outcome.defaults:.6g}"
    print(f"\nBest: trial {outcome.best['trial']}, {outcome.objective} {outcome.best['value']:.6g} (the config as it is: {defaults_value})")
    if outcome.training.run_id:
        print(f"Run: {outcome.training.run_id}")
    print(f"Model: {outcome.training.model_dir}")
    print(f"Report: {outcome.training.report or '-'}; tuning page: {outcome.page}")


@task(
    help={
        "run": RUN_HELP,
        "ml_root": ML_ROOT_HELP,
        "reports": "instead: the newest report in this folder of reports that `releaseml deploy` downloaded (e.g. reports)",
        "open_": "open it in a web browser",
        "config": CONFIG_HELP,
    }
)
@user_errors_exit
def report(c, run=None, ml_root=None, reports=None, open_=False, config=None):
    """Print (or --open) a run's training report (the latest run's by default), or a SageMaker job's."""
    from releaseml.common.layout import MLPaths
    from releaseml.report import latest

    if reports:
        found = latest([Path(reports)])
    else:
        found = latest([MLPaths(resolve_ml_root(run, ml_root, config)).report])
    shown = found.resolve()
    if open_:
        import webbrowser

        if not webbrowser.open(shown.as_uri()):
            print(f"No web browser found here; open {shown.as_uri()} on a machine with one.")
            return
    print(shown)


@task(
    help={
        "run": RUN_HELP,
        "ml_root": ML_ROOT_HELP,
        "port": f"port to listen on (default {defaults.PORT})",
        "host": "address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 opens it to the network)",
        "engine": ENGINE_HELP,
        "image": IMAGE_HELP,
        "config": CONFIG_HELP,
    }
)
@user_errors_exit
def serve_local(c, run=None, ml_root=None, port=str(defaults.PORT), host=defaults.LOCAL_HOST, engine="auto", image=None, config=None):
    """Serve a run's model (the latest by default) on http://127.0.0.1:PORT until Ctrl-C (/ping, /invocations)."""
    from releaseml.local import runner

    root = resolve_ml_root(run, ml_root, config)
    print(f"Serving the model in {root}", flush=True)
    raise Exit(code=runner.serve(root, arguments.port(port), engine, image, host=host))


@task(
    help={
        "name": f"image name (default {defaults.IMAGE})",
        "base_image": f"base image with Python 3.10+ (default {defaults.BASE_IMAGE})",
    }
)
@user_errors_exit
def build(c, name=defaults.IMAGE, base_image=defaults.BASE_IMAGE):
    """Build the container image (the Dockerfile ships in the package) with the Docker engine."""
    from releaseml.image import build as image

    image_id = image.build(name, base_image)
    print(f"Built {name} ({image_id[:19]}).")


@task(
    help={
        "payload": "file to send: .csv, .json, .jsonl, or .parquet (sent as CSV with a header row)",
        "content_type": "text/csv, application/json or application/jsonlines (default: from the file extension)",
        "accept": "answer type, printed as the server sends it (default: CSV with a header row, rounded for people)",
        "url": f"model server (default {defaults.SERVER_URL})",
        "timeout": "seconds to wait for the answer (default 60)",
        "endpoint": "a SageMaker endpoint to call instead of the local server (requests signed by boto3)",
        "async_": "with --endpoint: an async endpoint (the payload goes through S3, up to 1 GB; waits for the answer)",
        "explain": "add the K strongest reasons (SHAP contributions) to each prediction",
        "json_": "print the answer as JSON with every digit (application/json): for scripts",
        **{key: AWS_HELP[key] for key in ("config", "region")},
    }
)
@user_errors_exit
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
    json_=False,
    config=None,
    region=None,
):
    """Send a payload to the model server (or a SageMaker endpoint) and print its predictions with column names."""
    from releaseml.serving import client

    reasons = arguments.reasons(explain)
    if async_ and not endpoint:
        raise Exit("error: --async calls a SageMaker async endpoint: add --endpoint NAME", code=2)
    if accept and json_:
        raise Exit("error: choose one of --accept and --json (--json is --accept application/json)", code=2)
    asked = "application/json" if json_ else accept or client.READABLE_ACCEPT
    if endpoint and async_:
        from releaseml.aws import workflows

        ctx = aws_context(config, region=region)
        answer = workflows.predict_async(ctx, endpoint, Path(payload), content_type, asked, arguments.seconds(timeout), explain=reasons)
    elif endpoint:
        from releaseml.aws import endpoints

        answer = endpoints.invoke(aws_context(config, region=region).aws, endpoint, Path(payload), content_type, asked, reasons)
    else:
        seconds = arguments.seconds(timeout) or 60
        answer = client.predict(Path(payload), content_type, asked, arguments.server_url(url), seconds, reasons)
    print(client.readable(answer) if asked == client.READABLE_ACCEPT else answer)


@task(
    help={
        "source": "what to score: a CSV file with a header row, a Parquet file, or a directory of them",
        "out": "where to write the scores: a .csv or .parquet file (default scored.csv)",
        "run": RUN_HELP,
        "ml_root": ML_ROOT_HELP,
        "keep": "input columns to copy into the output, comma-separated (default: all of them)",
        "explain": "add the K strongest reasons (SHAP contributions) to each row",
        "strict": "stop at the first row the model cannot use, instead of listing it in the rejects file",
        "config": CONFIG_HELP,
        "quiet": "no progress bar, only the summary",
        "json_": AWS_HELP["json_"],
    }
)
@user_errors_exit
def score(
    c, source, out="scored.csv", run=None, ml_root=None, keep=None, explain=None, strict=False, config=None, quiet=False, json_=False
):
    """Score a file into a file here: the input's columns, then prediction and one probability per class."""
    from releaseml.common import progress
    from releaseml.local import scoring

    progress.set_quiet(quiet)
    root = resolve_ml_root(run, ml_root, config)
    columns = [name.strip() for name in keep.split(",") if name.strip()] if keep else None
    model_dir = root / "model"
    summary = scoring.score_file(model_dir, Path(source), Path(out), columns, arguments.reasons(explain), strict)
    if json_:
        print(arguments.as_json({**summary.as_dict(), "model": str(model_dir)}))
        return
    print(f"Scored {summary.scored} of {summary.rows} rows with the model in {model_dir}: {summary.out}")
    if summary.rejects:
        print(f"{summary.rejected} row(s) the model cannot use are listed, with the reason, in {summary.rejects}")


@task(
    help={
        "data": "a scoring file (.csv, .json, .jsonl, .parquet) or a directory of them",
        "run": RUN_HELP,
        "ml_root": ML_ROOT_HELP,
        "job": "check against a SageMaker training job's model instead (downloaded once into .releaseml/models/)",
        "out": "where to write check.html and its figures (default check/)",
        "strict": "exit 1 on large drift too, not only on errors",
        **{k: v for k, v in AWS_HELP.items() if k in ("config", "region", "json_")},
    }
)
@user_errors_exit
def check_data(c, data, run=None, ml_root=None, job=None, out="check", strict=False, config=None, region=None, json_=False):
    """Check scoring data against the model before predicting: errors the server would answer, unseen categories, drift."""
    from releaseml.checking import data_check
    from releaseml.common.layout import MLPaths
    from releaseml.report import check_page

    if job:
        from releaseml.aws import workflows

        result = workflows.check_data(aws_context(config, region=region), Path(data), job)
    else:
        result = data_check.check(Path(data), MLPaths(resolve_ml_root(run, ml_root, config)).model_dir)
    page = check_page.write(Path(out), result)
    if json_:
        print(arguments.as_json({**result.as_dict(), "page": str(page)}))
    else:
        print(result.sentence())
        print(
            "\n".join([*(f"  error: {e}" for e in result.errors), *(f"  warning: {w}" for w in result.warnings)])
            or "  no errors, no warnings"
        )
        print(f"Page: {page}")
    if result.errors or (strict and result.large_drift):
        raise Exit(code=1)
