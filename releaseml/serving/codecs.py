"""Request bodies to typed feature rows, and predictions to response bodies.

Inputs: text/csv (header row optional), application/json (`{"instances": [...]}`
or a bare list; each instance a list in training order or an object by name),
application/jsonlines (one instance per line). Outputs, one per input row and in
the same order: CSV `label,p_class1,p_class2,...` (or `value`), JSON
`{"predictions": [{"prediction": ..., "probabilities": {...}}]}`, or JSON Lines.

Small bodies are typed row by row in Python (fast for one row); large CSV goes
through pandas' C parser. Both type values exactly as training did.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import orjson
import pandas as pd

from releaseml.bundle import Prediction
from releaseml.errors import BadValue, UserError
from releaseml.schema import NUMERIC, Schema, model_frame, typed_row

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
MEDIA_TYPES = {
    CSV: CSV,
    JSON: JSON,
    JSONLINES: JSONLINES,
    "application/x-jsonlines": JSONLINES,
    "application/jsonl": JSONLINES,
    "application/x-ndjson": JSONLINES,
}
# Below this many bytes (CSV) or rows (JSON), plain Python beats building a pandas frame.
SMALL_CSV_BYTES = 16 * 1024
SMALL_ROW_COUNT = 64


class RequestError(UserError):
    """A request the server cannot use; `status` is its HTTP code, `details` go into the JSON error body."""

    def __init__(self, message: str, status: int = 400, **details: Any):
        super().__init__(message)
        self.status = status
        self.details = {k: v for k, v in details.items() if v is not None}


def media_type(header: str | None) -> str | None:
    """The canonical media type of a Content-Type or Accept entry, or None if unsupported."""
    if not header:
        return None
    return MEDIA_TYPES.get(header.split(";", 1)[0].strip().lower())


# ---- decoding -------------------------------------------------------------------------------


def decode(body: bytes, content_type: str, schema: Schema) -> pd.DataFrame | list[list[Any]]:
    """The body's rows typed for the model; RequestError says what is wrong and where."""
    if not body.strip():
        raise RequestError("the request body is empty: send one or more rows")
    try:
        if content_type == CSV:
            return _decode_csv(body, schema)
        return _typed(_json_instances(body, content_type), schema)
    except BadValue as exc:
        raise RequestError(str(exc), row=exc.row, column=exc.column) from None


def _decode_csv(body: bytes, schema: Schema) -> pd.DataFrame | list[list[Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RequestError(f"the CSV body is not UTF-8 text (byte {exc.start} is invalid)") from None
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]  # not text.split: that copies a large body
    header = _header(next(_csv_reader([first_line]), []), schema)
    if len(body) <= SMALL_CSV_BYTES:
        return _typed(_csv_rows(text, schema, header), schema)
    return _csv_frame(text, schema, header)


def _header(fields: list[str], schema: Schema) -> list[str] | None:
    """The header's column names if the first row names every feature, else None (a data row)."""
    names = [f.strip() for f in fields]
    if not set(schema.features) <= set(names):
        return None
    known = {*schema.features, schema.target, *schema.ignored}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise RequestError(
            f"the header names column(s) {unknown} that the model does not know; its features are {schema.features}",
            column=unknown[0],
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RequestError(f"the header names column(s) {duplicates} more than once", column=duplicates[0])
    return names


def _csv_rows(text: str, schema: Schema, header: list[str] | None) -> list[list[Any]]:
    rows = [row for row in _csv_reader(io.StringIO(text)) if row]
    if header is None:
        for number, row in enumerate(rows, start=1):
            _check_width(len(row), len(schema.features), number)
        return rows
    positions = [header.index(name) for name in schema.features]
    out = []
    for number, row in enumerate(rows[1:], start=1):
        _check_width(len(row), len(header), number)
        out.append([row[p] for p in positions])
    if not out:
        raise RequestError("the CSV body has a header row but no data rows")
    return out


def _csv_frame(text: str, schema: Schema, header: list[str] | None) -> pd.DataFrame:
    width = len(header) if header is not None else len(schema.features)
    if '"' in text:  # quoted fields may hold commas and line breaks: only a CSV parser can count
        rows = [row for row in _csv_reader(io.StringIO(text)) if row]
        data_rows = len(rows) - (header is not None)
        _check_widths(rows[1:] if header is not None else rows, width, len)
    else:  # plain lines: counting commas is exact, and fast
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        lines = [line for line in lines if line]
        data_lines = lines[1:] if header is not None else lines
        data_rows = len(data_lines)
        _check_widths(data_lines, width, lambda line: line.count(",") + 1)
    if not data_rows:
        raise RequestError("the CSV body has a header row but no data rows")
    names = header if header is not None else schema.features
    numeric = {n: "float64" for n in names if schema.kinds.get(n) == NUMERIC}
    skip = 1 if header is not None else 0
    try:  # pandas' C parser types numbers fast; text in a number column makes it fail...
        frame = _read_csv(text, names, {n: numeric.get(n, "str") for n in names}, skip)
    except ValueError:  # ...and then everything is read as text, so model_frame can name the bad row
        frame = _read_csv(text, names, "str", skip)
    return model_frame(frame, schema)


def _read_csv(text: str, names: list[str], dtype, skip: int) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), header=None, names=names, dtype=dtype, skiprows=skip, skipinitialspace=True)
    except pd.errors.ParserError as exc:
        raise RequestError(f"malformed CSV: {exc}") from None


