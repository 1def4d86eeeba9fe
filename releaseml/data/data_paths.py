"""Which files a data path holds: the one rule train-local, deploy, score and batch-predict share.

- a file: the training channel is that file;
- a directory with a `training/` (or `train/`) subdirectory, and maybe `validation/`: those
  channels, each every data file below it;
- any other directory: the data files directly in it (subdirectories such as `predict/` are left
  alone).
Data files are `.csv` or `.parquet`, one format per channel. Hidden files and other files are never
data; the ones left out are named.

No pandas here: the command line lists and stages files before any data is read, and importing
pandas cost every `train-local` about 0.3 s in the process that only starts the training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from releaseml.common import media
from releaseml.common.errors import UserError
from releaseml.common.layout import TRAINING_CHANNELS, VALIDATION_CHANNEL

PARQUET_SUFFIX = ".parquet"
DATA_SUFFIXES = (".csv", PARQUET_SUFFIX)


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() == PARQUET_SUFFIX


@dataclass
class DataChannels:
    """The files of each channel found at a data path, and the files that were left out."""

    channels: dict[str, dict[str, Path]]
    left_out: list[Path] = field(default_factory=list)

    def note(self) -> str | None:
        if not self.left_out:
            return None
        shown = ", ".join(str(p) for p in self.left_out[:5]) + (" ..." if len(self.left_out) > 5 else "")
        return f"Not data (only {' and '.join(DATA_SUFFIXES)} files are read): {shown}"


def data_channels(path: Path) -> DataChannels:
    """The channels at a data path by the one rule above, or a UserError saying what is missing."""
    if path.is_file():
        return DataChannels({TRAINING_CHANNELS[0]: {path.name: path}})
    if not path.is_dir():
        raise UserError(f"no data at {str(path)!r}: expected a CSV or Parquet file, or a directory of them")
    named = [name for name in (*TRAINING_CHANNELS, VALIDATION_CHANNEL) if (path / name).is_dir()]
    if named:
        if not any(name in TRAINING_CHANNELS for name in named):
            raise UserError(f"{path} has a validation/ directory but no training/ one: put the training files in {path / 'training'}")
        if all(name in named for name in TRAINING_CHANNELS):
            raise UserError(f"{path} has both training/ and train/: keep one of them")
        found = {name: _data_files(path / name, recursive=True) for name in named}
        for name, (files, _) in found.items():
            if not files:
                raise UserError(f"{path / name} holds no .csv or .parquet files")
            check_one_format(list(files.values()), path / name)
        return DataChannels({name: files for name, (files, _) in found.items()}, [p for _, (_, out) in found.items() for p in out])
    files, left_out = _data_files(path, recursive=False)
    if not files:
        raise UserError(f"{path} holds no .csv or .parquet files (and no training/ directory)")
    check_one_format(list(files.values()), path)
    return DataChannels({TRAINING_CHANNELS[0]: files}, left_out)


def _data_files(directory: Path, recursive: bool) -> tuple[dict[str, Path], list[Path]]:
    found = visible_files(directory) if recursive else {p.name: p for p in sorted(directory.iterdir()) if _visible_file(p)}
    data = {name: p for name, p in found.items() if p.suffix.lower() in DATA_SUFFIXES}
    return data, [p for name, p in found.items() if name not in data]


def check_one_format(files: list[Path], where: Path) -> None:
    """A channel is CSV or Parquet, not both: they would be read by different rules into one table."""
    kinds = {is_parquet(file) for file in files}
    if len(kinds) > 1:
        example_csv = next(file for file in files if not is_parquet(file))
        example_parquet = next(file for file in files if is_parquet(file))
        raise UserError(
            f"{where} holds both Parquet and CSV files ({example_parquet.name}, {example_csv.name}): one data set is one format. "
            "Convert one kind to the other, or keep one kind in this directory."
        )


def content_type(files: list[Path]) -> str:
    """A channel's format (one per channel, `check_one_format`), as SageMaker names it."""
    return media.PARQUET if is_parquet(files[0]) else media.CSV


def channel_files(path: Path) -> list[Path]:
    """The files of a channel as SageMaker laid it out: every visible file below the directory (or the one file)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UserError(f"no data at {str(path)!r}: expected a CSV file or a directory of CSV files")
    files = list(visible_files(path).values())
    if not files:
        raise UserError(f"the data directory {str(path)!r} is empty: put one or more CSV files (with a header row) in it")
    return files


def visible_files(directory: Path) -> dict[str, Path]:
    """Every file below a directory, by path relative to it, in name order; hidden files and folders left out."""
    found = {str(p.relative_to(directory)): p for p in sorted(directory.rglob("*")) if p.is_file()}
    return {name: path for name, path in found.items() if not any(part.startswith(".") for part in Path(name).parts)}


def _visible_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".")
