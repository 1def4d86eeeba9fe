"""A model's life after training: versions (`deploy`, `models`), data capture, the promotion gate, blue/green
updates that alarms roll back, and shadow variants, run as a user runs them (`invoke ...` in a project).

moto 5 keeps model package groups and packages, alarms and endpoint configs; the rest is played by
`SageMakerPlayer` (sagemaker_player.py says how): UpdateModelPackage keeping what it does not name,
CustomerMetadataProperties' limits, UpdateEndpoint with a blue/green DeploymentConfig watched by the
alarms' states in moto's CloudWatch (the tests set them with SetAlarmState), shadow variants, and
data capture files written for the requests InvokeEndpoint serves. Two endpoints have a monitor schedule
(moto's; fired by the player) to show that a promotion points it at the new model, and a rollback does not.

Two versions take part: the session's `deployed` model (the champion-to-be, good) and one trained here
on the same data and split with 2 trees at a learning rate of 0.01 (worse, and a few seconds to train).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import boto3
import pandas as pd
import pytest
import yaml

from aws_project import BUCKET, FAST_POLL, REPO, artifact_model, invoke, make_project, scheduled_inputs, wait_for_processing
from emulator_settings import ROLE, SCHEDULE_ROLE

pytestmark = pytest.mark.aws

BAKING_SECONDS = 3


@pytest.fixture(scope="module")
def lifecycle(deployed, built_image, tmp_path_factory):
    """A project of its own (short baking), the good version from `deployed` and a worse one deployed here."""
    good_project, trained = deployed
    assert trained.returncode == 0, trained.stderr
    project = make_project(tmp_path_factory.mktemp("lifecycle"), built_image, baking_seconds=BAKING_SECONDS)
    before = _versions(project)
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    (project / "worse.yaml").write_text(yaml.safe_dump({**config, "catboost": {"iterations": 2, "learning_rate": 0.01}}))
    worse = invoke(project, "deploy", "--config", "worse.yaml", "--out", "worse_output.txt", "--json", image=built_image)
    assert worse.returncode == 0, worse.stderr
    good_job = json.loads((good_project / "training_output.json").read_text())["job_name"]
    versions = {v["training_job"]: v for v in _versions(project)}
    return {
        "project": project,
        "before": before,
        "deploy": json.loads(worse.stdout),
        "good": versions[good_job],
        "worse": versions[json.loads(worse.stdout)["job_name"]],
        "good_model": artifact_model(versions[good_job]["model_data"], tmp_path_factory.mktemp("good-model")),
    }


def _versions(project) -> list[dict]:
    listed = invoke(project, "models", "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)["versions"]


def _serve(project, name: str, version: int, *flags: str) -> str:
    served = invoke(project, "endpoint", "--name", name, "--version", str(version), *flags)
    assert served.returncode == 0, served.stderr
    assert f"Endpoint {name} (instance): InService" in served.stdout and f"Serves model version {version}." in served.stdout
    return served.stdout


def _schedule_monitor(project, endpoint: str, image: str) -> dict:
    """`monitor --schedule daily` on the endpoint (which captures); the schedule as GetSchedule answers it."""
    made = invoke(project, "monitor", "--schedule", "daily", "--endpoint", endpoint, "--schedule-role", SCHEDULE_ROLE, image=image)
    assert made.returncode == 0, made.stderr
    return boto3.client("scheduler").get_schedule(Name=f"releaseml-monitor-{endpoint}")


def _model_data_served(endpoint: str) -> str:
    sagemaker = boto3.client("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"])
    return sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])["PrimaryContainer"]["ModelDataUrl"]


def test_every_deploy_registers_a_version_with_its_metrics_data_and_report(lifecycle, player):
    """Played: UpdateModelPackage keeps the metadata it does not name (moto drops it); metadata limits checked."""
    project, good, worse = lifecycle["project"], lifecycle["good"], lifecycle["worse"]
    after = _versions(project)
    assert len(after) == len(lifecycle["before"]) + 1 and after[-1] == worse  # one more, the newest
    assert good["number"] < worse["number"] and good["group"] == worse["group"] == "releaseml"
    assert lifecycle["deploy"]["model_version"]["number"] == worse["number"]
    for version in (good, worse):
        assert version["status"] == "PendingManualApproval"
        assert version["metrics"]["validation:logloss"] > 0 and "train:logloss" in version["metrics"]
        assert version["data"]["training"] == f"s3://{BUCKET}/releaseml/data/manifests/{version['training_job']}/training.manifest"
        assert version["report"] == f"s3://{BUCKET}/releaseml/models/{version['training_job']}/output/output.tar.gz"
        assert version["model_data"] == f"s3://{BUCKET}/releaseml/models/{version['training_job']}/output/model.tar.gz"
    assert worse["metrics"]["validation:logloss"] > good["metrics"]["validation:logloss"]
    sent = next(
        r for r in player.requests_for("CreateModelPackage") if r["CustomerMetadataProperties"]["training_job"] == worse["training_job"]
    )
    assert sent["ModelPackageGroupName"] == "releaseml" and sent["ModelApprovalStatus"] == "PendingManualApproval"
    assert sent["InferenceSpecification"] == {
        "Containers": [{"Image": worse["image"], "ModelDataUrl": worse["model_data"]}],
        "SupportedContentTypes": ["text/csv", "application/json", "application/jsonlines"],
        "SupportedResponseMIMETypes": ["text/csv", "application/json", "application/jsonlines"],
    }
    assert all(isinstance(value, str) and len(value) <= 256 for value in sent["CustomerMetadataProperties"].values())
    metrics_uri = sent["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=metrics_uri.split(f"{BUCKET}/", 1)[1])["Body"].read()
    assert json.loads(body)["validation"]["logloss"] == pytest.approx(worse["metrics"]["validation:logloss"])
    text = invoke(project, "models")
    assert text.returncode == 0 and f"{worse['number']:>5}  PendingManualApproval" in text.stdout, text.stdout


def test_a_worse_challenger_is_refused_with_both_scores_and_the_endpoint_is_unchanged(lifecycle, player):
    """Played: the endpoint's container; the comparison itself runs here, on both model.tar.gz."""
    project, good, worse = lifecycle["project"], lifecycle["good"], lifecycle["worse"]
    _serve(project, "lc-refuse", good["number"])
    config_before = boto3.client("sagemaker").describe_endpoint(EndpointName="lc-refuse")["EndpointConfigName"]
    updates = len(player.requests_for("UpdateEndpoint"))
    refused = invoke(project, "promote", "--endpoint", "lc-refuse")  # the challenger by default: the newest, the worse one
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    message = refused.stderr
    assert f"version {worse['number']} is not better than version {good['number']}, which serves lc-refuse" in message
    assert f"on the validation rows of version {worse['number']} (" in message and "of 344 rows held out at random" in message
    assert "logloss" in message and "95% interval [+" in message and "The endpoint is unchanged (--force" in message
    assert boto3.client("sagemaker").describe_endpoint(EndpointName="lc-refuse")["EndpointConfigName"] == config_before
    assert len(player.requests_for("UpdateEndpoint")) == updates
    assert {v["number"]: v["status"] for v in _versions(project)}[worse["number"]] == "PendingManualApproval"
    on_file = invoke(project, "promote", "--endpoint", "lc-refuse", "--data", "data/penguins.csv")  # rows of the user's choice
    assert on_file.returncode == 1 and "on the 344 rows of data/penguins.csv: logloss" in on_file.stderr, on_file.stderr


