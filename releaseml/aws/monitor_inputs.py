"""What `releaseml monitor` reads on AWS about a live model: the model an endpoint serves, where the
endpoint captures its traffic, or a training job's model.

The model an endpoint serves is its production variant's model's ModelDataUrl (not the newest version,
nor the job in training_output.txt: the one answering calls). Its capture files are under the endpoint
config's DataCaptureConfig.DestinationS3Uri/ENDPOINT/, as SageMaker writes them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from releaseml.aws import endpoints, sagemaker_training
from releaseml.aws.session import Aws
from releaseml.common.errors import UserError


@dataclass(frozen=True)
class Served:
    """An endpoint's production model, and its DataCaptureConfig when it captures."""

    endpoint: str
    model_name: str
    model_data: str  # the model.tar.gz
    capture: Optional[dict]

    def captured_uri(self) -> str:
        """Where SageMaker writes the endpoint's capture files (its variants' folders are below);
        a UserError naming `endpoint --capture` when it captures no requests."""
        turn_on = f"`releaseml endpoint --name {self.endpoint} --capture 20` captures 20% of them"
        if self.capture is None:
            raise UserError(f"endpoint {self.endpoint} does not capture its requests, so there is nothing to monitor: {turn_on}")
        modes = {option.get("CaptureMode") for option in self.capture.get("CaptureOptions", [])}
        if "Input" not in modes:
            raise UserError(f"endpoint {self.endpoint} captures its answers but not its requests, which monitoring reads: {turn_on}")
        return f"{self.capture['DestinationS3Uri'].rstrip('/')}/{self.endpoint}/"


def served(aws: Aws, endpoint: str) -> Served:
    """The model endpoint `endpoint` serves and its capture settings; a UserError when there is no such endpoint."""
    description = endpoints.find(aws, endpoint)
    if description is None:
        raise UserError(
            f"no endpoint {endpoint!r} in {aws.region} to monitor: check the name and the region "
            "(`releaseml models` lists which endpoint serves which version)"
        )
    config = endpoints.describe_config(aws, description["EndpointConfigName"])
    variant = config["ProductionVariants"][0]
    model_data = endpoints.model_data_of(aws, variant["ModelName"])
    if not model_data:
        raise UserError(
            f"endpoint {endpoint} serves model {variant['ModelName']}, which is gone or names no model.tar.gz: "
            f"serve a version again (`releaseml endpoint --name {endpoint} --version N`)"
        )
    capture = config.get("DataCaptureConfig")
    return Served(endpoint, variant["ModelName"], model_data, capture if capture and capture.get("EnableCapture", True) else None)


def endpoint_model(aws: Aws, found: Served, cache: Path) -> Path:
    """The endpoint's model.tar.gz unpacked under `cache` (once per artifact): a folder `monitor` reads."""
    from releaseml.aws import promotion

    directory = cache / f"endpoint-{hashlib.sha256(found.model_data.encode()).hexdigest()[:16]}"
    promotion.load_model(aws, found.model_data, directory)
    return directory


def job_model(aws: Aws, job: str, cache: Path) -> Path:
    """A training job's model unpacked under `cache` (once per job)."""
    return sagemaker_training.download_model(aws, job, cache / job)
