"""invoke deploy, logs, batch-predict, endpoint and predict --endpoint against the emulator, end to end.

The tasks run as the user runs them (`invoke ...` in a project directory); SageMaker's part is
played by `SageMakerPlayer` (tests/localstack/sagemaker_player.py), which says what it follows.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import boto3
import pandas as pd
import pytest
import requests
import yaml

from emulator_settings import ACCOUNT, REGION, ROLE
from releaseml import bundle, hyperparameters, metrics
from releaseml.aws import storage, workflows
from releaseml.aws.session import Aws
from releaseml.schema import model_frame

pytestmark = pytest.mark.aws
REPO = Path(__file__).resolve().parents[2]
BUCKET = f"sagemaker-{REGION}-{ACCOUNT}"  # SageMaker's default bucket, as releaseml derives it
FAST_POLL = {"RELEASEML_AWS_POLL_SECONDS": "0.2"}


def make_project(directory: Path, image: str, **aws) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "data", directory / "data", dirs_exist_ok=True)
    config = {"target": "species", "data": "data/penguins.csv", "aws": {"role": ROLE, **aws}}
    (directory / "releaseml.yaml").write_text(yaml.safe_dump(config))
    return directory


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


@pytest.fixture(scope="module")
def deployed(player, built_image, tmp_path_factory):
    """`invoke deploy` once for the module: the image pushed, the demo data uploaded, a job trained."""
    project = make_project(tmp_path_factory.mktemp("project"), built_image)
    return project, invoke(project, "deploy", "--data", "data", image=built_image)


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


def test_batch_predict_downloads_predictions_equal_to_the_models_own(deployed, player, tmp_path):
    project, _ = deployed
    result = invoke(project, "batch-predict", "--data", "data/predict", "--out", "predictions")
    assert result.returncode == 0, result.stderr
    outcome = json.loads((project / "training_output.json").read_text())
    model = artifact_model(outcome["model_artifacts"], tmp_path / "model")
    predicted = (project / "predictions" / "penguins.csv.out").read_text().splitlines()
    inputs = (project / "data/predict/penguins.csv").read_text().splitlines()
    assert len(predicted) == len(inputs) == 344
    assert [line.split(",")[0] for line in predicted] == labels(model, project / "data/predict/penguins.csv")
    truth = pd.read_csv(project / "data/penguins.csv")["species"].tolist()
    assert sum(p.split(",")[0] == t for p, t in zip(predicted, truth)) / len(truth) > 0.95

    sent = player.requests_for("CreateTransformJob")[-1]
    assert sent["ModelName"] == outcome["job_name"]
    assert (
        sent["BatchStrategy"] == "MultiRecord"
        and sent["MaxPayloadInMB"] == 20
        and sent["MaxPayloadInMB"] * sent["MaxConcurrentTransforms"] <= 100
    )
    assert sent["TransformInput"]["SplitType"] == "Line" and sent["TransformInput"]["ContentType"] == "text/csv"
    assert sent["TransformOutput"]["AssembleWith"] == "Line" and "DataProcessing" not in sent


def test_a_file_well_over_6_mb_goes_through_in_line_split_mini_batches(deployed, player, tmp_path):
    """The proof of concept sent whole files and failed above 6 MB; with SplitType Line any size goes."""
    project, _ = deployed
    rows = (project / "data/predict/penguins.csv").read_text().splitlines()
    big = tmp_path / "big" / "penguins.csv"
    big.parent.mkdir()
    repeats = 8 * 1024 * 1024 // len("\n".join(rows)) + 1
    big.write_text("\n".join(rows * repeats) + "\n")
    assert big.stat().st_size > 8 * 1024 * 1024
    job = json.loads((project / "training_output.json").read_text())["job_name"]
    model = artifact_model(json.loads((project / "training_output.json").read_text())["model_artifacts"], tmp_path / "model")
    expected = labels(model, big)

    for payload_mb, least_batches in ((20, 1), (2, 4)):
        ctx = workflows.context(project / "releaseml.yaml", {"transform_max_payload_mb": payload_mb})
        outcome = workflows.batch_predict(ctx, big.parent, job, tmp_path / f"out-{payload_mb}", join=True, poll_seconds=0.2)
        joined = (tmp_path / f"out-{payload_mb}" / "penguins.csv.out").read_text().splitlines()
        assert len(joined) == len(rows) * repeats
        width = len(model.schema.features)  # each input row, then its answer (label, class probabilities)
        assert [line.split(",")[width] for line in joined] == expected
        assert [",".join(line.split(",")[:width]) for line in joined[:3]] == rows[:3]
        batches = player.jobs[outcome.job_name].batches
        assert len(batches) >= least_batches and sum(count for _, count, _ in batches) == len(joined)
        assert max(size for _, _, size in batches) <= payload_mb * 1024 * 1024
        if payload_mb == 20:
            assert batches[0][2] > 8 * 1024 * 1024  # one request of over 8 MB, accepted by the container
    # One SageMaker model per training job, made once and reused by every batch transform.
    assert [r["ModelName"] for r in player.requests_for("CreateModel")].count(job) == 1


def test_batch_predict_refuses_a_csv_with_a_header_row_before_any_job(deployed, player):
    project, _ = deployed
    transforms_before = len(player.requests_for("CreateTransformJob"))
    result = invoke(project, "batch-predict", "--data", "data/penguins.csv")
    assert result.returncode == 1 and "starts with a header row (species, island" in result.stderr and "Traceback" not in result.stderr
    assert len(player.requests_for("CreateTransformJob")) == transforms_before


def test_deploy_no_wait_returns_once_the_job_exists(holding_player, built_image, tmp_path):
    player = holding_player
    project = make_project(tmp_path / "project", built_image)
    result = invoke(project, "deploy", "--no-wait", "--json", image=built_image)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "InProgress" and outcome["job_name"] in player.jobs
    assert json.loads((project / "training_output.json").read_text())["job_name"] == outcome["job_name"]


def test_endpoint_serves_signed_requests_and_is_deleted(deployed, player, tmp_path):
    project, _ = deployed
    created = invoke(project, "endpoint", "--name", "penguins")
    assert created.returncode == 0, created.stderr
    assert "Endpoint penguins: InService" in created.stdout
    answer = invoke(project, "predict", "data/predict/penguins.csv", "--endpoint", "penguins")
    assert answer.returncode == 0, answer.stderr
    model = artifact_model(json.loads((project / "training_output.json").read_text())["model_artifacts"], tmp_path / "model")
    assert [line.split(",")[0] for line in answer.stdout.splitlines()] == labels(model, project / "data/predict/penguins.csv")
    # boto3 signed the call (SigV4, this region, the sagemaker service): no hand-made signing.
    authorization = player.runtime_calls[-1]["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/") and f"/{REGION}/sagemaker/aws4_request" in authorization

    bad = tmp_path / "bad.csv"
    bad.write_text("Biscoe,not-a-number,1,2,3,male,2008\n")
    refused = invoke(project, "predict", str(bad), "--endpoint", "penguins")
    assert refused.returncode == 1 and "the model refused the payload" in refused.stderr and "Traceback" not in refused.stderr

    deleted = invoke(project, "endpoint", "--name", "penguins", "--delete")
    assert deleted.returncode == 0, deleted.stderr
    assert boto3.client("sagemaker").list_endpoints(NameContains="penguins")["Endpoints"] == []
    gone = invoke(project, "predict", "data/predict/penguins.csv", "--endpoint", "penguins")
    assert gone.returncode == 1 and "Traceback" not in gone.stderr


def test_a_failing_job_shows_its_failure_reason(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image)
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    (project / "releaseml.yaml").write_text(yaml.safe_dump({**config, "catboost": {"depth": 40}}))
    result = invoke(project, "deploy", image=built_image)
    assert result.returncode == 1, result.stdout
    assert "training job" in result.stderr and "failed: AlgorithmError:" in result.stderr and "depth" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    outcome = json.loads((project / "training_output.json").read_text())
    assert outcome["status"] == "Failed" and "AlgorithmError" in outcome["failure_reason"]


def test_stopping_the_wait_leaves_the_job_running_and_logs_reattaches(holding_player, built_image, tmp_path):
    player = holding_player
    project = make_project(tmp_path / "project", built_image)
    result = invoke(project, "deploy", "--timeout", "1", image=built_image)
    assert result.returncode == 3, result.stderr
    job = json.loads((project / "training_output.json").read_text())
    assert job["status"] == "InProgress"
    assert f"invoke logs {job['job_name']}" in result.stderr and "goes on" in result.stderr
    player.release()
    attached = invoke(project, "logs", job["job_name"], "--out", "attached.txt")
    assert attached.returncode == 0, attached.stderr
    assert f"Training job {job['job_name']}: Completed" in attached.stdout and "validation:accuracy" in attached.stdout
    assert json.loads((project / "attached.json").read_text())["status"] == "Completed"


def test_ctrl_c_while_waiting_leaves_the_job_running(holding_player, built_image, tmp_path):
    import signal
    import time

    player = holding_player
    project = make_project(tmp_path / "project", built_image)
    known = set(player.jobs)
    child = subprocess.Popen(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), "deploy", "--image", built_image],
        cwd=project,
        env={**os.environ, **FAST_POLL},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not set(player.jobs) - known and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.1)
    [job] = set(player.jobs) - known
    time.sleep(1)  # waiting now
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 3, stderr
    assert "stopped waiting (Ctrl-C)" in stderr and f"invoke logs {job}" in stderr and "Traceback" not in stderr
    assert player.jobs[job].status == "InProgress"  # nothing stopped the job
    assert json.loads((project / "training_output.json").read_text())["status"] == "InProgress"


def test_a_job_over_its_max_runtime_is_stopped(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image, max_runtime_seconds=1)
    result = invoke(project, "deploy", image=built_image)
    assert result.returncode == 1
    assert "stopped: Training job reached its MaxRuntimeInSeconds of 1" in result.stderr
    sent = player.requests_for("CreateTrainingJob")[-1]
    assert sent["StoppingCondition"] == {"MaxRuntimeInSeconds": 1}


def test_a_missing_role_is_reported_before_anything_is_pushed(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image)
    (project / "releaseml.yaml").write_text("target: species\n")
    jobs_before = len(player.requests_for("CreateTrainingJob"))
    result = invoke(project, "deploy", "--data", "data", image=built_image)
    assert result.returncode == 1
    assert "no SageMaker execution role" in result.stderr and "RELEASEML_AWS_ROLE" in result.stderr and "Traceback" not in result.stderr
    assert len(player.requests_for("CreateTrainingJob")) == jobs_before


def test_a_wrong_target_is_caught_before_a_job_is_paid_for(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image)
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    (project / "releaseml.yaml").write_text(yaml.safe_dump({**config, "target": "specie"}))
    jobs_before = len(player.requests_for("CreateTrainingJob"))
    result = invoke(project, "deploy", image=built_image)
    assert result.returncode == 1 and "specie" in result.stderr and "Traceback" not in result.stderr
    assert len(player.requests_for("CreateTrainingJob")) == jobs_before


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


def test_nothing_reaches_real_aws_from_these_tests(guarded_env, monkeypatch):
    """Without an endpoint setting, a call goes to AWS itself, and the guard's proxy stops it."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    with pytest.raises(BotoCoreError, match="127.0.0.1:9|proxy|Proxy"):
        boto3.client("sts", region_name=REGION, config=Config(retries={"max_attempts": 1})).get_caller_identity()


