"""A live model watched: `monitor --endpoint` on what an endpoint captured, and `monitor --schedule` running the
same monitor on AWS by itself, run as a user runs them (`invoke ...` in the session's deployed project).

One endpoint serves the session's `deployed` model with data capture at 100%. It is sent the penguins'
344 rows in eight requests, the last four with bill_length_mm moved 60 mm up (far beyond any penguin),
some with an InferenceId; the ground truth (the rows' species) goes to S3 in SageMaker's merge format,
each record keyed as SageMaker's merge keys it. The live accuracy is computed here by hand from those
labels and the answers the capture files hold.

moto keeps the schedule, the metric filters, the alarm and the metric data; `SageMakerPlayer` plays the
endpoint's container and its data capture, EventBridge Scheduler firing a schedule (`fire_schedule`),
the Processing job (the image's `monitor` in a container) and CloudWatch Logs' metric filters applied
to the job's log lines (sagemaker_player.py says how). Each test says which it uses.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone

import boto3
import numpy as np
import pandas as pd
import pytest

from aws_project import BUCKET, REPO, invoke, wait_for_processing
from emulator_settings import REGION, ROLE, SCHEDULE_ROLE

pytestmark = pytest.mark.aws

ENDPOINT = "mon-live"
SHIFT_MM = 60.0
SCHEDULE = f"releaseml-monitor-{ENDPOINT}"
LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


@pytest.fixture(scope="module")
def live(deployed, player):
    """The capturing endpoint, its traffic (half shifted), the ground truth in S3, and the accuracy by hand."""
    project, trained = deployed
    assert trained.returncode == 0, trained.stderr
    made = invoke(project, "endpoint", "--name", ENDPOINT, "--capture", "100")
    assert made.returncode == 0, made.stderr
    rows = pd.read_csv(REPO / "data/penguins.csv")
    runtime, bodies = boto3.client("sagemaker-runtime"), {}
    size = -(-len(rows) // 8)
    for number, chunk in enumerate(rows.iloc[start : start + size] for start in range(0, len(rows), size)):
        features = chunk.drop(columns="species")
        if number >= 4:
            features["bill_length_mm"] += SHIFT_MM
        body = features.to_csv(header=False, index=False)
        caller_id = {"InferenceId": f"caller-{number}"} if number % 2 else {}
        runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=body.encode(), ContentType="text/csv", Accept="text/csv", **caller_id)
        bodies[body] = chunk["species"].tolist()
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"releaseml/capture/{ENDPOINT}/")["Contents"]]
    events = [json.loads(line) for key in keys for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()]
    assert len(events) == 8
    truth, answered, labels = [], [], []
    for event in events:
        species = bodies[event["captureData"]["endpointInput"]["data"]]
        answer = [row[0] for row in csv.reader(io.StringIO(event["captureData"]["endpointOutput"]["data"])) if row]
        truth += species
        answered += answer
        key = event["eventMetadata"].get("inferenceId") or event["eventMetadata"]["eventId"]  # as SageMaker's merge joins
        record = {"groundTruthData": {"data": ",".join(species), "encoding": "CSV"}, "eventMetadata": {"eventId": key}, "eventVersion": "0"}
        labels.append(json.dumps(record))
    now = datetime.now(timezone.utc)
    s3.put_object(Bucket=BUCKET, Key=f"releaseml/ground-truth/{ENDPOINT}/{now:%Y/%m/%d/%H}/labels.jsonl", Body="\n".join(labels) + "\n")
    days = {event["eventMetadata"]["inferenceTime"][:10] for event in events}
    assert len(days) == 1, days  # the traffic of one UTC day, which a daily run checks whole
    sagemaker = boto3.client("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])["PrimaryContainer"]
    yield {
        "project": project,
        "labels": f"s3://{BUCKET}/releaseml/ground-truth/{ENDPOINT}",
        "accuracy": float(np.mean(np.array(truth) == np.array(answered))),
        "rows": len(truth),
        "day": datetime.fromisoformat(days.pop()).replace(tzinfo=timezone.utc),
        "model": model,
    }
    if ENDPOINT in [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]:  # the last test deletes it
        deleted = invoke(project, "endpoint", "--name", ENDPOINT, "--delete")
        assert deleted.returncode == 0, deleted.stderr


def test_monitor_on_an_endpoint_names_the_shifted_column_and_the_live_accuracy_by_hand(live):
    """Played: the endpoint's container and its data capture; the monitor runs here, on the model the endpoint
    serves and the capture files, both found from the endpoint's name and downloaded (and, the same, on the
    training job's model by --job with --captured)."""
    shown = invoke(live["project"], "monitor", "--endpoint", ENDPOINT, "--labels", live["labels"], "--json")
    assert shown.returncode == 0, shown.stderr
    assert f"Captured requests: s3://{BUCKET}/releaseml/capture/{ENDPOINT}/ (endpoint {ENDPOINT}'s DataCaptureConfig)" in shown.stderr
    report = json.loads(shown.stdout)
    assert list(report["drifted"]) == ["bill_length_mm"] and report["drifted"]["bill_length_mm"]["drift"] == "large"
    assert report["requests"] == 8 and report["rows"] == report["labelled_rows"] == live["rows"] == 344
    assert report["metrics"]["accuracy"] == pytest.approx(live["accuracy"], abs=1e-12)
    assert ".releaseml/models/endpoint-" in report["model"]  # the served model.tar.gz, unpacked once
    job = json.loads((live["project"] / "training_output.json").read_text())["job_name"]
    by_job = invoke(live["project"], "monitor", "--job", job, "--captured", f"s3://{BUCKET}/releaseml/capture/{ENDPOINT}", "--labels", live["labels"], "--json")  # fmt: skip
    assert by_job.returncode == 0, by_job.stderr
    assert {k: json.loads(by_job.stdout)[k] for k in ("drifted", "metrics", "rows")} == {
        k: report[k] for k in ("drifted", "metrics", "rows")
    }