def test_a_better_challenger_is_approved_and_shifted_blue_green_and_the_update_verified(lifecycle, player, built_image):
    """Played: UpdateEndpoint with a DeploymentConfig (new fleet beside the old, the traffic step, baking while
    the alarms are read from CloudWatch, then the new config in service); the endpoint's data capture, and
    Scheduler firing its monitor schedule afterwards, the Processing job running the image's `monitor`."""
    project, good, worse = lifecycle["project"], lifecycle["good"], lifecycle["worse"]
    _serve(project, "lc-promote", worse["number"], "--capture", "100")
    schedule = _schedule_monitor(project, "lc-promote", built_image)
    assert scheduled_inputs("releaseml-monitor-lc-promote")["model"] == worse["model_data"]
    sagemaker, cloudwatch = boto3.client("sagemaker"), boto3.client("cloudwatch")
    old_config = sagemaker.describe_endpoint(EndpointName="lc-promote")["EndpointConfigName"]
    promoted = invoke(project, "promote", "--endpoint", "lc-promote", "--version", str(good["number"]))
    assert promoted.returncode == 0, promoted.stderr
    assert f"Version {good['number']} approved: logloss" in promoted.stdout and "95% interval of the difference [-" in promoted.stdout
    assert f"Endpoint lc-promote now serves version {good['number']}" in promoted.stdout and "ALL_AT_ONCE" in promoted.stdout
    assert (
        "Monitor schedule releaseml-monitor-lc-promote now checks against the model it serves, "
        f"{good['model_data']} (was {worse['model_data']})." in promoted.stdout
    )

    sent = next(r for r in reversed(player.requests_for("UpdateEndpoint")) if r["EndpointName"] == "lc-promote")
    assert sent["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": BAKING_SECONDS},
            "TerminationWaitInSeconds": 0,
            "MaximumExecutionTimeoutInSeconds": 1803,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "lc-promote-5xx-share"}, {"AlarmName": "lc-promote-model-latency"}]},
    }
    assert player.deployments["lc-promote"][-1]["outcome"] == "completed" and player.deployments["lc-promote"][-1]["steps"] == [1.0]
    described = sagemaker.describe_endpoint(EndpointName="lc-promote")
    assert described["EndpointConfigName"] == sent["EndpointConfigName"] != old_config  # the update took
    assert old_config not in [
        c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs(NameContains="lc-promote")["EndpointConfigs"]
    ]
    assert _model_data_served("lc-promote") == good["model_data"]

    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix="lc-promote-")["MetricAlarms"]}
    assert alarms["lc-promote-model-latency"]["Threshold"] == 1000.0 * 1000  # ModelLatency is in microseconds
    assert alarms["lc-promote-model-latency"]["MetricName"] == "ModelLatency"
    assert alarms["lc-promote-5xx-share"]["Threshold"] == 1.0
    assert {m["Id"] for m in alarms["lc-promote-5xx-share"]["Metrics"]} == {"share", "errors", "calls"}

    answer = invoke(project, "predict", "data/predict/penguins.csv", "--endpoint", "lc-promote")
    assert answer.returncode == 0, answer.stderr
    served = pd.read_csv(io.StringIO(answer.stdout))  # prediction, probability_<class>... (rounded to 4 places)
    rows = pd.read_csv(REPO / "data/predict/penguins.csv", header=None)
    model = lifecycle["good_model"]
    from releaseml.data.schema import model_frame

    expected = model.predict(model_frame(rows.set_axis(model.schema.features, axis=1), model.schema)).probabilities
    assert abs(served.iloc[:, 1:].to_numpy(dtype=float) - expected).max() < 1e-3  # the new model answers, not the old

    listed = {v["number"]: v for v in _versions(project)}
    assert listed[good["number"]]["status"] == "Approved" and "lc-promote" in listed[good["number"]]["endpoints"]
    assert "promoted to endpoint lc-promote over version" in listed[good["number"]]["approval"]
    assert "lc-promote" not in listed[worse["number"]]["endpoints"]

    # The monitor schedule follows: its model input is the new version's model.tar.gz, everything else as it was.
    repointed = boto3.client("scheduler").get_schedule(Name="releaseml-monitor-lc-promote")
    assert scheduled_inputs("releaseml-monitor-lc-promote")["model"] == good["model_data"] == _model_data_served("lc-promote")
    before, after = (json.loads(each["Target"]["Input"]) for each in (schedule, repointed))
    for request in (before, after):
        next(i for i in request["ProcessingInputs"] if i["InputName"] == "model")["S3Input"].pop("S3Uri")
    assert before == after
    unchanged = ("ResponseMetadata", "LastModificationDate", "Target")
    assert {k: v for k, v in schedule.items() if k not in unchanged} == {k: v for k, v in repointed.items() if k not in unchanged}
    assert {k: v for k, v in schedule["Target"].items() if k != "Input"} == {k: v for k, v in repointed["Target"].items() if k != "Input"}
    day = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)  # the predictions above: today's traffic
    player.fire_schedule("releaseml-monitor-lc-promote", day + timedelta(days=1, minutes=30))
    sent = player.fired[-1]["parameters"]
    assert next(i for i in sent["ProcessingInputs"] if i["InputName"] == "model")["S3Input"]["S3Uri"] == good["model_data"]
    job = wait_for_processing(sent["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    key = f"releaseml/monitor/lc-promote/{day:%Y-%m-%d}/monitor.json"
    report = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert report["requests"] >= 1 and report["validation"]["logloss"] == pytest.approx(good["metrics"]["validation:logloss"], rel=1e-3)


def test_an_alarm_in_alarm_during_baking_rolls_the_update_back_and_promote_says_which(lifecycle, player, built_image):
    """Played: the blue/green update reads the alarms' states during the baking period; the test puts one in
    ALARM (CloudWatch SetAlarmState on moto) once the update has started, and SageMaker's rollback follows.
    The endpoint's monitor schedule keeps the model that still serves."""
    project, good, worse = lifecycle["project"], lifecycle["good"], lifecycle["worse"]
    _serve(project, "lc-rollback", worse["number"], "--capture", "100")
    _schedule_monitor(project, "lc-rollback", built_image)
    sagemaker = boto3.client("sagemaker")
    old_config = sagemaker.describe_endpoint(EndpointName="lc-rollback")["EndpointConfigName"]
    started = len(player.requests_for("UpdateEndpoint"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "invoke",
            "--search-root",
            str(REPO),
            "promote",
            "--endpoint",
            "lc-rollback",
            "--version",
            str(good["number"]),
        ],
        cwd=project,
        env={**os.environ, **FAST_POLL},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(r["EndpointName"] == "lc-rollback" for r in player.requests_for("UpdateEndpoint")[started:]):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.1)
        boto3.client("cloudwatch").set_alarm_state(AlarmName="lc-rollback-5xx-share", StateValue="ALARM", StateReason="test: 5xx calls")
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 1 and "Traceback" not in err, err
    assert "SageMaker rolled the update of endpoint lc-rollback back: alarm lc-rollback-5xx-share went into ALARM" in err
    assert f"The endpoint still serves version {worse['number']} ({old_config})" in err
    assert player.deployments["lc-rollback"][-1]["outcome"] == "rolled back: lc-rollback-5xx-share"
    assert sagemaker.describe_endpoint(EndpointName="lc-rollback")["EndpointConfigName"] == old_config
    assert _model_data_served("lc-rollback") == worse["model_data"]
    assert scheduled_inputs("releaseml-monitor-lc-rollback")["model"] == worse["model_data"] and "Monitor schedule" not in out + err
    listed = {v["number"]: v for v in _versions(project)}
    assert listed[good["number"]]["status"] == "Rejected" and "rolled back on endpoint lc-rollback" in listed[good["number"]]["approval"]


def test_captured_requests_land_in_s3_in_sagemakers_format_and_path(lifecycle, player, tmp_path, built_image):
    """Played: InvokeEndpoint writes DataCaptureConfig's capture files (SageMaker's documented JSON lines, under
    DESTINATION/ENDPOINT/VARIANT/yyyy/mm/dd/hh/), for InitialSamplingPercentage of the requests. At the end,
    `endpoint --version N` serves another version: the capture stays, and the monitor schedule follows."""
    project, good, worse = lifecycle["project"], lifecycle["good"], lifecycle["worse"]
    _serve(project, "lc-capture", good["number"], "--capture", "100")
    sagemaker, s3 = boto3.client("sagemaker"), boto3.client("s3")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName="lc-capture")["EndpointConfigName"]
    )
    destination = f"s3://{BUCKET}/releaseml/capture"
    assert config["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json", "application/jsonlines"]},
    }
    payload = tmp_path / "rows.csv"
    payload.write_text("".join((REPO / "data/predict/penguins.csv").read_text().splitlines(keepends=True)[:3]))
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"island": "Biscoe", "bill_length_mm": 45.1, "bill_depth_mm": 14.5, "flipper_length_mm": 215, "body_mass_g": 5000, '
        '"sex": "male", "year": 2008}\n'
    )
    answers = []
    for each in (payload, rows):
        answer = invoke(project, "predict", str(each), "--endpoint", "lc-capture")
        assert answer.returncode == 0, answer.stderr
        answers.append(answer.stdout)

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="releaseml/capture/lc-capture/").get("Contents", []))
    assert len(keys) == 2
    now = time.gmtime()
    for key in keys:
        parts = key.split("/")
        assert parts[:4] == ["releaseml", "capture", "lc-capture", "AllTraffic"] and parts[-1].endswith(".jsonl")
        assert [int(p) for p in parts[4:8]][:3] == [now.tm_year, now.tm_mon, now.tm_mday] and len(parts[7]) == 2
    events = [json.loads(line) for key in keys for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()]
    csv_event, json_event = sorted(events, key=lambda e: e["captureData"]["endpointInput"]["encoding"])
    assert csv_event["eventVersion"] == "0" and set(csv_event["eventMetadata"]) >= {"eventId", "inferenceTime"}
    assert csv_event["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": payload.read_text(),
        "encoding": "CSV",
    }
    output = csv_event["captureData"]["endpointOutput"]
    assert output["mode"] == "OUTPUT" and output["encoding"] == "CSV" and output["observedContentType"].startswith("text/csv")
    captured_answer, shown = (pd.read_csv(io.StringIO(text)) for text in (output["data"], answers[0]))  # predict shows 4 places
    assert list(captured_answer.columns) == list(shown.columns) and (captured_answer["prediction"] == shown["prediction"]).all()
    assert abs(captured_answer.iloc[:, 1:].to_numpy() - shown.iloc[:, 1:].to_numpy()).max() <= 5e-5
    assert json_event["captureData"]["endpointInput"]["encoding"] == "JSON"
    assert json_event["captureData"]["endpointInput"]["observedContentType"] == "application/jsonlines"
    assert json.loads(json_event["captureData"]["endpointInput"]["data"])["island"] == "Biscoe"
    # `releaseml monitor` reads them: the same files, downloaded, are two well-formed events.
    from releaseml.checking.capture import Captured

    for key in keys:
        (tmp_path / "captured" / key).parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(BUCKET, key, str(tmp_path / "captured" / key))
    read = Captured(tmp_path / "captured")
    assert len(list(read)) == 2 and read.malformed == []

    # An update without --capture keeps capturing; --capture 25 samples about a quarter of the requests.
    _serve(project, "lc-capture", good["number"], "--capture", "25")
    runtime = boto3.client("sagemaker-runtime")
    for _ in range(80):
        runtime.invoke_endpoint(EndpointName="lc-capture", Body=payload.read_bytes(), ContentType="text/csv", Accept="text/csv")
    captured = len(s3.list_objects_v2(Bucket=BUCKET, Prefix="releaseml/capture/lc-capture/").get("Contents", [])) - 2
    assert 8 <= captured <= 32, captured  # 20 expected; far outside this, the percentage was not honoured
    _schedule_monitor(project, "lc-capture", built_image)
    said = _serve(project, "lc-capture", worse["number"])
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName="lc-capture")["EndpointConfigName"]
    )
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 25
    assert scheduled_inputs("releaseml-monitor-lc-capture")["model"] == worse["model_data"] == _model_data_served("lc-capture")
    followed = f"now checks against the model it serves, {worse['model_data']} (was {good['model_data']})."
    assert f"Monitor schedule releaseml-monitor-lc-capture {followed}" in said.splitlines()


