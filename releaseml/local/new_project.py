"""`releaseml init`: a commented releaseml.yaml for the user's data, and a .gitignore for the outputs.

It reads only the start of the data (the header, a few hundred rows) to list the columns, and never
overwrites a config that exists.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from releaseml.common import defaults
from releaseml.common.errors import UserError
from releaseml.data import csvrows, data_paths
from releaseml.data.values import MISSING_MARKERS
from releaseml.local import project

SAMPLE_BYTES = 256 * 1024  # enough for the header and a few hundred rows of most files
ID_MIN_ROWS = 20  # a column is called an identifier only when this many rows read all differ
# customer_id, CustomerID, RowId, uuid; not paid or valid
ID_NAME = re.compile(r"(^|[^A-Za-z])(id|ID|Id|uuid|UUID|guid|GUID|key|KEY)$|[a-z](ID|Id)$")
IGNORED = [
    f"{project.OUTPUT_DIR}/",
    "check/",
    "reports/",
    "predictions/",
    "scored.csv",
    "scored.rejects.csv",
    "training_output.*",
    "tuning_output.*",
]


@dataclass
class Column:
    name: str
    examples: list[str]
    distinct: int  # among the rows read
    looks_like_id: bool = False  # every value read differs: text, or whole numbers under an id's name

    def described(self) -> str:
        shown = ", ".join(repr(value) for value in self.examples[:3])
        return f"{self.name} (e.g. {shown}; {self.distinct} different values in the first rows)"


@dataclass
class InitOutcome:
    config: Path
    written: bool  # False: a config was there already and is left as it is
    columns: list[Column] = field(default_factory=list)
    gitignore: Path | None = None

    def said(self) -> list[str]:
        if not self.written:
            return [f"{self.config} exists already and is left as it is; edit it, or delete it and run `releaseml init` again."]
        lines = [f"Wrote {self.config}" + (f" and {self.gitignore}" if self.gitignore else "") + "."]
        ids = [c.name for c in self.columns if c.looks_like_id]
        if ids:
            lines.append(
                f"Not a feature: {', '.join(ids)} (every value differs, as in an identifier; listed under `drop:`, "
                "remove it there to use it)."
            )
        return [*lines, "Next: `releaseml train-local` trains a first model (a new run each time; `releaseml runs` lists them)."]


def init(folder: Path, data: Path | None, target: str | None) -> InitOutcome:
    """Write releaseml.yaml (and .gitignore) in `folder`, or say which columns there are to choose from."""
    config = folder / defaults.CONFIG_FILE
    if config.exists():
        return InitOutcome(config, written=False)
    if data is None:
        raise UserError("give the data to learn from: `releaseml init --data FILE --target COLUMN` (a CSV or Parquet file, or a folder)")
    columns = read_columns(data)
    if target is None:
        listing = "\n".join(f"  {column.described()}" for column in columns)
        raise UserError(
            f"which column should the model predict? {data} has these columns:\n{listing}\n"
            f"Choose one: `releaseml init --data {data} --target COLUMN`"
        )
    names = [column.name for column in columns]
    if target not in names:
        hint = difflib.get_close_matches(target, names, n=1)
        suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
        raise UserError(f"--target {target!r} is not a column of {data}.{suggestion} The columns are: {', '.join(names)}")
    folder.mkdir(parents=True, exist_ok=True)
    data_path = os.path.relpath(data.resolve(), folder.resolve())
    for column in columns:
        column.looks_like_id = column.looks_like_id and column.name != target
    ids = [column.name for column in columns if column.looks_like_id]
    config.write_text(config_text(target, Path(data_path).as_posix(), names, ids), encoding="utf-8")
    return InitOutcome(config, written=True, columns=columns, gitignore=_write_gitignore(folder))


def read_columns(data: Path) -> list[Column]:
    """The columns of the data's first file, with examples from its first rows."""
    if not data.exists():
        raise UserError(f"--data {str(data)!r} does not exist: give a CSV or Parquet file, or a folder of them")
    file = _first_file(data)
    if data_paths.is_parquet(file):
        import pyarrow.parquet as pq

        handle = pq.ParquetFile(file)
        batch = next(handle.iter_batches(batch_size=500), None)
        names = handle.schema_arrow.names
        rows = [] if batch is None else [[_text(v) for v in row.values()] for row in batch.to_pylist()]
    else:
        names, rows = _csv_sample(file)
    columns = []
    for i, name in enumerate(names):
        values = [row[i] for row in rows if i < len(row)]
        columns.append(Column(name, _examples(values), len(set(values)), _looks_like_id(name, values)))
    return columns


