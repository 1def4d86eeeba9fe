"""AWS tests against a real HTTP emulator: moto's server on a loopback port, started for the run.

- S3, CloudWatch, EventBridge Scheduler, STS, IAM: moto's server directly (or S3 on a running LocalStack
  when LOCALSTACK_HOST=host:port is set).
- SageMaker, sagemaker-runtime, ECR, CloudWatch Logs: through `SageMakerPlayer`, which forwards to moto and
  plays the container-running part of SageMaker, and what moto lacks of the others, by the documented
  contract (see its module docstring); it also fires schedules (`fire_schedule`), which moto never does.
- A real registry (Debian's docker-registry) on a loopback port receives the `docker push`.

Nothing may leave the machine: dummy credentials, no AWS config files, and an unroutable
proxy for everything that is not on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from api_gateway_player import ApiGatewayPlayer
from aws_project import invoke, make_project, readme_policy
from emulator_settings import API_ROLE, GUARD, REGION, ROLE, SCHEDULE_ROLE
from helpers import free_port
from sagemaker_player import SageMakerPlayer


def _wait_for(url: str, process: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited at start: {log.read_text()[-2000:]}", pytrace=False)
        try:
            requests.get(url, timeout=1, proxies={"http": None, "https": None})
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail(f"{what} did not answer at {url} within 30 s", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def guarded_env():
    saved = {name: os.environ.get(name) for name in GUARD}
    for name in [n for n in os.environ if n.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "RELEASEML_AWS_"))]:
        saved[name] = os.environ.pop(name)
    os.environ.update(GUARD)
    yield
    for name, value in saved.items():
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def _create_roles(url: str) -> None:
    """The roles the projects name, as README's set-up makes them: SageMaker's execution role, the role
    API Gateway assumes and the one EventBridge Scheduler assumes, with the README's policies (the API
    Gateway player and the SageMaker player's fire_schedule check them)."""
    import json

    import boto3

    iam = boto3.client("iam", endpoint_url=url, region_name=REGION)
    services = ((ROLE, "sagemaker.amazonaws.com"), (API_ROLE, "apigateway.amazonaws.com"), (SCHEDULE_ROLE, "scheduler.amazonaws.com"))
    for arn, service in services:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName=arn.rsplit("/", 1)[-1], AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName=API_ROLE.rsplit("/", 1)[-1], PolicyName="invoke-endpoints", PolicyDocument=readme_policy("api-role-policy")
    )
    iam.put_role_policy(
        RoleName=SCHEDULE_ROLE.rsplit("/", 1)[-1], PolicyName="start-monitoring", PolicyDocument=readme_policy("schedule-role-policy")
    )


@pytest.fixture(scope="session")
def emulator(guarded_env, tmp_path_factory):
    """moto's server on a loopback port, for the whole run."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    _wait_for(f"{url}/moto-api/", process, "moto_server", log)
    _create_roles(url)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """Debian's docker-registry on a loopback port (Docker treats 127.0.0.0/8 registries as plain HTTP)."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("the AWS tests push to a real registry: apt-get install docker-registry (.ci/run does)", pytrace=False)
    work = tmp_path_factory.mktemp("registry")
    address = f"127.0.0.1:{free_port()}"
    config = work / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {work / 'data'}\nhttp:\n  addr: {address}\n")
    log = work / "registry.log"
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log.open("w"), stderr=subprocess.STDOUT)
    _wait_for(f"http://{address}/v2/", process, "docker-registry", log)
    yield address
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def player(emulator, registry, built_image, tmp_path_factory):
    """The player in front of moto, and boto3 pointed at both through its own settings (AWS_ENDPOINT_URL_*).

    Names of jobs, models and endpoints are unique, so tests share one emulator and see
    every request sent in `player.sent`.
    """
    from releaseml.image.build import docker_client

    player = SageMakerPlayer(emulator, registry, docker_client(), tmp_path_factory.mktemp("sagemaker"), REGION)
    endpoints = {
        "AWS_ENDPOINT_URL": emulator,
        **{
            f"AWS_ENDPOINT_URL_{service}": player.url
            for service in ("SAGEMAKER", "SAGEMAKER_RUNTIME", "ECR", "API_GATEWAY", "CLOUDWATCH_LOGS")
        },
    }
    if os.environ.get("LOCALSTACK_HOST"):
        endpoints["AWS_ENDPOINT_URL_S3"] = f"http://{os.environ['LOCALSTACK_HOST']}"
    os.environ.update(endpoints)
    yield player
    for name in endpoints:
        os.environ.pop(name, None)
    player.close()


@pytest.fixture(scope="session")
def gateway(player):
    """API Gateway's data plane, played in front of the SageMaker player (see api_gateway_player.py)."""
    gateway = ApiGatewayPlayer(player)
    yield gateway
    gateway.close()


@pytest.fixture
def holding_player(player):
    """The player with jobs held in InProgress until `player.release()`."""
    player.hold_jobs = True
    yield player
    player.hold_jobs = False
    player.release()


@pytest.fixture(scope="session")
def deployed(player, built_image, tmp_path_factory):
    """`releaseml deploy` once for the run: the image pushed, the demo data uploaded, a job trained."""
    project = make_project(tmp_path_factory.mktemp("project"), built_image)
    return project, invoke(project, "deploy", "--data", "data", image=built_image)
