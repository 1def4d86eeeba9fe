"""Parquet files, as warehouses export them: read as columns for training and checks, and streamed
as CSV lines where a line format is needed (batch transform, requests).

Column types are taken as the file declares them, never guessed from the values:
- integers, floats and decimals are numbers (an integer target with few values is a class label,
  by the same rule as a CSV column of whole numbers);
- strings (and dictionary-encoded strings) are text, so categorical, even when they look like
  numbers; booleans are the categories True and False;
- dates, times and timestamps are text in ISO 8601 (as a CSV export writes them), so categorical;
- binary and nested columns (lists, structs, maps) cannot be features: a clear error names them;
- 64-bit integers beyond 2^53, where a float no longer holds every whole number, become the nearest
  float, as `float()` reads the same digits in a CSV cell; reading them for training warns, naming
  the column (an identifier or a code stays exact as text when listed in `categorical:`).
Text values then follow the one value rule (`values`): `NA` is missing in a Parquet string as in
a CSV cell, so serving types a request exactly as training typed the file.

pyarrow is imported only when a Parquet file is met. Files are opened by path, never through a Python
file object: after a threaded read from a file object, pyarrow's thread pool may abort the
interpreter at exit (exit 134 after the work is done; apache/arrow#34314, #50482).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, NamedTuple

import numpy as np
import pandas as pd

from releaseml.common.errors import UserError

if TYPE_CHECKING:
    import pyarrow as pa


ROWS_PER_BATCH = 65_536  # rows converted at a time when streaming lines
EXACT_INTEGERS = 2**53  # up to it (either sign) every whole number is a float of its own; beyond it, not
EXTREMES = (2**64 - 1, 2**63 - 1, -(2**63))  # the largest and smallest 64-bit integers: exports write them for "unknown"


class ParquetFrame(NamedTuple):
    frame: pd.DataFrame  # numbers float64, the rest text or None
    text: set[str]  # the columns the file declares text (strings, dates, booleans)
    warnings: list[str]  # what reading changed, each naming its column


def read_frame(path: Path, string_columns: set[str] = frozenset()) -> ParquetFrame:
    """The file's columns (numbers float64, the rest text or None), its text columns, and warnings.

    Number columns named in `string_columns` (the config's `categorical`) stay Python ints and
    floats, so they become the text a CSV or JSON request's value becomes ("2007", not "2007.0").

    Converted a column at a time, each released from Arrow's memory once converted, so the peak is
    the compact Arrow table plus one column, not two copies of the data.
    """
    table = _open(path).read()
    if table.num_rows == 0:
        raise UserError(f"{path} has columns but no rows")
    text = {field.name for field in table.schema if not _is_number(field.type)}
    columns, warnings = {}, []
    for name in list(table.column_names):
        as_python = name in string_columns
        beyond = None if as_python else _beyond_exact(table.column(name))
        if beyond is not None:
            warnings.append(_inexact_warning(path, name, table.column(name).type, *beyond))
        columns[name] = _column(table.column(name), as_python=as_python)
        table = table.drop_columns([name])
    return ParquetFrame(pd.DataFrame(columns), text, warnings)


def _beyond_exact(column: pa.ChunkedArray) -> tuple[int, int] | None:
    """The first row (1-based) and value of a 64-bit integer column beyond ±2^53, if any."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as t

    kind = column.type.value_type if t.is_dictionary(column.type) else column.type
    if not (t.is_int64(kind) or t.is_uint64(kind)):
        return None  # narrower integers are all exact floats
    column = pc.cast(column, kind) if t.is_dictionary(column.type) else column
    beyond = pc.greater(column, pa.scalar(EXACT_INTEGERS, kind))
    if t.is_int64(kind):
        beyond = pc.or_(beyond, pc.less(column, pa.scalar(-EXACT_INTEGERS, kind)))
    position = pc.index(beyond, True).as_py()
    return None if position < 0 else (position + 1, column[position].as_py())


def _inexact_warning(path: Path, name: str, kind: pa.DataType, row: int, value: int) -> str:
    unknown = (
        " It is the extreme of its type, which exports often write for 'unknown': leave such cells empty instead."
        if value in EXTREMES
        else ""
    )
    return (
        f"{path}: column {name!r} ({kind}) holds {value} in row {row}, beyond 2^53 ({EXACT_INTEGERS}), where not every whole number "
        f"has a float of its own: read as the nearest float ({float(value)!r}), as the same digits in a CSV file are, so nearby "
        "values may become equal. If it is an identifier or a code, list it in `categorical:` (kept exact, as text) or leave it out "
        f"with `drop:`.{unknown}"
    )


def csv_lines(path: Path, columns: list[str] | None = None) -> Iterator[bytes]:
    """The file's rows as CSV text, without a header, `ROWS_PER_BATCH` rows at a time (never the whole file).

    `columns` picks and orders the columns (the model's features); by default all, in file order.
    Numbers are written so that `float()` reads back the same value; text is quoted where CSV needs it.
    """
    parquet = _open(path)
    if columns is not None:
        missing = [name for name in columns if name not in parquet.schema_arrow.names]
        if missing:
            raise UserError(f"{path} has no column(s) {missing}; the model needs {columns}")
    return _lines(parquet, columns)


def csv_document(path: Path) -> bytes:
    """The whole file as one CSV body with a header row (a request: the server matches columns by name)."""
    parquet = _open(path)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(parquet.schema_arrow.names)
    return header.getvalue().encode("utf-8") + b"".join(_lines(parquet))


def _lines(parquet, columns: list[str] | None = None) -> Iterator[bytes]:
    for batch in parquet.iter_batches(batch_size=ROWS_PER_BATCH, columns=columns):
        yield _csv_bytes([_column(batch.column(name)) for name in batch.schema.names])


def _csv_bytes(columns: list[np.ndarray]) -> bytes:
    """Rows as CSV lines: missing values empty, floats in their shortest exact form (repr).

    From the arrays themselves, not a DataFrame: pandas may turn missing text into NaN, written "nan".
    """
    out = io.StringIO()
    cells = [
        [("" if value != value else repr(value)) for value in column.tolist()]
        if column.dtype == np.float64
        else ["" if value is None else value for value in column.tolist()]
        for column in columns
    ]
    csv.writer(out, lineterminator="\n").writerows(zip(*cells))
    return out.getvalue().encode("utf-8")


def _open(path: Path):
    import pyarrow
    import pyarrow.parquet as pq

    if not Path(path).is_file():
        raise UserError(f"no Parquet file at {str(path)!r}")
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pyarrow.ArrowException) as exc:
        raise UserError(f"cannot read {path} as Parquet ({str(exc).strip().splitlines()[0]}); is it a Parquet file?") from None
    unusable = [f"{field.name} ({field.type})" for field in parquet.schema_arrow if not _is_flat(field.type)]
    if unusable:
        raise UserError(
            f"{path}: column(s) {', '.join(unusable)} are binary or nested; releaseml reads flat columns of numbers, text, "
            "true/false and dates. Leave them out of the export, or flatten them into columns."
        )
    return parquet


