"""A public HTTPS API for an endpoint: API Gateway calls SageMaker for callers who have only a key.

One regional REST API per endpoint, named `releaseml-<endpoint>`: `POST /predict` is an AWS service
integration with `runtime.sagemaker` InvokeEndpoint (no Lambda in between), signed by API Gateway
with the role `aws.api_role`. Bodies pass through unchanged (every media type is declared binary),
and so do Content-Type, Accept and SageMaker's custom attributes. The container's 4xx answers come
back with their own status and JSON body (SageMaker wraps them in a 424 ModelError; the integration
response unwraps them). An API key is required; it counts only through the usage plan `releaseml-
<endpoint>`, which also throttles (429) and may cap requests per day.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Optional

from releaseml.aws.session import Aws, errors
from releaseml.common import media
from releaseml.config.config_file import AwsSection

STAGE = "live"
RESOURCE = "predict"
PASSED_HEADERS = ("Content-Type", "Accept", "X-Amzn-SageMaker-Custom-Attributes")
BINARY_MEDIA_TYPES = ["*/*"]  # every body is bytes to API Gateway: passed on as sent, never re-encoded
TIMEOUT_MILLIS = 29_000  # API Gateway's most for a REST integration

# Integration responses, chosen by SageMaker's HTTP status (selectionPattern). A model's own 4xx
# arrives as SageMaker's 424 ModelError carrying the container's status and body: both restored.
MODEL_ERROR = "#set($context.responseOverride.status = $input.path('$.OriginalStatusCode'))$input.path('$.OriginalMessage')"
BUSY = '{"error": "the model is busy (SageMaker throttled the call): retry in a moment", "sagemaker": $input.json(\'$\')}'
REFUSED = '{"error": "SageMaker refused the call", "sagemaker": $input.json(\'$\')}'
FAILED = '{"error": "the model endpoint failed: its CloudWatch log says why", "sagemaker": $input.json(\'$\')}'
JSON_BODY = {"method.response.header.Content-Type": "'application/json'"}
# (selection pattern, status, template). API Gateway keys integration responses by status, so each has
# its own (the model error's 424 is replaced by the container's status); patterns never overlap, as
# AWS promises no order among them.
ERROR_RESPONSES = (
    ("424", "424", MODEL_ERROR),
    ("429", "429", BUSY),
    ("4(?!2[49])\\d\\d", "400", REFUSED),
    ("5\\d\\d", "502", FAILED),
)


@dataclass
class PublicApi:
    """What a caller needs (the URL and the key) and what releaseml needs to manage it."""

    endpoint: str
    url: str
    api_id: str
    usage_plan_id: str
    key_id: Optional[str]
    key: Optional[str] = None  # the key's value: only right after it is made, never read back
    rate_limit: Optional[float] = None
    burst_limit: Optional[int] = None
    daily_quota: Optional[int] = None

    def as_dict(self) -> dict:
        return {name: value for name, value in asdict(self).items() if value is not None}


def api_name(endpoint: str) -> str:
    return f"releaseml-{endpoint}"


def integration_uri(aws: Aws, endpoint: str) -> str:
    return f"arn:{aws.partition}:apigateway:{aws.region}:runtime.sagemaker:path/endpoints/{endpoint}/invocations"


def stage_url(aws: Aws, api_id: str) -> str:
    suffix = "amazonaws.com.cn" if aws.partition == "aws-cn" else "amazonaws.com"
    return f"https://{api_id}.execute-api.{aws.region}.{suffix}/{STAGE}/{RESOURCE}"


def publish(aws: Aws, endpoint: str, section: AwsSection, role_arn: str, tags: dict[str, str]) -> PublicApi:
    """Make the API, its stage, usage plan and first key; or, when it exists, set its limits to the config's."""
    existing = find(aws, endpoint)
    if existing is not None:
        _set_limits(aws, existing.usage_plan_id, section)
        return find(aws, endpoint) or existing
    gateway = aws.client("apigateway")
    with errors(f"creating the public API for endpoint {endpoint}"):
        api = gateway.create_rest_api(
            name=api_name(endpoint),
            description=f"releaseml: POST /{RESOURCE} calls SageMaker endpoint {endpoint}",
            endpointConfiguration={"types": ["REGIONAL"]},
            binaryMediaTypes=BINARY_MEDIA_TYPES,
            apiKeySource="HEADER",
            tags=tags,
        )
        _add_predict_method(aws, api, endpoint, role_arn)
        gateway.create_deployment(restApiId=api["id"], stageName=STAGE, description="releaseml")
        plan = gateway.create_usage_plan(
            name=api_name(endpoint),
            description=f"releaseml: keys and limits for endpoint {endpoint}",
            apiStages=[{"apiId": api["id"], "stage": STAGE}],
            **_limits(section),
            tags=tags,
        )
    key_id, key = _new_key(aws, endpoint, plan["id"], tags)
    made = find(aws, endpoint)
    assert made is not None
    made.key_id, made.key = key_id, key
    return made


