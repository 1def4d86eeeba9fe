"""Real-time endpoints: create or update one for a training job's model, call it (signed by boto3), delete it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from releaseml import client as local_client
from releaseml.aws import waiting
from releaseml.aws.session import Aws, errors, is_missing, unique_name
from releaseml.config import AwsSection
from releaseml.errors import UserError

REALTIME_LIMIT_BYTES = 6 * 1024 * 1024  # SageMaker's cap on a real-time request body
FINAL_STATES = {"InService", "Failed", "OutOfService"}


def deploy(
    aws: Aws,
    name: str,
    model_name: str,
    section: AwsSection,
    tags: list[dict],
    wait: bool = True,
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
) -> dict:
    """Point endpoint `name` at the model (creating it, or updating it in place) and wait until it serves.

    An update keeps serving the old model until the new one is in service; then the old config is deleted.
    """
    sagemaker = aws.client("sagemaker")
    config_name = unique_name(name)
    existing = _find(aws, name)
    previous = existing["EndpointConfigName"] if existing else None
    with errors(f"creating endpoint config {config_name}"):
        sagemaker.create_endpoint_config(
            EndpointConfigName=config_name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model_name,
                    "InitialInstanceCount": section.endpoint_instance_count,
                    "InstanceType": section.endpoint_instance_type,
                    "InitialVariantWeight": 1.0,
                }
            ],
            Tags=tags,
        )
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
        f"Check it with `invoke endpoint --status {name}`.",
        timeout=timeout,
        poll_seconds=poll_seconds,
    )
    if description["EndpointStatus"] != "InService":
        raise UserError(f"endpoint {name} is {description['EndpointStatus']}: {description.get('FailureReason') or 'no reason given'}")
    if previous and previous != description["EndpointConfigName"]:
        with errors(f"deleting the replaced endpoint config {previous}"):
            sagemaker.delete_endpoint_config(EndpointConfigName=previous)
    return description


def describe(aws: Aws, name: str) -> dict:
    found = _find(aws, name)
    if found is None:
        raise UserError(f"no endpoint {name!r} in {aws.region}: `invoke endpoint --name {name}` creates it (check the name and the region)")
    return found


def delete(aws: Aws, name: str) -> str:
    """Delete the endpoint and its config (the model stays, for batch predictions); returns the config's name."""
    sagemaker = aws.client("sagemaker")
    config_name = describe(aws, name)["EndpointConfigName"]
    with errors(f"deleting endpoint {name}"):
        sagemaker.delete_endpoint(EndpointName=name)
        sagemaker.delete_endpoint_config(EndpointConfigName=config_name)
    return config_name


def invoke(aws: Aws, name: str, payload: Path, content_type: Optional[str] = None, accept: Optional[str] = None) -> str:
    """Send a payload file to the endpoint through sagemaker-runtime (boto3 signs the request)."""
    content_type = content_type or local_client.content_type_for(payload)
    try:
        body = payload.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read payload {str(payload)!r}: {exc.strerror}") from None
    if len(body) > REALTIME_LIMIT_BYTES:
        raise UserError(
            f"{payload} is {len(body):,} bytes; a real-time endpoint takes at most 6 MB per request. Use `invoke batch-predict` for large files."
        )
    status = describe(aws, name)["EndpointStatus"]  # one look first: a missing or starting endpoint gets a plain answer
    if status != "InService":
        raise UserError(f"endpoint {name!r} is {status}, not InService: `invoke endpoint --status --name {name}` shows when it is ready")
    runtime = aws.client("sagemaker-runtime")
    with errors(f"calling endpoint {name}"):
        try:
            answer = runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType=content_type, Accept=accept or content_type)
        except runtime.exceptions.ModelError as exc:
            raise UserError(
                f"the model refused the payload: {exc.response.get('OriginalMessage') or exc.response['Error'].get('Message')}"
            ) from None
    return answer["Body"].read().decode("utf-8")


def _find(aws: Aws, name: str) -> Optional[dict]:
    """DescribeEndpoint's answer, or None when there is no such endpoint: one call per look."""
    sagemaker = aws.client("sagemaker")
    with errors(f"looking up endpoint {name}"):
        try:
            return sagemaker.describe_endpoint(EndpointName=name)
        except sagemaker.exceptions.ClientError as exc:
            if is_missing(exc):
                return None
            raise
