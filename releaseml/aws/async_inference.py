"""Calls to an asynchronous endpoint: the payload goes to S3, SageMaker writes the answer to S3.

For payloads too big (up to 1 GB) or too slow (up to an hour) for a real-time call. The caller
uploads, calls InvokeEndpointAsync, and waits for either the answer at OutputLocation or the
reason at FailureLocation, whichever appears first.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Optional

from releaseml.aws import endpoints, storage, waiting
from releaseml.aws.session import Aws, errors
from releaseml.common import media, progress
from releaseml.common.errors import UserError
from releaseml.serving import client as local_client

ASYNC_LIMIT_BYTES = 1024**3  # SageMaker's cap on an async payload
INVOCATION_TIMEOUT_SECONDS = 3600  # SageMaker's most for one async call


def paths(bucket: str, prefix: str, endpoint: str) -> endpoints.AsyncPaths:
    """Where an async endpoint of this project writes: under the project prefix, per endpoint."""
    base = storage.uri(bucket, f"{prefix.strip('/')}/async/{endpoint}")
    return endpoints.AsyncPaths(output=f"{base}/output", failures=f"{base}/failures")


def invoke(
    aws: Aws,
    name: str,
    payload: Path,
    bucket: str,
    prefix: str,
    content_type: Optional[str] = None,
    accept: Optional[str] = None,
    timeout: Optional[float] = None,
    poll_seconds: float = waiting.DEFAULT_POLL_SECONDS,
    explain: Optional[int] = None,
) -> str:
    """Upload the payload, call the endpoint, wait for its answer in S3 and return it; `explain`: reasons per row."""
    content_type = content_type or local_client.content_type_for(payload)
    if content_type == media.PARQUET:  # sent as CSV with a header row, like a real-time request
        from releaseml.data import parquet

        with tempfile.TemporaryDirectory(prefix="releaseml-async-") as directory:
            converted = Path(directory) / f"{payload.stem}.csv"
            converted.write_bytes(parquet.csv_document(payload))
            return invoke(aws, name, converted, bucket, prefix, media.CSV, accept, timeout, poll_seconds, explain)
    size = _size(payload)
    if endpoints.kind(aws, name, endpoints.check_in_service(aws, name)) != "async":
        raise UserError(f"endpoint {name!r} is real-time: call it without --async (`releaseml predict {payload} --endpoint {name}`)")
    input_key = f"{prefix.strip('/')}/async/{name}/input/{secrets.token_hex(8)}"
    storage.upload(aws, {payload.name: payload}, bucket, input_key)
    input_uri = storage.uri(bucket, f"{input_key}/{payload.name}")
    runtime = aws.client("sagemaker-runtime")
    with errors(f"calling async endpoint {name}"):
        answer = runtime.invoke_endpoint_async(
            EndpointName=name,
            InputLocation=input_uri,
            ContentType=content_type,
            Accept=accept or content_type,
            InvocationTimeoutSeconds=INVOCATION_TIMEOUT_SECONDS,
            **({"CustomAttributes": local_client.explain_attribute(explain)} if explain else {}),
        )
    output, failure = answer["OutputLocation"], answer.get("FailureLocation")
    progress.echo(f"Async call {answer.get('InferenceId', '')} accepted ({size:,} bytes); the answer will be at {output}")
    found: dict = {}

    def look() -> dict:
        if failure and (reason := storage.read_if_there(aws, failure)) is not None:
            found["failure"] = reason
            return {"Status": "Failed"}
        if (body := storage.read_if_there(aws, output)) is not None:
            found["output"] = body
            return {"Status": "Completed"}
        return {"Status": "Waiting"}

    waiting.wait(
        look,
        "Status",
        {"Completed", "Failed"},
        f"Async call to {name}",
        f"The answer will be at {output}" + (f"; a failure at {failure}" if failure else ""),
        timeout=timeout,
        poll_seconds=poll_seconds,
    )
    if "failure" in found:
        raise UserError(f"the async call failed: {found['failure'].decode('utf-8', errors='replace').strip()[:2000]}")
    return found["output"].decode("utf-8")


def _size(payload: Path) -> int:
    try:
        size = payload.stat().st_size
    except OSError as exc:
        raise UserError(f"cannot read the payload {str(payload)!r}: {exc.strerror}") from None
    if not payload.is_file():
        raise UserError(f"payload {str(payload)!r} is not a file")
    if size > ASYNC_LIMIT_BYTES:
        raise UserError(f"{payload} is {size:,} bytes; an async endpoint takes at most 1 GB per call. Use `releaseml batch-predict`.")
    return size
