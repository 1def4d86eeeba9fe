"""`releaseml batch-predict`: a batch transform with the trained model, predictions downloaded and checked.

SageMaker's container part is played by `SageMakerPlayer` (sagemaker_player.py), which says what it follows.
"""

from __future__ import annotations

import json

import boto3
import pandas as pd
import pytest

from aws_project import artifact_model, invoke, labels
from releaseml.aws import workflows

pytestmark = pytest.mark.aws


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


def test_batch_predict_with_reasons_keeps_each_row_next_to_its_prediction_and_reasons(deployed, player, tmp_path):
    """Batch transform sends no per-request options: --explain travels in the transform's Environment."""
    project, _ = deployed
    result = invoke(project, "batch-predict", "--data", "data/predict", "--out", "explained", "--join", "--explain", "2")
    assert result.returncode == 0, result.stderr
    sent = player.requests_for("CreateTransformJob")[-1]
    assert sent["Environment"] == {"RELEASEML_EXPLAIN": "2"}
    model = artifact_model(json.loads((project / "training_output.json").read_text())["model_artifacts"], tmp_path / "model")
    inputs = (project / "data/predict/penguins.csv").read_text().splitlines()
    joined = (project / "explained" / "penguins.csv.out").read_text().splitlines()
    width, classes = len(model.schema.features), len(model.schema.classes)
    assert len(joined) == len(inputs)
    for row, line in zip(inputs, joined):
        fields = line.split(",")
        assert ",".join(fields[:width]) == row and len(fields) == width + 1 + classes + 4
        reasons = fields[width + 1 + classes :]
        assert reasons[0] in model.schema.features and reasons[2] in model.schema.features
        assert abs(float(reasons[1])) >= abs(float(reasons[3]))
    assert [line.split(",")[width] for line in joined] == labels(model, project / "data/predict/penguins.csv")


def test_batch_predict_checks_the_data_first_and_stops_on_errors_before_any_job(deployed, player, tmp_path):
    project, _ = deployed
    rows = (project / "data/predict/penguins.csv").read_text().splitlines()
    (project / "bad").mkdir(exist_ok=True)
    (project / "bad" / "rows.csv").write_text("\n".join(rows[:5] + ["Dream,long,18,190,3700,male,2008"]) + "\n")
    transforms = len(player.requests_for("CreateTransformJob"))
    stopped = invoke(project, "batch-predict", "--data", "bad", "--out", "never")
    assert stopped.returncode == 1 and "the data has errors; no job was started" in stopped.stderr
    assert "row 6, column 'bill_length_mm': 'long' is not a number" in stopped.stderr and "Traceback" not in stopped.stderr
    assert len(player.requests_for("CreateTransformJob")) == transforms

    # Drift alone is a warning; --strict makes it a stop. The same check runs as `releaseml check-data --job`.
    (project / "drifted").mkdir(exist_ok=True)
    heavy = [",".join(f if i != 4 else str(float(f) * 1.5) for i, f in enumerate(r.split(","))) if r.split(",")[4] else r for r in rows]
    (project / "drifted" / "rows.csv").write_text("\n".join(heavy) + "\n")
    strict = invoke(project, "batch-predict", "--data", "drifted", "--out", "never", "--strict")
    assert strict.returncode == 1 and "large drift in body_mass_g and --strict" in strict.stderr
    assert len(player.requests_for("CreateTransformJob")) == transforms
    job = json.loads((project / "training_output.json").read_text())["job_name"]
    checked = invoke(project, "check-data", "drifted", "--job", job, "--json")
    assert checked.returncode == 0, checked.stderr
    assert [c["name"] for c in json.loads(checked.stdout)["columns"] if c["drift"] == "large"] == ["body_mass_g"]
    assert (project / ".releaseml" / "models" / job / "profile.json").is_file()  # the job's model, downloaded once
    skipped = invoke(project, "batch-predict", "--data", "drifted", "--out", "drifted-out", "--no-check")
    assert (
        skipped.returncode == 0 and "look like" not in skipped.stderr and len(player.requests_for("CreateTransformJob")) == transforms + 1
    )


