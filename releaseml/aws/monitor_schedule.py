"""`releaseml monitor --schedule`: the monitor run on AWS, daily or hourly, with nothing of ours in between.

EventBridge Scheduler calls SageMaker's CreateProcessingJob itself (a universal target) with a request
made here once: the image's `monitor` entry point (`releaseml.job.monitoring_job`) on the model the
endpoint serves, its capture prefix and, if given, the ground truth; the page and monitor.json land in
s3://BUCKET/PREFIX/monitor/ENDPOINT/<day>/. Per run Scheduler fills in <aws.scheduler.execution-id>
(the job's name must be new each time) and <aws.scheduler.scheduled-time> (the window's end, so a late
start checks the same day). The job's metric lines reach CloudWatch Logs; three metric filters turn them
into metrics (namespace releaseml/Monitor: PSI per Endpoint and Column, DriftedColumns and Requests per
Endpoint: a quiet window's run completes with Requests 0), and an alarm goes into ALARM when a column
drifted, notifying `aws.drift_alarm_topic` if one is set.

The request names the model.tar.gz the endpoint serves. When `promote` or `endpoint` changes that model,
`follow` points the schedule at the new one; deleting the endpoint removes it all (`remove`).

A Processing input of type S3Prefix downloads the whole prefix: every run copies all the endpoint's
capture files (and reads only its window). An S3 lifecycle rule on the capture prefix keeps that small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Optional

from releaseml.aws import monitor_inputs, registry, settings, storage
from releaseml.aws.session import Aws, errors
from releaseml.common import environment
from releaseml.common.errors import UserError
from releaseml.job.monitoring_job import CAPTURED_INPUT, LABELS_INPUT, LOG_KEY, MODEL_INPUT, container_input, container_output

if TYPE_CHECKING:
    from releaseml.aws.workflows import Project

NAMESPACE = "releaseml/Monitor"
LOG_GROUP = "/aws/sagemaker/ProcessingJobs"  # where SageMaker sends a Processing job's output
PSI_METRIC, DRIFTED_METRIC, REQUESTS_METRIC = "PSI", "DriftedColumns", "Requests"
EXECUTION_ID, SCHEDULED_TIME = "<aws.scheduler.execution-id>", "<aws.scheduler.scheduled-time>"
EXECUTION_ID_LENGTH = 16  # e.g. d32c5kddcf5bb8c3, in Scheduler's documentation
JOB_NAME_LIMIT = 63  # SageMaker's ProcessingJobName: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}


@dataclass(frozen=True)
class Every:
    """How often the monitor runs: at `minute` past each hour (hourly) or past `hour` (daily), UTC; each run checks
    the whole period before (`window`), starting a little after its end so its last capture files have landed."""

    name: str
    window: str  # RELEASEML_MONITOR_WINDOW
    period: timedelta
    minute: int
    hour: Optional[int] = None

    @property
    def expression(self) -> str:
        return f"cron({self.minute} {'*' if self.hour is None else self.hour} * * ? *)"

    @property
    def words(self) -> str:
        if self.hour is None:
            return f"every hour at {self.minute} minutes past, on the hour before"
        return f"every day at {self.hour:02d}:{self.minute:02d} UTC, on the day before"

    def next_run(self, now: datetime) -> datetime:
        candidate = now.replace(minute=self.minute, second=0, microsecond=0)
        if self.hour is not None:
            candidate = candidate.replace(hour=self.hour)
        return candidate if candidate > now else candidate + self.period


SCHEDULES = {
    "daily": Every("daily", "1d", timedelta(days=1), minute=30, hour=0),
    "hourly": Every("hourly", "1h", timedelta(hours=1), minute=15),
}


def every(name: str) -> Every:
    if name not in SCHEDULES:
        raise UserError(f"--schedule {name!r}: the monitor runs daily or hourly (`releaseml monitor --schedule daily --endpoint NAME`)")
    return SCHEDULES[name]


@dataclass(frozen=True)
class Names:
    """What releaseml makes for an endpoint's scheduled monitor, by name."""

    endpoint: str

    @property
    def schedule(self) -> str:  # Scheduler: 1-64 of [0-9a-zA-Z-_.]
        return f"releaseml-monitor-{self.endpoint}"[:64]

    @property
    def filters(self) -> dict[str, str]:
        base = f"releaseml-monitor-{self.endpoint}"
        return {PSI_METRIC: f"{base}-psi", DRIFTED_METRIC: f"{base}-drifted-columns", REQUESTS_METRIC: f"{base}-requests"}

    @property
    def alarm(self) -> str:
        return f"releaseml-{self.endpoint}-drift"

    @property
    def job(self) -> str:
        """The Processing job's name, made unique per run by Scheduler's execution id."""
        room = JOB_NAME_LIMIT - len("-monitor-") - EXECUTION_ID_LENGTH
        return f"{self.endpoint[:room].rstrip('-')}-monitor-{EXECUTION_ID}"


