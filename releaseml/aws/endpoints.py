"""Endpoints: create or update one for a training job's model, call it (signed by boto3), delete it.

Three kinds, chosen by `aws.endpoint_kind`: `instance` (real-time, billed per instance-hour while it
is up), `serverless` (real-time, billed per call and memory-second, nothing while idle; cold starts)
and `async` (a payload in S3, the answer written to S3: up to 1 GB and an hour per call).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from releaseml.aws import waiting
from releaseml.aws.session import Aws, errors, is_missing, unique_name
from releaseml.common.errors import UserError
from releaseml.config.config_file import AwsSection
from releaseml.serving import client as local_client

REALTIME_LIMIT_BYTES = 6 * 1024 * 1024  # SageMaker's cap on a real-time request body
FINAL_STATES = {"InService", "Failed", "OutOfService"}
VARIANT = "AllTraffic"  # the one production variant of every endpoint releaseml makes
ASYNC_CALLS_PER_INSTANCE = 4  # AsyncInferenceConfig.ClientConfig: calls one instance takes at once


@dataclass(frozen=True)
class AsyncPaths:
    """Where an async endpoint writes answers and failures (S3 URIs)."""

    output: str
    failures: str


def production_variant(section: AwsSection, model_name: str) -> dict:
    """The endpoint config's one variant: instances, or a serverless config."""
    variant: dict = {"VariantName": VARIANT, "ModelName": model_name}
    if section.endpoint_kind == "serverless":
        variant["ServerlessConfig"] = {"MemorySizeInMB": section.serverless_memory_mb, "MaxConcurrency": section.serverless_max_concurrency}
        return variant
    count = section.endpoint_instance_count
    if section.max_instances is not None:  # start inside the autoscaling range, and with at least one instance
        count = min(max(count, section.min_instances or 1), section.max_instances)
    return {**variant, "InitialInstanceCount": count, "InstanceType": section.endpoint_instance_type, "InitialVariantWeight": 1.0}


def kind_of(config: dict) -> str:
    """An endpoint config's kind, as `aws.endpoint_kind` names it."""
    if config.get("AsyncInferenceConfig"):
        return "async"
    if any(variant.get("ServerlessConfig") for variant in config.get("ProductionVariants", [])):
        return "serverless"
    return "instance"


def deploy(
    aws: Aws,
    name: str,
    model_name: str,
    section: AwsSection,
    tags: list[dict],
    async_paths: Optional[AsyncPaths] = None,
    wait: bool = True,
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    extra: Optional[dict] = None,
) -> dict:
    """Point endpoint `name` at the model (creating it, or updating it in place) and wait until it serves.

    An update keeps serving the old model until the new one is in service; then the old config is deleted.
    The caller checks first that an existing endpoint is of the configured kind (`check_same_kind`).
    `extra`: more of the endpoint config (DataCaptureConfig).
    """
    sagemaker = aws.client("sagemaker")
    config_name = unique_name(name)
    existing = find(aws, name)
    previous = existing["EndpointConfigName"] if existing else None  # the caller checked it is of the same kind
    request: dict = {"EndpointConfigName": config_name, "ProductionVariants": [production_variant(section, model_name)], "Tags": tags}
    if section.endpoint_kind == "async":
        if async_paths is None:
            raise ValueError("an async endpoint needs its S3 paths")
        request["AsyncInferenceConfig"] = {
            "OutputConfig": {"S3OutputPath": async_paths.output, "S3FailurePath": async_paths.failures},
            "ClientConfig": {"MaxConcurrentInvocationsPerInstance": ASYNC_CALLS_PER_INSTANCE},
        }
    request.update(extra or {})
    with errors(f"creating endpoint config {config_name}"):
        sagemaker.create_endpoint_config(**request)
    with errors(f"creating endpoint {name}"):
        if previous:
            sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=config_name)
        else:
            sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=tags)
    if not wait:
        return describe(aws, name)
    description = waiting.wait(
        lambda: describe(aws, name),
        "EndpointStatus",
        FINAL_STATES,
        f"Endpoint {name}",
        f"Check it with `releaseml endpoint --status {name}`.",
        timeout=timeout,
        poll_seconds=poll_seconds,
    )
    if description["EndpointStatus"] != "InService":
        raise UserError(f"endpoint {name} is {description['EndpointStatus']}: {description.get('FailureReason') or 'no reason given'}")
    if previous and previous != description["EndpointConfigName"]:
        with errors(f"deleting the replaced endpoint config {previous}"):
            sagemaker.delete_endpoint_config(EndpointConfigName=previous)
    return description


