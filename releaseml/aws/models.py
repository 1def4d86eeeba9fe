"""The SageMaker model of a training job: its image and model.tar.gz, made once and reused."""

from __future__ import annotations

from releaseml.aws import sagemaker_training
from releaseml.aws.session import Aws, errors, is_missing


def ensure_model(aws: Aws, job_name: str, role: str, tags: list[dict]) -> str:
    """The model named after the training job, created from its artifact if it does not exist yet."""
    job = sagemaker_training.require_completed(sagemaker_training.describe(aws, job_name))
    sagemaker = aws.client("sagemaker")
    model_name = job_name[:63]
    with errors(f"looking up model {model_name}"):
        try:
            sagemaker.describe_model(ModelName=model_name)
            return model_name
        except sagemaker.exceptions.ClientError as exc:
            if not is_missing(exc):
                raise
    with errors(f"creating model {model_name}"):
        sagemaker.create_model(
            ModelName=model_name,
            PrimaryContainer={
                "Image": job["AlgorithmSpecification"]["TrainingImage"],
                "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"],
            },
            ExecutionRoleArn=role,
            Tags=tags,
        )
    return model_name


def delete_if_unused(aws: Aws, model_name: str, deleted_endpoint: str) -> bool:
    """Delete the model unless another endpoint still serves it; whether it was deleted.

    Nothing is lost: `ensure_model` makes it again from the training job when a batch prediction or
    an endpoint needs it.
    """
    sagemaker = aws.client("sagemaker")
    with errors(f"checking which endpoints serve model {model_name}"):
        names = [e["EndpointName"] for page in sagemaker.get_paginator("list_endpoints").paginate() for e in page["Endpoints"]]
        for name in names:
            if name != deleted_endpoint and model_name in _models_of(sagemaker, name):
                return False
    with errors(f"deleting model {model_name}"):
        try:
            sagemaker.delete_model(ModelName=model_name)
        except sagemaker.exceptions.ClientError as exc:
            if is_missing(exc):
                return False
            raise
    return True


def _models_of(sagemaker, endpoint: str) -> set[str]:
    """The models an endpoint's config names; none when it is going away (its config already gone)."""
    try:
        config_name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
        variants = config["ProductionVariants"] + config.get("ShadowProductionVariants", [])
    except sagemaker.exceptions.ClientError as exc:
        if is_missing(exc):
            return set()
        raise
    return {variant["ModelName"] for variant in variants}


def ensure_version_model(aws: Aws, version, role: str, tags: list[dict]) -> str:
    """The model of a registered version (model_registry.Version): its image and model.tar.gz.

    Named after its training job when that model serves the same artifact (what `endpoint --job` makes),
    else `<group>-v<N>`, so both doors reuse one model for one artifact.
    """
    from releaseml.aws.endpoints import model_data_of
    from releaseml.aws.session import unique_name

    candidates = [name for name in ((version.training_job or "")[:63], f"{version.group}-v{version.number}"[:63]) if name]
    for name in candidates:
        served = model_data_of(aws, name)
        if served == version.model_data:
            return name
    name = candidates[-1] if model_data_of(aws, candidates[-1]) is None else unique_name(candidates[-1])
    with errors(f"creating model {name} for version {version.number} of {version.group}"):
        aws.client("sagemaker").create_model(
            ModelName=name,
            PrimaryContainer={"Image": version.image, "ModelDataUrl": version.model_data},
            ExecutionRoleArn=role,
            Tags=tags,
        )
    return name