@dataclass
class Scheduled:
    """What `monitor --schedule` made: the schedule, the job it starts, where its results go."""

    endpoint: str
    schedule: str
    expression: str
    when: str
    next_run: str
    updated: bool  # an existing schedule was updated
    job_name: str
    image: str
    model_data: str
    captured: str
    labels: Optional[str]
    pages: str
    metrics: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    alarm: str = ""
    alarm_topic: Optional[str] = None


def schedule(ctx: "Project", endpoint: str, every_name: str, labels: Optional[str], image: str) -> Scheduled:
    """Schedule the monitor of `endpoint` (or update its schedule): everything that can be refused is checked
    before anything is made (the period, the labels, the endpoint and its capture, both roles)."""
    aws, section = ctx.aws, ctx.section
    period = every(every_name)
    if labels and not labels.startswith("s3://"):
        raise UserError(
            f"--labels {labels}: a scheduled monitor reads ground truth where the Processing job can, in S3: give an s3:// prefix"
        )
    served = monitor_inputs.served(aws, endpoint)
    captured = served.captured_uri()
    execution_role, scheduler_role = ctx.role, settings.schedule_role_arn(section, aws)
    settings.check_role(aws, execution_role)
    settings.check_role(aws, scheduler_role, settings.SCHEDULER_SERVICE, "aws.schedule_role")
    image_uri = registry.push(aws, image, section.repository, ctx.tags)
    storage.ensure_bucket(aws, ctx.bucket)
    names = Names(endpoint)
    pages = storage.uri(ctx.bucket, ctx.key("monitor", endpoint)) + "/"
    request = processing_request(ctx, names, period, image_uri, served.model_data, captured, labels, pages, execution_role)
    filters = put_metric_filters(aws, names)
    put_alarm(aws, names, period, section.drift_alarm_topic, ctx.tags)
    updated = put_schedule(aws, names, period, request, scheduler_role)
    return Scheduled(
        endpoint, names.schedule, period.expression, period.words,
        period.next_run(datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC"), updated, names.job, image_uri,
        served.model_data, captured, labels, pages,
        [f"{NAMESPACE} {PSI_METRIC} (Endpoint, Column)", *(f"{NAMESPACE} {m} (Endpoint)" for m in (DRIFTED_METRIC, REQUESTS_METRIC))],
        filters, names.alarm, section.drift_alarm_topic,
    )  # fmt: skip


def processing_request(
    ctx: "Project",
    names: Names,
    period: Every,
    image: str,
    model_data: str,
    captured: str,
    labels: Optional[str],
    output: str,
    role: str,
) -> dict:
    """The CreateProcessingJob request Scheduler sends each run (its context attributes still in it)."""
    inputs = [_input(MODEL_INPUT, model_data), _input(CAPTURED_INPUT, captured)]
    if labels:
        inputs.append(_input(LABELS_INPUT, labels.rstrip("/") + "/"))
    return {
        "ProcessingJobName": names.job,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": ctx.section.monitor_instance_type,
                "VolumeSizeInGB": ctx.section.volume_size_gb,
            }
        },
        "AppSpecification": {"ImageUri": image, "ContainerArguments": ["monitor"]},
        "Environment": {
            environment.MONITOR_ENDPOINT.name: names.endpoint,
            environment.MONITOR_WINDOW.name: period.window,
            environment.MONITOR_WINDOW_END.name: SCHEDULED_TIME,
        },
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {
            "Outputs": [
                {"OutputName": "monitor", "S3Output": {"S3Uri": output, "LocalPath": container_output(), "S3UploadMode": "EndOfJob"}}
            ]
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": int(period.period.total_seconds())},  # never overlaps the next run
        "RoleArn": role,
        "Tags": ctx.tags,
    }