def _add_predict_method(aws: Aws, api: dict, endpoint: str, role_arn: str) -> None:
    gateway = aws.client("apigateway")
    resource = gateway.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=RESOURCE)
    where = {"restApiId": api["id"], "resourceId": resource["id"], "httpMethod": "POST"}
    gateway.put_method(
        **where,
        authorizationType="NONE",
        apiKeyRequired=True,
        requestParameters={f"method.request.header.{name}": False for name in PASSED_HEADERS},
    )
    gateway.put_integration(
        **where,
        type="AWS",
        integrationHttpMethod="POST",
        uri=integration_uri(aws, endpoint),
        credentials=role_arn,
        requestParameters={f"integration.request.header.{name}": f"method.request.header.{name}" for name in PASSED_HEADERS},
        passthroughBehavior="WHEN_NO_MATCH",
        timeoutInMillis=TIMEOUT_MILLIS,
    )
    statuses = {"200", *(status for _, status, _ in ERROR_RESPONSES)}
    for status in sorted(statuses):
        gateway.put_method_response(**where, statusCode=status, responseParameters={"method.response.header.Content-Type": False})
    gateway.put_integration_response(
        **where, statusCode="200", responseParameters={"method.response.header.Content-Type": "integration.response.header.Content-Type"}
    )
    for pattern, status, template in ERROR_RESPONSES:
        gateway.put_integration_response(
            **where,
            statusCode=status,
            selectionPattern=pattern,
            contentHandling="CONVERT_TO_TEXT",  # SageMaker's error JSON, read by the template
            responseParameters=JSON_BODY,
            responseTemplates={media_type: template for media_type in media.TYPES},
        )


def _limits(section: AwsSection) -> dict:
    limits: dict = {"throttle": {"rateLimit": section.api_rate_limit, "burstLimit": section.api_burst_limit}}
    if section.api_daily_quota is not None:
        limits["quota"] = {"limit": section.api_daily_quota, "period": "DAY"}
    return limits


def _set_limits(aws: Aws, plan_id: str, section: AwsSection) -> None:
    operations = [
        {"op": "replace", "path": "/throttle/rateLimit", "value": f"{section.api_rate_limit:g}"},  # "10", not "10.0"
        {"op": "replace", "path": "/throttle/burstLimit", "value": str(section.api_burst_limit)},
    ]
    if section.api_daily_quota is not None:
        operations += [
            {"op": "replace", "path": "/quota/limit", "value": str(section.api_daily_quota)},
            {"op": "replace", "path": "/quota/period", "value": "DAY"},
        ]
    else:
        operations.append({"op": "remove", "path": "/quota"})
    with errors("updating the public API's usage plan"):
        aws.client("apigateway").update_usage_plan(usagePlanId=plan_id, patchOperations=operations)