def test_shadow_puts_the_challenger_beside_the_champion_answering_nobody(lifecycle, player):
    """Played: ShadowProductionVariants (moto drops them): a second container gets a copy of every request; its
    answer goes nowhere."""
    project, good, worse = lifecycle["project"], lifecycle["good"], lifecycle["worse"]
    _serve(project, "lc-shadow", worse["number"])
    shadowed = invoke(project, "promote", "--endpoint", "lc-shadow", "--version", str(good["number"]), "--shadow")
    assert shadowed.returncode == 0, shadowed.stderr
    assert f"with version {good['number']} beside it as a shadow variant" in shadowed.stdout
    sagemaker = boto3.client("sagemaker")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName="lc-shadow")["EndpointConfigName"]
    )
    (shadow,) = config["ShadowProductionVariants"]
    assert shadow["VariantName"] == "Shadow"
    assert sagemaker.describe_model(ModelName=shadow["ModelName"])["PrimaryContainer"]["ModelDataUrl"] == good["model_data"]
    assert _model_data_served("lc-shadow") == worse["model_data"]  # the champion still answers
    calls = len(player.shadow_calls)
    answer = invoke(project, "predict", "data/predict/penguins.csv", "--endpoint", "lc-shadow")
    assert answer.returncode == 0, answer.stderr
    deadline = time.monotonic() + 30
    while len(player.shadow_calls) == calls and time.monotonic() < deadline:
        time.sleep(0.1)
    assert player.shadow_calls[-1]["endpoint"] == "lc-shadow" and player.shadow_calls[-1]["status"] == 200
    assert player.shadow_calls[-1]["body"].decode() != answer.stdout  # the shadow's own answer, which nobody got
    listed = {v["number"]: v for v in _versions(project)}
    assert "lc-shadow (shadow)" in listed[good["number"]]["endpoints"] and "lc-shadow" in listed[worse["number"]]["endpoints"]