def _input(name: str, s3_uri: str) -> dict:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": s3_uri,
            "LocalPath": container_input(name),
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def put_metric_filters(aws: Aws, names: Names) -> list[str]:
    """The metric filters on SageMaker's Processing log group that read the monitor's JSON lines (a value
    field each: a column's line has `psi`, the summary `drifted_columns` and `requests`)."""
    logs = aws.client("logs")
    dimensions = {"Endpoint": f"$.{LOG_KEY}"}
    shapes = {
        PSI_METRIC: ("psi", {**dimensions, "Column": "$.column"}, "None"),
        DRIFTED_METRIC: ("drifted_columns", dimensions, "Count"),
        REQUESTS_METRIC: ("requests", dimensions, "Count"),
    }
    with errors(f"creating the metric filters of {names.endpoint}'s monitor on {LOG_GROUP}"):
        try:  # SageMaker makes it with the first Processing job; the filters need it now
            logs.create_log_group(logGroupName=LOG_GROUP)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        for metric, (value, dims, unit) in shapes.items():
            logs.put_metric_filter(
                logGroupName=LOG_GROUP,
                filterName=names.filters[metric],
                filterPattern=f'{{ $.{LOG_KEY} = "{names.endpoint}" && $.{value} = * }}',
                metricTransformations=[
                    {"metricName": metric, "metricNamespace": NAMESPACE, "metricValue": f"$.{value}", "dimensions": dims, "unit": unit}
                ],
            )
    return list(names.filters.values())


def put_alarm(aws: Aws, names: Names, period: Every, topic: Optional[str], tags: list[dict]) -> None:
    """The drift alarm: ALARM when a run names a drifted column; no runs (missing data) is not drift."""
    with errors(f"creating alarm {names.alarm}"):
        aws.client("cloudwatch").put_metric_alarm(
            AlarmName=names.alarm,
            AlarmDescription=f"A column of the traffic to endpoint {names.endpoint} drifted from the training data (releaseml monitor)",
            Namespace=NAMESPACE,
            MetricName=DRIFTED_METRIC,
            Dimensions=[{"Name": "Endpoint", "Value": names.endpoint}],
            Statistic="Maximum",
            Period=int(period.period.total_seconds()),
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[topic] if topic else [],
            Tags=tags,
        )


def put_schedule(aws: Aws, names: Names, period: Every, request: dict, role: str) -> bool:
    """Create the schedule, or update it when there is one (a second --schedule changes it); whether it was there."""
    scheduler = aws.client("scheduler")
    call = {
        "Name": names.schedule,
        "Description": f"releaseml monitor of endpoint {names.endpoint}, {period.name}",
        "ScheduleExpression": period.expression,
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Target": {
            "Arn": f"arn:{aws.partition}:scheduler:::aws-sdk:sagemaker:createProcessingJob",
            "RoleArn": role,
            "Input": json.dumps(request),
        },
    }
    exists = _schedule_exists(aws, names.schedule)
    with errors(f"{'updating' if exists else 'creating'} schedule {names.schedule}"):
        (scheduler.update_schedule if exists else scheduler.create_schedule)(**call)
    return exists


def _schedule_exists(aws: Aws, name: str) -> bool:
    scheduler = aws.client("scheduler")
    with errors(f"looking up schedule {name}"):
        try:
            scheduler.get_schedule(Name=name)
        except scheduler.exceptions.ResourceNotFoundException:
            return False
    return True


