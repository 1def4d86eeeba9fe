"""SageMaker data-capture files read into events: what a live endpoint was asked, and what it answered.

Data capture writes JSON Lines under DESTINATION/ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl, one line
per request (AWS's documented format):

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "...", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "...", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "uuid", "inferenceTime": "2026-12-01T10:15:00Z", "inferenceId": "when the caller gave one"},
     "eventVersion": "0"}

`data` is the body as text (encoding CSV or JSON), or its base64 (BASE64: SageMaker's default for a
content type not listed in CaptureContentTypeHeader); observedContentType says what the body was.
Ground truth for model quality (SageMaker's merge format, under PREFIX/yyyy/mm/dd/hh/) is read here too:

    {"groundTruthData": {"data": "yes", "encoding": "CSV"}, "eventMetadata": {"eventId": "..."}, "eventVersion": "0"}

A line that cannot be read is kept as `Malformed` (file, line, why), never raised: one bad line must
not hide a day of traffic.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from releaseml.common.errors import UserError

ENCODINGS = ("CSV", "JSON", "BASE64")
LAYOUT = "ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl"


@dataclass(frozen=True)
class Body:
    """A captured request or response body: its raw bytes and the Content-Type it was sent with."""

    content_type: str
    data: bytes


@dataclass(frozen=True)
class Event:
    """One captured request: its ids, when it was made, its body and the endpoint's answer."""

    event_id: str
    inference_id: Optional[str]
    time: datetime  # UTC
    input: Optional[Body]  # None when the endpoint captured outputs only
    output: Optional[Body]  # None when it captured inputs only
    where: str  # file:line, to find it again


@dataclass(frozen=True)
class Label:
    """One ground-truth record: the id it is for, and its label(s), one per row of that request, in order."""

    key: str
    values: list[Any]
    where: str


@dataclass(frozen=True)
class Malformed:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class _Bad(Exception):
    """Why a line cannot be read (becomes a Malformed)."""


class _Lines:
    """The records of every .jsonl file under a folder, parsed as they are iterated; bad lines go to `malformed`."""

    what = "files"

    def __init__(self, folder: Path, parse: Callable[[dict[str, Any], str], Any], keep: Callable[[Path], bool] = lambda path: True):
        self.folder = folder
        self.files = [path for path in jsonl_files(folder, self.what) if keep(path)]
        self.malformed: list[Malformed] = []
        self._parse = parse

    def __iter__(self) -> Iterator[Any]:
        self.malformed = []
        for path in self.files:
            try:
                with path.open("rb") as lines:
                    for number, line in enumerate(lines, start=1):
                        if not line.strip():
                            continue
                        try:
                            yield self._parse(_json_object(line), f"{path}:{number}")
                        except _Bad as exc:
                            self.malformed.append(Malformed(path, number, str(exc)))
            except OSError as exc:
                raise UserError(f"cannot read {path}: {exc.strerror}") from None


class Captured(_Lines):
    """The captured events under a folder (recursively, every .jsonl file), in file order.

    `since`, `until`: files in hour folders (yyyy/mm/dd/hh) that end well before `since`, or start well
    after `until`, are not opened at all; the events themselves are filtered by time by whoever reads
    them (`monitor`).
    """

    what = "capture files"

    def __init__(self, folder: Path, since: Optional[datetime] = None, until: Optional[datetime] = None):
        def keep(path: Path) -> bool:
            return not (since is not None and _hour_before(path, since)) and not (until is not None and _hour_after(path, until))

        super().__init__(folder, _event, keep=keep)


class GroundTruth(_Lines):
    """The ground-truth records under a folder (SageMaker's merge format), in file order."""

    what = "ground-truth files"

    def __init__(self, folder: Path):
        super().__init__(folder, _label)


def jsonl_files(folder: Path, what: str) -> list[Path]:
    """Every .jsonl file under `folder` (or `folder` itself), sorted: the hour folders sort by time."""
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise UserError(f"no folder at {str(folder)!r}: give the local folder of {what} ({LAYOUT})")
    found = sorted(path for path in folder.rglob("*.jsonl") if path.is_file() and not path.name.startswith("."))
    if not found:
        raise UserError(
            f"no {what} under {folder}: SageMaker writes them as {LAYOUT} (`aws s3 sync s3://BUCKET/PREFIX/ENDPOINT {folder}` copies them here)"
        )
    return found


