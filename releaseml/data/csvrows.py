"""The one rule that splits CSV bytes into rows of fields, for training files and request bodies.

- UTF-8 text; one leading byte-order mark is dropped (one anywhere else is part of a value, which
  the typing rule refuses); a NUL byte is an error.
- Lines end with LF, CRLF or a lone CR (all read as LF, inside quoted fields too).
- A blank line, or a line of only spaces and tabs, is skipped; so is a row of one empty quoted field.
- Fields are separated by commas; double quotes may enclose a field with commas or line breaks.
- Every row has exactly the expected number of fields; any other count is an error naming the row.

`Document.rows` applies the rule in Python, one row at a time. `Document.frames` gives the same
rows in chunks as pandas frames of text, and reads number columns straight to floats through
pandas' C parser where that cannot differ from `values.number`: bodies without quotes, chunks
without the words true/false (which the C parser would read as 1 and 0), and every row counted by
the rule first. Chunks bound the memory a large body takes. `tests/test_values.py` checks on
generated bodies that both ways give the same rows.

The csv module (any quote in a body sends all of it there) drops the spaces after a comma, the C
parser and the plain split keep them: `values` strips the white space around every value, however
long, so a field is typed alike on every path. (The C parser's own skipping of them cost a third of
its time; a number it then cannot read, such as " NA", goes the exact way.)
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd

from releaseml.common.errors import BadValue
from releaseml.data import values

ROWS_PER_CHUNK = 20_000
PIECE_BYTES = 1 << 20  # the fast way reads a body in pieces of about this size
_COMMA, _NEWLINE = ord(","), ord("\n")


def _case_variants(word: str) -> list[str]:
    options = [(c.lower(), c.upper()) if c.isalpha() else (c,) for c in word]
    return ["".join(chars) for chars in itertools.product(*options)]


# The missing markers in every letter case, for the C parser (which compares text exactly), but for those
# that open as a number does (-nan, 1.#IND): with them in its set it looks up every number that starts with a
# sign or a 1 before reading it (a fifth of its time). A number column holding one goes the exact way.
_MISSING_SPELLINGS = sorted(
    {spelling for marker in values.MISSING_MARKERS if not (marker and marker[0] in "+-.0123456789") for spelling in _case_variants(marker)}
)


class CsvError(BadValue):
    """CSV text that breaks the row rule; `row` is the 1-based data row (after any header), `line` the line."""

    def __init__(self, message: str, row=None, line=None, found: int | None = None, expected: int | None = None):
        super().__init__(message, row=row)
        self.line, self.found, self.expected = line, found, expected


@dataclass
class Chunk:
    first_row: int  # the data row number of the frame's first row
    frame: pd.DataFrame  # columns 0..width-1: text (object), or float64 for the number columns asked for


class Document:
    """CSV bytes checked against the rule's text-level parts (encoding, NUL) and with line ends made LF."""

    def __init__(self, data: bytes, what: str = "the CSV body", name_lines: bool = False):
        self.what, self.name_lines = what, name_lines  # a file's errors name its line; a body's, the row
        if data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        if b"\x00" in data:
            offset = data.index(b"\x00")
            raise CsvError(f"{what} contains a NUL byte at offset {offset}: it is not text (save it as UTF-8 CSV)")
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._data = data
        self.quoted = b'"' in data
        self._text = self._decoded(data, 0) if self.quoted else None  # the csv module reads text

    def _decoded(self, data: bytes, offset: int) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CsvError(f"{self.what} is not UTF-8 text (byte {offset + exc.start} is invalid); save it as UTF-8") from None

    def first_row(self) -> list[str] | None:
        """The fields of the first row that is not blank (a header or data), or None if there is none.

        Without quotes, only the lines up to it are read: a header is looked for in every body, and
        decoding and splitting a whole 4 MB body for it took 5% of the request.
        """
        if self.quoted:
            return next(self.rows(), None)
        data, start = self._data, 0
        while start < len(data):
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            line = self._decoded(data[start:end], start)
            if line.strip(" \t"):
                return line.split(",")
            start = end + 1
        return None

    def rows(self) -> Iterator[list[str]]:
        """Every row's fields, by the rule, in Python."""
        return (fields for _, fields in self.numbered_rows())

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number where the row starts, fields) for every row that is not blank."""
        if self.quoted:
            reader = csv.reader(io.StringIO(self._text, newline=""), skipinitialspace=True, strict=True)
            line = 1
            try:
                for fields in reader:
                    if fields and not (len(fields) == 1 and not fields[0].strip(" \t")):
                        yield line, fields
                    line = reader.line_num + 1
            except csv.Error as exc:
                raise CsvError(f"malformed CSV in {self.what} near line {reader.line_num}: {exc}", line=reader.line_num) from None
            return
        for number, line in enumerate(self._decoded(self._data, 0).split("\n"), start=1):
            if line.strip(" \t"):
                yield number, line.split(",")

    def frames(
        self,
        width: int,
        skip_rows: int = 0,
        numbers: dict[int, str] | None = None,
        categories: bool = False,
        piece_bytes: int | None = None,
    ) -> Iterator[Chunk]:
        """The rows after the first `skip_rows` in chunks; each row must have `width` fields.

        Columns in `numbers` (position: column name) come as float64 typed by `values.number` (missing as NaN); the
        others as text (object), to be typed by `values.column`, or with `categories` as pandas Categoricals of that
        text (each distinct text once and a code per row, for `values.coded`: a training file's way). The fast way
        reads pieces of `piece_bytes` (PIECE_BYTES unless given).
        """
        if self.quoted:
            chunks = self._frames_from_rows(width, skip_rows, numbers)
        else:
            chunks = self._frames_fast(width, skip_rows, numbers, piece_bytes or PIECE_BYTES)
        for chunk in chunks:
            yield Chunk(chunk.first_row, _as_categories(chunk.frame, numbers)) if categories else chunk

    def _frames_from_rows(self, width: int, skip_rows: int, numbers: dict[int, str] | None) -> Iterator[Chunk]:
        rows = itertools.islice(self.numbered_rows(), skip_rows, None)
        first = 1
        while batch := list(itertools.islice(rows, ROWS_PER_CHUNK)):
            for offset, (line, fields) in enumerate(batch):
                if len(fields) != width:  # the first row with a problem is the one reported
                    _numbers_typed(pd.DataFrame([f for _, f in batch[:offset]], columns=range(width), dtype=object), numbers, first)
                    check_width(len(fields), width, first + offset, line if self.name_lines else None)
            batch = [fields for _, fields in batch]
            frame = pd.DataFrame(batch, columns=range(width), dtype=object)
            yield Chunk(first, _numbers_typed(frame, numbers, first))
            first += len(batch)

    def _frames_fast(self, width: int, skip_rows: int, numbers: dict[int, str] | None, piece_bytes: int) -> Iterator[Chunk]:
        first = 1
        for offset, part in _line_slices(self._data, piece_bytes):
            self._decoded(part, offset)  # a piece at a time: a whole large body would be a second copy
            starts, ends, fields = _row_bounds(part)
            if skip_rows and len(starts):
                skipped = min(skip_rows, len(starts))
                offset += int(ends[skipped - 1]) + 1
                part = part[ends[skipped - 1] + 1 :]
                starts, ends, fields = _row_bounds(part)
                skip_rows -= skipped
            if not len(starts):
                continue
            wrong = np.flatnonzero(fields != width)
            if len(wrong):
                if wrong[0]:  # the first row with a problem is the one reported: type the rows before it
                    _parse(part[: starts[wrong[0]]], width, numbers, first)
                at = offset + int(starts[wrong[0]])
                line = self._data.count(b"\n", 0, at) + 1 if self.name_lines else None
                check_width(int(fields[wrong[0]]), width, first + int(wrong[0]), line)
            frame = _parse(part, width, numbers, first)
            if len(frame) != len(starts):  # the C parser split rows differently from the rule: never guess
                raise CsvError(f"{self.what}: rows {first} to {first + len(starts) - 1} could not be read consistently; please report this")
            yield Chunk(first, frame)
            first += len(starts)


def check_width(found: int, width: int, row: int, line: int | None = None) -> None:
    if found != width:
        where = f"row {row}" + (f" (line {line})" if line is not None else "")
        raise CsvError(
            f"{where} has {found} value(s) but {width} are expected (one per column, in order)",
            row=row,
            line=line,
            found=found,
            expected=width,
        )


def _line_slices(data: bytes, piece_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(offset, piece): the document in pieces of about `piece_bytes` that end at a line end."""
    start, size = 0, len(data)
    while start < size:
        end = min(start + piece_bytes, size)
        if end < size:
            newline = data.find(b"\n", end)
            end = size if newline < 0 else newline + 1
        yield start, (data[start:end] if start or end < size else data)
        start = end


def _row_bounds(part: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end offsets and field counts of the rows of a piece: its lines not blank by the rule."""
    array = np.frombuffer(part, dtype=np.uint8)
    ends = np.flatnonzero(array == _NEWLINE)
    if not len(part) or part[-1] != _NEWLINE:
        ends = np.append(ends, len(part))
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(ends.dtype)
    commas = np.flatnonzero(array == _COMMA)
    fields = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    keep = ends > starts
    for index in np.flatnonzero(keep & (fields == 1)):  # a line without commas may be spaces and tabs only
        if not part[starts[index] : ends[index]].strip(b" \t"):
            keep[index] = False
    return starts[keep], ends[keep], fields[keep]


def _parse(part: bytes, width: int, numbers: dict[int, str] | None, first: int) -> pd.DataFrame:
    """A piece of checked rows as a frame; number columns through the C parser when that is safe."""
    options = dict(header=None, names=range(width), quoting=csv.QUOTE_NONE, encoding="utf-8", engine="c")
    if part.startswith(codecs.BOM_UTF8):  # the C parser drops a BOM that opens its input; past the body's start it is a value's
        part = b"\n" + part  # (a blank line first, which it skips, keeps it for the typing rule to refuse)
    if numbers and not _has_true_false(part):
        dtypes = {position: (np.float64 if position in numbers else object) for position in range(width)}
        try:
            return pd.read_csv(io.BytesIO(part), dtype=dtypes, keep_default_na=False, na_values=_MISSING_SPELLINGS, **options)
        except ValueError:
            pass  # text in a number column: the exact way below names its row
    frame = pd.read_csv(io.BytesIO(part), dtype=object, na_filter=False, **options)
    return _numbers_typed(frame, numbers, first)


def _as_categories(frame: pd.DataFrame, numbers: dict[int, str] | None) -> pd.DataFrame:
    """The text columns (those not in `numbers`) of a frame as Categoricals of exactly their text (missing: code -1).
    Not the C parser's own "category": it reads categories such as "00" or "1e-18" as numbers."""
    for position in frame.columns:
        if position not in (numbers or {}):
            codes, texts = pd.factorize(frame[position].to_numpy(dtype=object), use_na_sentinel=True)
            frame[position] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(texts, dtype=object)))
    return frame


def _has_true_false(part: bytes) -> bool:
    """Whether the words true or false appear in any letter case. The bytes in lower case (| 0x20 turns only
    A-Z into a-z among the letters; UTF-8's other bytes stay above 0x7f) are searched by numpy: where each
    word's first letter is, then its next letters there. 4x faster than `bytes.lower()` and `in` (which
    beat re's IGNORECASE 15x); tests/test_values.py holds it to them."""
    lower = np.frombuffer(part, dtype=np.uint8) | 0x20
    for word in (b"true", b"false"):
        at = np.flatnonzero(lower[: len(lower) - len(word) + 1] == word[0])
        for offset, letter in enumerate(word[1:], start=1):
            at = at[lower[at + offset] == letter]
        if len(at):
            return True
    return False


def _numbers_typed(frame: pd.DataFrame, numbers: dict[int, str] | None, first: int) -> pd.DataFrame:
    typed = values.columns({name: (frame[position].to_numpy(), values.NUMERIC) for position, name in (numbers or {}).items()}, first)
    for position, name in (numbers or {}).items():
        frame[position] = typed[name]
    return frame
