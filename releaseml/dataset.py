"""Read a data channel: every CSV file in a directory (or one file), header row expected."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from releaseml.errors import UserError


def channel_files(path: Path) -> list[Path]:
    """The data files of a channel in a stable order: a file, or every non-hidden file below a directory."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UserError(f"no data at {str(path)!r}: expected a CSV file or a directory of CSV files")
    files = list(visible_files(path).values())
    if not files:
        raise UserError(f"the data directory {str(path)!r} is empty: put one or more CSV files (with a header row) in it")
    return files


def read_channel(path: Path, string_columns: Iterable[str] = ()) -> pd.DataFrame:
    """All CSV files of a channel as one frame; `string_columns` are read as text, never as numbers."""
    string_columns = list(string_columns)
    files = channel_files(path)
    frames = [_read_csv(file, string_columns) for file in files]
    _check_same_columns(frames, files)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if frame.empty:
        raise UserError(f"the data at {str(path)!r} has a header but no rows")
    return frame


def _read_csv(file: Path, string_columns: list[str]) -> pd.DataFrame:
    try:
        header = pd.read_csv(file, nrows=0).columns if string_columns else []
        dtypes = {column: "str" for column in string_columns if column in header}
        frame = pd.read_csv(file, dtype=dtypes or None, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise UserError(f"{file} is empty: a CSV file needs a header row naming its columns") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(
            f"cannot read {file} as CSV ({_first_line(exc)}); check that it is a comma-separated text file with a header row"
        ) from None
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
    if unnamed:
        raise UserError(f"{file}: the header row has {len(unnamed)} empty column name(s); every column needs a name in the first row")
    return frame


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


def visible_files(directory: Path) -> dict[str, Path]:
    """Every file below a directory, by path relative to it, in name order; hidden files and folders left out."""
    found = {str(p.relative_to(directory)): p for p in sorted(directory.rglob("*")) if p.is_file()}
    return {name: path for name, path in found.items() if not any(part.startswith(".") for part in Path(name).parts)}


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
