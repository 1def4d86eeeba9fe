"""`releaseml deploy` against the emulator: what it pushes, uploads and asks SageMaker for, and what it writes.

SageMaker's container part is played by `SageMakerPlayer` (sagemaker_player.py), which says what it follows.
"""

from __future__ import annotations

import hashlib
import json
import re

import boto3
import pandas as pd
import pytest
import requests
import yaml

from aws_project import BUCKET, REPO, artifact_model, invoke, make_project
from emulator_settings import REGION, ROLE
from releaseml.aws import sizing, storage, workflows
from releaseml.aws.session import Aws
from releaseml.common.errors import UserError
from releaseml.config import hyperparameters
from releaseml.data.schema import model_frame
from releaseml.training import metrics

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
    manifest_uri = f"s3://{BUCKET}/releaseml/data/manifests/{outcome['job_name']}/training.manifest"
    assert sent["InputDataConfig"] == [
        {
            "ChannelName": "training",
            "ContentType": "text/csv",
            "CompressionType": "None",
            "DataSource": {
                "S3DataSource": {"S3DataType": "ManifestFile", "S3Uri": manifest_uri, "S3DataDistributionType": "FullyReplicated"}
            },
        }
    ]
    assert sent["ResourceConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
    assert {"Key": "releaseml", "Value": "true"} in sent["Tags"]

    # The manifest lists exactly data/'s own CSV (not data/predict/), stored under its SHA-256, byte for byte.
    s3 = boto3.client("s3")
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_uri.split(BUCKET + "/")[1])["Body"].read())
    checksum = hashlib.sha256((REPO / "data/penguins.csv").read_bytes()).hexdigest()
    assert manifest == [{"prefix": f"s3://{BUCKET}/releaseml/data/files/"}, f"{checksum}/penguins.csv"]
    uploaded = s3.get_object(Bucket=BUCKET, Key=f"releaseml/data/files/{checksum}/penguins.csv")["Body"].read()
    assert uploaded == (REPO / "data/penguins.csv").read_bytes()

    # The image really went to the registry: its tag is listed there, and the player pulled it to train.
    repository, tag = sent["AlgorithmSpecification"]["TrainingImage"].rsplit(":", 1)
    assert repository == f"{registry}/releaseml"
    assert tag in requests.get(f"http://{registry}/v2/releaseml/tags/list", timeout=5).json()["tags"]
    assert outcome["model_artifacts"] == f"s3://{BUCKET}/releaseml/models/{outcome['job_name']}/output/model.tar.gz"
    # The job's report came back from output.tar.gz, with its figures.
    assert outcome["report"] == f"reports/{outcome['job_name']}/report.html"
    assert "Multiclass model for species" in (project / outcome["report"]).read_text()
    assert (
        len(list((project / "reports" / outcome["job_name"] / "figures").glob("*.png"))) == 8
    )  # the classification set of tests/test_report.py
    assert f"Report: reports/{outcome['job_name']}/report.html" in result.stdout


def test_deploy_no_wait_returns_once_the_job_exists(holding_player, built_image, tmp_path):
    player = holding_player
    project = make_project(tmp_path / "project", built_image)
    result = invoke(project, "deploy", "--no-wait", "--json", image=built_image)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "InProgress" and outcome["job_name"] in player.jobs
    assert json.loads((project / "training_output.json").read_text())["job_name"] == outcome["job_name"]


def test_uploads_skip_unchanged_files_and_never_delete(player, tmp_path):
    aws = Aws(REGION)
    storage.ensure_bucket(aws, "upload-test")
    files = {name: tmp_path / name for name in ("a.csv", "b.csv")}
    for path in files.values():
        path.write_text(f"x\n{path.name}\n")
    assert storage.upload(aws, files, "upload-test", "p").uploaded == ["a.csv", "b.csv"]
    files["a.csv"].write_text("x\nchanged\n")
    report = storage.upload(aws, {"a.csv": files["a.csv"]}, "upload-test", "p")
    assert (report.uploaded, report.unchanged) == (["a.csv"], [])
    report = storage.upload(aws, files, "upload-test", "p")
    assert (report.uploaded, report.unchanged) == ([], ["a.csv", "b.csv"])
    s3 = boto3.client("s3")
    assert s3.get_object(Bucket="upload-test", Key="p/a.csv")["Body"].read() == b"x\nchanged\n"
    assert s3.get_object(Bucket="upload-test", Key="p/b.csv")["Body"].read() == b"x\nb.csv\n"