def _is_number(kind: pa.DataType) -> bool:
    import pyarrow.types as t

    return t.is_integer(kind) or t.is_floating(kind) or t.is_decimal(kind)


def _is_flat(kind: pa.DataType) -> bool:
    import pyarrow.types as t

    if t.is_dictionary(kind):
        return _is_flat(kind.value_type)
    return _is_number(kind) or t.is_string(kind) or t.is_large_string(kind) or t.is_boolean(kind) or t.is_temporal(kind) or t.is_null(kind)


def _column(column: pa.ChunkedArray | pa.Array, as_python: bool = False) -> np.ndarray:
    """One Arrow column as releaseml types it: float64 numbers (NaN missing), or object text (None missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as t

    kind = column.type
    if t.is_dictionary(kind):  # categoricals as pandas and Spark write them
        column = pc.cast(column, kind.value_type)
        kind = column.type
    if _is_number(kind) and as_python:
        return np.array(column.to_pylist(), dtype=object)
    if _is_number(kind):
        return _floats(column)
    if t.is_boolean(kind):
        return np.array([None if value is None else str(value) for value in column.to_pylist()], dtype=object)
    if t.is_temporal(kind):
        column = pc.cast(column, pa.string())
    return _shared_text(column)


def _floats(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Numbers as float64; integers beyond ±2^53 as the nearest float, as `float()` reads them in a CSV cell.

    Arrow's safe cast refuses those integers (ArrowInvalid); its unsafe cast rounds to nearest,
    which is what `float()` does (tests/test_parquet.py compares them).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        return pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False)


def _shared_text(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Text as an object array whose equal values are one Python string (None missing).

    Through a dictionary: a column of few distinct values costs a pointer per row, not a string
    per row (what pandas' own Parquet reading does too, so training on Parquet is no larger).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    distinct = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)  # the last: missing
    return distinct[pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)]
