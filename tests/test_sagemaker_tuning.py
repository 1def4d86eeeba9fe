"""The SageMaker tuning job's request from a `tune:` section, its trials table, and what a trial's container prints.

The whole job against the emulator is in tests/localstack/test_tune.py; here, the parts that need no AWS.
"""

import json

import pytest

from helpers import make_ml_root
from releaseml.aws import sagemaker_tuning
from releaseml.common.errors import UserError
from releaseml.config import config_file as config
from releaseml.config import hyperparameters
from releaseml.training import metrics


def tune_section(**ranges) -> config.TuneSection:
    return config.validate({"target": "y", "tune": {"trials": 5, "parallel": 8, "ranges": ranges}}, source="test").tune


def test_ranges_become_sagemaker_parameter_ranges_with_their_scales_and_values_as_the_container_reads_them():
    ranges = sagemaker_tuning.parameter_ranges(
        tune_section(
            **{
                "catboost.depth": {"min": 4, "max": 10},
                "catboost.border_count": {"min": 32, "max": 1024, "scale": "log"},
                "catboost.l2_leaf_reg": {"min": 1, "max": 10},
                "catboost.learning_rate": {"min": 0.01, "max": 0.3, "scale": "log"},
                "catboost.one_hot_max_size": [2, 10],
                "catboost.bootstrap_type": ["Bernoulli", "MVS"],
            }
        ).ranges
    )
    assert ranges == {
        "IntegerParameterRanges": [
            {"Name": "catboost.depth", "MinValue": "4", "MaxValue": "10", "ScalingType": "Linear"},
            {"Name": "catboost.border_count", "MinValue": "32", "MaxValue": "1024", "ScalingType": "Logarithmic"},
        ],
        "ContinuousParameterRanges": [
            {"Name": "catboost.l2_leaf_reg", "MinValue": "1.0", "MaxValue": "10.0", "ScalingType": "Linear"},
            {"Name": "catboost.learning_rate", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"},
        ],
        "CategoricalParameterRanges": [
            {"Name": "catboost.one_hot_max_size", "Values": ["2", "10"]},
            {"Name": "catboost.bootstrap_type", "Values": ["Bernoulli", "MVS"]},
        ],
    }
    # Every value SageMaker may send decodes to what the config would have held.
    for item in ranges["CategoricalParameterRanges"]:
        assert [hyperparameters.decode(v) for v in item["Values"]] in ([2, 10], ["Bernoulli", "MVS"])


def test_the_request_keeps_tuned_keys_out_of_the_static_hyperparameters_and_caps_parallel_trials_at_the_trials():
    section = tune_section(**{"catboost.depth": {"min": 4, "max": 10}})
    training = {
        "TrainingJobName": "x",
        "HyperParameters": {"target": "y", "catboost.depth": "6", "catboost.iterations": "50"},
        "AlgorithmSpecification": {"TrainingImage": "i", "TrainingInputMode": "File", "MetricDefinitions": metrics.metric_definitions()},
        "RoleArn": "r",
        "InputDataConfig": [],
        "OutputDataConfig": {"S3OutputPath": "s3://b/m"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
        "Tags": [{"Key": "releaseml", "Value": "true"}],
    }
    request = sagemaker_tuning.request("t", section, "validation:rmse", "Minimize", training, seed=7)
    assert request["TrainingJobDefinition"]["StaticHyperParameters"] == {"target": "y", "catboost.iterations": "50"}
    assert "TrainingJobName" not in request["TrainingJobDefinition"] and "HyperParameters" not in request["TrainingJobDefinition"]
    assert request["HyperParameterTuningJobConfig"]["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 5, "MaxParallelTrainingJobs": 5}
    assert request["HyperParameterTuningJobConfig"]["RandomSeed"] == 7
    assert request["Tags"] == training["Tags"]


def test_a_list_of_more_values_than_sagemaker_takes_is_refused_before_anything_is_made():
    with pytest.raises(UserError, match="lists 31 values; SageMaker takes at most 30"):
        sagemaker_tuning.check(tune_section(**{"catboost.border_count": list(range(1, 32))}))
    sagemaker_tuning.check(tune_section(**{"catboost.border_count": list(range(1, 31))}))


def test_trials_are_ranked_best_first_in_the_objectives_direction_with_unscored_ones_last():
    trials = [
        sagemaker_tuning.Trial("a", "Completed", {"catboost.depth": 4}, 0.5),
        sagemaker_tuning.Trial("b", "InProgress", {"catboost.depth": 6}),
        sagemaker_tuning.Trial("c", "Completed", {"catboost.depth": 8}, 0.9),
    ]
    assert [t.job_name for t in sagemaker_tuning.ranked(trials, "Maximize")] == ["c", "a", "b"]
    assert [t.job_name for t in sagemaker_tuning.ranked(trials, "Minimize")] == ["a", "c", "b"]
    lines = sagemaker_tuning.table(sagemaker_tuning.ranked(trials, "Minimize"), "validation:r2")
    assert lines[0].split() == ["training", "job", "status", "validation:r2", "catboost.depth"]
    assert lines[1].split() == ["a", "Completed", "0.5", "4"] and lines[3].split() == ["b", "InProgress", "-", "6"]


def test_a_tuning_outcome_names_its_best_training_job_where_batch_predict_and_endpoint_read_it(tmp_path):
    from releaseml.aws import sagemaker_training

    outcome = sagemaker_tuning.TuningJobOutcome("t", "InProgress", "eu-west-1", "validation:rmse", "Minimize")
    outcome.write(tmp_path / "tuning_output.txt")
    with pytest.raises(UserError, match="tuning job t has no best training job yet: `releaseml tune --attach t` follows it"):
        sagemaker_training.job_from_outcome_file(tmp_path / "tuning_output.txt")
    (tmp_path / "tuning_output.json").unlink()
    with pytest.raises(UserError, match="no training outcome at"):  # the text alone names no job yet either
        sagemaker_training.job_from_outcome_file(tmp_path / "tuning_output.txt")

    outcome.status, outcome.job_name, outcome.best_objective = "Completed", "t-002-abcd1234", 0.25
    outcome.trials = [sagemaker_tuning.Trial("t-002-abcd1234", "Completed", {"catboost.depth": 6}, 0.25)]
    outcome.write(tmp_path / "tuning_output.txt")
    assert sagemaker_training.job_from_outcome_file(tmp_path / "tuning_output.txt") == "t-002-abcd1234"
    (tmp_path / "tuning_output.json").unlink()
    assert sagemaker_training.job_from_outcome_file(tmp_path / "tuning_output.txt") == "t-002-abcd1234"


@pytest.mark.parametrize("objective,intermediate", [("validation:logloss", 10), ("validation:accuracy", 0)])
def test_a_trial_prints_its_objective_while_training_when_catboost_measures_it_tree_by_tree(
    tmp_path, penguins, run_train, capsys, objective, intermediate
):
    """SageMaker's early stopping reads the objective from the log part-way; the last line stays the finished model's."""
    paths = make_ml_root(tmp_path, {"target": "species", "catboost": {"iterations": 50}}, penguins)
    flat = json.loads(paths.hyperparameters.read_text())
    paths.hyperparameters.write_text(json.dumps({**flat, hyperparameters.TUNING_OBJECTIVE: objective}))
    assert run_train(paths) == 0
    name = objective.split(":")[1]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"{metrics.LINE_PREFIX} {objective}=")]
    assert len(lines) == intermediate + 1
    final = json.loads(paths.metrics.read_text())["validation"][name]
    assert metrics.parse_lines(lines[-1])["validation"][name] == pytest.approx(final)
    if intermediate:  # part-way values are the loss of the model so far: falling, and not below the final (best) model's
        values = [metrics.parse_lines(line)["validation"][name] for line in lines[:-1]]
        assert values[0] > values[-1] >= final - 1e-9