def test_two_deploys_from_one_bucket_never_touch_each_others_data(player, built_image, tmp_path):
    """Data goes under keys named by its content and each job gets its own manifest, so a second deploy
    (another project, or the same one with new data) cannot change what a running job reads."""
    project = make_project(tmp_path / "project", built_image)
    ctx = workflows.context(project / "releaseml.yaml")
    bucket = ctx.bucket
    storage.ensure_bucket(ctx.aws, bucket)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("species,x\nAdelie,1\n")
    second.write_text("species,x\nGentoo,2\n")
    manifests = [
        workflows.upload_channel(ctx, bucket, job, "training", {"data.csv": path}) for job, path in (("job-a", first), ("job-b", second))
    ]
    s3 = boto3.client("s3")
    listed = []
    for manifest in manifests:
        prefix, name = json.loads(s3.get_object(Bucket=bucket, Key=storage.split_uri(manifest)[1])["Body"].read())
        listed.append(s3.get_object(Bucket=bucket, Key=storage.split_uri(prefix["prefix"])[1] + name)["Body"].read())
    assert listed == [first.read_bytes(), second.read_bytes()]  # each job still reads its own data
    _, again = storage.upload_by_content(ctx.aws, {"data.csv": first}, bucket, ctx.key("data", "files"))
    assert again.uploaded == [] and len(again.unchanged) == 1  # the same data is not sent twice


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


def test_fast_file_input_streams_a_prefix_of_the_jobs_own_copies(player, built_image, tmp_path):
    """aws.input_mode FastFile: TrainingInputMode FastFile, each channel an S3 prefix holding exactly
    the job's files (copied inside S3 from the content-named uploads); the job trains as in File mode."""
    project = make_project(tmp_path / "project", built_image, input_mode="FastFile")
    result = invoke(project, "deploy", "--json", image=built_image)
    assert result.returncode == 0, result.stderr
    sent = player.requests_for("CreateTrainingJob")[-1]
    assert sent["AlgorithmSpecification"]["TrainingInputMode"] == "FastFile"
    (channel,) = sent["InputDataConfig"]
    source = channel["DataSource"]["S3DataSource"]
    assert source["S3DataType"] == "S3Prefix" and source["S3Uri"].endswith(f"/data/jobs/{sent['TrainingJobName']}/training/")
    bucket, prefix = storage.split_uri(source["S3Uri"])
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    assert [item["Key"][len(prefix) :] for item in listed] == ["penguins.csv"]
    assert boto3.client("s3").get_object(Bucket=bucket, Key=listed[0]["Key"])["Body"].read() == (REPO / "data/penguins.csv").read_bytes()
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "Completed" and outcome["metrics"]["validation:accuracy"] > 0.9


