"""Failed and stopped jobs, waits that end before the job does, missing permissions, and the guard.

SageMaker's container part is played by `SageMakerPlayer` (sagemaker_player.py), which says what it follows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest
import yaml

from aws_project import FAST_POLL, REPO, invoke, make_project
from emulator_settings import REGION

pytestmark = pytest.mark.aws


def test_a_failing_job_shows_its_failure_reason(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image)
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    (project / "releaseml.yaml").write_text(yaml.safe_dump({**config, "catboost": {"max_leaves": 8}}))
    result = invoke(project, "deploy", image=built_image)
    assert result.returncode == 1, result.stdout
    assert "training job" in result.stderr and "failed: AlgorithmError:" in result.stderr and "lossguide" in result.stderr.lower()
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
    assert f"releaseml logs {job['job_name']}" in result.stderr and "goes on" in result.stderr
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
        # Ctrl-C as in a terminal: a test run started in the background (`cmd &` in a script) passes
        # SIGINT ignored to its children, and Python then never raises KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not set(player.jobs) - known and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.1)
    [job] = set(player.jobs) - known
    time.sleep(1)  # waiting now
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 3, stderr
    assert "stopped waiting (Ctrl-C)" in stderr and f"releaseml logs {job}" in stderr and "Traceback" not in stderr
    assert player.jobs[job].status == "InProgress"  # nothing stopped the job
    assert json.loads((project / "training_output.json").read_text())["status"] == "InProgress"


def test_a_job_over_its_max_runtime_is_stopped(player, built_image, tmp_path):
    project = make_project(tmp_path / "project", built_image, max_runtime_seconds=1)
    result = invoke(project, "deploy", image=built_image)
    assert result.returncode == 1
    assert "stopped: Training job reached its MaxRuntimeInSeconds of 1" in result.stderr
    sent = player.requests_for("CreateTrainingJob")[-1]
    assert sent["StoppingCondition"] == {"MaxRuntimeInSeconds": 1}


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
    assert "AWS denied GetAuthorizationToken while getting an ECR login" in result.stderr  # the first call that needs ECR
    assert "user/analyst is not authorized to perform: ecr:GetAuthorizationToken" in result.stderr
    assert "The credentials in use lack a permission; README.md, section 'Running on AWS', lists the permissions" in result.stderr
    attached = invoke(project, "logs", "some-job")
    assert (
        attached.returncode == 1
        and "AWS denied DescribeTrainingJob" in attached.stderr
        and "sagemaker:DescribeTrainingJob" in attached.stderr
    )


@pytest.mark.parametrize(
    "key,secret,token,message",
    [
        ("AKIANOSUCHKEY0000000", "wrong", None, "AWS does not know these credentials"),
    ],
)
def test_credentials_aws_does_not_know_are_named_as_such(strict_emulator, built_image, tmp_path, monkeypatch, key, secret, token, message):
    """A wrong key once read as a missing permission; it is the key that is wrong."""
    url, _ = strict_emulator
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    project = make_project(tmp_path / "project", built_image)
    result = invoke(project, "logs", "some-job")
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_nothing_reaches_real_aws_from_these_tests(guarded_env, monkeypatch):
    """Without an endpoint setting, a call goes to AWS itself, and the guard's proxy stops it."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    with pytest.raises(BotoCoreError, match="127.0.0.1:9|proxy|Proxy"):
        boto3.client("sts", region_name=REGION, config=Config(retries={"max_attempts": 1})).get_caller_identity()
