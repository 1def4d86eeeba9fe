"""Read training data: each CSV or Parquet file of a channel read strictly.

Which files a data path holds is `data_paths`' rule. A CSV file's rows are split by `csvrows` and
its values typed by `values`, the rules serving uses too; a Parquet file's columns keep the types
it declares (`parquet`). The header names every column once; a row with more or fewer fields than
the header is an error naming the file and line, never a guess.

A text value longer than MAX_TEXT_LENGTH characters is cut to that length when read for training,
with a warning naming the file, the column and the first such row (`_cut_long_text`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from releaseml.common import stage_timer
from releaseml.common.errors import BadValue, UserError
from releaseml.data import csvrows, data_paths, parquet, values

# Longer text values are cut to this many characters when read for training. A category is a name: a
# country, a product, a user agent, a URL (the longest in common use; browsers and servers have long
# kept them under about 2,000). Longer text is free text, which no other value matches, and its cost
# grows with its length: the report's figures draw a class label at about 1.7 ms a character, so one
# 2,000,000-character label in 300 rows kept training going past 240 s at 1.4 GB; at 10,000
# characters it still added 17 s, at 2,000 5 s. Cut, not refused: the column may be one the config
# drops, which reading cannot know.
MAX_TEXT_LENGTH = 2_000


def read_channel(path: Path, string_columns: Iterable[str] = ()) -> pd.DataFrame:
    """All data files of a channel as one typed frame; `string_columns` are text, never numbers.

    Number columns are float64 (NaN when missing); the others hold text (True/False for a
    true/false column) or None when missing.
    """
    files = data_paths.channel_files(path)
    data_paths.check_one_format(files, path)
    string_columns = set(string_columns)
    text_columns: set[str] = set()
    raw = []
    with stage_timer.stage("reading"):
        for file in files:
            if data_paths.is_parquet(file):
                frame, text, warnings = parquet.read_frame(file, string_columns)
                text_columns |= text
            else:
                frame, warnings = read_raw(file, string_columns), []
            for warning in [*warnings, *_cut_long_text(frame, file)]:
                print(f"Warning: {warning}", flush=True)
            raw.append(frame)
        _check_same_columns(raw, files)
        frame = _joined(raw)
        del raw
    if frame.empty:
        raise UserError(f"the data at {str(path)!r} has a header but no rows")
    with stage_timer.stage("typing"):
        return typed_frame(frame, string_columns, text_columns)


def read_raw(file: Path, string_columns: Iterable[str] = ()) -> pd.DataFrame:
    """One CSV file's rows by the row rule; the header must name every column once.

    The columns whose first rows are all numbers come as float64 (the C parser reads them: fast, and
    no text copy of every number is ever held); the others as Categoricals of their text (each
    distinct text once, and a code per row), for `typed_frame` to type each distinct text once.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        document = csvrows.Document(data, what=str(file), name_lines=True)
        header = document.first_row()
        if header is None:
            raise UserError(f"{file} is empty: a CSV file needs a header row naming its columns")
        names = _column_names(header, file)
        numbers = _number_columns(document, names, string_columns)
        options = dict(skip_rows=1, categories=True, piece_bytes=FILE_PIECE_BYTES)
        try:
            chunks = [chunk.frame for chunk in document.frames(len(names), numbers=numbers, **options)]
        except BadValue:  # a column of numbers in its first rows holds text further down: a text column
            chunks = [chunk.frame for chunk in document.frames(len(names), **options)]
    except csvrows.CsvError as exc:
        raise UserError(_in_file(file, exc, header if "header" in locals() else None)) from None
    frame = _joined(chunks) if chunks else pd.DataFrame(columns=range(len(names)))
    frame.columns = names
    return frame


