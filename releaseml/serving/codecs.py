"""Request bodies to typed feature rows, and predictions to response bodies.

Inputs: text/csv (header row optional), application/json (`{"instances": [...]}`
or a bare list; each instance a list in training order or an object by name),
application/jsonlines (one instance per line). Outputs, one per input row and in
the same order: CSV `label,p_class1,p_class2,...` (or `value`), JSON
`{"predictions": [{"prediction": ..., "probabilities": {...}}]}`, or JSON Lines.

Rows are split by `csvrows` and values typed by `values`: the rules training used, for every
size of body and every content type. Bodies are decoded in chunks of rows, so a large body is
predicted and encoded a chunk at a time and its memory stays a small multiple of its size.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
from collections import Counter
from typing import Any, Iterable, Iterator

import numpy as np
import orjson
import pandas as pd

from releaseml.common import media
from releaseml.common.errors import BadValue, UserError
from releaseml.data import csvrows
from releaseml.data.schema import NUMERIC, Schema, model_frame, typed_row
from releaseml.data.values import BYTE_ORDER_MARK
from releaseml.model.bundle import Prediction, answer_columns

CSV, JSON, JSONLINES = media.CSV, media.JSON, media.JSONLINES
# Below this many bytes (CSV) or rows (JSON), plain Python beats building a pandas frame.
SMALL_CSV_BYTES = 16 * 1024
SMALL_ROW_COUNT = 64
ROWS_PER_CHUNK = csvrows.ROWS_PER_CHUNK
HEADER_WAY_OUT = "or start with a header row naming the columns (then in any order)"


class RequestError(UserError):
    """A request the server cannot use; `status` is its HTTP code, `details` go into the JSON error body."""

    def __init__(self, message: str, status: int = 400, **details: Any):
        super().__init__(message)
        self.status = status
        self.details = {k: v for k, v in details.items() if v is not None}


# ---- decoding -------------------------------------------------------------------------------


def decode(body: bytes, content_type: str, schema: Schema) -> Iterator[pd.DataFrame | list[list[Any]]]:
    """The body's rows typed for the model, a chunk at a time; RequestError says what is wrong and where.

    A small body is one chunk of lists (fast for one row); a larger one, frames of up to ROWS_PER_CHUNK rows.
    """
    try:
        if content_type == CSV:
            yield from _decode_csv(body, schema)
        else:
            body = body.removeprefix(codecs.BOM_UTF8)  # as in CSV: one leading byte-order mark is not content
            if not body.strip():
                raise RequestError("the request body is empty: send one or more rows")
            yield from _typed_chunks(_json_instances(body, content_type), schema)
    except BadValue as exc:
        raise RequestError(str(exc), row=exc.row, column=exc.column) from None


def check_width_in_order(found: int, schema: Schema, row: int, way_out: str) -> None:
    """A row without names (CSV without a header row, a JSON list) of the wrong width, refused with the
    columns it must hold in their order: an id or the target column does not belong."""
    try:
        csvrows.check_width(found, len(schema.features), row)
    except csvrows.CsvError as exc:
        features = schema.features
        names = features if len(features) <= 30 else [*features[:30], f"... ({len(features)} in all)"]
        raise RequestError(f"{exc}: {', '.join(map(str, names))}. Send exactly these, in this order; {way_out}", row=row) from None


def _decode_csv(body: bytes, schema: Schema) -> Iterator[pd.DataFrame | list[list[Any]]]:
    document = csvrows.Document(body)
    first = document.first_row()
    if first is None:
        raise RequestError("the request body is empty: send one or more rows")
    header = header_names(first, schema)
    if header is None:
        _refuse_a_header_with_a_byte_order_mark(first, schema)
    width = len(header) if header is not None else len(schema.features)
    names = header if header is not None else schema.features
    skip = 1 if header is not None else 0
    if len(body) <= SMALL_CSV_BYTES:
        rows = list(document.rows())[skip:]
        if not rows:
            raise RequestError("the CSV body has a header row but no data rows")
        positions = [header.index(name) for name in schema.features] if header is not None else None
        typed = []
        for number, fields in enumerate(rows, start=1):  # row by row: the first row with a problem is reported
            if header is None:
                check_width_in_order(len(fields), schema, number, HEADER_WAY_OUT)
            csvrows.check_width(len(fields), width, number)
            typed.append(typed_row(fields if positions is None else [fields[p] for p in positions], schema, number))
        yield typed if len(typed) <= SMALL_ROW_COUNT else pd.DataFrame(typed, columns=schema.features)
        return
    numbers = {position: name for position, name in enumerate(names) if schema.kinds.get(name) == NUMERIC}
    empty = True
    frames = document.frames(width, skip_rows=skip, numbers=numbers)
    while True:
        try:
            chunk = next(frames, None)
        except csvrows.CsvError as exc:
            if header is None and exc.found is not None:
                check_width_in_order(exc.found, schema, exc.row, HEADER_WAY_OUT)
            raise
        if chunk is None:
            break
        chunk.frame.columns = names
        empty = False
        yield model_frame(chunk.frame, schema, chunk.first_row)
    if empty:
        raise RequestError("the CSV body has a header row but no data rows")


def header_names(fields: list[str], schema: Schema) -> list[str] | None:
    """The header's column names if the first row names every feature, else None (a data row).

    A first row that names most of the features but not all is a header that lacks some: said so,
    rather than typed as data ("'region' is not a number")."""
    names = [f.strip() for f in fields]
    present = set(names)
    if not all(feature in present for feature in schema.features):
        named = [feature for feature in schema.features if feature in present]
        hidden_by_a_mark = any(BYTE_ORDER_MARK in name for name in names)  # said as such by the caller
        if not hidden_by_a_mark and len(schema.features) >= 2 and len(named) * 2 >= len(schema.features):
            missing = [feature for feature in schema.features if feature not in present]
            raise RequestError(f"the header row lacks the feature column(s) {missing[:10]}; the model's features are {schema.features}")
        return None
    known = schema.known_columns
    unknown = [n for n in names if n not in known]
    if unknown:
        raise RequestError(
            f"the header names column(s) {unknown[:10]} that the model does not know; its features are {schema.features}",
            column=unknown[0],
        )
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)  # linear: a header may be huge
    if duplicates:
        raise RequestError(f"the header names column(s) {duplicates[:10]} more than once", column=duplicates[0])
    return names


def _refuse_a_header_with_a_byte_order_mark(fields: list[str], schema: Schema) -> None:
    """A header that a stray byte-order mark hides (files joined together) is named as such, not read as a data row."""
    if not any(BYTE_ORDER_MARK in field for field in fields):
        return
    names = {field.replace(BYTE_ORDER_MARK, "").strip() for field in fields}
    if all(feature in names for feature in schema.features):
        name = next(field for field in fields if BYTE_ORDER_MARK in field).replace(BYTE_ORDER_MARK, "").strip()
        raise RequestError(
            f"the header's column {name!r} holds a byte-order mark (U+FEFF); only one is allowed, at the very start of the body "
            "(were two files joined?)",
            column=name,
        )


def _json_instances(body: bytes, content_type: str) -> Iterable[Any]:
    if content_type == JSONLINES:
        return _json_lines(body)
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


def _json_lines(body: bytes) -> Iterator[Any]:
    """One instance per line (lines end with LF, CRLF or CR, as in CSV); blank lines are skipped.
    (`decode` refused a body of blank lines already, so some line has content.)"""
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    row = 0
    for number, line in enumerate(body.split(b"\n"), start=1):
        if line.strip():
            row += 1
            yield _json_value(line, f"line {number}", row)


def _json_value(text: bytes, where: str, row: int | None = None) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if codecs.BOM_UTF8 in text:  # outside a string (inside one, the typing rule refuses it with its column)
            raise RequestError(
                f"a byte-order mark (U+FEFF) at byte {text.index(codecs.BOM_UTF8)} of {where}; only one is allowed, at the very "
                "start of the body (were two bodies joined?)",
                row=row,
            ) from None
        raise RequestError(f"malformed JSON in {where}: {exc}") from None


def _typed_chunks(instances: Iterable[Any], schema: Schema) -> Iterator[pd.DataFrame | list[list[Any]]]:
    """Instances (lists in feature order or objects by name) typed, in chunks: lists when few, else frames."""
    iterator = iter(instances)
    first = 1
    while instances_ := list(itertools.islice(iterator, ROWS_PER_CHUNK)):
        if first == 1 and len(instances_) <= SMALL_ROW_COUNT:
            yield [typed_row(_values(instance, schema, 1 + i), schema, 1 + i) for i, instance in enumerate(instances_)]
            return
        batch = []
        for i, instance in enumerate(instances_):
            try:
                batch.append(_values(instance, schema, first + i))
            except RequestError:
                model_frame(pd.DataFrame(batch, columns=schema.features, dtype=object), schema, first)  # an earlier row's error first
                raise
        yield model_frame(pd.DataFrame(batch, columns=schema.features, dtype=object), schema, first)
        first += len(batch)


def _values(instance: Any, schema: Schema, number: int) -> list[Any]:
    """An instance's values in feature order."""
    if isinstance(instance, list):
        check_width_in_order(len(instance), schema, number, "or send objects that name their columns")
        return instance
    if isinstance(instance, dict):
        known = schema.known_columns
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