def test_a_scheduled_monitor_runs_as_a_processing_job_and_leaves_pages_metrics_and_an_alarm(live, player, built_image):
    """Played: EventBridge Scheduler firing the schedule (its role checked, the context attributes filled in,
    CreateProcessingJob sent), the Processing job (inputs downloaded, the image's `monitor` run, its log
    streamed to CloudWatch Logs, its output uploaded) and the metric filters applied to the job's log lines."""
    project, labels = live["project"], live["labels"]
    made = invoke(project, "monitor", "--schedule", "daily", "--endpoint", ENDPOINT, "--labels", labels, "--schedule-role", SCHEDULE_ROLE, image=built_image)  # fmt: skip
    assert made.returncode == 0, made.stderr
    said = made.stdout
    assert f"Scheduled the monitor of endpoint {ENDPOINT}: every day at 00:30 UTC, on the day before (schedule {SCHEDULE}" in said
    assert f"Pages: s3://{BUCKET}/releaseml/monitor/{ENDPOINT}/<day>/monitor.html" in said and f"Alarm: releaseml-{ENDPOINT}-drift" in said
    assert (
        "releaseml/Monitor PSI (Endpoint, Column), releaseml/Monitor DriftedColumns (Endpoint), releaseml/Monitor Requests (Endpoint)"
        in said
    )
    assert "A window without requests is no failure: its run completes with Requests 0" in said

    schedule = boto3.client("scheduler").get_schedule(Name=SCHEDULE)
    assert schedule["ScheduleExpression"] == "cron(30 0 * * ? *)" and schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"} and schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert target["Arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob" and target["RoleArn"] == SCHEDULE_ROLE
    request = json.loads(target["Input"])
    assert request["ProcessingJobName"] == f"{ENDPOINT}-monitor-<aws.scheduler.execution-id>"
    assert request["AppSpecification"] == {
        "ImageUri": live["model"]["Image"],
        "ContainerArguments": ["monitor"],
    }  # pushed as deploy pushed it
    assert request["Environment"] == {
        "RELEASEML_MONITOR_ENDPOINT": ENDPOINT,
        "RELEASEML_MONITOR_WINDOW": "1d",
        "RELEASEML_MONITOR_WINDOW_END": "<aws.scheduler.scheduled-time>",
    }
    inputs = {item["InputName"]: item["S3Input"] for item in request["ProcessingInputs"]}
    assert {name: each["S3Uri"] for name, each in inputs.items()} == {
        "model": live["model"]["ModelDataUrl"],
        "captured": f"s3://{BUCKET}/releaseml/capture/{ENDPOINT}/",
        "labels": labels + "/",
    }
    for name, each in inputs.items():
        assert (
            each["LocalPath"] == f"/opt/ml/processing/input/{name}" and each["S3DataType"] == "S3Prefix" and each["S3InputMode"] == "File"
        )
    (output,) = request["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"] == {
        "S3Uri": f"s3://{BUCKET}/releaseml/monitor/{ENDPOINT}/",
        "LocalPath": "/opt/ml/processing/output",
        "S3UploadMode": "EndOfJob",
    }
    assert request["RoleArn"] == ROLE and request["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert request["ProcessingResources"] == {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}}

    scheduled = live["day"] + timedelta(days=1, minutes=30)  # the next day's 00:30 run checks the day of the traffic
    player.fire_schedule(SCHEDULE, scheduled)
    sent = player.fired[-1]["parameters"]
    assert re.fullmatch(rf"{ENDPOINT}-monitor-[a-z0-9]{{16}}", sent["ProcessingJobName"])
    assert sent["Environment"]["RELEASEML_MONITOR_WINDOW_END"] == scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
    job = wait_for_processing(sent["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert "1 column(s) drifted: bill_length_mm (large" in job["ExitMessage"] and "FailureReason" not in job
    assert job["ProcessingResources"] == request["ProcessingResources"]

    s3, day = boto3.client("s3"), f"{live['day']:%Y-%m-%d}"
    prefix = f"releaseml/monitor/{ENDPOINT}/{day}/"
    keys = {o["Key"].removeprefix(prefix) for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]}
    assert {"monitor.html", "monitor.json"} <= keys and any(key.startswith("figures/") and key.endswith(".png") for key in keys)
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "monitor.json")["Body"].read())
    assert list(report["drifted"]) == ["bill_length_mm"] and report["endpoint"] == ENDPOINT
    assert report["metrics"]["accuracy"] == pytest.approx(live["accuracy"], abs=1e-12) and report["rows"] == live["rows"]
    assert report["since"] == live["day"].isoformat() and report["until"] == (live["day"] + timedelta(days=1)).isoformat()

    logs = boto3.client("logs")
    (stream,) = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=sent["ProcessingJobName"] + "/algo-1-")["logStreams"]
    lines = [e["message"] for e in logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"])["events"]]
    summary = json.loads(next(line for line in lines if '"drifted_columns"' in line))
    assert summary["drifted_columns"] == 1 and summary["live_accuracy"] == pytest.approx(live["accuracy"], abs=1e-6)

    filters = {f["filterName"]: f for f in logs.describe_metric_filters(logGroupName=LOG_GROUP, filterNamePrefix=SCHEDULE)["metricFilters"]}
    assert set(filters) == {f"{SCHEDULE}-psi", f"{SCHEDULE}-drifted-columns", f"{SCHEDULE}-requests"}
    assert filters[f"{SCHEDULE}-psi"]["filterPattern"] == f'{{ $.releaseml_monitor = "{ENDPOINT}" && $.psi = * }}'
    (psi,) = filters[f"{SCHEDULE}-psi"]["metricTransformations"]
    assert psi["metricValue"] == "$.psi" and psi["dimensions"] == {"Endpoint": "$.releaseml_monitor", "Column": "$.column"}

    cloudwatch, window = boto3.client("cloudwatch"), {"StartTime": datetime.now(timezone.utc) - timedelta(hours=1)}
    window.update(EndTime=datetime.now(timezone.utc) + timedelta(minutes=5), Period=60, Statistics=["Maximum"])

    def highest(metric: str, **dimensions: str) -> float:
        named = [{"Name": key, "Value": value} for key, value in dimensions.items()]
        points = cloudwatch.get_metric_statistics(Namespace="releaseml/Monitor", MetricName=metric, Dimensions=named, **window)[
            "Datapoints"
        ]
        return max(point["Maximum"] for point in points)

    column_psi = next(c["psi"] for c in report["columns"] if c["name"] == "bill_length_mm")
    assert highest("DriftedColumns", Endpoint=ENDPOINT) == 1.0 and highest("Requests", Endpoint=ENDPOINT) == 8.0
    assert highest("PSI", Endpoint=ENDPOINT, Column="bill_length_mm") == pytest.approx(column_psi, abs=1e-4)
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[f"releaseml-{ENDPOINT}-drift"])["MetricAlarms"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
        "releaseml/Monitor",
        "DriftedColumns",
        [{"Name": "Endpoint", "Value": ENDPOINT}],
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Period"]) == ("GreaterThanOrEqualToThreshold", 1.0, 86400)
    assert alarm["AlarmActions"] == [] and alarm["TreatMissingData"] == "notBreaching"


def test_a_scheduled_run_on_a_quiet_day_completes_with_requests_0_in_cloudwatch(live, player, built_image):
    """Played: Scheduler firing the schedule for the day before the traffic (no capture file of that day), the
    Processing job and the metric filters. A quiet day is news, not a failure: the job completes, says so in its
    ExitMessage and monitor.json, and the Requests metric gets a 0 that an alarm on low traffic can read."""
    project = live["project"]
    made = invoke(project, "monitor", "--schedule", "daily", "--endpoint", ENDPOINT, "--schedule-role", SCHEDULE_ROLE, image=built_image)
    assert made.returncode == 0, made.stderr
    quiet_day = live["day"] - timedelta(days=1)
    player.fire_schedule(SCHEDULE, live["day"] + timedelta(minutes=30))  # checks the day before the traffic's
    name = player.fired[-1]["parameters"]["ProcessingJobName"]
    job = wait_for_processing(name)
    assert job["ProcessingJobStatus"] == "Completed" and "FailureReason" not in job, job.get("FailureReason")
    sentence = (
        f"No traffic: no captured requests from {quiet_day:%Y-%m-%d} 00:00 until {live['day']:%Y-%m-%d} 00:00 UTC "
        "under /opt/ml/processing/input/captured."
    )
    assert job["ExitMessage"].strip() == sentence

    s3, prefix = boto3.client("s3"), f"releaseml/monitor/{ENDPOINT}/{quiet_day:%Y-%m-%d}/"
    assert {o["Key"].removeprefix(prefix) for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]} == {
        "monitor.html",
        "monitor.json",
    }
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "monitor.json")["Body"].read())
    assert (report["requests"], report["rows"], report["drifted"], report["summary"]) == (0, 0, {}, sentence)
    assert report["since"] == quiet_day.isoformat() and report["until"] == live["day"].isoformat()

    logs = boto3.client("logs")
    (stream,) = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=name + "/algo-1-")["logStreams"]
    lines = [e["message"] for e in logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"])["events"]]
    (summary,) = [json.loads(line) for line in lines if line.startswith('{"releaseml_monitor"')]
    assert (summary["requests"], summary["drifted_columns"], summary["rows"]) == (0, 0, 0)

    points = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="releaseml/Monitor",
        MetricName="Requests",
        Dimensions=[{"Name": "Endpoint", "Value": ENDPOINT}],
        StartTime=datetime.now(timezone.utc) - timedelta(hours=1),
        EndTime=datetime.now(timezone.utc) + timedelta(minutes=5),
        Period=60,
        Statistics=["Minimum"],
    )["Datapoints"]
    assert min(point["Minimum"] for point in points) == 0.0  # only this run's summary line says 0 requests


