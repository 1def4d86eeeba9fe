"""The media types releaseml reads and writes, in one place: names, aliases, file extensions.

Like the sagemaker-inference-toolkit's `content_types`: the server, the client and batch
prediction all name a type through this module.
"""

from __future__ import annotations

import functools

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
TYPES = (CSV, JSON, JSONLINES)  # what releaseml reads and answers in
# Parquet files are read by releaseml's tools (training, checks, predict, batch-predict), never by the
# server: requests and batch transforms carry them as CSV. SageMaker's name, for training channels.
PARQUET = "application/x-parquet"
# Every spelling accepted in Content-Type and Accept, to the type it means.
ALIASES = {
    CSV: CSV,
    JSON: JSON,
    JSONLINES: JSONLINES,
    "application/x-jsonlines": JSONLINES,
    "application/jsonl": JSONLINES,
    "application/x-ndjson": JSONLINES,
}
# A payload file's type from its extension (releaseml predict, batch-predict).
BY_EXTENSION = {".csv": CSV, ".json": JSON, ".jsonl": JSONLINES, ".jsonlines": JSONLINES, ".parquet": PARQUET}
# Charsets that are UTF-8 (ASCII is a subset); any other is refused (415).
UTF8_CHARSETS = ("utf-8", "utf8", "us-ascii", "ascii")


@functools.lru_cache(maxsize=512)  # headers repeat: parse each spelling once
def canonical(header: str | None) -> str | None:
    """The media type a Content-Type or Accept entry means, or None when releaseml does not speak it."""
    if not header:
        return None
    return ALIASES.get(header.split(";", 1)[0].strip().lower())


@functools.lru_cache(maxsize=512)
def charset(header: str | None) -> str | None:
    """The charset parameter of a Content-Type, lower case, or None."""
    for parameter in (header or "").split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


@functools.lru_cache(maxsize=512)
def negotiate(accept: str | None, own: str) -> str | None:
    """The answer type for an Accept header (RFC 9110): the type the client rates highest (q), the
    more specific range deciding a tie, then the request's own type; None when nothing acceptable.

    `application/json, */*` is JSON; `*/*`, an empty header or none is the request's own type.
    """
    ranges = _ranges(accept)
    if not ranges:
        return own
    offered = [own] + [kind for kind in TYPES if kind != own]
    best, best_key = None, (0.0, -1)
    for kind in offered:
        matches = [(q, specificity) for pattern, q, specificity in ranges if _matches(pattern, kind)]
        if not matches:
            continue
        q, specificity = max(matches, key=lambda match: (match[1], match[0]))  # the most specific range rates it
        key = (q, specificity)
        if q > 0 and key > best_key:
            best, best_key = kind, key
    return best


def _ranges(accept: str | None) -> list[tuple[str, float, int]]:
    """(media range, q, specificity) per entry; an alias stands for the type it means."""
    out = []
    for entry in (accept or "").split(","):
        pattern, *parameters = [part.strip() for part in entry.split(";")]
        pattern = pattern.lower()
        if not pattern:
            continue
        q = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        pattern = ALIASES.get(pattern, pattern)
        specificity = 0 if pattern == "*/*" else 1 if pattern.endswith("/*") else 2
        out.append((pattern, q, specificity))
    return out


def _matches(pattern: str, kind: str) -> bool:
    return pattern == "*/*" or pattern == kind or (pattern.endswith("/*") and kind.split("/")[0] == pattern[:-2])


# Reasons with predictions: `explain=K` as a parameter of Accept (`text/csv; explain=3`), or in
# SageMaker's CustomAttributes, which InvokeEndpoint forwards to the container in this header.
EXPLAIN_PARAMETER = "explain"
CUSTOM_ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"


@functools.lru_cache(maxsize=512)  # headers repeat: parse each pair once
def explain_request(accept: str | None, custom_attributes: str | None) -> str | None:
    """The `explain` value a request asks for, as sent (Accept first, then CustomAttributes), or None."""
    for header, separators in ((accept, ";,"), (custom_attributes, ";,")):
        for part in _split(header or "", separators):
            key, equals, value = part.partition("=")
            if equals and key.strip().lower() == EXPLAIN_PARAMETER:
                return value.strip().strip('"')
    return None


# A header row on a CSV answer, on request: RFC 4180's `header` parameter (`text/csv; header=present`).
# Without it the answer is what SageMaker's clients expect: rows only.
HEADER_PARAMETER = "header"


@functools.lru_cache(maxsize=512)
def wants_header(accept: str | None) -> bool:
    """Whether Accept asks for a CSV answer with a header row (`header=present`)."""
    for part in _split(accept or "", ";,"):
        key, equals, value = part.partition("=")
        if equals and key.strip().lower() == HEADER_PARAMETER:
            return value.strip().strip('"').lower() == "present"
    return False


def with_explain(accept: str, count: int) -> str:
    """An Accept header that asks for `count` reasons per prediction."""
    return f"{accept}; {EXPLAIN_PARAMETER}={count}"


def _split(text: str, separators: str) -> list[str]:
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    return text.split(separators[0])