def _looks_like_id(name: str, values: list[str]) -> bool:
    """Every value present and different over enough rows: text (names, codes, e-mails), or whole
    numbers under an id's name (a measured number may differ in every row too)."""
    stripped = [value.strip() for value in values]
    if len(stripped) < ID_MIN_ROWS or any(value.lower() in MISSING_MARKERS for value in stripped) or len(set(stripped)) < len(stripped):
        return False  # a missing value (empty, NA, null...): an identifier is never missing
    if all(_is_number(value) for value in stripped):
        return bool(ID_NAME.search(name.strip())) and all(value.lstrip("-").isdigit() for value in stripped)
    return True


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def config_text(target: str, data: str, columns: list[str], ids: list[str] = ()) -> str:
    """The commented config: what is set (the columns that look like identifiers dropped), and the
    common keys commented out with a line each."""
    others = [name for name in columns if name != target]
    example = others[0] if others else "id"
    drop = (
        f"drop: [{', '.join(map(_yaml, ids))}]  # every value differs, as in an identifier: not a feature\n"
        if ids
        else f"{f'# drop: [{_yaml(example)}]'.ljust(29)}# columns that are not features: ids, names, leaks\n"
    )
    return f"""\
# releaseml config: where the data is and which column to predict. Every key is explained in the
# README ("The config"). The commented lines are examples: to use one, delete its "# " (the key
# then starts its line). Paths are relative to this file.
target: {_yaml(target)}
data: {_yaml(data)}

# task: auto                 # regression, binary or multiclass; auto decides from the target's values
{drop}# features: [...]            # only these columns are features (default: every column but target and drop)
# categorical: [...]         # number columns that are really codes (zip codes, product ids)
# validation_fraction: 0.2   # share of rows held out to score the model
# folds: 5                   # cross-validation instead of one hold-out
# time: date_column          # hold out the latest rows instead of a random share (data over time)
# seed: 42                   # same seed, same model
# catboost:                  # CatBoost's own parameters, for those who know them
#   iterations: 1000
#   depth: 6
#   learning_rate: 0.05
"""


def _first_file(data: Path) -> Path:
    if data.is_file():
        return data

    files = [path for path in data_paths.visible_files(data).values() if path.suffix.lower() in (".csv", ".parquet", ".pq")]
    if not files:
        raise UserError(f"--data {str(data)!r} is a folder with no CSV or Parquet file in it")
    return files[0]


def _csv_sample(file: Path) -> tuple[list[str], list[list[str]]]:
    with open(file, "rb") as handle:
        block = handle.read(SAMPLE_BYTES)
        whole = len(block) < SAMPLE_BYTES
    if not whole:
        block = block[: block.rfind(b"\n") + 1] or block
    try:
        rows = list(csvrows.Document(block, what=str(file)).rows())
    except csvrows.CsvError:
        if whole:
            raise
        rows = list(csvrows.Document(block[: block.find(b"\n") + 1], what=str(file)).rows())  # the header alone
    if not rows:
        raise UserError(f"{file} is empty: it needs a header row naming the columns, then rows of data")
    return [name.strip() for name in rows[0]], rows[1:]


def _examples(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value.strip() and value not in seen:
            seen[value] = None
        if len(seen) == 3:
            break
    return list(seen)


def _text(value) -> str:
    return "" if value is None else str(value)


def _yaml(text: str) -> str:
    """A YAML scalar that reads back as the same text."""
    import json

    plain = text and text.strip() == text and all(c.isalnum() or c in "_-./" for c in text) and not text[0].isdigit()
    return text if plain and text.lower() not in ("true", "false", "yes", "no", "null", "on", "off") else json.dumps(text)


def _write_gitignore(folder: Path) -> Path | None:
    """A .gitignore naming releaseml's outputs, or those lines added to one that lacks them."""
    path = folder / ".gitignore"
    existing = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    missing = [line for line in IGNORED if line not in existing]
    if not missing:
        return None
    lead = "\n" if existing and existing[-1].strip() else ""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lead + "# releaseml's outputs: runs, downloaded models, pages and scores\n" + "\n".join(missing) + "\n")
    return path