def test_scheduling_again_updates_and_unschedule_removes_the_schedule_filters_and_alarm(live, built_image):
    """Played: nothing but the pushes to the registry: the schedule, the metric filters and the alarm are moto's."""
    project = live["project"]
    scheduler = boto3.client("scheduler")
    existed = SCHEDULE in [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
    again = invoke(project, "monitor", "--schedule", "hourly", "--endpoint", ENDPOINT, "--schedule-role", SCHEDULE_ROLE, image=built_image)
    assert again.returncode == 0, again.stderr
    assert f"{'Updated' if existed else 'Scheduled'} the monitor of endpoint {ENDPOINT}: every hour at 15 minutes past" in again.stdout
    schedule = scheduler.get_schedule(Name=SCHEDULE)
    request = json.loads(schedule["Target"]["Input"])
    assert schedule["ScheduleExpression"] == "cron(15 * * * ? *)" and request["Environment"]["RELEASEML_MONITOR_WINDOW"] == "1h"
    assert [item["InputName"] for item in request["ProcessingInputs"]] == ["model", "captured"]  # no --labels this time

    gone = invoke(project, "monitor", "--unschedule", "--endpoint", ENDPOINT)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.splitlines() == [
        f"Removed the monitor of endpoint {ENDPOINT}:",
        f"  schedule {SCHEDULE}",
        f"  metric filter {SCHEDULE}-psi (on {LOG_GROUP})",
        f"  metric filter {SCHEDULE}-drifted-columns (on {LOG_GROUP})",
        f"  metric filter {SCHEDULE}-requests (on {LOG_GROUP})",
        f"  alarm releaseml-{ENDPOINT}-drift",
    ]
    assert SCHEDULE not in [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
    assert boto3.client("logs").describe_metric_filters(logGroupName=LOG_GROUP, filterNamePrefix=SCHEDULE)["metricFilters"] == []
    assert boto3.client("cloudwatch").describe_alarms(AlarmNames=[f"releaseml-{ENDPOINT}-drift"])["MetricAlarms"] == []


def test_monitor_mistakes_get_one_clear_message_each(live, player):
    """Played: the container of an endpoint made here without capture (it need not be in service to be refused).
    Nothing is scheduled, pushed or started by any of these."""
    project = live["project"]
    schedules, jobs = len(boto3.client("scheduler").list_schedules()["Schedules"]), len(player.processing_requests)

    def refused(result, *fragments: str) -> None:
        assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr, (result.stdout, result.stderr)
        assert result.stderr.startswith("error: ") and all(f in result.stderr for f in fragments), result.stderr

    role = ("--schedule-role", SCHEDULE_ROLE)
    refused(
        invoke(project, "monitor", "--schedule", "weekly", "--endpoint", ENDPOINT, *role),
        "--schedule 'weekly': the monitor runs daily or hourly (`releaseml monitor --schedule daily --endpoint NAME`)",
    )
    refused(
        invoke(project, "monitor", "--schedule", "daily", *role),
        "--schedule needs --endpoint NAME: the endpoint whose traffic is monitored",
    )
    refused(
        invoke(project, "monitor", "--schedule", "daily", "--endpoint", "mon-nowhere", *role),
        f"no endpoint 'mon-nowhere' in {REGION} to monitor: check the name and the region",
    )
    refused(
        invoke(project, "monitor", "--schedule", "daily", "--endpoint", ENDPOINT),
        "no role for EventBridge Scheduler",
        "RELEASEML_AWS_SCHEDULE_ROLE, or --schedule-role",
        "trusts scheduler.amazonaws.com",
    )
    refused(
        invoke(project, "monitor", "--schedule", "daily", "--endpoint", ENDPOINT, "--schedule-role", ROLE),
        "role 'releaseml-test' does not trust scheduler.amazonaws.com",
        "aws.schedule_role",
    )
    refused(
        invoke(project, "monitor", "--schedule", "daily", "--endpoint", ENDPOINT, "--labels", "labels/", *role),
        "--labels labels/: a scheduled monitor reads ground truth where the Processing job can, in S3",
    )
    refused(
        invoke(project, "monitor", "--unschedule", "--endpoint", "mon-nowhere"),
        "endpoint mon-nowhere has no monitoring schedule, metric filters or drift alarm",
        "nothing to remove (`releaseml monitor --schedule daily --endpoint mon-nowhere` makes them)",
    )

    sagemaker = boto3.client("sagemaker")  # an endpoint without capture, made as `endpoint` without --capture makes one
    sagemaker.create_model(ModelName="mon-plain", PrimaryContainer=live["model"], ExecutionRoleArn=ROLE)
    variant = {"VariantName": "AllTraffic", "ModelName": "mon-plain", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(EndpointConfigName="mon-plain", ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName="mon-plain", EndpointConfigName="mon-plain")
    try:
        capture_off = "endpoint mon-plain does not capture its requests, so there is nothing to monitor: "
        turn_on = "`releaseml endpoint --name mon-plain --capture 20` captures 20% of them"
        refused(invoke(project, "monitor", "--schedule", "daily", "--endpoint", "mon-plain", *role), capture_off, turn_on)
        refused(invoke(project, "monitor", "--endpoint", "mon-plain"), capture_off, turn_on)
    finally:
        sagemaker.delete_endpoint(EndpointName="mon-plain")
        sagemaker.delete_endpoint_config(EndpointConfigName="mon-plain")
        sagemaker.delete_model(ModelName="mon-plain")
    assert len(boto3.client("scheduler").list_schedules()["Schedules"]) == schedules and len(player.processing_requests) == jobs


def test_deleting_a_scheduled_endpoint_removes_its_monitor_and_says_so(live, built_image):
    """Played: the endpoint's container (stopped by DeleteEndpoint); the schedule, filters and alarm are moto's.
    Left behind, the schedule would start a job against a deleted endpoint every day."""
    project = live["project"]
    made = invoke(project, "monitor", "--schedule", "daily", "--endpoint", ENDPOINT, "--schedule-role", SCHEDULE_ROLE, image=built_image)
    assert made.returncode == 0, made.stderr
    deleted = invoke(project, "endpoint", "--name", ENDPOINT, "--delete")
    assert deleted.returncode == 0, deleted.stderr
    said = deleted.stdout.splitlines()
    assert said[:6] == [
        f"Deleted endpoint {ENDPOINT} and what hung on it:",
        f"  schedule {SCHEDULE}",
        f"  metric filter {SCHEDULE}-psi (on {LOG_GROUP})",
        f"  metric filter {SCHEDULE}-drifted-columns (on {LOG_GROUP})",
        f"  metric filter {SCHEDULE}-requests (on {LOG_GROUP})",
        f"  alarm releaseml-{ENDPOINT}-drift",
    ]
    assert f"  endpoint {ENDPOINT}" in said
    assert SCHEDULE not in [s["Name"] for s in boto3.client("scheduler").list_schedules()["Schedules"]]
    assert boto3.client("logs").describe_metric_filters(logGroupName=LOG_GROUP, filterNamePrefix=SCHEDULE)["metricFilters"] == []
    assert boto3.client("cloudwatch").describe_alarms(AlarmNames=[f"releaseml-{ENDPOINT}-drift"])["MetricAlarms"] == []
    assert ENDPOINT not in [e["EndpointName"] for e in boto3.client("sagemaker").list_endpoints()["Endpoints"]]
