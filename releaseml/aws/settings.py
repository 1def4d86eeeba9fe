"""The `aws:` section, with environment variables and flags laid over it, and the values AWS can tell us.

Precedence: flags, then RELEASEML_AWS_<KEY> (e.g. RELEASEML_AWS_ROLE), then releaseml.yaml,
then defaults (the region from the AWS session, SageMaker's default bucket).
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from pydantic import ValidationError

from releaseml.aws.session import Aws
from releaseml.common import environment
from releaseml.common.errors import UserError
from releaseml.config.config_file import AwsSection, problems

ENV_PREFIX = environment.AWS_SETTING_PREFIX
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
API_GATEWAY_SERVICE = "apigateway.amazonaws.com"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"
API_ROLE_HELP = (
    "A public API calls the endpoint as an IAM role: set `aws: {api_role: ...}` in releaseml.yaml, "
    "RELEASEML_AWS_API_ROLE, or --api-role, to a role that trusts apigateway.amazonaws.com and may call "
    "sagemaker:InvokeEndpoint (README.md, 'Endpoints anyone can call', shows how to make one)"
)
SCHEDULE_ROLE_HELP = (
    "A scheduled monitor is started by EventBridge Scheduler as an IAM role: set `aws: {schedule_role: ...}` in "
    "releaseml.yaml, RELEASEML_AWS_SCHEDULE_ROLE, or --schedule-role, to a role that trusts scheduler.amazonaws.com and may "
    "call sagemaker:CreateProcessingJob and sagemaker:AddTags and pass the execution role (README.md, 'After the first deploy', "
    "shows how to make one)"
)
ROLE_HELP = (
    "SageMaker needs an execution role to run jobs: set `aws: {role: ...}` in releaseml.yaml, "
    "RELEASEML_AWS_ROLE, or --role, to a role ARN or name (a role that trusts sagemaker.amazonaws.com, "
    "e.g. with the AmazonSageMakerFullAccess policy; README.md, 'Running on AWS', shows how to make one)"
)


def resolve(section: AwsSection, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] = os.environ) -> AwsSection:
    """The effective settings: flags over RELEASEML_AWS_* over the config file."""
    values = section.model_dump()
    for key in AwsSection.model_fields:
        text = environ.get(ENV_PREFIX + key.upper())  # the RELEASEML_AWS_<KEY> family of environment.AWS_SETTINGS
        if text is not None and key != "tags":
            values[key] = text
    values.update({key: value for key, value in (flags or {}).items() if value is not None})
    try:
        return AwsSection.model_validate(values)
    except ValidationError as exc:
        raise problems(f"the aws section (from releaseml.yaml, {ENV_PREFIX}* and flags)", exc, under=("aws",)) from None


def role_arn(section: AwsSection, aws: Aws) -> str:
    """The execution role's ARN; a bare role name is taken to be in the credentials' own account."""
    if not section.role:
        raise UserError(f"no SageMaker execution role. {ROLE_HELP}")
    return _arn(section.role, aws)


def api_role_arn(section: AwsSection, aws: Aws) -> str:
    """The ARN of the role API Gateway assumes to call the endpoint (`aws.api_role`)."""
    if not section.api_role:
        raise UserError(f"no role for API Gateway. {API_ROLE_HELP}")
    return _arn(section.api_role, aws)


def schedule_role_arn(section: AwsSection, aws: Aws) -> str:
    """The ARN of the role EventBridge Scheduler assumes to start a scheduled monitor (`aws.schedule_role`)."""
    if not section.schedule_role:
        raise UserError(f"no role for EventBridge Scheduler. {SCHEDULE_ROLE_HELP}")
    return _arn(section.schedule_role, aws)


def _arn(role: str, aws: Aws) -> str:
    if role.startswith("arn:"):
        return role
    return f"arn:{aws.partition}:iam::{aws.account}:role/{role.removeprefix('role/')}"


def check_role(aws: Aws, arn: str, service: str = SAGEMAKER_SERVICE, key: str = "aws.role") -> None:
    """A UserError if the role does not exist or does not trust `service`; quiet when the
    credentials may not look (iam:GetRole is not needed to deploy, so its absence is no error)."""
    from botocore.exceptions import ClientError

    name = arn.rsplit("/", 1)[-1]
    try:
        role = aws.client("iam").get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            raise UserError(
                f"no IAM role {name!r} in account {aws.account}: create it (README.md, 'Running on AWS'), or fix `{key}`"
            ) from None
        return
    except Exception:  # no IAM endpoint, no network to IAM: the job itself will tell
        return
    trust = json.dumps(role.get("AssumeRolePolicyDocument") or {})
    if service not in trust:
        raise UserError(
            f"role {name!r} does not trust {service}, so that service cannot use it: add {service} to its trust "
            f"policy (README.md, 'Running on AWS', shows the policy), or fix `{key}`"
        )


def bucket(section: AwsSection, aws: Aws) -> str:
    """The configured bucket, or SageMaker's default bucket for the region and account."""
    return section.bucket or f"sagemaker-{aws.region}-{aws.account}"


def tag_map(section: AwsSection) -> dict[str, str]:
    """Tags on everything releaseml makes: `releaseml: true` (how it finds its own) and the config's."""
    return {"releaseml": "true", **section.tags}


def tags(section: AwsSection) -> list[dict[str, str]]:
    """The same tags in the Key/Value list most AWS APIs take (API Gateway takes the map)."""
    return [{"Key": key, "Value": value} for key, value in tag_map(section).items()]