def _csv_reader(lines):
    """csv.reader as training reads CSV (leading spaces skipped), its errors as a 400."""
    try:
        yield from csv.reader(lines, skipinitialspace=True, strict=True)
    except csv.Error as exc:
        raise RequestError(f"malformed CSV: {exc}") from None


def _check_widths(rows, width: int, count) -> None:
    for number, row in enumerate(rows, start=1):
        found = count(row)
        if found != width:
            _check_width(found, width, number)


def _check_width(found: int, width: int, number: int) -> None:
    if found != width:
        raise RequestError(f"row {number} has {found} value(s) but {width} are expected (one per column, in training order)", row=number)


def _json_instances(body: bytes, content_type: str) -> list[Any]:
    if content_type == JSONLINES:
        instances = []
        for number, line in enumerate(body.splitlines(), start=1):
            if line.strip():
                instances.append(_json_value(line, f"line {number}"))
        return instances
    data = _json_value(body, "the body")
    if isinstance(data, dict):
        if "instances" not in data:
            raise RequestError(f'a JSON object body needs an "instances" list; got keys {sorted(data)[:5]}')
        data = data["instances"]
    if not isinstance(data, list):
        raise RequestError('the JSON body must be {"instances": [...]} or a list of instances')
    if not data:
        raise RequestError("the JSON body has no instances")
    return data


def _json_value(text: bytes, where: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"malformed JSON in {where}: {exc}") from None


def _typed(instances: list[Any], schema: Schema) -> pd.DataFrame | list[list[Any]]:
    rows = [typed_row(_values(instance, schema, number), schema, number) for number, instance in enumerate(instances, start=1)]
    return rows if len(rows) <= SMALL_ROW_COUNT else pd.DataFrame(rows, columns=schema.features)


def _values(instance: Any, schema: Schema, number: int) -> list[Any]:
    """An instance's values in feature order."""
    if isinstance(instance, list):
        _check_width(len(instance), len(schema.features), number)
        return instance
    if isinstance(instance, dict):
        known = {*schema.features, schema.target, *schema.ignored}
        unknown = [key for key in instance if key not in known]
        if unknown:
            raise RequestError(
                f"row {number}: unknown key(s) {unknown[:5]}; the model's features are {schema.features}", row=number, column=unknown[0]
            )
        return [instance.get(name) for name in schema.features]
    raise RequestError(
        f"row {number}: an instance must be a list of values or an object of column: value, got {type(instance).__name__}", row=number
    )


# ---- encoding -------------------------------------------------------------------------------


def encode(prediction: Prediction, accept: str, schema: Schema) -> bytes:
    """The answer body. Lines are separated, not terminated: batch transform's AssembleWith=Line
    adds a newline after each response, so a trailing one would leave a blank line per mini-batch."""
    if accept == CSV:
        return _encode_csv(prediction, schema)
    records = _records(prediction, schema)
    if accept == JSON:
        return orjson.dumps({"predictions": records})
    return b"\n".join(orjson.dumps(record) for record in records)


def _encode_csv(prediction: Prediction, schema: Schema) -> bytes:
    """One line per row; numbers written by orjson (shortest exact form), which is fast."""
    if prediction.probabilities is None:
        return orjson.dumps(np.ascontiguousarray(prediction.values), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].replace(b",", b"\n")
    labels = [_csv_field(label) + b"," for label in schema.classes]
    numbers = orjson.dumps(np.ascontiguousarray(prediction.probabilities), option=orjson.OPT_SERIALIZE_NUMPY)[2:-2].split(b"],[")
    return b"\n".join(labels[i] + row for i, row in zip(prediction.class_indices.tolist(), numbers))


def _records(prediction: Prediction, schema: Schema) -> list[dict[str, Any]]:
    if prediction.probabilities is None:
        return [{"prediction": value} for value in prediction.values.tolist()]
    keys = [str(label) for label in schema.classes]
    return [
        {"prediction": schema.classes[index], "probabilities": dict(zip(keys, row))}
        for index, row in zip(prediction.class_indices.tolist(), prediction.probabilities.tolist())
    ]


def _csv_field(value: Any) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([value])
    return out.getvalue().encode("utf-8")
