"""A test fixture that plays API Gateway's data plane, which no emulator here runs.

moto's server keeps REST APIs, stages, methods, integrations, usage plans and keys (the control
plane), but nothing answers at a stage's URL. This player listens on a loopback port as the stage
URL `https://<api>.execute-api.<region>.amazonaws.com/<stage>` and, for every request, reads the
API's definition back from moto and does what API Gateway documents for a REST API:

- the resource and method must exist (else 403 "Missing Authentication Token");
- apiKeyRequired: `x-api-key` must be the value of an enabled key in a usage plan that lists this
  API and stage (else 403 "Forbidden"); the plan's throttle is a token bucket per key (rateLimit
  per second, burstLimit deep: 429 "Too Many Requests"), its quota a count per key per period
  (429 "Limit Exceeded");
- an AWS integration with `runtime.sagemaker` (`path/endpoints/NAME/invocations`) is called as the
  integration's credentials role: the role must exist in the emulator's IAM, trust
  apigateway.amazonaws.com, and have a policy allowing sagemaker:InvokeEndpoint (else 500
  "Internal server error", as AWS answers a configuration error);
- only the headers mapped by the integration's requestParameters reach SageMaker (Content-Type
  defaults to application/json when unmapped); a body whose Content-Type matches the API's
  binaryMediaTypes passes as bytes, any other is read as UTF-8 text (undecodable bytes replaced);
- the integration response is chosen by matching SageMaker's HTTP status against each
  selectionPattern (the one without a pattern is the default; AWS gives no order among patterns,
  so two that match the same status fail the request); its responseParameters set headers
  (from the integration response's headers or 'literal' values); a response template is rendered
  for the forms releaseml uses - `$input.path('$.K')`, `$input.json('$')`, `$input.json('$.K')`
  and `#set($context.responseOverride.status = ...)` - and any other template construct fails the
  request loudly (500 naming the player) rather than being guessed at.

SageMaker's part (the endpoint's container) is `SageMakerPlayer._invoke_endpoint`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from helpers import free_port
from sagemaker_player import reply

RUNTIME_URI = re.compile(r"arn:aws:apigateway:[a-z0-9-]+:runtime\.sagemaker:path/endpoints/(?P<endpoint>[^/]+)/invocations")


class ApiGatewayPlayer:
    def __init__(self, sagemaker_player):
        self.sagemaker = sagemaker_player
        self._stages: dict[tuple[str, str], str] = {}  # (api id, stage) -> loopback base URL
        self._servers: list[ThreadingHTTPServer] = []
        self._buckets: dict[str, list[float]] = {}  # key id -> [tokens, last refill time]
        self._quota: dict[str, int] = {}  # key id -> requests counted in this period
        self._lock = threading.Lock()

    def local_url(self, public_url: str) -> str:
        """The loopback address that plays `public_url` (https://<api>.execute-api.<region>.amazonaws.com/<stage>/<path>)."""
        parsed = urlparse(public_url)
        api_id = parsed.hostname.split(".", 1)[0]
        stage, _, rest = parsed.path.lstrip("/").partition("/")
        with self._lock:
            if (api_id, stage) not in self._stages:
                server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler(api_id, stage))
                threading.Thread(target=server.serve_forever, daemon=True).start()
                self._servers.append(server)
                self._stages[api_id, stage] = f"http://127.0.0.1:{server.server_address[1]}/{stage}"
        return f"{self._stages[api_id, stage]}/{rest}"

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()

    def _handler(self, api_id: str, stage: str):
        player = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = self.path.split("?")[0]
                try:
                    status, headers, answer = player._call(api_id, stage, self.command, path, self.headers, body)
                except UnsupportedTemplate as exc:
                    status, headers, answer = (
                        500,
                        {"Content-Type": "application/json"},
                        json.dumps({"message": f"test player: {exc}"}).encode(),
                    )
                reply(self, status, headers, answer)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

            def log_message(self, *args):
                pass

        return Handler

    # -- one request ---------------------------------------------------------------------------------

    def _call(self, api_id: str, stage: str, method: str, path: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        gateway = self.sagemaker.client("apigateway")
        try:
            api = gateway.get_rest_api(restApiId=api_id)
            gateway.get_stage(restApiId=api_id, stageName=stage)
        except gateway.exceptions.NotFoundException:
            return _message(403, "Forbidden")
        resource_path = "/" + path.removeprefix(f"/{stage}").lstrip("/")
        resources = gateway.get_resources(restApiId=api_id, limit=500)["items"]
        resource = next((r for r in resources if r["path"] == resource_path and method in (r.get("resourceMethods") or {})), None)
        if resource is None:
            return _message(403, "Missing Authentication Token")
        definition = gateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method)
        if definition.get("apiKeyRequired"):
            refused = self._check_key(gateway, api_id, stage, headers.get("x-api-key"))
            if refused:
                return refused
        integration = definition["methodIntegration"]
        if integration["type"] != "AWS" or not RUNTIME_URI.fullmatch(integration["uri"]):
            raise UnsupportedTemplate(f"integration {integration['type']} {integration['uri']} is not played")
        if not self._role_may_invoke(integration.get("credentials")):
            return _message(500, "Internal server error")
        sent = self._integration_headers(integration, headers)
        if not _is_binary(api.get("binaryMediaTypes") or [], headers.get("Content-Type", "")):
            body = body.decode("utf-8", errors="replace").encode("utf-8")
        endpoint = RUNTIME_URI.fullmatch(integration["uri"])["endpoint"]
        status, answer_headers, answer = self.sagemaker._invoke_endpoint(endpoint, sent, body)
        return _respond(integration, status, answer_headers, answer, headers.get("Accept"))

    def _check_key(self, gateway, api_id: str, stage: str, value: str | None) -> tuple[int, dict, bytes] | None:
        if not value:
            return _message(403, "Forbidden")
        plans = [p for p in gateway.get_usage_plans(limit=500)["items"] if {"apiId": api_id, "stage": stage} in _stages_of(p)]
        for plan in plans:
            for key in gateway.get_usage_plan_keys(usagePlanId=plan["id"], limit=500)["items"]:
                full = gateway.get_api_key(apiKey=key["id"], includeValue=True)
                if full.get("value") == value and full.get("enabled"):
                    return self._limit(key["id"], plan)
        return _message(403, "Forbidden")

    def _limit(self, key_id: str, plan: dict) -> tuple[int, dict, bytes] | None:
        """The plan's throttle (token bucket: burstLimit deep, refilled at rateLimit per second) and quota."""
        throttle, quota = plan.get("throttle") or {}, plan.get("quota") or {}
        with self._lock:
            if throttle:
                now = time.monotonic()
                tokens, last = self._buckets.get(key_id, [float(throttle["burstLimit"]), now])
                tokens = min(float(throttle["burstLimit"]), tokens + (now - last) * float(throttle["rateLimit"]))
                if tokens < 1:
                    self._buckets[key_id] = [tokens, now]
                    return _message(429, "Too Many Requests")
                self._buckets[key_id] = [tokens - 1, now]
            if quota:
                used = self._quota.get(key_id, 0)
                if used >= int(quota["limit"]):
                    return _message(429, "Limit Exceeded")
                self._quota[key_id] = used + 1
        return None

    def _role_may_invoke(self, role_arn: str | None) -> bool:
        """API Gateway assumes the integration's role: it must exist, trust API Gateway, and allow InvokeEndpoint."""
        if not role_arn:
            return False
        iam = self.sagemaker.client("iam")
        name = role_arn.rsplit("/", 1)[-1]
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return False
        if "apigateway.amazonaws.com" not in json.dumps(role.get("AssumeRolePolicyDocument")):
            return False
        documents = [
            iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"] for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        ]
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            documents.append(
                iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
            )
        return any("sagemaker:InvokeEndpoint" in (d if isinstance(d, str) else json.dumps(d)) for d in documents)

    @staticmethod
    def _integration_headers(integration: dict, headers) -> dict:
        sent = {}
        for target, source in (integration.get("requestParameters") or {}).items():
            if target.startswith("integration.request.header.") and source.startswith("method.request.header."):
                value = headers.get(source.removeprefix("method.request.header."))
                if value is not None:
                    sent[target.removeprefix("integration.request.header.")] = value
        sent.setdefault("Content-Type", "application/json")  # what API Gateway sends when nothing is mapped
        return sent


class UnsupportedTemplate(Exception):
    """Something in the API's definition this player does not play: the test fails instead of guessing."""


def _message(status: int, message: str) -> tuple[int, dict, bytes]:
    return (
        status,
        {"Content-Type": "application/json", "x-amzn-ErrorType": "ForbiddenException" if status == 403 else ""},
        json.dumps({"message": message}).encode(),
    )


def _stages_of(plan: dict) -> list[dict]:
    return [{"apiId": s["apiId"], "stage": s["stage"]} for s in plan.get("apiStages", [])]


def _is_binary(binary_types: list[str], content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    for pattern in binary_types:
        pattern = pattern.replace("~1", "/").lower()
        if pattern == "*/*" or pattern == kind or (pattern.endswith("/*") and kind.startswith(pattern[:-1])):
            return True
    return False


def _respond(integration: dict, status: int, headers: dict, body: bytes, accept: str | None) -> tuple[int, dict, bytes]:
    responses = integration.get("integrationResponses") or {}
    matching = [r for r in responses.values() if r.get("selectionPattern") and re.fullmatch(r["selectionPattern"], str(status))]
    if len(matching) > 1:  # AWS does not say which of several wins: an API relying on an order is wrong
        raise UnsupportedTemplate(f"selection patterns {[r['selectionPattern'] for r in matching]} all match status {status}")
    chosen = matching[0] if matching else next((r for r in responses.values() if not r.get("selectionPattern")), None)
    if chosen is None:
        raise UnsupportedTemplate(f"no integration response for status {status}")
    out_status = int(chosen["statusCode"])
    out_headers = {}
    for target, source in (chosen.get("responseParameters") or {}).items():
        name = target.removeprefix("method.response.header.")
        if source.startswith("'") and source.endswith("'"):
            out_headers[name] = source[1:-1]
        elif source.startswith("integration.response.header."):
            wanted = source.removeprefix("integration.response.header.").lower()
            value = next((v for k, v in headers.items() if k.lower() == wanted), None)
            if value is not None:
                out_headers[name] = value
    templates = {k: v for k, v in (chosen.get("responseTemplates") or {}).items() if v}
    if templates:
        kind = (accept or "").split(";")[0].strip()
        template = templates.get(kind) or next(iter(templates.values()))
        override, text = _render(template, json.loads(body or b"{}"))
        out_status, body = override or out_status, text.encode()
    return out_status, out_headers, body


def _render(template: str, document: dict) -> tuple[int | None, str]:
    """The VTL releaseml's templates use; anything else is refused."""

    def lookup(path: str):
        value = document
        for part in [p for p in path.removeprefix("$").split(".") if p]:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    supported = r"\$input\.(json|path)\('\$[^']*'\)"
    if re.search(r"[$#]", re.sub(supported, "", re.sub(r"^#set\(\$context\.responseOverride\.status = ", "", template))):
        raise UnsupportedTemplate(f"template construct not played: {template!r}")
    override = None
    found = re.match(r"#set\(\$context\.responseOverride\.status = \$input\.path\('(\$[^']*)'\)\)", template)
    if found:
        override = int(lookup(found[1]))
        template = template[found.end() :]
    text = re.sub(r"\$input\.json\('(\$[^']*)'\)", lambda m: json.dumps(lookup(m[1])), template)
    text = re.sub(r"\$input\.path\('(\$[^']*)'\)", lambda m: str(lookup(m[1]) if lookup(m[1]) is not None else ""), text)
    return override, text