def encode(predictions: Iterable[Prediction], accept: str, schema: Schema, header: bool = False) -> list[bytes]:
    """The answer body in pieces, one or two per chunk of rows (joined, they are the whole body).

    Lines are separated, not terminated: batch transform's AssembleWith=Line adds a newline after
    each response, so a trailing one would leave a blank line per mini-batch. `header`: a CSV
    answer starts with a row naming its columns (`bundle.answer_columns`).
    """
    if header and accept == CSV:
        return _with_header_row(predictions, schema)
    if accept == JSON:
        pieces = [b'{"predictions":[']
        for prediction in predictions:
            if len(pieces) > 1:
                pieces.append(b",")
            pieces.append(orjson.dumps(_records(prediction, schema))[1:-1])
        return [*pieces, b"]}"]
    pieces = []
    for prediction in predictions:
        if pieces:
            pieces.append(b"\n")
        if accept == CSV:
            pieces.append(_encode_csv(prediction, schema))
        else:
            pieces.append(b"\n".join(orjson.dumps(record) for record in _records(prediction, schema)))
    return pieces


def _with_header_row(predictions: Iterable[Prediction], schema: Schema) -> list[bytes]:
    """The CSV answer after a header row; the reasons' columns counted from the first chunk's."""
    pieces: list[bytes] = []
    for prediction in predictions:
        if not pieces:
            reasons = (
                len(prediction.explanation.names[0]) if prediction.explanation is not None and len(prediction.explanation.names) else 0
            )
            names = answer_columns(schema, reasons, with_intervals=prediction.intervals is not None)
            pieces.append(b",".join(_csv_field(name) for name in names))
        pieces += [b"\n", _encode_csv(prediction, schema)]
    return pieces


