"""The Falcon app SageMaker talks to: GET /ping, POST /invocations, GET /execution-parameters.

Every bad request gets a 4xx with a JSON body `{"error": ..., "row": ..., "column": ...}`;
nothing a client sends leads to a 5xx.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import falcon
import orjson

from releaseml.common import media
from releaseml.model.bundle import Bundle
from releaseml.serving import codecs
from releaseml.serving.coalescing import Coalescer

log = logging.getLogger("releaseml.serving")
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_payload_mb: int = 100  # the largest CSV or JSON Lines body (SageMaker batch allows up to 100 MB)
    # A JSON document is parsed whole, into about 12x its size in memory (CSV and JSON Lines are
    # read in chunks: under 6x); benchmarks/memory.py measures it.
    max_json_payload_mb: int = 20
    batch_payload_mb: int = 20  # MaxPayloadInMB suggested to batch transform
    concurrent_transforms: int = 2  # MaxConcurrentTransforms suggested to batch transform


class Ping:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = b'{"status":"ok"}'
        resp.content_type = falcon.MEDIA_JSON

    on_head = on_get  # load balancers' health checks may use HEAD


class ExecutionParameters:
    def __init__(self, limits: Limits):
        self._body = orjson.dumps(
            {
                "MaxConcurrentTransforms": limits.concurrent_transforms,
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": limits.batch_payload_mb,
            }
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self._body
        resp.content_type = falcon.MEDIA_JSON


class Invocations:
    def __init__(self, bundle: Bundle, limits: Limits, explain: int = 0):
        self._bundle = bundle
        self._explain = explain
        self._predict_few = Coalescer(bundle.predict, max_rows=codecs.SMALL_ROW_COUNT)
        self._max_bytes = limits.max_payload_mb * MB
        self._max_json_bytes = min(limits.max_json_payload_mb, limits.max_payload_mb) * MB
        self._supported = ", ".join(sorted(set(media.ALIASES.values())))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        content_type = media.canonical(req.content_type)
        if content_type is None:
            raise codecs.RequestError(f"unsupported Content-Type {req.content_type!r}; send one of {self._supported}", status=415)
        charset = media.charset(req.content_type)
        if charset is not None and charset not in media.UTF8_CHARSETS:
            raise codecs.RequestError(f"unsupported charset {charset!r}: send the body as UTF-8 (charset=utf-8)", status=415)
        accept = self._answer_type(req.accept, content_type)
        limit = self._max_json_bytes if content_type == codecs.JSON else self._max_bytes
        length = req.content_length
        if length is not None and length > limit:
            raise self._too_large(f"the body is {length} bytes; the limit is {limit}", content_type)
        body = req.bounded_stream.read(limit + 1)
        if len(body) > limit:
            raise self._too_large(f"the body is over the limit of {limit} bytes", content_type)
        schema = self._bundle.schema
        reasons = self._reasons(req)
        if reasons:
            predictions = (self._bundle.predict_and_explain(rows, reasons) for rows in codecs.decode(body, content_type, schema))
        else:
            predictions = (self._predict(rows) for rows in codecs.decode(body, content_type, schema))
        pieces = codecs.encode(predictions, accept, schema, header=media.wants_header(req.accept))
        del body  # large bodies: let it go before the answer is sent
        resp.content_type = accept
        if len(pieces) == 1:
            resp.data = pieces[0]
        else:  # many chunks: send the pieces as they are rather than join them into one more copy
            resp.content_length = sum(map(len, pieces))
            resp.stream = iter(pieces)

    def _predict(self, rows):
        """A few rows (lists) are predicted together with other requests' (see coalescing); frames alone."""
        return self._predict_few(rows) if isinstance(rows, list) else self._bundle.predict(rows)

    def _reasons(self, req: falcon.Request) -> int:
        """How many reasons per prediction: asked for in Accept or CustomAttributes, else the server's default.

        More than there are features means all of them.
        """
        asked = media.explain_request(req.accept, req.get_header(media.CUSTOM_ATTRIBUTES_HEADER))
        if asked is None:
            return self._explain
        features = len(self._bundle.schema.features)
        try:
            count = int(asked)
        except ValueError:
            count = 0
        if count < 1 or asked.strip() != str(count):
            raise codecs.RequestError(
                f"explain={asked!r}: ask for a whole number of reasons per prediction, from 1 to {features} (this model's feature count)"
            )
        return min(count, features)

    @staticmethod
    def _too_large(what: str, content_type: str) -> codecs.RequestError:
        if content_type == codecs.JSON:  # parsed whole, so it has a lower limit than CSV and JSON Lines
            return codecs.RequestError(
                f"{what}: JSON documents are parsed whole. Send large batches as CSV or JSON Lines (read in chunks, up to a higher limit).",
                status=413,
            )
        return codecs.RequestError(f"{what} (split the data into smaller requests)", status=413)

    def _answer_type(self, accept: str, content_type: str) -> str:
        """What the client rates highest of what the server speaks (q-values count); its own type for */* or none."""
        chosen = media.negotiate(accept, content_type)
        if chosen is None:
            raise codecs.RequestError(f"cannot answer in {accept!r}; accept one of {self._supported}", status=406)
        return chosen


def create_app(bundle: Bundle, limits: Limits = Limits(), explain: int = 0) -> falcon.App:
    """The app for one model; `explain`: reasons per prediction when a request asks for none."""
    app = falcon.App(media_type=falcon.MEDIA_JSON)
    app.req_options.strip_url_path_trailing_slash = True
    app.add_route("/ping", Ping())
    app.add_route("/invocations", Invocations(bundle, limits, explain))
    app.add_route("/execution-parameters", ExecutionParameters(limits))
    app.add_error_handler(codecs.RequestError, _request_error)
    app.add_error_handler(falcon.HTTPError, _http_error)
    app.add_error_handler(Exception, _unexpected_error)
    return app


def _request_error(req, resp, error: codecs.RequestError, params) -> None:
    _error_response(resp, error.status, {"error": str(error), **error.details})


def _http_error(req, resp, error: falcon.HTTPError, params) -> None:
    # Falcon's own answers (404, 405, bad headers): the same JSON shape as ours.
    message = error.title if not error.description else f"{error.title}: {error.description}"
    _error_response(resp, error.status_code, {"error": message})
    for name, value in (error.headers or {}).items():
        resp.set_header(name, value)


def _unexpected_error(req, resp, error: Exception, params) -> None:
    log.exception("unexpected error while answering %s %s", req.method, req.path)
    _error_response(resp, 500, {"error": f"internal error ({type(error).__name__}); the server log has the details"})


def _error_response(resp: falcon.Response, status: int, body: dict) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(body)