def _new_key(aws: Aws, endpoint: str, plan_id: str, tags: dict[str, str]) -> tuple[str, str]:
    gateway = aws.client("apigateway")
    with errors(f"making an API key for endpoint {endpoint}"):
        key = gateway.create_api_key(
            name=f"{api_name(endpoint)}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}", enabled=True, generateDistinctId=True, tags=tags
        )
        gateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key["id"], keyType="API_KEY")
    return key["id"], key["value"]


def find(aws: Aws, endpoint: str) -> Optional[PublicApi]:
    """The endpoint's public API as it stands (without the key's value), or None when it has none."""
    gateway = aws.client("apigateway")
    with errors(f"looking up the public API of endpoint {endpoint}"):
        apis = [api for page in gateway.get_paginator("get_rest_apis").paginate() for api in page["items"]]
        api = next((a for a in apis if a["name"] == api_name(endpoint) and (a.get("tags") or {}).get("releaseml") == "true"), None)
        if api is None:
            return None
        plans = [p for page in gateway.get_paginator("get_usage_plans").paginate() for p in page["items"]]
        plan = next((p for p in plans if any(s.get("apiId") == api["id"] for s in p.get("apiStages", []))), None)
        keys = gateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"] if plan else []
    throttle, quota = (plan or {}).get("throttle") or {}, (plan or {}).get("quota") or {}
    return PublicApi(
        endpoint=endpoint,
        url=stage_url(aws, api["id"]),
        api_id=api["id"],
        usage_plan_id=plan["id"] if plan else "",
        key_id=keys[0]["id"] if keys else None,
        rate_limit=float(throttle["rateLimit"]) if "rateLimit" in throttle else None,
        burst_limit=int(throttle["burstLimit"]) if "burstLimit" in throttle else None,
        daily_quota=int(quota["limit"]) if quota.get("limit") is not None else None,
    )


def rotate_key(aws: Aws, public: PublicApi, tags: dict[str, str]) -> PublicApi:
    """A new key in the plan, then the old ones deleted: from this call on only the new key works."""
    gateway = aws.client("apigateway")
    with errors("listing the API's keys"):
        old = [key["id"] for key in gateway.get_usage_plan_keys(usagePlanId=public.usage_plan_id)["items"]]
    key_id, key = _new_key(aws, public.endpoint, public.usage_plan_id, tags)
    with errors("deleting the replaced API key"):
        for key_id_ in old:
            gateway.delete_usage_plan_key(usagePlanId=public.usage_plan_id, keyId=key_id_)
            gateway.delete_api_key(apiKey=key_id_)
    public.key_id, public.key = key_id, key
    return public


def delete(aws: Aws, endpoint: str) -> list[str]:
    """Delete the keys, the usage plan and the API; returns what was deleted (nothing when there was no API)."""
    public = find(aws, endpoint)
    if public is None:
        return []
    gateway = aws.client("apigateway")
    deleted = []
    with errors(f"deleting the public API of endpoint {endpoint}"):
        if public.usage_plan_id:
            for key in gateway.get_usage_plan_keys(usagePlanId=public.usage_plan_id)["items"]:
                gateway.delete_usage_plan_key(usagePlanId=public.usage_plan_id, keyId=key["id"])
                gateway.delete_api_key(apiKey=key["id"])
                deleted.append(f"API key {key['id']}")
            # A plan still attached to a stage blocks deleting the API: detach, then delete both.
            gateway.update_usage_plan(
                usagePlanId=public.usage_plan_id,
                patchOperations=[{"op": "remove", "path": "/apiStages", "value": f"{public.api_id}:{STAGE}"}],
            )
            gateway.delete_usage_plan(usagePlanId=public.usage_plan_id)
            deleted.append(f"usage plan {public.usage_plan_id}")
        gateway.delete_rest_api(restApiId=public.api_id)
        deleted.append(f"API {public.api_id} ({public.url})")
    return deleted
