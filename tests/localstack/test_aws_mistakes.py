"""Every mistake a newcomer makes with the AWS tasks, made on purpose against the emulator:
run the task, read the message, check that nothing was left half-made.

SageMaker's container part is played by `SageMakerPlayer` (sagemaker_player.py); S3, IAM, ECR
and STS are moto's. Each test says what a user did wrong.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest

from aws_project import FAST_POLL, make_project
from emulator_settings import REGION
from helpers import run_task

pytestmark = pytest.mark.aws


def run(project, *args, env=None, drop=()):
    return run_task(*args, cwd=project, env={**FAST_POLL, **(env or {})}, drop=drop)


def refused(result, *fragments, code=1):
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def repositories() -> list[str]:
    return [r["repositoryName"] for r in boto3.client("ecr").describe_repositories()["repositories"]]


def buckets() -> list[str]:
    return [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]


@pytest.fixture
def project(player, built_image, tmp_path):
    return make_project(tmp_path / "project", built_image, repository="mistakes")


def test_deploy_before_build_says_to_build_and_makes_nothing(project, player):
    """`releaseml deploy` with no image once ended in AttributeError: 'DockerClient' object has no attribute 'errors'."""
    jobs = len(player.requests_for("CreateTrainingJob"))
    refused(run(project, "deploy", "--image", "never-built"), "no local image 'never-built': build it first with `releaseml build`")
    assert "mistakes" not in repositories() and len(player.requests_for("CreateTrainingJob")) == jobs


def test_deploy_without_a_docker_engine(project):
    refused(
        run(project, "deploy", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"}),
        "no Docker engine answers",
        "deploy pushes the image",
    )


def test_without_aws_credentials(project, built_image):
    refused(
        run(project, "logs", "any-job", drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")),
        "no AWS credentials found",
        "aws configure",
    )


def test_without_a_region(project):
    refused(run(project, "logs", "any-job", drop=("AWS_REGION", "AWS_DEFAULT_REGION")), "no AWS region", "AWS_DEFAULT_REGION")


def test_a_role_that_does_not_exist_is_named_before_anything_is_made(project, built_image):
    refused(run(project, "deploy", "--image", built_image, "--role", "no-such-role"), "no IAM role 'no-such-role' in account")
    assert "mistakes" not in repositories()


def test_a_role_that_does_not_trust_sagemaker_cannot_be_passed(project, built_image):
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    boto3.client("iam").create_role(RoleName="ec2-only", AssumeRolePolicyDocument=json.dumps(trust))
    refused(run(project, "deploy", "--image", built_image, "--role", "ec2-only"), "role 'ec2-only' does not trust sagemaker.amazonaws.com")
    assert "mistakes" not in repositories()


def test_a_bucket_in_another_region_is_refused_before_anything_is_made(project, built_image):
    boto3.client("s3", region_name="us-west-2").create_bucket(
        Bucket="far-away-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    refused(
        run(project, "deploy", "--image", built_image, "--bucket", "far-away-bucket"),
        f"bucket far-away-bucket is in us-west-2, but the jobs run in {REGION}",
    )
    assert "mistakes" not in repositories()


@pytest.mark.parametrize(
    "args,message",
    [
        (("logs", "no-such-job"), "no training job 'no-such-job' in"),
        (("batch-predict", "--job", "no-such-job"), "no training job 'no-such-job' in"),
        (("endpoint", "--job", "no-such-job"), "no training job 'no-such-job' in"),
        (("endpoint", "--delete", "--name", "no-such-endpoint"), "no endpoint 'no-such-endpoint' in"),
        (("endpoint", "--status", "--name", "no-such-endpoint"), "no endpoint 'no-such-endpoint' in"),
        (("predict", "data/predict/penguins.csv", "--endpoint", "no-such-endpoint"), "no endpoint 'no-such-endpoint' in"),
        (
            ("batch-predict",),
            "no training outcome at training_output.txt: run `releaseml deploy` (or `releaseml tune`) first, or pass --job NAME",
        ),
        (("endpoint",), "no training outcome at training_output.txt"),
    ],
)
def test_names_that_do_not_exist_and_outcomes_not_written_yet(project, args, message):
    refused(run(project, *args), message)


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_timeout_that_is_not_a_number_of_seconds(project, value):
    refused(run(project, "logs", "any-job", "--timeout", value), f"--timeout {value!r}")


def test_aws_task_inputs_that_are_not_there(project, built_image):
    (project / "releaseml.yaml").write_text((project / "releaseml.yaml").read_text().replace("data: data/penguins.csv\n", ""))
    refused(run(project, "deploy", "--image", built_image), "no training data: pass --data DIR or set `data:` in the config")
    refused(run(project, "predict", "missing.csv", "--endpoint", "any"), "cannot read the payload 'missing.csv'")
    refused(run(project, "batch-predict", "--job", "any", "--data", "nowhere"), "no data to predict at 'nowhere'")
    (project / "empty").mkdir()
    refused(run(project, "batch-predict", "--job", "any", "--data", "empty"), "empty holds no files to predict")
    (project / "training_output.json").write_text("{not json")
    refused(run(project, "batch-predict"), "training_output.json is not an outcome file written by `releaseml deploy` or `releaseml tune`")


def test_an_aws_endpoint_that_does_not_answer(project):
    services = [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")]  # the player's, per service
    result = run(project, "logs", "any-job", env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, drop=services)
    refused(result, "cannot reach AWS while looking up training job any-job")


def test_predictions_from_a_job_that_failed(player, built_image, tmp_path):
    import yaml

    project = make_project(tmp_path / "failing", built_image, repository="mistakes-failed")
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    (project / "releaseml.yaml").write_text(yaml.safe_dump({**config, "catboost": {"max_leaves": 8}}))
    assert run(project, "deploy", "--image", built_image).returncode == 1
    refused(run(project, "batch-predict"), "is Failed; predictions need a completed one")


def test_a_payload_over_the_real_time_limit_is_refused_before_it_is_sent(project):
    (project / "big.csv").write_text("Dream,40,18,190,3700,male\n" * 260_000)  # about 6.8 MB
    refused(run(project, "predict", "big.csv", "--endpoint", "any"), "a real-time endpoint takes at most 6 MB per request")