# A file is read in pieces of this size: a call of the C parser each, and the memory for finding a
# piece's rows (a few times the piece). Pieces of 1 MB (a request body's) cost a million rows about
# 0.5 s more in calls and joins; pieces of 16 MB, more in cache misses.
FILE_PIECE_BYTES = 8 << 20


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of the same columns as one: numbers end to end, and text Categoricals as one Categorical
    (pd.concat would make Python text of every cell of them)."""
    if len(frames) == 1:
        return frames[0]
    return pd.DataFrame({name: _joined_column([frame[name] for frame in frames]) for name in frames[0].columns}, copy=False)


def _joined_column(parts: list[pd.Series]) -> pd.Series:
    if not all(isinstance(part.dtype, pd.CategoricalDtype) for part in parts):
        return pd.concat(
            [part.astype(object) if isinstance(part.dtype, pd.CategoricalDtype) else part for part in parts], ignore_index=True
        )
    texts = [np.asarray(part.cat.categories, dtype=object) for part in parts]
    distinct = pd.Index(pd.unique(np.concatenate(texts)), dtype=object)
    codes = [np.append(distinct.get_indexer(text), -1)[part.cat.codes.to_numpy()] for part, text in zip(parts, texts)]
    return pd.Series(pd.Categorical.from_codes(np.concatenate(codes), dtype=pd.CategoricalDtype(distinct)))


def _cut_long_text(frame: pd.DataFrame, file: Path) -> list[str]:
    """Text values past MAX_TEXT_LENGTH cut to it, in place; a warning per column, naming the first row."""
    warnings = []
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):  # its distinct texts say whether any is too long
            if _longest(pd.Series(frame[name].cat.categories, dtype=object)) <= MAX_TEXT_LENGTH:
                continue
            frame[name] = frame[name].astype(object)
        if not pd.api.types.is_string_dtype(frame[name].dtype) or _longest(frame[name]) <= MAX_TEXT_LENGTH:
            continue
        cells = frame[name].to_numpy(dtype=object, copy=True)
        long = [position for position, cell in enumerate(cells) if isinstance(cell, str) and len(cell) > MAX_TEXT_LENGTH]
        first = len(cells[long[0]])
        for position in long:
            cells[position] = cells[position][:MAX_TEXT_LENGTH]
        frame[name] = pd.Series(cells, index=frame.index, dtype=frame[name].dtype)
        warnings.append(
            f"{file}, column {name!r}: {len(long)} text value(s) longer than {MAX_TEXT_LENGTH:,} characters (the first in row "
            f"{long[0] + 1}: {first:,} characters) cut to their first {MAX_TEXT_LENGTH:,}: a category that long is free text that "
            "no other value matches, and its length only costs time. Shorten such values, or leave the column out "
            "(a column in `drop:` is not used either way)."
        )
    return warnings


def _longest(column: pd.Series) -> int:
    """The length of a column's longest text value: Arrow's for a string column, one pass for Python objects."""
    if column.dtype != object:
        longest = column.str.len().max()
        return 0 if pd.isna(longest) else int(longest)
    return max((len(cell) for cell in column.to_numpy() if type(cell) is str), default=0)


def _number_columns(document: csvrows.Document, names: list[str], string_columns: Iterable[str]) -> dict[int, str]:
    """The columns that hold only numbers in the document's first piece (and are not declared text)."""
    first = next(document.frames(len(names), skip_rows=1), None)
    if first is None:
        return {}
    text = set(string_columns)
    return {
        position: name
        for position, name in enumerate(names)
        if name not in text and values.numbers_at_once(first.frame[position].to_numpy(dtype=object)) is not None
    }


def typed_frame(raw: pd.DataFrame, string_columns: set[str], text_columns: set[str] = frozenset()) -> pd.DataFrame:
    """Each column typed by its kind (`values.infer_kind`, or text for `string_columns`).

    `text_columns` (a Parquet file's declared text) are never numbers but may be true/false.
    A float64 column is a Parquet file's number column: a number as it is. The columns are not
    copied into one block: that copy of every number took 0.4 s a million rows.
    """
    out = {}
    for name in raw.columns:
        if raw[name].dtype == np.float64 and name not in string_columns:
            typed = raw[name].to_numpy()
        elif isinstance(raw[name].dtype, pd.CategoricalDtype):
            typed = _typed_categories(raw[name], name, name in string_columns)
        else:
            typed = _typed_text(raw[name].to_numpy(dtype=object), name, name in string_columns, name in text_columns)
        out[name] = typed if typed.dtype == np.float64 else pd.Series(typed, dtype=object, copy=False)  # text stays Python text
    return pd.DataFrame(out, copy=False)


