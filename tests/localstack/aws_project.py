"""A user's project for the AWS tests, `invoke` run in it as a user would, and the trained artifact read back."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import boto3
import pandas as pd
import yaml

from emulator_settings import ACCOUNT, REGION, ROLE
from releaseml.aws import storage
from releaseml.data.schema import model_frame
from releaseml.model import bundle

REPO = Path(__file__).resolve().parents[2]
BUCKET = f"sagemaker-{REGION}-{ACCOUNT}"  # SageMaker's default bucket, as releaseml derives it
FAST_POLL = {"RELEASEML_AWS_POLL_SECONDS": "0.2"}


def make_project(directory: Path, image: str, **aws) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "data", directory / "data", dirs_exist_ok=True)
    config = {"target": "species", "data": "data/penguins.csv", "aws": {"role": ROLE, **aws}}
    (directory / "releaseml.yaml").write_text(yaml.safe_dump(config))
    return directory


def readme_policy(marker: str) -> str:
    """A policy README.md gives a role (the block after `<!-- MARKER -->`): the tests use the README's own text."""
    text = (REPO / "README.md").read_text()
    found = re.search(rf"<!-- {marker} -->\s*```json\n(.*?)```", text, re.DOTALL)
    assert found, f"README.md lost the policy block {marker}"
    return found[1]


def invoke(project: Path, *args: str, image: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **FAST_POLL}
    return subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args[:1], *(["--image", image] if image else []), *args[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def artifact_model(model_uri: str, target: Path) -> bundle.Bundle:
    """The trained model as the job left it in S3 (model.tar.gz), loaded in this process."""
    bucket, key = storage.split_uri(model_uri)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        archive.extractall(target, filter="data")
    return bundle.load(target)


def labels(model: bundle.Bundle, csv: Path) -> list[str]:
    """The model's own predictions for a header-less CSV, made in this process."""
    frame = pd.read_csv(csv, header=None, names=model.schema.features)
    return [str(label) for label in model.predict(model_frame(frame, model.schema)).labels(model.schema.classes)]


def wait_for_processing(name: str) -> dict:
    """DescribeProcessingJob once the job has ended (or after 300 s)."""
    sagemaker, deadline = boto3.client("sagemaker"), time.monotonic() + 300
    while True:
        description = sagemaker.describe_processing_job(ProcessingJobName=name)
        if description["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped") or time.monotonic() > deadline:
            return description
        time.sleep(0.5)


def scheduled_inputs(schedule: str) -> dict[str, str]:
    """The S3 URI of each input of the CreateProcessingJob request a monitor schedule sends."""
    request = json.loads(boto3.client("scheduler").get_schedule(Name=schedule)["Target"]["Input"])
    return {item["InputName"]: item["S3Input"]["S3Uri"] for item in request["ProcessingInputs"]}
