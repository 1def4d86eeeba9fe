"""Score a file into a file on this machine, typing every value by the server's own rule.

A CSV file, a Parquet file or a directory of one kind is read a block at a time (memory stays
bounded for any size); each chunk of rows is typed by `schema.model_frame`, as the server types a
large body, and predicted by the saved model. A row the server would refuse (a value that is not
of its column's kind, more or fewer fields than the header) does not stop the others: it goes to
`<out stem>.rejects.csv` with its file, row, line and the server's reason; `strict` stops at it.

- Output: the kept input columns (all by default) as the input has them, then `prediction` (the
  class label, or the value), `probability_<class>` per class, and with explain=K
  `reason_i, contribution_i` (strongest first). A column the model does not know is kept.
- An input column named like an output column is an error naming it: keep the others (`keep`).
- CSV in: UTF-8 by the project's one CSV rule (`csvrows`). CSV out: UTF-8, LF line ends, numbers
  in their shortest exact form. Parquet in: features become the text the client sends the server
  for them (`parquet._csv_bytes`); kept columns keep their Parquet values and types.
- The output and the rejects are written beside their paths and renamed at the end: a failure
  never leaves a half file, and a run that refuses no row leaves no rejects file (not an old one).
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import orjson
import pandas as pd

from releaseml.common import progress
from releaseml.common.errors import BadValue, UserError
from releaseml.data import csvrows, data_paths, parquet
from releaseml.data.schema import REGRESSION, model_frame, typed_row
from releaseml.model import bundle as bundle_module
from releaseml.model.bundle import Bundle, Prediction

BLOCK_BYTES = 4 << 20  # a CSV file is read in blocks of about this size, each cut at a row's end
ROWS_PER_CHUNK = 50_000  # rows typed, predicted and written at a time
OUTPUT_SUFFIXES = (".csv", data_paths.PARQUET_SUFFIX)
REJECTS_SUFFIX = ".rejects.csv"
REJECT_COLUMNS = ["file", "row", "line", "reason"]
_NEWLINE, _RETURN, _QUOTE = ord("\n"), ord("\r"), ord('"')


@dataclass
class ScoreSummary:
    rows: int  # rows read (data rows, header excluded)
    scored: int  # rows written to the output
    rejected: int  # rows refused (listed in the rejects file)
    out: Path
    rejects: Path | None  # None when no row was refused (and then no rejects file is left behind)

    def as_dict(self) -> dict:
        return {**asdict(self), "out": str(self.out), "rejects": self.rejects and str(self.rejects)}


@dataclass
class Reject:
    row: int  # data row number in the file, from 1 (header not counted)
    line: int | None  # physical line of the file where the row starts (header is line 1), when known
    reason: str


class Scorer:
    """Predictions for rows of raw values, with the columns `score` writes."""

    def __init__(self, bundle: Bundle, explain: int | None = None):
        features = len(bundle.schema.features)
        if explain is not None and not (isinstance(explain, int) and explain >= 0):
            raise UserError(f"explain={explain!r}: ask for a whole number of reasons per row, 1 to {features}")
        self.bundle, self.schema = bundle, bundle.schema
        self.explain = min(explain or 0, features)

    def columns(self) -> list[str]:
        """The output columns, written after the kept input columns."""
        return bundle_module.answer_columns(self.schema, self.explain, with_intervals=self.bundle.interval_half_width is not None)

    def score(self, raw: pd.DataFrame, first_row: int = 1) -> tuple[pd.DataFrame, list[Reject]]:
        """raw: the model's feature columns holding raw values: CSV text (str) or python/JSON-like values
        (numbers, bool, None/NaN for missing). Returns the output columns for the accepted rows (index kept
        from `raw`, so the caller can join kept columns) and the rejected rows (row number, reason)."""
        return self._score(raw, np.arange(first_row, first_row + len(raw)))

    def _score(self, raw: pd.DataFrame, rows: np.ndarray, lines: np.ndarray | None = None):
        """`score` with each row's number (and line): a file's chunk has gaps where rows were refused."""
        missing = [name for name in self.schema.features if name not in raw.columns]
        if missing:
            raise UserError(f"column(s) {missing} are missing; the model's features are {self.schema.features}")
        frame = pd.DataFrame({name: _raw_values(raw[name]) for name in self.schema.features}, index=raw.index)
        try:
            return self._outputs(model_frame(frame, self.schema, int(rows[0]) if len(rows) else 1)), []
        except BadValue as exc:
            error = exc  # which rows? One by one, by the small bodies' rule (held equal to model_frame's)
        refused, lines = {}, [None] * len(rows) if lines is None else lines.tolist()
        for position, values in enumerate(frame.to_numpy(dtype=object).tolist()):
            try:
                typed_row(values, self.schema, int(rows[position]))
            except BadValue as exc:
                refused[position] = str(exc)
        if not refused:
            raise error
        good = np.ones(len(frame), dtype=bool)
        good[list(refused)] = False
        rejects = [Reject(int(rows[p]), lines[p], reason) for p, reason in refused.items()]
        return self._outputs(model_frame(frame[good], self.schema)), rejects

    def _outputs(self, typed: pd.DataFrame) -> pd.DataFrame:
        if typed.empty:
            return pd.DataFrame({name: [] for name in self.columns()}, index=typed.index)
        if self.explain:
            prediction = self.bundle.predict_and_explain(typed, self.explain)
        else:
            prediction = self.bundle.predict(typed)
        values = _output_values(prediction, self.schema.classes)
        return pd.DataFrame(dict(zip(self.columns(), values)), index=typed.index)


def _output_values(prediction: Prediction, classes: list[Any] | None) -> list[Any]:
    """The answer's columns' values, in `bundle.answer_columns` order."""
    if prediction.probabilities is None:
        out = [prediction.values]
        if prediction.intervals is not None:
            out += [prediction.intervals[:, 0], prediction.intervals[:, 1]]
    else:
        out = [np.array(prediction.labels(classes), dtype=object), *(prediction.probabilities[:, i] for i in range(len(classes)))]
    if prediction.explanation is not None:
        names, contributions = prediction.explanation.names, prediction.explanation.contributions
        for i in range(contributions.shape[1]):
            out += [np.array([row[i] for row in names], dtype=object), contributions[:, i]]
    return out


def _raw_values(column: pd.Series) -> np.ndarray:
    """A column as the server would receive it: CSV text as it is; other values as JSON would carry
    them (NaN, pd.NA, NaT and None are null; numpy scalars are Python's)."""
    values = column.to_numpy(dtype=object, copy=True)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values
    values[pd.isna(values)] = None
    for position in np.flatnonzero([isinstance(value, np.generic) for value in values]):
        values[position] = values[position].item()
    return values


# ---- files ----------------------------------------------------------------------------------


def score_file(
    model_dir: Path,
    source: Path,
    out: Path,
    keep: list[str] | None = None,
    explain: int | None = None,
    strict: bool = False,
) -> ScoreSummary:
    """Score every row of `source` (a CSV or Parquet file, or a directory of one kind) into `out`.

    Refused rows go to `<out stem>.rejects.csv`; with `strict` the first is an error, and nothing is written.
    """
    out, source = Path(out), Path(source)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UserError(f"cannot write predictions to {out}: name a file ending in .csv or .parquet")
    rejects = out.with_name(out.name[: -len(out.suffix)] + REJECTS_SUFFIX)
    files = _source_files(source, {out.resolve(), rejects.resolve()})
    scorer = Scorer(bundle_module.load(Path(model_dir)), explain)
    features = scorer.schema.features
    summary = ScoreSummary(rows=0, scored=0, rejected=0, out=out, rejects=rejects)
    with progress.bar(sum(path.stat().st_size for path in files.values()), "Scoring", unit="B") as bar:
        sources = _opened(files, bar, features)
        first_name, first = next(sources)
        kept = _kept(first.columns, keep, scorer.columns())
        types = _parquet_types(first, kept, scorer) if data_paths.is_parquet(out) else None
        out.parent.mkdir(parents=True, exist_ok=True)
        with (
            _replaced(out) as out_temp,
            _replaced(rejects) as rejects_temp,
            _table_writer(out_temp, [*kept, *scorer.columns()], types) as write,
            _table_writer(rejects_temp, REJECT_COLUMNS) as write_rejects,
        ):
            for name, source_file in itertools.chain([(first_name, first)], sources):
                for chunk in source_file.chunks(kept, features):
                    scored, refused = scorer._score(chunk.features, chunk.rows, chunk.lines)
                    refused = sorted(chunk.rejects + refused, key=lambda reject: reject.row)
                    if refused and strict:
                        raise _strict_error(name, refused[0])
                    write(pd.concat([chunk.kept.loc[scored.index, kept], scored], axis=1))
                    write_rejects(pd.DataFrame([[name, r.row, r.line, r.reason] for r in refused], dtype=object))
                    summary.rows += len(scored) + len(refused)
                    summary.scored += len(scored)
                    summary.rejected += len(refused)
    if not summary.rejected:
        rejects.unlink()  # the empty one just written, and with it any that an earlier run left
        summary.rejects = None
    return summary


def _strict_error(name: str, reject: Reject) -> UserError:
    where = f"{name}, line {reject.line}" if reject.line is not None else name
    return UserError(f"{where}: {reject.reason} (strict: stopped at the first refused row, wrote nothing)")


def _source_files(source: Path, outputs: set[Path]) -> dict[str, Path]:
    """The data files by name: the one file, or each .csv/.parquet file below a directory, in name order."""
    if source.is_file():
        if source.suffix.lower() not in data_paths.DATA_SUFFIXES:
            raise UserError(f"cannot score {source}: give a .csv file (with a header row), a .parquet file or a directory")
        if source.resolve() in outputs:
            raise UserError(f"{source} is both the data and the output: write the predictions to another file")
        return {source.name: source}
    if not source.is_dir():
        raise UserError(f"no data to score at {str(source)!r}: give a CSV or Parquet file, or a directory")
    found = data_paths.visible_files(source).items()
    files = {n: p for n, p in found if p.suffix.lower() in data_paths.DATA_SUFFIXES and p.resolve() not in outputs}
    if not files:
        raise UserError(f"{source} holds no .csv or .parquet files to score: put one or more there")
    data_paths.check_one_format(list(files.values()), source)
    return files


def _kept(columns: list[str], keep: list[str] | None, outputs: list[str]) -> list[str]:
    kept = list(columns) if keep is None else list(dict.fromkeys(keep))
    unknown = [name for name in kept if name not in columns]
    if unknown:
        raise UserError(f"cannot keep column(s) {unknown}: the data's columns are {', '.join(columns)}")
    clashes = [name for name in kept if name in outputs]
    if clashes:
        others = ",".join(name for name in kept if name not in clashes)
        raise UserError(f"the data has column(s) {clashes}, which scoring writes: rename them, or --keep {others}")
    return kept


# ---- reading --------------------------------------------------------------------------------


@dataclass
class _Chunk:
    features: pd.DataFrame  # the feature columns, as the server would receive them
    kept: pd.DataFrame  # every kept column as the file has it, with the same index
    rows: np.ndarray  # each frame row's data row number
    lines: np.ndarray | None  # and the line it starts on, when known (CSV)
    rejects: list[Reject]  # rows refused before typing (the wrong number of fields)


class _Source:
    path: Path
    columns: list[str]
    types: dict[str, Any] | None  # the Arrow type of each column (Parquet); None: all text (CSV)

    def chunks(self, kept: list[str], features: list[str]) -> Iterator[_Chunk]:
        raise NotImplementedError


def _opened(files: dict[str, Path], bar, features: list[str]) -> Iterator[tuple[str, _Source]]:
    """Each file opened (its header read), with the model's features and the first file's columns."""
    first = None
    for name, path in files.items():
        source = _ParquetSource(path, bar) if data_paths.is_parquet(path) else _CsvSource(path, bar)
        first = first or source
        duplicates = sorted({column for column in source.columns if source.columns.count(column) > 1})
        if duplicates:
            raise UserError(f"{path} names column(s) {duplicates} more than once: give each column one name")
        if source.columns != first.columns:
            raise UserError(
                f"{path} has columns {source.columns} but {first.path} has {first.columns}: the files of a "
                "directory are scored as one table and need the same columns, in the same order"
            )
        missing = [feature for feature in features if feature not in source.columns]
        if missing:
            header = " (the first row of a CSV file must be its header)" if source.types is None else ""
            raise UserError(f"{path} has no column(s) {missing}{header}; the model's features are {features}")
        yield name, source


class _CsvSource(_Source):
    """A CSV file with its header row, a block at a time."""

    types = None

    def __init__(self, path: Path, bar):
        self.path, self._rows = path, _csv_rows(path, bar)
        header = next(self._rows, None)
        if header is None:
            raise UserError(f"{path} is empty: a CSV file to score needs a header row (its column names)")
        self.columns = [name.strip() for name in header[1]]  # as the server reads a header

    def chunks(self, kept: list[str], features: list[str]) -> Iterator[_Chunk]:
        width, number = len(self.columns), 1
        while batch := list(itertools.islice(self._rows, ROWS_PER_CHUNK)):
            fields, rows, lines, rejects = [], [], [], []
            for row, (line, values) in enumerate(batch, start=number):
                try:
                    csvrows.check_width(len(values), width, row)
                except csvrows.CsvError as exc:
                    rejects.append(Reject(row, line, str(exc)))
                    continue
                fields.append(values)
                rows.append(row)
                lines.append(line)
            frame = pd.DataFrame(fields, columns=self.columns, dtype=object)
            yield _Chunk(frame, frame, np.array(rows), np.array(lines), rejects)
            number += len(batch)


def _csv_rows(path: Path, bar) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of every row of a CSV file by `csvrows`' rule, the file read a block at a time."""
    lines_before, start = 0, 0
    for block in _blocks(path, bar):
        document = csvrows.Document(block, what=f"{path} (from byte {start})" if start else str(path))
        try:
            for line, fields in document.numbered_rows():
                # A block with a quote goes through the csv module, which drops the spaces a field starts
                # with; so does a block without, so that kept text never depends on where blocks fall.
                yield lines_before + line, fields if document.quoted else [f.lstrip(" ") for f in fields]
        except csvrows.CsvError as exc:
            if exc.line is None:
                raise
            raise UserError(
                f"{path}: malformed CSV near line {lines_before + exc.line}: a quoted field ends with a "
                'quote and then a comma or the line end (a quote inside one is written twice: "")'
            ) from None
        lines_before += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
        start += len(block)


def _blocks(path: Path, bar) -> Iterator[bytes]:
    """The file in blocks of about BLOCK_BYTES, each ending at a line end outside quotes."""
    carry = b""
    with path.open("rb") as handle:
        while piece := handle.read(BLOCK_BYTES):
            bar.update(len(piece))
            carry += piece
            cut = _last_row_end(carry)
            if cut:
                yield carry[:cut]
                carry = carry[cut:]
    if carry:
        yield carry


def _last_row_end(data: bytes) -> int:
    """The offset after the last line end (LF, CRLF, lone CR) with an even count of quotes before it; else 0."""
    array = np.frombuffer(data, dtype=np.uint8)
    ends = array == _NEWLINE
    if b"\r" in data:  # a CR as the last byte may begin a CRLF: no cut there until the next byte is read
        ends[:-1] |= (array[:-1] == _RETURN) & (array[1:] != _NEWLINE)
    ends = np.flatnonzero(ends)
    outside = ends[np.searchsorted(np.flatnonzero(array == _QUOTE), ends) % 2 == 0]
    return int(outside[-1]) + 1 if len(outside) else 0


class _ParquetSource(_Source):
    """A Parquet file, a batch of rows at a time."""

    def __init__(self, path: Path, bar):
        self.path, self._bar, self._file = path, bar, parquet._open(path)
        self.columns = list(self._file.schema_arrow.names)
        self.types = {field.name: field.type for field in self._file.schema_arrow}

    def chunks(self, kept: list[str], features: list[str]) -> Iterator[_Chunk]:
        size, total, first = self.path.stat().st_size, max(self._file.metadata.num_rows, 1), 1
        columns = list(dict.fromkeys([*kept, *features]))
        for batch in self._file.iter_batches(batch_size=ROWS_PER_CHUNK, columns=columns):
            frame = pd.DataFrame({name: _server_text(batch.column(name)) for name in features}, dtype=object)
            kept_frame = batch.select(kept).to_pandas(types_mapper=pd.ArrowDtype)
            yield _Chunk(frame, kept_frame, np.arange(first, first + batch.num_rows), None, [])
            first += batch.num_rows
            self._bar.update(size * batch.num_rows / total)


def _server_text(column) -> np.ndarray:
    """A Parquet column as the server reads the CSV text the client sends for it (`parquet._csv_bytes`):
    numbers by repr, missing empty, line ends LF."""
    values = parquet._column(column)
    if values.dtype == np.float64:
        return np.array(["" if value != value else repr(value) for value in values.tolist()], dtype=object)
    text = ["" if value is None else value.replace("\r\n", "\n").replace("\r", "\n") for value in values.tolist()]
    return np.array(text, dtype=object)


# ---- writing --------------------------------------------------------------------------------


@contextlib.contextmanager
def _replaced(path: Path) -> Iterator[Path]:
    """A temporary file beside `path`, renamed to it when the block ends without error (else removed)."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".part{path.suffix}")
    os.close(descriptor)
    try:
        yield Path(name)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    os.replace(name, path)


def _parquet_types(source: _Source, kept: list[str], scorer: Scorer) -> dict[str, Any]:
    """Each output column's Arrow type: a kept column keeps the file's (CSV: text); the others as they hold."""
    import pyarrow as pa

    label = pa.float64() if scorer.schema.task == REGRESSION else pa.array(scorer.schema.classes).type
    types = {name: (source.types or {}).get(name, pa.string()) for name in kept}
    for name in scorer.columns():  # prediction, probability_*, then reason_* (text) and contribution_*
        types[name] = label if name == "prediction" else pa.string() if name[:7] == "reason_" else pa.float64()
    return types


@contextlib.contextmanager
def _table_writer(path: Path, columns: list[str], types: dict | None = None) -> Iterator[Callable]:
    """A function that appends a frame's rows to `path`: CSV with a header row, or Parquet (a row group each)."""
    if not data_paths.is_parquet(path):
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerow(columns)
            yield lambda frame: _numbers_as_text(frame).to_csv(handle, header=False, index=False, lineterminator="\n")
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, types[name]) for name in columns])
    with pq.ParquetWriter(path, schema) as writer:

        def write(frame: pd.DataFrame) -> None:
            if len(frame):  # not an empty row group
                writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))

        yield write


def _numbers_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The float64 columns as text in the shortest exact form, by orjson as the server writes numbers
    (twice as fast as pandas' formatting); NaN empty."""
    numbers = [name for name in frame.columns if frame[name].dtype == np.float64]
    if not numbers or frame.empty:
        return frame
    frame = frame.copy()
    for name in numbers:
        text = orjson.dumps(frame[name].to_numpy(), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode().split(",")
        frame[name] = np.array(["" if value == "null" else value for value in text], dtype=object)
    return frame
