"""The SageMaker model of a training job: its image and model.tar.gz, made once and reused."""

from __future__ import annotations

from releaseml.aws import sagemaker_training
from releaseml.aws.session import Aws, errors, is_missing
from releaseml.errors import UserError


def ensure_model(aws: Aws, job_name: str, role: str, tags: list[dict]) -> str:
    """The model named after the training job, created from its artifact if it does not exist yet."""
    job = sagemaker_training.describe(aws, job_name)
    if job["TrainingJobStatus"] != "Completed":
        raise UserError(
            f"training job {job_name} is {job['TrainingJobStatus']}; predictions need a completed one (`invoke logs {job_name}` shows why)"
        )
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
