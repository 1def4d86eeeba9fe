"""The `aws:` section, with environment variables and flags laid over it, and the values AWS can tell us.

Precedence: flags, then RELEASEML_AWS_<KEY> (e.g. RELEASEML_AWS_ROLE), then releaseml.yaml,
then defaults (the region from the AWS session, SageMaker's default bucket).
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional

from pydantic import ValidationError

from releaseml import environment
from releaseml.aws.session import Aws
from releaseml.config import AwsSection, problems
from releaseml.errors import UserError

ENV_PREFIX = environment.AWS_SETTING_PREFIX
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
    role: Optional[str] = section.role
    if not role:
        raise UserError(f"no SageMaker execution role. {ROLE_HELP}")
    if role.startswith("arn:"):
        return role
    return f"arn:{aws.partition}:iam::{aws.account}:role/{role.removeprefix('role/')}"


def check_role(aws: Aws, arn: str) -> None:
    """A UserError if the role does not exist or does not trust SageMaker; quiet when the
    credentials may not look (iam:GetRole is not needed to deploy, so its absence is no error)."""
    from botocore.exceptions import ClientError

    name = arn.rsplit("/", 1)[-1]
    try:
        role = aws.client("iam").get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            raise UserError(
                f"no IAM role {name!r} in account {aws.account}: create it (README.md, 'Running on AWS'), or fix `aws.role`"
            ) from None
        return
    except Exception:  # no IAM endpoint, no network to IAM: the job itself will tell
        return
    trust = json.dumps(role.get("AssumeRolePolicyDocument") or {})
    if "sagemaker.amazonaws.com" not in trust:
        raise UserError(
            f"role {name!r} does not trust SageMaker, so SageMaker cannot use it: add sagemaker.amazonaws.com to its trust "
            "policy (README.md, 'Running on AWS', shows the policy)"
        )


def bucket(section: AwsSection, aws: Aws) -> str:
    """The configured bucket, or SageMaker's default bucket for the region and account."""
    return section.bucket or f"sagemaker-{aws.region}-{aws.account}"


def tags(section: AwsSection) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in {"releaseml": "true", **section.tags}.items()]
