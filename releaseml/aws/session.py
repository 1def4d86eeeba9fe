"""One AWS session for releaseml's calls, and AWS errors turned into messages that say what to do."""

from __future__ import annotations

import secrets
import time
from contextlib import contextmanager
from functools import cached_property
from typing import Iterator, Optional

from releaseml import __version__
from releaseml.common import environment
from releaseml.common.errors import UserError

ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
# The credentials themselves are wrong (no such key, a bad secret) or too old: no permission would help.
INVALID_CREDENTIALS = {"UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAccessKeyId"}
EXPIRED_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
PERMISSIONS_HELP = "README.md, section 'Running on AWS', lists the permissions releaseml needs"


class Aws:
    """boto3 clients for one region; endpoints come from boto3's usual settings (AWS_ENDPOINT_URL_*)."""

    def __init__(self, region: Optional[str] = None, profile: Optional[str] = None):
        import boto3
        import botocore.config

        self.session = boto3.Session(region_name=region, profile_name=profile)
        if not self.session.region_name and environment.AWS_REGION.is_set():
            # boto3 reads AWS_DEFAULT_REGION and the profile; other AWS tools also read AWS_REGION.
            self.session = boto3.Session(region_name=environment.AWS_REGION.get(), profile_name=profile)
        if not self.session.region_name:
            raise UserError(
                "no AWS region: set `aws: {region: ...}` in releaseml.yaml, RELEASEML_AWS_REGION or AWS_DEFAULT_REGION, or pass --region"
            )
        self.region = self.session.region_name
        self._config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 8}, user_agent_extra=f"releaseml/{__version__}")
        self._clients: dict[str, object] = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, config=self._config)
        return self._clients[service]

    @cached_property
    def account(self) -> str:
        with errors("finding the AWS account of your credentials"):
            return self.client("sts").get_caller_identity()["Account"]

    @cached_property
    def partition(self) -> str:
        return self.session.get_partition_for_region(self.region)

    def console_url(self, kind: str, name: str) -> str:
        """Where the SageMaker console shows a job or endpoint (kind: jobs, transform-jobs, endpoints)."""
        return f"https://{self.region}.console.aws.amazon.com/sagemaker/home?region={self.region}#/{kind}/{name}"


def is_missing(exc) -> bool:
    """Whether SageMaker refused a Describe* call (a ClientError) because the thing does not exist ("Could not find ...")."""
    error = exc.response.get("Error", {})
    return error.get("Code") == "ResourceNotFound" or error.get("Message", "").startswith("Could not find")


def unique_name(base: str, limit: int = 63) -> str:
    """A SageMaker resource name (`limit` characters at most, letters, digits and dashes) that is new each time.

    Tuning jobs allow only 32 characters: their names leave out the year."""
    stamp = time.strftime("%Y%m%d-%H%M%S" if limit >= 48 else "%m%d-%H%M%S", time.gmtime())
    suffix = f"-{stamp}-{secrets.token_hex(2)}"
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in base).strip("-") or "releaseml"
    return cleaned[: limit - len(suffix)].rstrip("-") + suffix


@contextmanager
def errors(doing: str) -> Iterator[None]:
    """Turn AWS errors raised while `doing` something into one UserError that says what to do."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        yield
    except NoCredentialsError:
        raise UserError(
            f"no AWS credentials found while {doing}: run `aws configure` (or `aws sso login`), "
            "or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except NoRegionError:
        raise UserError(
            "no AWS region: set `aws: {region: ...}` in releaseml.yaml, RELEASEML_AWS_REGION or AWS_DEFAULT_REGION, or pass --region"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), _readable(error.get("Message", ""))
        lowered = message.lower()
        if code in EXPIRED_CREDENTIALS or "token has expired" in lowered or "request has expired" in lowered:
            raise UserError(
                f"the AWS credentials have expired ({code} while {doing}): get new ones (`aws sso login`, or refresh the session token) and run it again"
            ) from None
        if (
            code in INVALID_CREDENTIALS
            or "security token included in the request is invalid" in lowered
            or "key id you provided does not exist" in lowered
        ):
            raise UserError(
                f"AWS does not know these credentials ({code} while {doing}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or the profile in use), e.g. with `aws sts get-caller-identity`"
            ) from None
        if code in ACCESS_DENIED or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            raise UserError(
                f"AWS denied {exc.operation_name} while {doing}: {message or code}. The credentials in use lack a permission; {PERMISSIONS_HELP}"
            ) from None
        raise UserError(f"AWS refused {exc.operation_name} while {doing}: {code}: {message}") from None
    except BotoCoreError as exc:
        raise UserError(f"cannot reach AWS while {doing}: {exc}") from None


def _readable(message: str) -> str:
    """An error message as text: some endpoints answer a JSON API's error in XML, which botocore passes on raw."""
    import re

    found = re.search(r"<Message>(.*?)</Message>", message, re.DOTALL)
    return found.group(1).strip() if found else message
