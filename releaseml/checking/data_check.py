"""Check scoring data against a model before anyone pays for predictions: errors, then drift.

Errors are what the server would refuse, in its words (a row of the wrong width, a header naming
a column the model does not know, text in a number column: every such column, with the first row
where it happens). Warnings are what it would accept but a person should know: categories never
seen in training, a changed share of missing values, and drift per column as the population
stability index against the training profile (`profile.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd

from releaseml.common import media
from releaseml.common.errors import BadValue, UserError
from releaseml.data import csvrows, profile, values
from releaseml.data.schema import Schema
from releaseml.model import bundle as bundle_module

MISSING_CHANGE = 0.05  # a change of the missing share by more than this (absolute) is worth a warning
EXAMPLES = 3


@dataclass
class ColumnCheck:
    name: str
    kind: str
    rows: int
    missing_then: float
    missing_now: float
    psi: Optional[float] = None
    unseen_share: float = 0.0
    unseen_examples: list[str] = field(default_factory=list)
    bins: list[str] = field(default_factory=list)
    shares_then: list[float] = field(default_factory=list)
    shares_now: list[float] = field(default_factory=list)

    @property
    def drift(self) -> str:
        return profile.reading(self.psi) if self.psi is not None else "unknown"


@dataclass
class CheckResult:
    source: str
    rows: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: list[ColumnCheck] = field(default_factory=list)
    profiled: bool = True  # False: an old model without profile.json; only the schema was checked

    @property
    def large_drift(self) -> list[str]:
        return [c.name for c in self.columns if c.drift == "large"]

    def sentence(self) -> str:
        if self.errors:
            return f"{self.source}: {len(self.errors)} error(s): the model would refuse this data. Fix them first."
        if not self.profiled:
            return (
                f"{self.source}: {self.rows} rows the model accepts; drift not checked (the model has no training profile: train it again)."
            )
        drifted = [c.name for c in self.columns if c.drift in ("moderate", "large")]
        if not drifted and not self.warnings:
            return f"{self.source}: {self.rows} rows the model accepts, and they look like its training data."
        what = f"{len(drifted)} column(s) drifted ({', '.join(drifted)})" if drifted else "no column drifted"
        return f"{self.source}: {self.rows} rows the model accepts; {what}; {len(self.warnings)} warning(s) in all."

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "summary": self.sentence(),
            "errors": self.errors,
            "warnings": self.warnings,
            "profiled": self.profiled,
            "columns": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "psi": c.psi,
                    "drift": c.drift,
                    "missing_training": c.missing_then,
                    "missing_now": c.missing_now,
                    "unseen_share": c.unseen_share,
                    "unseen_examples": c.unseen_examples,
                }
                for c in self.columns
            ],
        }


def check(data: Path, model_dir: Path) -> CheckResult:
    """Read every scoring file under `data` as the server would, and compare it with the training profile."""
    model = bundle_module.load(model_dir)
    training = profile.load(model_dir)
    files = _files(data)
    result = CheckResult(source=str(data), profiled=training is not None)
    frames = []
    for path in files:
        frame, errors = read(path, model.schema)
        result.errors += [f"{path}: {error}" for error in errors]
        if frame is not None and not errors:
            frames.append(frame)
    if result.errors or not frames:
        return result
    return compare_frame(result, pd.concat(frames, ignore_index=True), model.schema, training)


def compare_frame(
    result: CheckResult, typed: pd.DataFrame, schema: Schema, training: Optional[dict[str, Any]], drift_warnings: bool = True
) -> CheckResult:
    """Fill `result` with rows typed for the model already (a file's, or requests a live endpoint captured):
    per column, against the training profile (None: an old model without one), most drifted first.
    `drift_warnings=False`: PSI is computed but not warned about (too few rows for it to mean much)."""
    result.rows = len(typed)
    if training is not None:
        result.columns = [
            _compare(typed[name], training["features"][name], name) for name in schema.features if name in training["features"]
        ]
        result.columns.sort(key=lambda c: -(c.psi or 0))
        result.warnings = [warning for c in result.columns for warning in _warnings(c, drift_warnings)]
    return result


def _files(data: Path) -> list[Path]:
    if data.is_file():
        return [data]
    if data.is_dir():
        found = sorted(p for p in data.rglob("*") if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in media.BY_EXTENSION)
        if not found:
            raise UserError(f"{data} holds no .csv, .json, .jsonl or .parquet files to check")
        return found
    raise UserError(f"no data to check at {str(data)!r}: give a file or a directory of them")


def read(path: Path, schema: Schema) -> tuple[Optional[pd.DataFrame], list[str]]:
    """A scoring file typed for the model, or the errors the server would answer; every bad column is named."""
    from releaseml.serving import codecs

    content_type = media.BY_EXTENSION.get(path.suffix.lower(), media.CSV)
    if content_type == media.PARQUET:  # checked as the CSV lines batch-predict sends for it
        from releaseml.data import parquet

        try:
            body = b"".join(parquet.csv_lines(path, schema.features))
        except UserError as exc:
            return None, [str(exc)]
        content_type = media.CSV
    else:
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from None
    if content_type != media.CSV:
        try:
            chunks = [
                c if isinstance(c, pd.DataFrame) else pd.DataFrame(c, columns=schema.features)
                for c in codecs.decode(body, content_type, schema)
            ]
        except codecs.RequestError as exc:
            return None, [str(exc)]
        return pd.concat(chunks, ignore_index=True), []
    try:
        raw = _raw_csv(body, schema)
    except (BadValue, codecs.RequestError) as exc:
        return None, [str(exc)]
    typed, errors = {}, []
    for name in schema.features:
        try:
            typed[name] = values.column(raw[name].to_numpy(), schema.kinds[name], name)
        except BadValue as exc:
            errors.append(str(exc))
    return (pd.DataFrame(typed) if not errors else None), errors


def _raw_csv(body: bytes, schema: Schema) -> pd.DataFrame:
    """The CSV's feature columns as text, by the server's row and header rules (width, known columns)."""
    from releaseml.serving import codecs

    document = csvrows.Document(body)
    first = document.first_row()
    if first is None:
        raise codecs.RequestError("the file is empty")
    header = codecs.header_names(first, schema)
    names = header if header is not None else schema.features
    frames = []
    for chunk in document.frames(len(names), skip_rows=1 if header is not None else 0, numbers=None):
        chunk.frame.columns = names
        frames.append(chunk.frame[schema.features])
    if not frames:
        raise codecs.RequestError("the file has a header row but no data rows")
    return pd.concat(frames, ignore_index=True)


def _compare(column: pd.Series, trained: dict[str, Any], name: str) -> ColumnCheck:
    if trained["kind"] == values.NUMERIC:
        numbers = column.to_numpy(dtype=float)
        present = numbers[~np.isnan(numbers)]
        edges = np.array(trained["edges"])
        now = profile.bin_shares(present, edges)
        labels = _bin_labels(edges)
        checked = ColumnCheck(name, trained["kind"], len(numbers), trained["missing"], 1 - len(present) / max(len(numbers), 1))
    else:
        text = column.astype(str)
        present = text[text != values.MISSING_CATEGORY]
        now = profile.category_shares(present, trained)
        labels = [*trained["categories"], profile.OTHER]
        checked = ColumnCheck(name, trained["kind"], len(text), trained["missing"], 1 - len(present) / max(len(text), 1))
        seen = set(trained["seen"])
        unseen = present[~present.isin(seen)] if trained.get("seen_all", True) else present.iloc[:0]
        checked.unseen_share = len(unseen) / max(len(present), 1)
        checked.unseen_examples = [str(v) for v in unseen.value_counts().index[:EXAMPLES]]
    then = profile.training_shares(trained)
    checked.bins, checked.shares_then, checked.shares_now = labels, then.tolist(), now.tolist()
    checked.psi = profile.psi(then, now) if len(present) else None
    return checked


def _bin_labels(edges: np.ndarray) -> list[str]:
    bounds = [f"{edge:.4g}" for edge in edges]
    if not bounds:
        return ["all"]
    return [f"<= {bounds[0]}", *(f"{low} - {high}" for low, high in zip(bounds, bounds[1:])), f"> {bounds[-1]}"]


def _warnings(c: ColumnCheck, drift: bool = True) -> list[str]:
    out = []
    if c.unseen_share > 0:
        examples = ", ".join(repr(v) for v in c.unseen_examples)
        out.append(
            f"{c.name}: {c.unseen_share:.1%} of values were never seen in training (e.g. {examples}); the model treats them as unknown"
        )
    if abs(c.missing_now - c.missing_then) > MISSING_CHANGE:
        out.append(f"{c.name}: {c.missing_now:.1%} missing, against {c.missing_then:.1%} in training")
    if c.psi is None:
        out.append(f"{c.name}: every value is missing")
    elif c.drift != "stable" and drift:
        out.append(f"{c.name}: {c.drift} drift (PSI {c.psi:.2f}; below 0.1 is stable, above 0.25 large)")
    return out