def check_same_kind(aws: Aws, name: str, config_name: str, kind: str) -> None:
    """SageMaker cannot turn an endpoint into another kind in place: say so before anything is made."""
    current = kind_of(describe_config(aws, config_name))
    if current != kind:
        raise UserError(
            f"endpoint {name!r} is a{'n' if current[0] in 'ai' else ''} {current} endpoint and cannot become {kind} in place: "
            f"delete it first (`releaseml endpoint --delete --name {name}`), or give the new one another --name"
        )


def describe_config(aws: Aws, config_name: str) -> dict:
    with errors(f"looking up endpoint config {config_name}"):
        return aws.client("sagemaker").describe_endpoint_config(EndpointConfigName=config_name)


def kind(aws: Aws, name: str, description: Optional[dict] = None) -> str:
    """The kind of a named endpoint (instance, serverless, async); a UserError if there is none.

    `description`: its DescribeEndpoint answer when the caller has it already (one look fewer).
    """
    return kind_of(describe_config(aws, (description or describe(aws, name))["EndpointConfigName"]))


def describe(aws: Aws, name: str) -> dict:
    found = find(aws, name)
    if found is None:
        raise UserError(
            f"no endpoint {name!r} in {aws.region}: `releaseml endpoint --name {name}` creates it (check the name and the region)"
        )
    return found


def delete(aws: Aws, name: str) -> str:
    """Delete the endpoint and its config (the model stays, for batch predictions); returns the config's name."""
    sagemaker = aws.client("sagemaker")
    config_name = describe(aws, name)["EndpointConfigName"]
    with errors(f"deleting endpoint {name}"):
        sagemaker.delete_endpoint(EndpointName=name)
        sagemaker.delete_endpoint_config(EndpointConfigName=config_name)
    return config_name


def invoke(
    aws: Aws, name: str, payload: Path, content_type: Optional[str] = None, accept: Optional[str] = None, explain: Optional[int] = None
) -> str:
    """Send a payload file to the endpoint through sagemaker-runtime (boto3 signs the request); `explain`: reasons per row."""
    body, content_type = local_client.read_payload(payload, content_type or local_client.content_type_for(payload))
    if len(body) > REALTIME_LIMIT_BYTES:
        raise UserError(
            f"{payload} is {len(body):,} bytes; a real-time endpoint takes at most 6 MB per request. Use `releaseml batch-predict` for large files."
        )
    if kind(aws, name, check_in_service(aws, name)) == "async":
        raise UserError(
            f"endpoint {name!r} is asynchronous: it answers through S3. Add --async: `releaseml predict {payload} --endpoint {name} --async`"
        )
    runtime = aws.client("sagemaker-runtime")
    with errors(f"calling endpoint {name}"):
        try:
            answer = runtime.invoke_endpoint(
                EndpointName=name,
                Body=body,
                ContentType=content_type,
                Accept=accept or content_type,
                **({"CustomAttributes": local_client.explain_attribute(explain)} if explain else {}),
            )
        except runtime.exceptions.ModelError as exc:
            raise UserError(
                f"the model refused the payload: {exc.response.get('OriginalMessage') or exc.response['Error'].get('Message')}"
            ) from None
    return answer["Body"].read().decode("utf-8")


def check_in_service(aws: Aws, name: str) -> dict:
    """One look before a call: a missing or starting endpoint gets a plain answer, not a runtime error."""
    description = describe(aws, name)
    status = description["EndpointStatus"]
    if status != "InService":
        raise UserError(f"endpoint {name!r} is {status}, not InService: `releaseml endpoint --status --name {name}` shows when it is ready")
    return description


def find(aws: Aws, name: str) -> Optional[dict]:
    """DescribeEndpoint's answer, or None when there is no such endpoint: one call per look."""
    sagemaker = aws.client("sagemaker")
    with errors(f"looking up endpoint {name}"):
        try:
            return sagemaker.describe_endpoint(EndpointName=name)
        except sagemaker.exceptions.ClientError as exc:
            if is_missing(exc):
                return None
            raise


# -- which model an endpoint serves, and updates guarded by alarms (releaseml promote) --------------

SHADOW_VARIANT = "Shadow"  # the shadow variant `promote --shadow` adds beside the production one
TRAFFIC_TYPES = {"all_at_once": "ALL_AT_ONCE", "canary": "CANARY", "linear": "LINEAR"}
UPDATE_FINAL_STATES = FINAL_STATES | {"UpdateRollbackFailed"}
SETTLE_SECONDS = 20  # an update not yet seen Updating is not taken as done before this (mlflow waits as long)