def _typed_text(column: np.ndarray, name: str, text: bool, declared_text: bool) -> np.ndarray:
    """A column of text cells (None or NaN when missing) typed: numbers as float64, text as object (None when missing)."""
    numbers = None if text or declared_text else values.numbers_at_once(column)
    if numbers is not None:
        return numbers
    kind = values.CATEGORICAL if text else values.infer_kind(column)
    if kind == values.NUMERIC and declared_text:
        kind = values.CATEGORICAL
    return _missing_as_none(values.column(column, kind, name), kind)


def _typed_categories(column: pd.Series, name: str, text: bool) -> np.ndarray:
    """A Categorical of a file's text typed as `_typed_text` types the same cells: the kind and the values come
    from the distinct texts alone, each typed once (`values.coded`); code -1 (NaN) is a missing cell."""
    distinct, codes = np.asarray(column.cat.categories, dtype=object), column.cat.codes.to_numpy()
    numbers = None if text else values.numbers_at_once(distinct)
    if numbers is not None:
        return np.append(numbers, np.nan)[codes]
    kind = values.CATEGORICAL if text else values.infer_kind(distinct)
    if kind == values.NUMERIC:
        return values.coded(distinct, codes, kind, name)
    typed = values.coded(distinct, codes, kind, name, categories=True)  # each typed text once: None put in once
    return _missing_as_none(np.asarray(typed.categories, dtype=object), kind)[typed.codes]


def _missing_as_none(typed: np.ndarray, kind: str) -> np.ndarray:
    """Typed values as a frame holds them: numbers as float64, text as object with None for a missing one."""
    if kind == values.NUMERIC:
        return typed.astype(np.float64, copy=False)
    return np.where(typed == values.MISSING_CATEGORY, None, typed)


def _column_names(header: list[str], file: Path) -> list[str]:
    names = [name.strip() for name in header]
    empty = [position + 1 for position, name in enumerate(names) if not name]
    if empty:
        raise UserError(f"{file}: the header row has no name for column(s) {empty}; every column needs a name in the first row")
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise UserError(
            f"{file}: the header names column(s) {repeated} more than once; give each column its own name "
            "(a repeated target column would leak the answer into the features)"
        )
    return names


def _in_file(file: Path, exc: csvrows.CsvError, header: list[str] | None) -> str:
    """A row-rule error told about a file: its line, and which columns a short row lacks."""
    message = str(exc).replace(f" in {file}", "").replace(str(file), "the file")
    if exc.row is None:
        return f"cannot read {file} as CSV: {message}. It must be comma-separated UTF-8 text with a header row."
    line = f"line {exc.line}" if exc.line else f"data row {exc.row}"
    found, width = exc.found, exc.expected
    if header is not None and found is not None and found < width:
        missing = [name.strip() for name in header[found:]]
        return (
            f"{file}, {line}: the row has {found} value(s) but the header names {width} columns, so {missing} have no value. "
            "If those values are missing, leave them empty but keep the commas (a row needs a field for every column)."
        )
    if found is not None:
        return (
            f"{file}, {line}: the row has {found} value(s) but the header names {width} columns. "
            "Look for a comma inside a value (put the value in double quotes) or a trailing comma."
        )
    return f"{file}, {line}: {message}"


def _check_same_columns(frames: list[pd.DataFrame], files: list[Path]) -> None:
    expected = list(frames[0].columns)
    for frame, file in zip(frames[1:], files[1:]):
        if list(frame.columns) != expected:
            missing = [c for c in expected if c not in frame.columns]
            extra = [c for c in frame.columns if c not in expected]
            raise UserError(
                f"{file} has different columns from {files[0]}: missing {missing}, extra {extra}. "
                "All files of one data set need the same header."
            )
