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
) -> dict:
    """Point endpoint `name` at the model (creating it, or updating it in place) and wait until it serves.

    An update keeps serving the old model until the new one is in service; then the old config is deleted.
    The caller checks first that an existing endpoint is of the configured kind (`check_same_kind`).
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
