"""`releaseml tune` on the emulator: the tuning job it asks SageMaker for, its trials, and the best job it names.

SageMaker's search and its containers are played by `SageMakerPlayer` (sagemaker_player.py says
what it follows: trials drawn from the ranges on their scales, each run as a training job, the
objective read from each trial's log with its MetricDefinition).
"""

from __future__ import annotations

import json

import boto3
import pytest
import yaml

from aws_project import BUCKET, artifact_model, invoke, make_project
from releaseml.config import hyperparameters
from releaseml.training import metrics

pytestmark = pytest.mark.aws

TUNE = {
    "trials": 4,
    "parallel": 2,
    "ranges": {
        "catboost.depth": {"min": 2, "max": 6},
        "catboost.learning_rate": {"min": 0.03, "max": 0.3, "scale": "log"},
        "catboost.grow_policy": ["SymmetricTree", "Depthwise"],
    },
}


@pytest.fixture(scope="module")
def tuning_project(player, built_image, tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("tuning"), built_image)
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    config.update(catboost={"iterations": 60, "depth": 4}, tune=TUNE)
    (project / "releaseml.yaml").write_text(yaml.safe_dump(config))
    return project


def test_tune_starts_a_tuning_job_over_the_ranges_and_names_the_trial_with_the_best_objective_in_its_log(
    tuning_project, player, built_image, tmp_path
):
    project = tuning_project
    # Waiting stops after a second (as Ctrl-C would); the tuning job goes on, and nothing names a best job yet.
    started = invoke(project, "tune", "--timeout", "1", image=built_image)
    assert started.returncode == 3, started.stderr
    name = json.loads((project / "tuning_output.json").read_text())["tuning_job_name"]
    assert f"Re-attach with `releaseml tune --attach {name}`" in started.stdout + started.stderr
    early = invoke(project, "batch-predict", "--data", "data/predict", "--from", "tuning_output.txt")
    assert early.returncode == 1 and "Traceback" not in early.stderr
    assert f"tuning job {name} has no best training job yet: `releaseml tune --attach {name}` follows it" in early.stderr

    sent = player.requests_for("CreateHyperParameterTuningJob")[-1]
    assert sent["HyperParameterTuningJobName"] == name and len(name) <= 32
    config = sent["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian" and config["TrainingJobEarlyStoppingType"] == "Auto" and config["RandomSeed"] == 42
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "validation:logloss"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
    assert config["ParameterRanges"] == {
        "IntegerParameterRanges": [{"Name": "catboost.depth", "MinValue": "2", "MaxValue": "6", "ScalingType": "Linear"}],
        "ContinuousParameterRanges": [
            {"Name": "catboost.learning_rate", "MinValue": "0.03", "MaxValue": "0.3", "ScalingType": "Logarithmic"}
        ],
        "CategoricalParameterRanges": [{"Name": "catboost.grow_policy", "Values": ["SymmetricTree", "Depthwise"]}],
    }
    definition = sent["TrainingJobDefinition"]
    # The config's own depth is tuned, so it is not static; tune:, aws: and data: never reach training.
    assert definition["StaticHyperParameters"] == {"target": "species", "catboost.iterations": "60"}
    assert definition["AlgorithmSpecification"]["MetricDefinitions"] == metrics.metric_definitions()
    assert definition["AlgorithmSpecification"]["TrainingImage"].rsplit(":", 1)[0].endswith("/releaseml")
    manifest = f"s3://{BUCKET}/releaseml/data/manifests/{name}/training.manifest"
    assert definition["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == manifest
    assert definition["ResourceConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}

    attached = invoke(project, "tune", "--attach", name)
    assert attached.returncode == 0, attached.stderr
    outcome = json.loads((project / "tuning_output.json").read_text())
    assert outcome["status"] == "Completed" and len(outcome["trials"]) == 4

    # The best job is the trial whose own log shows the lowest validation logloss.
    logged = {}
    for trial in player.tuning_jobs[name].trials:
        assert player.jobs[trial].status == "Completed", player.jobs[trial].failure_reason
        logged[trial] = metrics.parse_lines(player.jobs[trial].runs[-1])["validation"]["logloss"]
    best = min(logged, key=logged.get)
    assert outcome["job_name"] == best and outcome["best_objective"] == pytest.approx(logged[best])
    assert [t["job_name"] for t in outcome["trials"]] == sorted(logged, key=logged.get)
    assert len(set(logged.values())) > 1  # the trials really differed

    # Each trial's container read its drawn values: the best model has the depth and policy the tuning job chose for it.
    values = player.tuning_jobs[name].values[best]
    assert outcome["best_values"] == {key: hyperparameters.decode(text) for key, text in values.items()}
    described = boto3.client("sagemaker").describe_training_job(TrainingJobName=best)
    model = artifact_model(described["ModelArtifacts"]["S3ModelArtifacts"], tmp_path / "model")
    params = model.model.get_all_params()
    assert params["depth"] == int(values["catboost.depth"]) and params["grow_policy"] == values["catboost.grow_policy"]
    assert params["learning_rate"] == pytest.approx(float(values["catboost.learning_rate"]))

    text = (project / "tuning_output.txt").read_text()
    assert f"Training job: {best}" in text and "Trials (best first):" in text
    assert all(trial in text for trial in logged)
    assert f"Best training job: {best}, validation:logloss" in attached.stdout
    assert "Trials (best first):" in attached.stderr  # the live table, as the trials changed
    assert (project / "reports" / best / "report.html").is_file()

    # batch-predict takes the best job from the tuning outcome; `logs` on the tuning job says what it is.
    batch = invoke(project, "batch-predict", "--data", "data/predict", "--from", "tuning_output.txt")
    assert batch.returncode == 0, batch.stderr
    assert player.requests_for("CreateTransformJob")[-1]["ModelName"] == best
    logs = invoke(project, "logs", name)
    assert logs.returncode == 1 and "Traceback" not in logs.stderr
    assert f"{name} is a tuning job, not a training job: `releaseml tune --attach {name}`" in logs.stderr


def test_tune_mistakes_get_one_message_and_start_nothing(tuning_project, player, built_image):
    project = tuning_project
    before = len(player.requests_for("CreateHyperParameterTuningJob"))

    missing = invoke(project, "tune", "--attach", "no-such-tuning")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "no tuning job 'no-such-tuning' in" in missing.stderr

    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    many = {**config, "tune": {**TUNE, "ranges": {"catboost.border_count": list(range(1, 32))}}}
    (project / "many.yaml").write_text(yaml.safe_dump(many))
    refused = invoke(project, "tune", "--config", "many.yaml", image=built_image)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "tune.ranges.catboost.border_count lists 31 values; SageMaker takes at most 30 for one key" in refused.stderr

    untuned = {key: value for key, value in config.items() if key != "tune"}
    (project / "untuned.yaml").write_text(yaml.safe_dump(untuned))
    plain = invoke(project, "tune", "--config", "untuned.yaml", image=built_image)
    assert plain.returncode == 1 and "untuned.yaml has no `tune:` section; add one" in plain.stderr

    regression = {**config, "tune": {**TUNE, "objective": "validation:r2"}}
    (project / "r2.yaml").write_text(yaml.safe_dump(regression))
    wrong = invoke(project, "tune", "--config", "r2.yaml", image=built_image)
    assert wrong.returncode == 1 and "tune.objective validation:r2: a multiclass model is measured by" in wrong.stderr
    assert "Image:" not in wrong.stderr  # said before the image was pushed or the data uploaded
    assert len(player.requests_for("CreateHyperParameterTuningJob")) == before


def test_a_tuning_job_whose_trials_all_fail_says_why_with_a_trials_reason(tuning_project, player, built_image):
    """max_leaves needs grow_policy Lossguide: CatBoost refuses every trial, so no trial reports the objective."""
    project = tuning_project
    config = yaml.safe_load((project / "releaseml.yaml").read_text())
    config["tune"] = {"trials": 2, "parallel": 2, "ranges": {"catboost.max_leaves": [8, 16]}}
    (project / "failing.yaml").write_text(yaml.safe_dump(config))
    result = invoke(project, "tune", "--config", "failing.yaml", "--out", "failing.txt", image=built_image)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    name = json.loads((project / "failing.json").read_text())["tuning_job_name"]
    assert f"error: tuning job {name} completed without a best training job; trial {name}-00" in result.stderr
    assert "max_leaves option works only with lossguide tree growing" in result.stderr
    assert "(every trial in failing.txt; `releaseml logs TRAINING_JOB` shows a trial's log)" in result.stderr
    outcome = json.loads((project / "failing.json").read_text())
    assert outcome["job_name"] is None and [t["status"] for t in outcome["trials"]] == ["Failed", "Failed"]