def _json_object(line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise _Bad(f"not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise _Bad(f"a JSON {type(record).__name__}, not an object")
    return record


def _event(record: dict[str, Any], where: str) -> Event:
    data = record.get("captureData")
    if not isinstance(data, dict):
        raise _Bad('no "captureData" object: not a SageMaker data-capture line')
    metadata = _metadata(record)
    request, answer = _body(data.get("endpointInput"), "endpointInput"), _body(data.get("endpointOutput"), "endpointOutput")
    if request is None and answer is None:
        raise _Bad("captureData holds neither endpointInput nor endpointOutput")
    inference_id = metadata.get("inferenceId")
    return Event(
        event_id=metadata["eventId"],
        inference_id=str(inference_id) if inference_id not in (None, "") else None,
        time=_time(metadata.get("inferenceTime")),
        input=request,
        output=answer,
        where=where,
    )


def _metadata(record: dict[str, Any]) -> dict[str, Any]:
    metadata = record.get("eventMetadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("eventId"), str) or not metadata["eventId"]:
        raise _Bad("no eventMetadata.eventId")
    return metadata


def _body(part: Any, name: str) -> Optional[Body]:
    if part is None:
        return None
    if not isinstance(part, dict):
        raise _Bad(f"{name} is not an object")
    encoding, data = str(part.get("encoding", "")).upper(), part.get("data")
    if encoding not in ENCODINGS:
        raise _Bad(f"{name}.encoding {part.get('encoding')!r}: expected one of {', '.join(ENCODINGS)}")
    if encoding == "JSON" and not isinstance(data, str):
        data = json.dumps(data)  # a JSON body written as JSON rather than as its text
    if not isinstance(data, str):
        raise _Bad(f"{name}.data is not text")
    if encoding != "BASE64":
        return Body(str(part.get("observedContentType") or ""), data.encode("utf-8"))
    try:
        return Body(str(part.get("observedContentType") or ""), base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise _Bad(f"{name}.data is not base64 ({exc})") from None


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _Bad("no eventMetadata.inferenceTime")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(f"eventMetadata.inferenceTime {value!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _label(record: dict[str, Any], where: str) -> Label:
    truth = record.get("groundTruthData")
    if not isinstance(truth, dict) or "data" not in truth:
        raise _Bad('no "groundTruthData" object with "data": not a SageMaker ground-truth line')
    key = _metadata(record)["eventId"]
    encoding, data = str(truth.get("encoding") or "CSV").upper(), truth["data"]
    if encoding == "JSON":
        value = json.loads(data) if isinstance(data, str) and _is_json(data) else data
        return Label(key, list(value) if isinstance(value, list) else [value], where)
    if encoding != "CSV" or not isinstance(data, str):
        raise _Bad(f"groundTruthData: expected CSV or JSON data, got encoding {truth.get('encoding')!r}")
    values = [field for row in csv.reader(data.splitlines()) for field in row]
    return Label(key, values or [""], where)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _hour_before(path: Path, since: datetime) -> bool:
    """Whether the file sits in an hour folder (…/yyyy/mm/dd/hh/) that ended more than an hour before `since`
    (the margin: an event near the end of an hour may be written in the next hour's file)."""
    hour = _hour_of(path)
    return hour is not None and hour + timedelta(hours=2) <= since


def _hour_after(path: Path, until: datetime) -> bool:
    """Whether the file sits in an hour folder that starts an hour or more after `until` (the same margin:
    its events were written then, so they were made at most a few minutes before)."""
    hour = _hour_of(path)
    return hour is not None and hour >= until + timedelta(hours=1)


def _hour_of(path: Path) -> Optional[datetime]:
    """The hour of a file's folder, …/yyyy/mm/dd/hh/ (UTC); None for a folder not named so."""
    parts = path.parent.parts[-4:]
    if len(parts) < 4 or not all(part.isdigit() for part in parts):
        return None
    try:
        return datetime(*map(int, parts), tzinfo=timezone.utc)
    except ValueError:
        return None


def since_time(value: Any, now: Optional[datetime] = None, flag: str = "--since") -> Optional[datetime]:
    """A start time from `7d`, `24h`, `2w`, `90m` (back from now) or an ISO date or time (UTC unless it says)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    now = now or datetime.now(timezone.utc)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mhdw])", text.lower())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match[2]]
        return now - timedelta(**{unit: float(match[1])})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            f"{flag} {value!r}: give how far back to look (7d, 24h) or an ISO date or time (2026-12-01, 2026-12-01T10:00Z)"
        ) from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
