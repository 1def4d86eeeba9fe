"""`invoke deploy` against the emulator: what it pushes, uploads and asks SageMaker for, and what it writes.

SageMaker's container part is played by `SageMakerPlayer` (sagemaker_player.py), which says what it follows.
"""

from __future__ import annotations

import json

import boto3
import pytest
import requests
import yaml

from aws_project import BUCKET, REPO, invoke, make_project
from emulator_settings import REGION, ROLE
from releaseml import hyperparameters, metrics
from releaseml.aws import storage
from releaseml.aws.session import Aws

pytestmark = pytest.mark.aws


def test_deploy_pushes_the_image_uploads_the_data_trains_and_writes_the_outcome(deployed, player, registry):
    project, result = deployed
    assert result.returncode == 0, result.stderr
    outcome = json.loads((project / "training_output.json").read_text())
    assert outcome["status"] == "Completed"
    # SageMaker parsed the metrics from the log with the MetricDefinitions deploy sent: they match train's lines.
    assert outcome["metrics"]["validation:accuracy"] > 0.9 and "train:logloss" in outcome["metrics"]
    assert any(line.startswith("#releaseml metric validation:accuracy=") for line in outcome["log"])
    text = (project / "training_output.txt").read_text()
    assert f"Training job: {outcome['job_name']}" in text and "Status: Completed" in text and "validation:accuracy" in text

    sent = next(r for r in player.requests_for("CreateTrainingJob") if r["TrainingJobName"] == outcome["job_name"])
    assert sent["HyperParameters"] == {"target": "species"}  # the config without its data and aws sections
    assert hyperparameters.unflatten(sent["HyperParameters"]) == {"target": "species"}
    assert sent["AlgorithmSpecification"]["MetricDefinitions"] == metrics.metric_definitions()
    assert sent["RoleArn"] == ROLE
    assert sent["InputDataConfig"] == [
        {
            "ChannelName": "training",
            "ContentType": "text/csv",
            "CompressionType": "None",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{BUCKET}/releaseml/data/training/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
    ]
    assert sent["ResourceConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
    assert {"Key": "releaseml", "Value": "true"} in sent["Tags"]

    # Only data/'s own CSV went up (not data/predict/), byte for byte.
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="releaseml/data/")["Contents"]
    assert [item["Key"] for item in listed] == ["releaseml/data/training/penguins.csv"]
    uploaded = boto3.client("s3").get_object(Bucket=BUCKET, Key="releaseml/data/training/penguins.csv")["Body"].read()
    assert uploaded == (REPO / "data/penguins.csv").read_bytes()

    # The image really went to the registry: its tag is listed there, and the player pulled it to train.
    repository, tag = sent["AlgorithmSpecification"]["TrainingImage"].rsplit(":", 1)
    assert repository == f"{registry}/releaseml"
    assert tag in requests.get(f"http://{registry}/v2/releaseml/tags/list", timeout=5).json()["tags"]
    assert outcome["model_artifacts"] == f"s3://{BUCKET}/releaseml/models/{outcome['job_name']}/output/model.tar.gz"
    # The job's report came back from output.tar.gz, with its figures.
    assert outcome["report"] == f"reports/{outcome['job_name']}/report.html"
    assert "Multiclass model for species" in (project / outcome["report"]).read_text()
    assert len(list((project / "reports" / outcome["job_name"] / "figures").glob("*.png"))) == 6
    assert f"Report: reports/{outcome['job_name']}/report.html" in result.stdout


def test_deploy_no_wait_returns_once_the_job_exists(holding_player, built_image, tmp_path):
    player = holding_player
    project = make_project(tmp_path / "project", built_image)
    result = invoke(project, "deploy", "--no-wait", "--json", image=built_image)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "InProgress" and outcome["job_name"] in player.jobs
    assert json.loads((project / "training_output.json").read_text())["job_name"] == outcome["job_name"]


def test_uploads_skip_unchanged_files_and_remove_stale_ones(player, tmp_path):
    aws = Aws(REGION)
    storage.ensure_bucket(aws, "sync-test")
    files = {name: tmp_path / name for name in ("a.csv", "b.csv")}
    for path in files.values():
        path.write_text(f"x\n{path.name}\n")
    assert storage.sync_up(aws, files, "sync-test", "p").uploaded == ["a.csv", "b.csv"]
    files["a.csv"].write_text("x\nchanged\n")
    report = storage.sync_up(aws, {"a.csv": files["a.csv"]}, "sync-test", "p")
    assert (report.uploaded, report.unchanged, report.removed) == (["a.csv"], [], ["b.csv"])
    report = storage.sync_up(aws, {"a.csv": files["a.csv"]}, "sync-test", "p")
    assert (report.uploaded, report.unchanged) == ([], ["a.csv"])
    assert boto3.client("s3").get_object(Bucket="sync-test", Key="p/a.csv")["Body"].read() == b"x\nchanged\n"


def test_a_wrong_target_is_caught_before_a_job_is_paid_for(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image)
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    (project / "releaseml.yaml").write_text(yaml.safe_dump({**config, "target": "specie"}))
    jobs_before = len(player.requests_for("CreateTrainingJob"))
    result = invoke(project, "deploy", image=built_image)
    assert result.returncode == 1 and "specie" in result.stderr and "Traceback" not in result.stderr
    assert len(player.requests_for("CreateTrainingJob")) == jobs_before


def test_a_missing_role_is_reported_before_anything_is_pushed(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image)
    (project / "releaseml.yaml").write_text("target: species\n")
    jobs_before = len(player.requests_for("CreateTrainingJob"))
    result = invoke(project, "deploy", "--data", "data", image=built_image)
    assert result.returncode == 1
    assert "no SageMaker execution role" in result.stderr and "RELEASEML_AWS_ROLE" in result.stderr and "Traceback" not in result.stderr
    assert len(player.requests_for("CreateTrainingJob")) == jobs_before
