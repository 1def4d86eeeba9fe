"""What the command line needs beyond the tasks: arguments read with a clear message for each
mistake, and one JSON form for every result (`--json`).

Kept free of heavy imports: `releaseml --list` loads it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from releaseml.common.errors import UserError

HIGHEST_PORT = 65535


def port(value: Any, flag: str = "--port") -> int:
    """A TCP port from a flag or a variable: a whole number from 1 to 65535."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UserError(f"{flag} {value!r}: give a port number from 1 to {HIGHEST_PORT}, e.g. {flag} 8080") from None
    if not 1 <= number <= HIGHEST_PORT:
        raise UserError(f"{flag} {value!r}: a port is a number from 1 to {HIGHEST_PORT}")
    return number


def seconds(value: Any, flag: str = "--timeout") -> float | None:
    """A positive number of seconds, or None when not given."""
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        raise UserError(f"{flag} {value!r}: give a number of seconds, e.g. {flag} 3600") from None
    if not number > 0 or number == float("inf"):
        raise UserError(f"{flag} {value!r}: give a positive number of seconds")
    return number


def reasons(value: Any, flag: str = "--explain") -> int | None:
    """How many reasons per prediction to ask for: a whole number from 1, or None when not given."""
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise UserError(f"{flag} {value!r}: give how many reasons to show per prediction, a whole number from 1, e.g. {flag} 3")
    return number


def server_url(value: str, flag: str = "--url") -> str:
    """An http(s) URL with a host and a valid port, without a trailing slash."""
    example = f"e.g. {flag} http://localhost:8080"
    try:
        parts = urlsplit(value.strip())
        given_port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise UserError(f"{flag} {value!r} is not a valid URL ({exc}); {example}") from None
    if parts.scheme not in ("http", "https"):
        hint = "it needs http:// in front" if not parts.scheme or not parts.netloc else f"{parts.scheme}:// is not HTTP"
        raise UserError(f"{flag} {value!r}: {hint}; {example}")
    if not parts.hostname:
        raise UserError(f"{flag} {value!r} names no host; {example}")
    if given_port == 0:
        raise UserError(f"{flag} {value!r}: port 0 is not a port; {example}")
    return value.strip().rstrip("/")


def as_json(result: Any) -> str:
    """Any result (a dataclass, a dict) as the one JSON document a task prints with --json."""
    return json.dumps(_plain(result), indent=2)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value) if field.name != "log"}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value
