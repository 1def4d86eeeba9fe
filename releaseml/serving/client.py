"""Send a payload file to a running model server and return its answer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import requests

from releaseml.common import defaults, media
from releaseml.common.errors import UserError

DEFAULT_URL = defaults.SERVER_URL


def content_type_for(path: Path) -> str:
    """The content type a payload's extension names."""
    _require_one_file(path)
    try:
        return media.BY_EXTENSION[path.suffix.lower()]
    except KeyError:
        raise UserError(
            f"cannot tell the content type of {path.name!r} from its extension; pass --content-type (text/csv, application/json or application/jsonlines), or name a .parquet file"
        ) from None


def read_payload(payload: Path, content_type: str) -> tuple[bytes, str]:
    """A payload file's body and type as sent: a Parquet file goes as CSV with a header row."""
    _require_one_file(payload)
    if content_type == media.PARQUET:
        from releaseml.data import parquet

        return parquet.csv_document(payload), media.CSV
    try:
        return payload.read_bytes(), content_type
    except OSError as exc:
        raise UserError(f"cannot read the payload {str(payload)!r}: {exc.strerror}") from None


def _require_one_file(payload: Path) -> None:
    """A directory is a mistake of its own: neither its extension nor its bytes say anything."""
    if payload.is_dir():
        raise UserError(
            f"{str(payload)!r} is a directory: predict sends one file (.csv, .json, .jsonl or .parquet); "
            f"`releaseml score {payload}` scores a folder of them"
        )


def predict(
    payload: Path,
    content_type: Optional[str] = None,
    accept: Optional[str] = None,
    url: str = DEFAULT_URL,
    timeout: float = 60,
    explain: Optional[int] = None,
) -> str:
    """POST a file to URL/invocations; a 4xx answer becomes a UserError with the server's explanation.

    `explain`: reasons per prediction, asked for as SageMaker's endpoints pass them (CustomAttributes).
    """
    content_type = content_type or content_type_for(payload)
    body, content_type = read_payload(payload, content_type)
    headers = {"Content-Type": content_type, "Accept": accept or "*/*"}
    if explain:
        headers[media.CUSTOM_ATTRIBUTES_HEADER] = explain_attribute(explain)
    try:
        response = requests.post(f"{url.rstrip('/')}/invocations", data=body, headers=headers, timeout=(5, timeout))
    except requests.Timeout:
        raise UserError(
            f"the server at {url} did not answer within {timeout:g} s; is it a releaseml server? (--timeout waits longer)"
        ) from None
    except requests.ConnectionError:
        raise UserError(
            f"no model server answers at {url}; start one with `releaseml serve-local` (or name the one running with --url)"
        ) from None
    except requests.RequestException as exc:
        raise UserError(f"cannot send to {url}: {exc}") from None
    if response.status_code >= 400:
        raise UserError(f"the server answered {response.status_code}: {_error_text(response)}")
    return response.text


READABLE_ACCEPT = f"{media.CSV}; {media.HEADER_PARAMETER}=present"  # what `predict` asks for by default


def readable(answer: str) -> str:
    """A CSV answer with a header row, its numbers rounded for people (the wire and --json keep every digit)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(answer)):
        writer.writerow([_rounded(value) for value in row])
    return out.getvalue().rstrip("\n")


def _rounded(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    if number != number or number in (float("inf"), float("-inf")) or not any(c in value for c in ".eE"):
        return value
    shown = f"{number:.4f}".rstrip("0").rstrip(".")
    return shown if shown not in ("", "-0") else "0"


def explain_attribute(count: int) -> str:
    """The CustomAttributes value that asks for `count` reasons per prediction."""
    return f"{media.EXPLAIN_PARAMETER}={count}"


def wait_until_ready(url: str, timeout: float = 60, is_alive=lambda: True) -> float:
    """Poll URL/ping until it answers 200; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not is_alive():
            raise UserError("the model server stopped before it was ready; its log above says why")
        try:
            if requests.get(f"{url.rstrip('/')}/ping", timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise UserError(f"the model server at {url} was not ready after {timeout:.0f}s")


def _error_text(response: requests.Response) -> str:
    try:
        return response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return response.text[:500]