def test_a_file_well_over_6_mb_goes_through_in_line_split_mini_batches(deployed, player, tmp_path, monkeypatch):
    """The proof of concept sent whole files and failed above 6 MB; with SplitType Line any size goes."""
    project, _ = deployed
    monkeypatch.chdir(tmp_path)  # batch-predict keeps the job's model in .releaseml/ where it runs, as a user's project would
    rows = (project / "data/predict/penguins.csv").read_text().splitlines()
    big = tmp_path / "big" / "penguins.csv"
    big.parent.mkdir()
    repeats = 8 * 1024 * 1024 // len("\n".join(rows)) + 1
    big.write_text("\n".join(rows * repeats) + "\n")
    assert big.stat().st_size > 8 * 1024 * 1024
    job = json.loads((project / "training_output.json").read_text())["job_name"]
    model = artifact_model(json.loads((project / "training_output.json").read_text())["model_artifacts"], tmp_path / "model")
    expected = labels(model, big)
    models_made_before = len(player.requests_for("CreateModel"))

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
    # One SageMaker model per training job, made (when missing) once and reused by every batch transform.
    assert [r["ModelName"] for r in player.requests_for("CreateModel")[models_made_before:]].count(job) <= 1
    assert boto3.client("sagemaker").describe_model(ModelName=job)["ModelName"] == job


def test_batch_predict_refuses_a_csv_with_a_header_row_before_any_job(deployed, player):
    project, _ = deployed
    transforms_before = len(player.requests_for("CreateTransformJob"))
    result = invoke(project, "batch-predict", "--data", "data/penguins.csv")
    assert result.returncode == 1 and "starts with a header row (species, island" in result.stderr and "Traceback" not in result.stderr
    assert len(player.requests_for("CreateTransformJob")) == transforms_before


def test_a_batch_the_model_refuses_fails_the_job_with_the_models_reason(deployed, player, tmp_path):
    project, _ = deployed
    bad = project / "bad-input"
    bad.mkdir(exist_ok=True)
    (bad / "rows.csv").write_text("Biscoe,39.1,18.7,181,3750,male,2007\nBiscoe,not-a-number,18.7,181,3750,male,2007\n")
    result = invoke(project, "batch-predict", "--data", "bad-input", "--out", "bad-predictions", "--no-check")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "failed: ClientError: model answered 400" in result.stderr and "bill_length_mm" in result.stderr
    assert not (project / "bad-predictions").exists()  # nothing half-written to download


def test_batch_predict_takes_parquet_and_joins_each_row_with_its_prediction(deployed, player, tmp_path):
    """A warehouse export in another column order and with an ID column: converted to CSV lines of
    the model's features (the transform splits lines), predicted row by row in the file's order."""
    project, _ = deployed
    model = artifact_model(json.loads((project / "training_output.json").read_text())["model_artifacts"], tmp_path / "model")
    rows = pd.read_csv(project / "data/predict/penguins.csv", header=None, names=model.schema.features)
    export = rows[list(reversed(model.schema.features))].assign(customer_id=range(len(rows)))
    (project / "export").mkdir(exist_ok=True)
    export.to_parquet(project / "export" / "scores.parquet")
    result = invoke(project, "batch-predict", "--data", "export", "--out", "from_parquet", "--join")
    assert result.returncode == 0, result.stderr
    sent = player.requests_for("CreateTransformJob")[-1]
    assert sent["TransformInput"]["ContentType"] == "text/csv" and sent["TransformInput"]["SplitType"] == "Line"
    joined = (project / "from_parquet" / "scores.csv.out").read_text().splitlines()
    width = len(model.schema.features)
    assert len(joined) == len(rows)
    assert [line.split(",")[width] for line in joined] == labels(model, project / "data/predict/penguins.csv")
    sent_rows = pd.read_csv(pd.io.common.StringIO("\n".join(",".join(line.split(",")[:width]) for line in joined)), header=None)
    assert sent_rows.iloc[:, 1].tolist() == pytest.approx(rows[model.schema.features[1]].tolist(), nan_ok=True)


