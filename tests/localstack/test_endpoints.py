"""`releaseml endpoint` and `releaseml predict --endpoint`: a real-time endpoint, called through boto3's signed client.

SageMaker's container part is played by `SageMakerPlayer` (sagemaker_player.py), which says what it follows.
"""

from __future__ import annotations

import json

import boto3
import pytest

from aws_project import artifact_model, invoke, labels
from emulator_settings import REGION

pytestmark = pytest.mark.aws


def test_endpoint_serves_signed_requests_and_is_deleted(deployed, player, tmp_path):
    project, _ = deployed
    created = invoke(project, "endpoint", "--name", "penguins")
    assert created.returncode == 0, created.stderr
    assert "Endpoint penguins (instance): InService" in created.stdout
    answer = invoke(project, "predict", "data/predict/penguins.csv", "--endpoint", "penguins")
    assert answer.returncode == 0, answer.stderr
    model = artifact_model(json.loads((project / "training_output.json").read_text())["model_artifacts"], tmp_path / "model")
    assert [line.split(",")[0] for line in answer.stdout.splitlines()[1:]] == labels(model, project / "data/predict/penguins.csv")
    # boto3 signed the call (SigV4, this region, the sagemaker service): no hand-made signing.
    authorization = player.runtime_calls[-1]["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/") and f"/{REGION}/sagemaker/aws4_request" in authorization

    explained = invoke(project, "predict", "data/predict/penguins.csv", "--endpoint", "penguins", "--explain", "2")
    assert explained.returncode == 0, explained.stderr
    assert player.runtime_calls[-1]["custom_attributes"] == "explain=2"  # SageMaker's CustomAttributes, forwarded
    width = 1 + len(model.schema.classes) + 4  # label, probabilities, two (feature, contribution) pairs
    assert {len(line.split(",")) for line in explained.stdout.splitlines()} == {width}
    assert [line.split(",")[0] for line in explained.stdout.splitlines()[1:]] == labels(model, project / "data/predict/penguins.csv")

    bad = tmp_path / "bad.csv"
    bad.write_text("Biscoe,not-a-number,1,2,3,male,2008\n")
    refused = invoke(project, "predict", str(bad), "--endpoint", "penguins")
    assert refused.returncode == 1 and "the model refused the payload" in refused.stderr and "Traceback" not in refused.stderr

    # Again: an update in place, and the replaced config is deleted once the new one serves.
    sagemaker = boto3.client("sagemaker")
    first_config = sagemaker.describe_endpoint(EndpointName="penguins")["EndpointConfigName"]
    updated = invoke(project, "endpoint", "--name", "penguins")
    assert updated.returncode == 0 and "Endpoint penguins (instance): InService" in updated.stdout, updated.stderr
    assert player.requests_for("UpdateEndpoint")[-1]["EndpointName"] == "penguins"
    configs = [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs(NameContains="penguins")["EndpointConfigs"]]
    assert first_config not in configs and sagemaker.describe_endpoint(EndpointName="penguins")["EndpointConfigName"] in configs

    deleted = invoke(project, "endpoint", "--name", "penguins", "--delete")
    assert deleted.returncode == 0, deleted.stderr
    assert sagemaker.list_endpoints(NameContains="penguins")["Endpoints"] == []
    assert sagemaker.list_endpoint_configs(NameContains="penguins")["EndpointConfigs"] == []
    gone = invoke(project, "predict", "data/predict/penguins.csv", "--endpoint", "penguins")
    assert gone.returncode == 1 and "Traceback" not in gone.stderr