def unschedule(aws: Aws, endpoint: str) -> list[str]:
    """Delete the endpoint's schedule, metric filters and drift alarm; what was deleted. A UserError when
    there was nothing (the endpoint itself may be gone: this needs only the names)."""
    removed = remove(aws, endpoint)
    if not removed:
        raise UserError(
            f"endpoint {endpoint} has no monitoring schedule, metric filters or drift alarm in {aws.region}: nothing to remove "
            f"(`releaseml monitor --schedule daily --endpoint {endpoint}` makes them)"
        )
    return removed


def remove(aws: Aws, endpoint: str) -> list[str]:
    """Delete whichever of the endpoint's schedule, metric filters and drift alarm exist; what was deleted (maybe nothing)."""
    names = Names(endpoint)
    removed = []
    if _schedule_exists(aws, names.schedule):
        with errors(f"deleting schedule {names.schedule}"):
            aws.client("scheduler").delete_schedule(Name=names.schedule)
        removed.append(f"schedule {names.schedule}")
    logs = aws.client("logs")
    for name in names.filters.values():
        with errors(f"deleting metric filter {name}"):
            try:
                found = logs.describe_metric_filters(logGroupName=LOG_GROUP, filterNamePrefix=name)["metricFilters"]
            except logs.exceptions.ResourceNotFoundException:
                found = []
            if any(each["filterName"] == name for each in found):
                logs.delete_metric_filter(logGroupName=LOG_GROUP, filterName=name)
                removed.append(f"metric filter {name} (on {LOG_GROUP})")
    cloudwatch = aws.client("cloudwatch")
    with errors(f"deleting alarm {names.alarm}"):
        if cloudwatch.describe_alarms(AlarmNames=[names.alarm]).get("MetricAlarms"):
            cloudwatch.delete_alarms(AlarmNames=[names.alarm])
            removed.append(f"alarm {names.alarm}")
    return removed


@dataclass(frozen=True)
class Followed:
    """A schedule pointed at the model its endpoint now serves."""

    schedule: str
    model_data: str
    was: str


def follow(aws: Aws, endpoint: str) -> Optional[Followed]:
    """Point the endpoint's monitor schedule, if it has one, at the model.tar.gz the endpoint serves now (after a
    verified update: a promotion, `endpoint --version N`); None when there is no schedule or it names that model.

    UpdateSchedule replaces the whole schedule, so every field GetSchedule answered that UpdateSchedule takes is
    sent back as it was, with only the `model` input of the CreateProcessingJob request changed."""
    names = Names(endpoint)
    scheduler = aws.client("scheduler")
    again = f"the endpoint is updated; `releaseml monitor --schedule daily|hourly --endpoint {endpoint}` again points it"
    doing = f"pointing schedule {names.schedule} at the model endpoint {endpoint} now serves ({again})"
    with errors(doing):
        try:
            current = scheduler.get_schedule(Name=names.schedule)
        except scheduler.exceptions.ResourceNotFoundException:
            return None
    model_data = monitor_inputs.served(aws, endpoint).model_data
    request = json.loads(current["Target"]["Input"])
    model_input = next((item["S3Input"] for item in request.get("ProcessingInputs", []) if item["InputName"] == MODEL_INPUT), None)
    if model_input is None:
        raise UserError(f"schedule {names.schedule} starts no job with a `{MODEL_INPUT}` input, so it cannot follow the model: {again}")
    was = model_input["S3Uri"]
    if was == model_data:
        return None
    model_input["S3Uri"] = model_data
    kept = scheduler.meta.service_model.operation_model("UpdateSchedule").input_shape.members
    call = {key: value for key, value in current.items() if key in kept and key != "ClientToken" and value is not None}
    with errors(doing):
        scheduler.update_schedule(**{**call, "Target": {**current["Target"], "Input": json.dumps(request)}})
    return Followed(names.schedule, model_data, was)