def test_spot_training_interrupted_part_way_resumes_from_its_checkpoint_and_makes_the_same_model(player, built_image, tmp_path):
    """`deploy --spot`: managed spot with CheckpointConfig; the player reclaims the instance once
    (SIGTERM after a checkpoint, checkpoints synced to S3) and restarts the job with them restored."""
    rows = pd.read_csv(REPO / "data/predict/penguins.csv", header=None)
    outcomes, models = {}, {}
    for kind, flags in (("spot", ["--spot", "--max-wait", "100000"]), ("on_demand", [])):
        project = make_project(tmp_path / kind, built_image, checkpoint_seconds=1)
        config = yaml.safe_load((project / "releaseml.yaml").read_text())
        # long enough (about 10 s here) to be interrupted well before its end on a faster machine too
        config["catboost"] = {"iterations": 8000, "learning_rate": 0.002}
        (project / "releaseml.yaml").write_text(yaml.safe_dump(config))
        result = invoke(project, "deploy", *flags, "--json", image=built_image)
        assert result.returncode == 0, result.stderr
        outcomes[kind] = json.loads(result.stdout)
        models[kind] = artifact_model(outcomes[kind]["model_artifacts"], tmp_path / f"{kind}-model")
    spot_job = outcomes["spot"]["job_name"]
    sent = {r["TrainingJobName"]: r for r in player.requests_for("CreateTrainingJob")}
    spot = sent[spot_job]
    assert spot["EnableManagedSpotTraining"] is True
    assert spot["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400, "MaxWaitTimeInSeconds": 100000}
    assert spot["CheckpointConfig"] == {"S3Uri": f"s3://{BUCKET}/releaseml/checkpoints/{spot_job}/", "LocalPath": "/opt/ml/checkpoints"}
    assert spot["Environment"] == {"RELEASEML_CHECKPOINT_SECONDS": "1"}
    on_demand = sent[outcomes["on_demand"]["job_name"]]
    assert not {"EnableManagedSpotTraining", "CheckpointConfig", "Environment"} & set(on_demand)
    assert set(on_demand["StoppingCondition"]) == {"MaxRuntimeInSeconds"}

    interrupted, resumed = player.jobs[spot_job].runs
    done_before = [int(n) for n in re.findall(r"^(\d+):\tlearn", interrupted, re.MULTILINE)]
    done_after = [int(n) for n in re.findall(r"^(\d+):\tlearn", resumed, re.MULTILINE)]
    assert done_before[0] == 0 and "Resuming from the checkpoint" in resumed
    assert done_before[-1] < 7999, "the interrupted run finished before the reclaim: train longer"
    assert done_after[0] > 0, "the restarted job began again at iteration 0"  # iterations done once, not twice
    on_demand_log = player.jobs[outcomes["on_demand"]["job_name"]].runs
    assert len(on_demand_log) == 1 and "Resuming" not in on_demand_log[0]

    features = models["spot"].schema.features
    frame = model_frame(rows.set_axis(features, axis=1), models["spot"].schema)
    assert (models["spot"].predict(frame).probabilities == models["on_demand"].predict(frame).probabilities).all()
    assert models["spot"].model.tree_count_ == models["on_demand"].model.tree_count_
    billed, trained = outcomes["spot"]["billable_seconds"], outcomes["spot"]["training_seconds"]
    assert billed < trained
    text = (tmp_path / "spot" / "training_output.txt").read_text()
    assert f"Spot: billed for {billed} s of {trained} s trained" in text and "% saved" in text


def test_spot_mistakes_are_caught_before_anything_is_made(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image)
    before = len(player.requests_for("CreateTrainingJob"))
    for flags, message in (
        (["--spot", "--max-wait", "600"], "max_wait_seconds (600) is less than max_runtime_seconds (86400)"),
        (["--max-wait", "100000"], "max_wait_seconds is for spot training: add spot: true (or --spot)"),
        (["--spot", "--max-wait", "abc"], "max_wait_seconds"),
    ):
        result = invoke(project, "deploy", *flags, image=built_image)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert message in result.stderr
    assert len(player.requests_for("CreateTrainingJob")) == before


def test_data_too_large_for_the_instance_stops_deploy_before_anything_is_made_and_force_goes_on(player, built_image, tmp_path, monkeypatch):
    """The rule's threshold is raised so the demo data "needs" 27 GB: the wiring is what is tested here
    (tests/test_sizing.py tests the rule)."""
    monkeypatch.setattr(sizing, "BYTES_PER_CELL", 10**7)
    project = make_project(tmp_path / "project", built_image)
    ctx = workflows.context(project / "releaseml.yaml")
    before = len(player.requests_for("CreateTrainingJob"))
    with pytest.raises(UserError, match=r"needs about \d+\.\d GiB .* ml\.m5\.large has 8 GiB.* Use ml\.m5\.2xlarge .*--force"):
        workflows.deploy(ctx, None, built_image, None, wait=False)
    assert len(player.requests_for("CreateTrainingJob")) == before
    outcome = workflows.deploy(ctx, None, built_image, None, wait=False, force=True)
    assert outcome.job_name in player.jobs
