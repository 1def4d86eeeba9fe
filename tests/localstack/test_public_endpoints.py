"""Endpoints anyone can call (a keyed HTTPS API), serverless and async endpoints, autoscaling.

Tasks run as a user runs them (`invoke ...` in a project). What AWS would do is played by
fixtures that say what they follow: `SageMakerPlayer` (sagemaker_player.py) runs the containers,
`ApiGatewayPlayer` (api_gateway_player.py) answers at the stage URL from the API as stored in the
emulator. The public URL is called with plain `requests`: no AWS signing, no boto3.
"""

from __future__ import annotations

import json

import boto3
import pandas as pd
import pytest
import requests
import yaml

from aws_project import BUCKET, artifact_model, invoke, labels, make_project
from emulator_settings import API_ROLE, REGION

pytestmark = pytest.mark.aws

PREDICT_CSV = "data/predict/penguins.csv"


@pytest.fixture(scope="module")
def trained(deployed, tmp_path_factory):
    """The deployed project (with an API role and limits in its config) and its trained model, loaded here."""
    project, _ = deployed
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    config["aws"].update(api_role=API_ROLE, api_rate_limit=50, api_burst_limit=100, api_daily_quota=5000)
    (project / "releaseml.yaml").write_text(yaml.safe_dump(config))
    outcome = json.loads((project / "training_output.json").read_text())
    return project, artifact_model(outcome["model_artifacts"], tmp_path_factory.mktemp("model"))


def run_json(project, *args) -> dict:
    result = invoke(project, *args, "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def leftovers(name: str, model: str | None = None) -> dict:
    """Everything in the emulator that could hang on endpoint `name` (and its model, when named)."""
    gateway, sagemaker = boto3.client("apigateway"), boto3.client("sagemaker")
    scaling = boto3.client("application-autoscaling")
    return {
        "apis": [a["name"] for a in gateway.get_rest_apis()["items"] if a["name"] == f"releaseml-{name}"],
        "keys": [k["name"] for k in gateway.get_api_keys()["items"] if k["name"].startswith(f"releaseml-{name}-")],
        "plans": [p["name"] for p in gateway.get_usage_plans()["items"] if p["name"] == f"releaseml-{name}"],
        "targets": scaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[f"endpoint/{name}/variant/AllTraffic"])[
            "ScalableTargets"
        ],
        "policies": scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=f"endpoint/{name}/variant/AllTraffic")[
            "ScalingPolicies"
        ],
        "endpoints": [e["EndpointName"] for e in sagemaker.list_endpoints(NameContains=name)["Endpoints"] if e["EndpointName"] == name],
        "configs": [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs(NameContains=name)["EndpointConfigs"]],
        "models": [m["ModelName"] for m in sagemaker.list_models()["Models"] if m["ModelName"] == model],
    }


def nothing_left(name: str, model: str | None = None) -> None:
    assert all(not found for found in leftovers(name, model).values()), leftovers(name, model)


def job_of(project) -> str:
    return json.loads((project / "training_output.json").read_text())["job_name"]


def rows_as_json(project) -> tuple[bytes, bytes]:
    """The prediction CSV's rows as a JSON document and as JSON Lines (missing values as null)."""
    frame = pd.read_csv(
        project / PREDICT_CSV,
        header=None,
        names=["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"],
    )
    records = json.loads(frame.to_json(orient="records"))
    return json.dumps({"instances": records}).encode(), b"\n".join(json.dumps(r).encode() for r in records)