@pytest.fixture
def strict_emulator(tmp_path):
    """A second moto server that checks IAM policies, and the keys of a user who may use S3 and STS only."""
    from helpers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    # The first three calls (creating the user, its policy and its keys) pass unchecked; then every call is.
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", url.rsplit(":", 1)[1]],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        iam = boto3.client("iam", endpoint_url=url, region_name=REGION)
        for _ in range(100):
            try:
                iam.create_user(UserName="analyst")
                break
            except Exception:  # not listening yet
                import time

                time.sleep(0.1)
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:GetCallerIdentity"], "Resource": "*"}]}
        iam.put_user_policy(UserName="analyst", PolicyName="s3-only", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="analyst")["AccessKey"]
        yield url, key
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_missing_permission_names_the_call_and_what_is_missing(strict_emulator, built_image, tmp_path, monkeypatch):
    url, key = strict_emulator
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    project = make_project(tmp_path / "project", built_image)
    result = invoke(project, "deploy", image=built_image)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "AWS denied DescribeRepositories while looking up ECR repository releaseml" in result.stderr
    assert "user/analyst is not authorized to perform: ecr:DescribeRepositories" in result.stderr
    assert "The credentials in use lack a permission; README.md, section 'Running on AWS', lists the permissions" in result.stderr
    attached = invoke(project, "logs", "some-job")
    assert (
        attached.returncode == 1
        and "AWS denied DescribeTrainingJob" in attached.stderr
        and "sagemaker:DescribeTrainingJob" in attached.stderr
    )
