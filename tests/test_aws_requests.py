"""The AWS side without AWS: settings precedence, the requests sent, channel rules, error messages.

What the requests do against an emulator is in tests/localstack/.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from releaseml.aws import sagemaker_training, settings, transform, workflows
from releaseml.aws.session import errors, unique_name
from releaseml.common.errors import UserError
from releaseml.config import config_file as config_module
from releaseml.config import hyperparameters
from releaseml.training import metrics


def test_flags_beat_environment_beats_the_config_file():
    section = config_module.validate(
        {"target": "y", "aws": {"role": "from-file", "bucket": "file-bucket", "training_instance_type": "ml.c5.xlarge"}}
    ).aws
    environ = {"RELEASEML_AWS_ROLE": "from-env", "RELEASEML_AWS_TRAINING_INSTANCE_COUNT": "3"}
    resolved = settings.resolve(section, {"role": "from-flag", "bucket": None}, environ)
    assert (resolved.role, resolved.bucket, resolved.training_instance_type, resolved.training_instance_count) == (
        "from-flag",
        "file-bucket",
        "ml.c5.xlarge",
        3,
    )


def test_bad_aws_settings_name_the_key_and_where_it_can_come_from():
    with pytest.raises(UserError) as raised:
        settings.resolve(
            config_module.AwsSection(), {}, {"RELEASEML_AWS_TRAINING_INSTANCE_TYPE": "m5.large", "RELEASEML_AWS_VOLUME_SIZE_GB": "lots"}
        )
    message = str(raised.value)
    assert (
        "aws.training_instance_type: got 'm5.large'" in message
        and "aws.volume_size_gb: got 'lots'" in message
        and "RELEASEML_AWS_" in message
    )


def test_unknown_aws_key_in_the_config_gets_a_did_you_mean():
    with pytest.raises(UserError, match=r"aws.rol: unknown key. Did you mean 'role'\?"):
        config_module.validate({"target": "y", "aws": {"rol": "x"}})


def test_training_request_carries_the_flat_config_and_metric_regexes_for_the_task():
    config = config_module.validate(
        {
            "target": "price",
            "task": "regression",
            "catboost": {"depth": 4},
            "drop": ["id"],
            "aws": {"role": "r", "tags": {"team": "a"}},
            "data": "x.csv",
        }
    )
    request = sagemaker_training.request(
        "job-1",
        config,
        config.aws,
        "img:tag",
        "arn:role",
        {"training": "s3://b/p/data/training/"},
        "s3://b/p/models",
        settings.tags(config.aws),
    )
    assert hyperparameters.unflatten(request["HyperParameters"]) == {
        "target": "price",
        "task": "regression",
        "catboost": {"depth": 4},
        "drop": ["id"],
    }
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == metrics.metric_definitions("regression")
    assert {"Key": "team", "Value": "a"} in request["Tags"] and request["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}


def test_transform_request_splits_lines_into_mini_batches_within_sagemakers_budget():
    for payload_mb in (1, 6, 20, 33, 50, 100):
        section = config_module.AwsSection(transform_max_payload_mb=payload_mb)
        request = transform.request("t", "m", section, "s3://b/in/", "s3://b/out", "text/csv", True, [])
        assert request["TransformInput"]["SplitType"] == "Line" and request["BatchStrategy"] == "MultiRecord"
        assert (
            request["MaxPayloadInMB"] == payload_mb
            and 1 <= request["MaxConcurrentTransforms"]
            and request["MaxPayloadInMB"] * request["MaxConcurrentTransforms"] <= 100
        )
        assert request["DataProcessing"] == {"JoinSource": "Input"} and request["TransformOutput"]["AssembleWith"] == "Line"


def test_deploy_channels_come_from_training_and_validation_directories_or_the_top_level_csv(tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "flat" / "predict").mkdir()
    (tmp_path / "flat" / "predict" / "p.csv").write_text("1\n")
    assert {c: sorted(f) for c, f in workflows.channel_files(tmp_path / "flat").items()} == {"training": ["a.csv"]}
    for channel in ("training", "validation"):
        (tmp_path / "split" / channel / "part").mkdir(parents=True)
        (tmp_path / "split" / channel / "part" / "1.csv").write_text("x,y\n1,2\n")
    assert {c: sorted(f) for c, f in workflows.channel_files(tmp_path / "split").items()} == {
        "training": ["part/1.csv"],
        "validation": ["part/1.csv"],
    }
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no .csv or .parquet files"):
        workflows.channel_files(tmp_path / "empty")


def test_batch_inputs_must_be_line_formats_of_one_kind(tmp_path):
    (tmp_path / "a.csv").write_text("1,2\n")
    (tmp_path / "b.json").write_text("[]")
    with pytest.raises(UserError, match="files of one kind"):
        transform.input_files(tmp_path)
    (tmp_path / "b.json").unlink()
    assert transform.input_files(tmp_path)[1] == "text/csv"


def test_a_missing_role_says_what_to_set():
    with pytest.raises(UserError, match="no SageMaker execution role.*RELEASEML_AWS_ROLE.*--role"):
        settings.role_arn(config_module.AwsSection(), aws=None)


@pytest.mark.parametrize(
    "raised, expected",
    [
        (NoCredentialsError(), "no AWS credentials found while testing: run `aws configure`"),
        (
            ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "User x is not authorized to perform sagemaker:CreateTrainingJob"}},
                "CreateTrainingJob",
            ),
            "AWS denied CreateTrainingJob while testing: User x is not authorized to perform sagemaker:CreateTrainingJob. The credentials in use lack a permission",
        ),
        (
            ClientError({"Error": {"Code": "ResourceLimitExceeded", "Message": "quota"}}, "CreateTrainingJob"),
            "AWS refused CreateTrainingJob while testing: ResourceLimitExceeded: quota",
        ),
        (  # a JSON API's refusal passed on as XML (seen from moto's IAM checks): still one readable line
            ClientError(
                {
                    "Error": {
                        "Code": "403",
                        "Message": "<ErrorResponse><Error><Message>not authorized: s3:PutObject</Message></Error></ErrorResponse>",
                    },
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                },
                "PutObject",
            ),
            "AWS denied PutObject while testing: not authorized: s3:PutObject. The credentials in use lack a permission",
        ),
    ],
)
def test_aws_errors_become_one_message_with_what_to_do(raised, expected):
    with pytest.raises(UserError) as caught, errors("testing"):
        raise raised
    assert str(caught.value).startswith(expected)


def test_unique_names_fit_sagemakers_rules():
    name = unique_name("a_very/long name" * 10)
    assert len(name) <= 63 and all(ch.isalnum() or ch == "-" for ch in name) and unique_name("x") != unique_name("x")


def test_a_csv_header_row_is_refused_before_batch_prediction(tmp_path):
    (tmp_path / "with_header.csv").write_text("island,bill_length_mm,sex\nBiscoe,40.1,male\n")
    (tmp_path / "data.csv").write_text("Biscoe,40.1,male\n")
    with pytest.raises(UserError, match="with_header.csv starts with a header row .*tail -n \\+2"):
        transform.refuse_header_rows({"with_header.csv": tmp_path / "with_header.csv"}, {"island", "bill_length_mm", "sex", "species"})
    transform.refuse_header_rows({"data.csv": tmp_path / "data.csv"}, {"island", "bill_length_mm", "sex", "species"})


def test_the_region_comes_from_boto3s_settings_then_aws_region(monkeypatch):
    from releaseml.aws.session import Aws

    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert Aws().region == "ap-south-1" and Aws("eu-north-1").region == "eu-north-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "sa-east-1")
    assert Aws().region == "sa-east-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(UserError, match="no AWS region: set `aws: {region: ...}`"):
        Aws()


def test_each_sagemaker_status_selects_at_most_one_integration_response():
    """API Gateway gives no order among selection patterns, and keys integration responses by status."""
    import re

    from releaseml.aws import public_api

    chosen = {}
    for status in range(100, 600):
        matching = [template for pattern, _, template in public_api.ERROR_RESPONSES if re.fullmatch(pattern, str(status))]
        assert len(matching) <= 1, status
        chosen[status] = matching[0] if matching else None
    assert chosen[200] is None and chosen[424] == public_api.MODEL_ERROR and chosen[429] == public_api.BUSY
    assert chosen[400] == chosen[404] == chosen[413] == chosen[428] == public_api.REFUSED
    assert chosen[500] == chosen[503] == public_api.FAILED
    statuses = [status for _, status, _ in public_api.ERROR_RESPONSES]
    assert len(set(statuses)) == len(statuses) and "200" not in statuses


@pytest.mark.parametrize(
    "aws,expected",
    [
        ({}, {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}),
        ({"endpoint_instance_count": 9, "min_instances": 2, "max_instances": 4}, {"InitialInstanceCount": 4}),
        ({"min_instances": 2, "max_instances": 4}, {"InitialInstanceCount": 2}),
        ({"endpoint_kind": "async", "min_instances": 0, "max_instances": 2}, {"InitialInstanceCount": 1}),
        (
            {"endpoint_kind": "serverless", "serverless_memory_mb": 4096},
            {"ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 5}},
        ),
    ],
)
def test_the_endpoint_variant_starts_inside_the_autoscaling_range(aws, expected):
    from releaseml.aws import endpoints

    section = config_module.validate({"target": "y", "aws": aws}).aws
    variant = endpoints.production_variant(section, "model")
    assert {key: variant[key] for key in expected} == expected
    assert ("InstanceType" in variant) == ("ServerlessConfig" not in variant)