def test_a_public_api_answers_plain_requests_with_a_key(trained, player, gateway, tmp_path, monkeypatch):
    project, model = trained
    expected = labels(model, project / PREDICT_CSV)
    made = run_json(project, "endpoint", "--name", "pub", "--public")
    public = made["public_api"]
    assert made["status"] == "InService" and public["url"].startswith("https://") and public["url"].endswith("/live/predict")
    assert f".execute-api.{REGION}.amazonaws.com/" in public["url"]
    key, url = public["key"], gateway.local_url(public["url"])

    # What was sent to AWS, read back from the emulator.
    api = boto3.client("apigateway")
    created = [r for op, r in player.sent if op == "apigateway POST /restapis"][-1]
    assert created["binaryMediaTypes"] == ["*/*"] and created["endpointConfiguration"] == {"types": ["REGIONAL"]}
    resource = next(r for r in api.get_resources(restApiId=public["api_id"])["items"] if r["path"] == "/predict")
    method = api.get_method(restApiId=public["api_id"], resourceId=resource["id"], httpMethod="POST")
    assert method["apiKeyRequired"] is True and method["authorizationType"] == "NONE"
    integration = method["methodIntegration"]
    assert integration["type"] == "AWS" and integration["httpMethod"] == "POST"
    assert integration["uri"] == f"arn:aws:apigateway:{REGION}:runtime.sagemaker:path/endpoints/pub/invocations"
    assert integration["credentials"] == API_ROLE and integration["passthroughBehavior"] == "WHEN_NO_MATCH"
    for header in ("Content-Type", "Accept"):
        assert integration["requestParameters"][f"integration.request.header.{header}"] == f"method.request.header.{header}"
    plan = api.get_usage_plan(usagePlanId=public["usage_plan_id"])
    assert plan["throttle"] == {"rateLimit": 50.0, "burstLimit": 100} and plan["quota"]["limit"] == 5000
    assert plan["apiStages"] == [{"apiId": public["api_id"], "stage": "live"}]

    # CSV, JSON and JSON Lines: the model's own predictions; types passed through unchanged.
    csv = (project / PREDICT_CSV).read_bytes()
    answer = requests.post(url, data=csv, headers={"x-api-key": key, "Content-Type": "text/csv"}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert [line.split(",")[0] for line in answer.text.splitlines()] == expected
    assert player.runtime_calls[-1]["content_type"] == "text/csv" and player.runtime_calls[-1]["authorization"] == ""
    document, lines = rows_as_json(project)
    as_json = requests.post(url, data=document, headers={"x-api-key": key, "Content-Type": "application/json"}, timeout=60)
    assert as_json.status_code == 200 and as_json.headers["Content-Type"].startswith("application/json")
    assert [p["prediction"] for p in as_json.json()["predictions"]] == expected
    as_lines = requests.post(
        url, data=lines, headers={"x-api-key": key, "Content-Type": "application/jsonlines", "Accept": "text/csv"}, timeout=60
    )
    assert as_lines.status_code == 200 and as_lines.headers["Content-Type"].startswith("text/csv")
    assert [line.split(",")[0] for line in as_lines.text.splitlines()] == expected

    # Reasons through the public URL: in Accept, or in SageMaker's CustomAttributes header.
    for headers in ({"Accept": "application/json; explain=2"}, {"X-Amzn-SageMaker-Custom-Attributes": "explain=2"}):
        explained = requests.post(url, data=document, headers={"x-api-key": key, "Content-Type": "application/json", **headers}, timeout=60)
        assert explained.status_code == 200, explained.text
        records = explained.json()["predictions"]
        assert [p["prediction"] for p in records] == expected and {len(p["explanation"]["contributions"]) for p in records} == {2}

    # No key, a wrong key: 403 before the model is reached.
    calls = len(player.runtime_calls)
    assert requests.post(url, data=csv, headers={"Content-Type": "text/csv"}, timeout=10).status_code == 403
    assert requests.post(url, data=csv, headers={"x-api-key": key[::-1], "Content-Type": "text/csv"}, timeout=10).status_code == 403
    assert len(player.runtime_calls) == calls

    # A bad row: the container's own 400 and JSON error, not SageMaker's 424 wrapper.
    bad = requests.post(
        url, data=b"Biscoe,not-a-number,1,2,3,male,2008\n", headers={"x-api-key": key, "Content-Type": "text/csv"}, timeout=60
    )
    assert bad.status_code == 400 and "bill_length_mm" in bad.json()["error"]
    # Bytes pass unchanged: a Latin-1 byte reaches the container, which says the body is not UTF-8
    # (read as text on the way, it would have become U+FFFD and a silent prediction).
    latin = requests.post(
        url, data=b"Bisc\xf6e,40,18,190,3700,male,2008\n", headers={"x-api-key": key, "Content-Type": "text/csv"}, timeout=60
    )
    assert latin.status_code == 400 and "UTF-8" in latin.json()["error"]

    # A rotated key stops the old one.
    rotated = run_json(project, "api", "--name", "pub", "--rotate-key")
    assert rotated["key"] != key and rotated["url"] == public["url"]
    assert requests.post(url, data=csv, headers={"x-api-key": key, "Content-Type": "text/csv"}, timeout=10).status_code == 403
    assert requests.post(url, data=csv, headers={"x-api-key": rotated["key"], "Content-Type": "text/csv"}, timeout=60).status_code == 200
    status = invoke(project, "api", "--name", "pub", "--status")
    assert status.returncode == 0 and public["url"] in status.stdout and rotated["key"] not in status.stdout
    status = invoke(project, "endpoint", "--name", "pub", "--status")
    assert status.returncode == 0 and "Endpoint pub (instance): InService" in status.stdout and public["url"] in status.stdout

    # Over the throttle: 429. The limits come from the config (here its variables), set on the plan again.
    monkeypatch.setenv("RELEASEML_AWS_API_RATE_LIMIT", "1")
    monkeypatch.setenv("RELEASEML_AWS_API_BURST_LIMIT", "2")
    limited = run_json(project, "api", "--name", "pub")
    assert limited["rate_limit"] == 1.0 and limited["burst_limit"] == 2 and "key" not in limited
    row = csv.splitlines()[0] + b"\n"
    statuses = [
        requests.post(url, data=row, headers={"x-api-key": rotated["key"], "Content-Type": "text/csv"}, timeout=60).status_code
        for _ in range(8)
    ]
    assert statuses[:2] == [200, 200] and statuses.count(429) >= 4, statuses

    # Delete: the endpoint and all that hung on it, each named; nothing left in the emulator.
    deleted = invoke(project, "endpoint", "--name", "pub", "--delete")
    assert deleted.returncode == 0, deleted.stderr
    for item in ("API key", "usage plan", f"API {public['api_id']}", "endpoint config", "endpoint pub", f"model {job_of(project)}"):
        assert item in deleted.stdout
    nothing_left("pub", job_of(project))
    assert requests.post(url, data=row, headers={"x-api-key": rotated["key"], "Content-Type": "text/csv"}, timeout=10).status_code == 403


def test_serverless_endpoint(trained, player):
    project, model = trained
    made = run_json(project, "endpoint", "--name", "sls", "--serverless", "--memory-mb", "3072", "--max-concurrency", "7")
    assert made["kind"] == "serverless" and made["status"] == "InService"
    sent = [r for r in player.requests_for("CreateEndpointConfig") if r["EndpointConfigName"].startswith("sls-")][-1]
    variant = sent["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 7} and "InstanceType" not in variant
    assert player.endpoints["sls"]["container"].attrs["HostConfig"]["Memory"] == 3072 * 1024 * 1024
    answer = invoke(project, "predict", PREDICT_CSV, "--endpoint", "sls")
    assert answer.returncode == 0, answer.stderr
    assert [line.split(",")[0] for line in answer.stdout.splitlines()[1:]] == labels(model, project / PREDICT_CSV)
    # An instance endpoint cannot become serverless in place: said before anything is made.
    changed = invoke(project, "endpoint", "--name", "sls")
    assert changed.returncode == 1 and "is a serverless endpoint and cannot become instance in place" in changed.stderr
    assert invoke(project, "endpoint", "--name", "sls", "--delete").returncode == 0
    nothing_left("sls", job_of(project))


def test_autoscaled_endpoint(trained, player):
    project, model = trained
    made = run_json(
        project, "endpoint", "--name", "scaled", "--min-instances", "2", "--max-instances", "4", "--invocations-per-instance", "500"
    )
    assert made["autoscaling"] == {
        "min_instances": 2,
        "max_instances": 4,
        "metric": "SageMakerVariantInvocationsPerInstance",
        "target": 500.0,
    }
    sent = [r for r in player.requests_for("CreateEndpointConfig") if r["EndpointConfigName"].startswith("scaled-")][-1]
    assert sent["ProductionVariants"][0]["InitialInstanceCount"] == 2  # started inside the range
    found = leftovers("scaled")
    assert [(t["MinCapacity"], t["MaxCapacity"], t["ScalableDimension"]) for t in found["targets"]] == [
        (2, 4, "sagemaker:variant:DesiredInstanceCount")
    ]
    (policy,) = found["policies"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PolicyType"] == "TargetTrackingScaling" and tracking["TargetValue"] == 500.0
    assert tracking["PredefinedMetricSpecification"] == {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
    # Updated in place: autoscaling let go around the update and set again (one target, one policy).
    again = run_json(project, "endpoint", "--name", "scaled", "--min-instances", "1", "--max-instances", "3")
    assert again["autoscaling"]["max_instances"] == 3 and player.requests_for("UpdateEndpoint")[-1]["EndpointName"] == "scaled"
    found = leftovers("scaled")
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in found["targets"]] == [(1, 3)] and len(found["policies"]) == 1
    status = invoke(project, "endpoint", "--name", "scaled", "--status")
    assert status.returncode == 0 and "Autoscaling: 1 to 3 instances." in status.stdout, status.stdout
    deleted = invoke(project, "endpoint", "--name", "scaled", "--delete")
    assert deleted.returncode == 0 and "scaling policy scaled-scaling" in deleted.stdout and "scalable target" in deleted.stdout
    nothing_left("scaled", job_of(project))


def test_async_endpoint(trained, player, tmp_path):
    project, model = trained
    made = run_json(project, "endpoint", "--name", "later", "--async", "--min-instances", "0", "--max-instances", "2")
    assert made["kind"] == "async" and made["autoscaling"]["min_instances"] == 0
    assert made["autoscaling"]["metric"] == "ApproximateBacklogSizePerInstance"
    sent = [r for r in player.requests_for("CreateEndpointConfig") if r["EndpointConfigName"].startswith("later-")][-1]
    assert sent["AsyncInferenceConfig"]["OutputConfig"] == {
        "S3OutputPath": f"s3://{BUCKET}/releaseml/async/later/output",
        "S3FailurePath": f"s3://{BUCKET}/releaseml/async/later/failures",
    }
    (policy,) = leftovers("later")["policies"]
    metric = policy["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
    assert metric["MetricName"] == "ApproximateBacklogSizePerInstance" and metric["Dimensions"] == [
        {"Name": "EndpointName", "Value": "later"}
    ]

    answer = invoke(project, "predict", PREDICT_CSV, "--endpoint", "later", "--async")
    assert answer.returncode == 0, answer.stderr
    assert [line.split(",")[0] for line in answer.stdout.splitlines()[1:]] == labels(model, project / PREDICT_CSV)
    call = player.runtime_calls[-1]
    assert call["input"].startswith(f"s3://{BUCKET}/releaseml/async/later/input/") and call["content_type"] == "text/csv"
    assert call["output"].startswith(f"s3://{BUCKET}/releaseml/async/later/output/")

    bad = tmp_path / "bad.csv"
    bad.write_text("Biscoe,not-a-number,1,2,3,male,2008\n")
    failed = invoke(project, "predict", str(bad), "--endpoint", "later", "--async")
    assert failed.returncode == 1 and "the async call failed" in failed.stderr and "bill_length_mm" in failed.stderr
    assert "Traceback" not in failed.stderr
    wrong_way = invoke(project, "predict", PREDICT_CSV, "--endpoint", "later")
    assert wrong_way.returncode == 1 and "is asynchronous" in wrong_way.stderr and "--async" in wrong_way.stderr
    assert invoke(project, "endpoint", "--name", "later", "--delete").returncode == 0
    nothing_left("later", job_of(project))


@pytest.fixture
def project(player, built_image, tmp_path):
    return make_project(tmp_path / "project", built_image, repository="mistakes-public")


def refused(result, *fragments):
    assert result.returncode in (1, 2), (result.returncode, result.stdout, result.stderr)
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (("--public",), "no role for API Gateway"),
        (("--public", "--api-role", "no-such-role"), "no IAM role 'no-such-role'"),
        (("--public", "--api-role", "releaseml-test"), "does not trust apigateway.amazonaws.com"),
        (("--serverless", "--memory-mb", "1500"), "aws.serverless_memory_mb: got '1500'; SageMaker offers serverless memory of 1024, 2048"),
        (("--serverless", "--max-concurrency", "500"), "aws.serverless_max_concurrency"),
        (("--min-instances", "3", "--max-instances", "2"), "min_instances (3) is more than max_instances (2)"),
        (("--min-instances", "0", "--max-instances", "2"), "min_instances 0 is for async endpoints"),
        (("--serverless", "--max-instances", "2"), "a serverless endpoint scales by itself"),
        (("--serverless", "--async"), "choose one of --serverless and --async"),
        (("--async", "--public", "--api-role", API_ROLE), "fronts real-time endpoints only"),
    ],
)
def test_endpoint_mistakes_are_named_before_anything_is_made(project, deployed, args, message):
    refused(invoke(project, "endpoint", "--job", job_of(deployed[0]), "--name", "never", *args), message)
    nothing_left("never")


def test_public_api_and_async_mistakes(project):
    refused(
        invoke(project, "api", "--status", "--name", "no-such"),
        "endpoint 'no-such' has no public API: `releaseml api --name no-such` makes one",
    )
    refused(invoke(project, "api", "--name", "no-such"), "no role for API Gateway")
    refused(invoke(project, "api", "--rotate-key", "--delete"), "choose one of --status, --rotate-key and --delete")
    refused(invoke(project, "predict", PREDICT_CSV, "--async"), "--async calls a SageMaker async endpoint: add --endpoint NAME")
    refused(invoke(project, "predict", PREDICT_CSV, "--endpoint", "no-such", "--async"), "no endpoint 'no-such'")
    with (project / "huge.csv").open("wb") as huge:  # sparse: 1 GB and a byte, without writing them
        huge.truncate(1024**3 + 1)
    refused(invoke(project, "predict", "huge.csv", "--endpoint", "any", "--async"), "an async endpoint takes at most 1 GB per call")