def _encode_csv(prediction: Prediction, schema: Schema) -> bytes:
    """One line per row; numbers written by orjson (shortest exact form), which is fast.

    With intervals a value is `value,lower,upper`; with reasons, each line goes on with
    `feature_1,contribution_1,...,feature_K,contribution_K`.
    """
    if prediction.probabilities is None and prediction.intervals is not None:
        table = np.column_stack([prediction.values, prediction.intervals])
        lines = orjson.dumps(np.ascontiguousarray(table), option=orjson.OPT_SERIALIZE_NUMPY)[2:-2].split(b"],[")
    elif prediction.probabilities is None:
        lines = orjson.dumps(np.ascontiguousarray(prediction.values), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")
    else:
        labels = _csv_labels(tuple(schema.classes))
        numbers = orjson.dumps(np.ascontiguousarray(prediction.probabilities), option=orjson.OPT_SERIALIZE_NUMPY)[2:-2].split(b"],[")
        lines = [labels[i] + row for i, row in zip(prediction.class_indices.tolist(), numbers)]
    if prediction.explanation is not None:
        names = _csv_names(tuple(schema.features))
        explanation = prediction.explanation
        values = orjson.dumps(np.ascontiguousarray(explanation.contributions), option=orjson.OPT_SERIALIZE_NUMPY)[2:-2].split(b"],[")
        lines = [
            line + b"".join(b"," + names[name] + b"," + value for name, value in zip(row_names, row_values.split(b",")))
            for line, row_names, row_values in zip(lines, explanation.names, values)
        ]
    return b"\n".join(lines)


def _records(prediction: Prediction, schema: Schema) -> list[dict[str, Any]]:
    if prediction.probabilities is None and prediction.intervals is not None:
        records = [
            {"prediction": value, "interval": {"lower": lower, "upper": upper}}
            for value, (lower, upper) in zip(prediction.values.tolist(), prediction.intervals.tolist())
        ]
    elif prediction.probabilities is None:
        records = [{"prediction": value} for value in prediction.values.tolist()]
    else:
        keys = [str(label) for label in schema.classes]
        records = [
            {"prediction": schema.classes[index], "probabilities": dict(zip(keys, row))}
            for index, row in zip(prediction.class_indices.tolist(), prediction.probabilities.tolist())
        ]
    explanation = prediction.explanation
    if explanation is not None:
        for record, baseline, names, values in zip(
            records, explanation.baseline.tolist(), explanation.names, explanation.contributions.tolist()
        ):
            toward = {"toward": record["prediction"]} if prediction.probabilities is not None else {}  # the predicted class's score
            record["explanation"] = {**toward, "baseline": baseline, "contributions": dict(zip(names, values))}
    return records


@functools.lru_cache(maxsize=64)
def _csv_names(features: tuple[str, ...]) -> dict[str, bytes]:
    """Each feature name as a CSV field, made once per model."""
    return {name: _csv_field(name) for name in features}


@functools.lru_cache(maxsize=64)
def _csv_labels(classes: tuple[Any, ...]) -> list[bytes]:
    """Each class label as a CSV field and its comma, made once per model rather than per request."""
    return [_csv_field(label) + b"," for label in classes]


def _csv_field(value: Any) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([value])
    return out.getvalue().encode("utf-8")