def test_promote_mistakes_get_one_clear_message_each(lifecycle, player, tmp_path):
    """Played: only the endpoints' containers (the hand-made endpoint's too); every refusal comes before any change."""
    project, good, worse = lifecycle["project"], lifecycle["good"], lifecycle["worse"]

    def refused(result, *words):
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        for word in words:
            assert word in result.stderr, result.stderr

    refused(
        invoke(project, "promote", "--endpoint", "lc-nowhere"),
        "no endpoint 'lc-nowhere'",
        f"deploy a version to it first (`releaseml endpoint --name lc-nowhere --version {worse['number']}`",
    )
    listed = ", ".join(f"{v['number']} (" for v in _versions(project))
    refused(
        invoke(project, "promote", "--endpoint", "lc-refuse", "--version", "999"),
        "has no version 999; its versions are",
        listed.split(", ")[0],
    )
    refused(invoke(project, "promote", "--endpoint", "lc-refuse", "--version", str(good["number"])), "already serves endpoint lc-refuse")

    # An endpoint serving a model that is no version of the group (a copy of the artifact, made by hand).
    s3, sagemaker = boto3.client("s3"), boto3.client("sagemaker")
    key = "elsewhere/model.tar.gz"
    s3.copy_object(Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": good["model_data"].split(f"{BUCKET}/", 1)[1]})
    sagemaker.create_model(
        ModelName="lc-outsider", PrimaryContainer={"Image": good["image"], "ModelDataUrl": f"s3://{BUCKET}/{key}"}, ExecutionRoleArn=ROLE
    )
    variant = {"VariantName": "AllTraffic", "ModelName": "lc-outsider", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(EndpointConfigName="lc-outsider", ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName="lc-outsider", EndpointConfigName="lc-outsider")
    refused(
        invoke(project, "promote", "--endpoint", "lc-outsider"),
        f"endpoint lc-outsider serves model lc-outsider (s3://{BUCKET}/{key}), which is no version of model group releaseml",
        "`releaseml endpoint --name lc-outsider --version",
    )
    no_target = tmp_path / "no-target.csv"
    pd.read_csv(REPO / "data/penguins.csv").drop(columns="species").to_csv(no_target, index=False)
    refused(
        invoke(project, "promote", "--endpoint", "lc-refuse", "--version", str(worse["number"]), "--data", str(no_target)),
        "the rows to compare on have no column 'species'",
    )
    for name in ("lc-refuse", "lc-promote", "lc-rollback", "lc-capture", "lc-shadow", "lc-outsider"):
        deleted = invoke(project, "endpoint", "--name", name, "--delete")
        assert deleted.returncode == 0, deleted.stderr
    assert "alarm lc-promote-5xx-share" not in [a["AlarmName"] for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]]
    assert [
        s["Name"] for s in boto3.client("scheduler").list_schedules()["Schedules"] if s["Name"].startswith("releaseml-monitor-lc-")
    ] == []


def test_the_gate_wants_a_gain_beyond_noise():
    """No emulator: the paired bootstrap on made-up per-row losses. A challenger that differs from the champion
    by noise alone is not 'better', however its mean falls; one with a real gain is, also in RMSE."""
    import numpy as np

    from releaseml.aws import promotion

    draw = np.random.default_rng(7)
    champion = draw.exponential(0.3, size=70)
    noisy = champion + draw.normal(0, 0.2, size=70)
    low, high = promotion.interval(noisy, champion, "logloss")
    assert low < 0 < high
    low, high = promotion.interval(champion * 0.5, champion, "logloss")
    assert high < 0
    low, high = promotion.interval(champion * 0.5, champion, "rmse")  # squared errors in, RMSE compared
    assert high < 0 and low > np.sqrt(champion.mean() * 0.5) - np.sqrt(champion.mean()) - 0.2