def test_batch_predict_on_three_instances_cuts_a_large_file_and_puts_the_rows_back_in_order(deployed, player, tmp_path):
    """SageMaker hands whole objects to instances: one file would keep one instance busy and two idle."""
    project, _ = deployed
    model = artifact_model(json.loads((project / "training_output.json").read_text())["model_artifacts"], tmp_path / "model")
    base = pd.read_csv(project / "data/predict/penguins.csv", header=None, names=model.schema.features)
    rows = base.sample(100_000, replace=True, random_state=1).reset_index(drop=True)
    rows["body_mass_g"] = 2700 + (rows.index * 7919) % 3600  # every row its own, so order shows
    (project / "many").mkdir(exist_ok=True)
    rows.to_csv(project / "many" / "rows.csv", header=False, index=False)
    original = (project / "many" / "rows.csv").read_bytes()
    result = invoke(project, "batch-predict", "--data", "many", "--out", "many_out", "--join", "--instance-count", "3")
    assert result.returncode == 0, result.stderr
    assert "1 file(s) cut into 3 parts at line boundaries, so 3 instances all get work" in result.stdout + result.stderr

    sent = player.requests_for("CreateTransformJob")[-1]
    assert sent["TransformResources"]["InstanceCount"] == 3
    job = player.jobs[sent["TransformJobName"]]
    keys = sorted(job.instances)
    assert [key.rsplit("/", 1)[1] for key in keys] == [f"rows.part000{i}of0003.csv" for i in (1, 2, 3)]
    assert sorted(job.instances.values()) == [0, 1, 2]  # each instance had a part
    bucket = sent["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"].split("/")[2]
    s3 = player.client("s3")
    parts = [s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys]
    assert b"".join(parts) == original and all(part.endswith(b"\n") for part in parts)  # cut at line ends only
    assert max(map(len, parts)) < 0.4 * len(original)

    joined = (project / "many_out" / "rows.csv.out").read_text().splitlines()
    assert sorted(path.name for path in (project / "many_out").iterdir()) == ["rows.csv.out"]  # the parts' outputs put together
    width = len(model.schema.features)
    assert [",".join(line.split(",")[:width]) for line in joined] == original.decode().splitlines()
    assert [line.split(",")[width] for line in joined] == labels(model, project / "many" / "rows.csv")


def test_batch_predict_labels_by_the_threshold_the_job_chose(player, built_image, tmp_path):
    """A binary model with `decision:` trained by the played job; the transform's labels follow its threshold."""
    import numpy as np
    import yaml

    from aws_project import make_project
    from test_decisions import credit

    project = make_project(tmp_path / "credit", built_image)
    frame = credit(1500, 5)
    frame.to_csv(project / "data" / "credit.csv", index=False)
    (project / "score").mkdir()
    frame.drop(columns=["default"]).head(400).to_csv(project / "score" / "rows.csv", index=False, header=False)
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    config.update(target="default", data="data/credit.csv", catboost={"iterations": 60})
    config["decision"] = {"costs": {"false_positive": 1, "false_negative": 15}}
    (project / "releaseml.yaml").write_text(yaml.safe_dump(config))
    trained = invoke(project, "deploy", "--data", "data/credit.csv", image=built_image)
    assert trained.returncode == 0, trained.stderr
    outcome = json.loads((project / "training_output.json").read_text())
    model = artifact_model(outcome["model_artifacts"], tmp_path / "model")
    assert model.threshold is not None and 0 < model.threshold < 0.5
    result = invoke(project, "batch-predict", "--data", "score", "--out", "predictions", "--no-check")
    assert result.returncode == 0, result.stderr
    lines = [line.split(",") for line in (project / "predictions" / "rows.csv.out").read_text().splitlines()]
    p_yes = np.array([float(line[2]) for line in lines])
    assert [line[0] for line in lines] == np.where(p_yes >= model.threshold, "yes", "no").tolist()
    assert (p_yes >= model.threshold).sum() > (p_yes >= 0.5).sum()
