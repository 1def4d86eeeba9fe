"""CloudWatch alarms on an endpoint, the ones SageMaker watches to roll a blue/green update back.

Two signals a bad model shows at once in production: calls failing (the share of Invocation5XXErrors
among Invocations, by metric math, so a threshold means the same on a quiet endpoint and a busy one)
and the model answering slowly (ModelLatency, which SageMaker reports in microseconds). Missing data
(no calls) is not breaching: an idle endpoint is no reason to roll back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from releaseml.aws.endpoints import VARIANT
from releaseml.aws.session import Aws, errors

NAMESPACE = "AWS/SageMaker"
PERIOD_SECONDS = 60
LATENCY_UNITS_PER_MS = 1000  # ModelLatency is in microseconds


def names(endpoint: str) -> list[str]:
    """The alarms releaseml makes for an endpoint, by name (the 5xx share first)."""
    return [f"{endpoint}-5xx-share", f"{endpoint}-model-latency"]


def ensure(aws: Aws, endpoint: str, section, tags: list[dict]) -> list[str]:
    """Create (or update to the config's thresholds) the endpoint's two alarms; their names."""
    share, latency = names(endpoint)
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": VARIANT}]
    common = {"EvaluationPeriods": 1, "DatapointsToAlarm": 1, "TreatMissingData": "notBreaching", "Tags": tags}
    cloudwatch = aws.client("cloudwatch")
    with errors(f"creating the alarms of endpoint {endpoint}"):
        cloudwatch.put_metric_alarm(
            AlarmName=share,
            AlarmDescription=f"More than {section.alarm_5xx_percent:g}% of the calls to {endpoint} fail (5xx): rolls an update back",
            Metrics=[
                {"Id": "share", "Expression": "100 * errors / calls", "Label": "5xx share (%)", "ReturnData": True},
                _metric("errors", "Invocation5XXErrors", dimensions),
                _metric("calls", "Invocations", dimensions),
            ],
            ComparisonOperator="GreaterThanThreshold",
            Threshold=float(section.alarm_5xx_percent),
            **common,
        )
        cloudwatch.put_metric_alarm(
            AlarmName=latency,
            AlarmDescription=f"The model of {endpoint} answers in more than {section.alarm_latency_ms:g} ms on average: rolls an update back",
            Namespace=NAMESPACE,
            MetricName="ModelLatency",
            Dimensions=dimensions,
            Statistic="Average",
            Period=PERIOD_SECONDS,
            ComparisonOperator="GreaterThanThreshold",
            Threshold=float(section.alarm_latency_ms) * LATENCY_UNITS_PER_MS,
            **common,
        )
    return [share, latency]


def _metric(query_id: str, name: str, dimensions: list[dict]) -> dict:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": dimensions},
            "Period": PERIOD_SECONDS,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def firing(aws: Aws, alarm_names: list[str], since: Optional[datetime] = None) -> list[str]:
    """Which of the alarms are in ALARM now, or (when none is any more) went into ALARM since `since`."""
    cloudwatch = aws.client("cloudwatch")
    with errors("reading the endpoint's alarms"):
        found = cloudwatch.describe_alarms(AlarmNames=alarm_names).get("MetricAlarms", [])
    now = [alarm["AlarmName"] for alarm in found if alarm.get("StateValue") == "ALARM"]
    if now or since is None:
        return now
    from botocore.exceptions import BotoCoreError, ClientError

    fired = []
    for name in alarm_names:  # the history says which went off and came back (not every emulator keeps it)
        try:
            items = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate", StartDate=since)["AlarmHistoryItems"]
        except (BotoCoreError, ClientError):
            return []
        if any("to ALARM" in item.get("HistorySummary", "") for item in items):
            fired.append(name)
    return fired


def delete(aws: Aws, endpoint: str) -> list[str]:
    """Delete the endpoint's alarms; what was deleted (nothing when none was there)."""
    cloudwatch = aws.client("cloudwatch")
    with errors(f"deleting the alarms of endpoint {endpoint}"):
        present = [alarm["AlarmName"] for alarm in cloudwatch.describe_alarms(AlarmNames=names(endpoint)).get("MetricAlarms", [])]
        if present:
            cloudwatch.delete_alarms(AlarmNames=present)
    return [f"alarm {name}" for name in present]