def model_data_of(aws: Aws, model_name: str) -> Optional[str]:
    """The model.tar.gz a SageMaker model serves; None when the model is gone."""
    sagemaker = aws.client("sagemaker")
    with errors(f"looking up model {model_name}"):
        try:
            container = sagemaker.describe_model(ModelName=model_name).get("PrimaryContainer") or {}
        except sagemaker.exceptions.ClientError as exc:
            if is_missing(exc):
                return None
            raise
    return container.get("ModelDataUrl")


def variants(config: dict) -> list[tuple[str, dict]]:
    """An endpoint config's variants with their role: ("production", variant) and ("shadow", variant)."""
    return [("production", v) for v in config.get("ProductionVariants", [])] + [
        ("shadow", v) for v in config.get("ShadowProductionVariants", [])
    ]


def served_model_data(aws: Aws) -> dict[str, list[str]]:
    """For every endpoint in the region, the model.tar.gz of each variant: {ModelDataUrl: ["NAME", "NAME (shadow)"]}."""
    sagemaker = aws.client("sagemaker")
    with errors("listing endpoints"):
        names = [e["EndpointName"] for page in sagemaker.get_paginator("list_endpoints").paginate() for e in page["Endpoints"]]
    served: dict[str, list[str]] = {}
    for name in sorted(names):
        found = find(aws, name)
        if found is None:
            continue
        try:
            config = describe_config(aws, found["EndpointConfigName"])
        except UserError:  # being deleted or replaced as we look
            continue
        for role, variant in variants(config):
            url = model_data_of(aws, variant["ModelName"])
            if url:
                served.setdefault(url, []).append(name if role == "production" else f"{name} ({role})")
    return served


def deployment_config(section: AwsSection, alarm_names: list[str]) -> dict:
    """UpdateEndpoint's DeploymentConfig: blue/green by `aws.traffic_shift`, each step watched for
    `aws.baking_seconds` by the alarms, any of which in ALARM rolls the update back."""
    routing: dict = {"Type": TRAFFIC_TYPES[section.traffic_shift], "WaitIntervalInSeconds": section.baking_seconds}
    steps = 1
    if section.traffic_shift == "canary":
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": section.canary_percent}
        steps = 2
    elif section.traffic_shift == "linear":
        routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": section.canary_percent}
        steps = -(-100 // section.canary_percent)
    # SageMaker allows 600 s to 4 hours; enough for every step's baking and the new fleet's start.
    limit = min(14400, max(600, steps * section.baking_seconds + 1800))
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": 0,
            "MaximumExecutionTimeoutInSeconds": limit,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in alarm_names]},
    }


@dataclass
class Update:
    """How a guarded update ended: the endpoint's description, and whether SageMaker rolled it back."""

    description: dict
    config_name: str  # the new endpoint config
    previous: str  # the config the endpoint had before
    rolled_back: bool


def update_guarded(
    aws: Aws,
    name: str,
    config_request: dict,
    deployment: Optional[dict],
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
) -> Update:
    """Create the new endpoint config, UpdateEndpoint with the DeploymentConfig, wait for the end, and check
    that the update really took, as mlflow's updater does: the endpoint names the new config. A rollback
    leaves the old one (and the new, unused config is deleted); success deletes the old config."""
    import time

    sagemaker = aws.client("sagemaker")
    previous = describe(aws, name)["EndpointConfigName"]
    config_name = config_request["EndpointConfigName"]
    with errors(f"creating endpoint config {config_name}"):
        sagemaker.create_endpoint_config(**config_request)
    with errors(f"updating endpoint {name}"):
        sagemaker.update_endpoint(
            EndpointName=name, EndpointConfigName=config_name, **({"DeploymentConfig": deployment} if deployment else {})
        )
    started, seen = time.monotonic(), {"updating": False}

    def phase() -> dict:
        description = describe(aws, name)
        status = description["EndpointStatus"]
        seen["updating"] |= status not in UPDATE_FINAL_STATES
        settled = seen["updating"] or description["EndpointConfigName"] == config_name or time.monotonic() - started > SETTLE_SECONDS
        return {**description, "Phase": status if settled or status not in UPDATE_FINAL_STATES else "Updating"}

    description = waiting.wait(
        phase,
        "Phase",
        UPDATE_FINAL_STATES,
        f"Endpoint {name}",
        f"The update goes on; `releaseml endpoint --status --name {name}` shows it.",
        timeout=timeout,
        poll_seconds=poll_seconds,
    )
    status = description["EndpointStatus"]
    if status != "InService":
        raise UserError(f"endpoint {name} is {status} after the update: {description.get('FailureReason') or 'no reason given'}")
    rolled_back = description["EndpointConfigName"] != config_name
    unused = config_name if rolled_back else previous
    with errors(f"deleting the unused endpoint config {unused}"):
        sagemaker.delete_endpoint_config(EndpointConfigName=unused)
    return Update(description, config_name, previous, rolled_back)
