"""Data capture on an endpoint: SageMaker copies a sample of the requests and answers to S3.

What it writes is SageMaker's own format (one JSON line per request, under
DESTINATION/ENDPOINT/VARIANT/yyyy/mm/dd/hh/), which Model Monitor and `releaseml monitor` read:
the rows people really send, to compare with the training data later. CSV and JSON bodies are kept
as text (the content types named here), anything else base64.
"""

from __future__ import annotations

from typing import Optional

from releaseml.common import media
from releaseml.common.errors import UserError

CSV_TYPES = [media.CSV]
JSON_TYPES = [media.JSON, media.JSONLINES]


def destination(section, bucket: str) -> str:
    """`aws.capture_prefix`, else s3://BUCKET/PREFIX/capture."""
    return (section.capture_prefix or f"s3://{bucket}/{section.prefix.strip('/')}/capture").rstrip("/")


def config(section, bucket: str, percent: int) -> dict:
    """The endpoint config's DataCaptureConfig: `percent` of the requests, input and output."""
    if not 0 < percent <= 100:
        raise UserError(f"--capture {percent}: give the share of requests to capture, 1 to 100 (0 turns capture off)")
    if section.endpoint_kind == "serverless":
        raise UserError("SageMaker captures data on instance and async endpoints, not serverless ones: drop --capture, or --serverless")
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": int(percent),
        "DestinationS3Uri": destination(section, bucket),
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": CSV_TYPES, "JsonContentTypes": JSON_TYPES},
    }


def kept(existing_config: Optional[dict], percent: Optional[int], section, bucket: str) -> Optional[dict]:
    """What a new endpoint config captures: as asked (`percent`; 0 turns it off), else what the endpoint
    captured before, so an update or a promotion never turns capture off unasked."""
    if percent is not None:
        return config(section, bucket, percent) if percent else None
    captured = (existing_config or {}).get("DataCaptureConfig")
    return captured if captured and captured.get("EnableCapture", True) else None


def describe(capture: Optional[dict], endpoint: str) -> str:
    """In words, for the endpoint's message."""
    if not capture:
        return "Data capture: off."
    return (
        f"Data capture: {capture['InitialSamplingPercentage']}% of requests and answers, "
        f"to {capture['DestinationS3Uri']}/{endpoint}/<variant>/yyyy/mm/dd/hh/."
    )
