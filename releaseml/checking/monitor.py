"""The live model's traffic against its training: captured requests checked as `check-data` checks a file.

Each captured request is decoded by the server's own codecs (the one typing rule; CSV with or
without a header, JSON, JSON Lines; a request of many rows is many rows), so a request the server
refused is an error here in its words, and the rows it accepted are compared with the training
profile per column (unseen categories, missing share, PSI drift), over all the traffic and per
period (a UTC day by default). Each captured answer is read back (CSV `label,p1,...` or a value;
JSON or JSON Lines records with "prediction"); with ground truth (SageMaker's merge format, joined
by the request's inferenceId when the caller gave one, else its eventId, as Model Monitor joins
them) the live metrics per period stand beside the validation metrics saved at training.

PSI over a period of few rows is noise: over 10 bins, n rows drawn from the training data itself
score about 9/n on average, so a period needs MIN_ROWS_FOR_DRIFT rows before its drift is named.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np
import pandas as pd

from releaseml.checking import capture
from releaseml.checking.data_check import CheckResult, ColumnCheck, compare_frame
from releaseml.common import media
from releaseml.common.errors import UserError
from releaseml.data import profile, values
from releaseml.data.schema import BINARY, REGRESSION, Schema
from releaseml.model import bundle as bundle_module
from releaseml.serving import codecs

PERIODS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
MIN_ROWS_FOR_DRIFT = 100
DRIFT_NAMED = ("moderate", "large")  # the PSI readings that name a column as drifted (over enough rows)
EXAMPLES = 5
LIVE_METRICS = {"binary": ["accuracy", "auc", "logloss"], "multiclass": ["accuracy", "logloss"], REGRESSION: ["rmse", "mae"]}
LOWER_IS_BETTER = {"logloss", "rmse", "mae"}
PROBABILITY_FLOOR = 1e-15  # logloss of a probability of 0: finite, as CatBoost's


@dataclass
class Period:
    """One period's traffic: how much, how much refused, its columns against training, its live metrics."""

    start: datetime
    label: str
    requests: int = 0
    rows: int = 0
    refused: int = 0
    check: Optional[CheckResult] = None
    metrics: dict[str, float] = field(default_factory=dict)
    labelled: int = 0  # rows with both a label and a captured answer

    @property
    def judged(self) -> bool:
        """Enough rows to name drift (see MIN_ROWS_FOR_DRIFT)."""
        return self.rows >= MIN_ROWS_FOR_DRIFT

    def column(self, name: str) -> Optional[ColumnCheck]:
        return next((c for c in self.check.columns if c.name == name), None) if self.check else None

    def drifted(self) -> list[ColumnCheck]:
        return [c for c in self.check.columns if c.drift in DRIFT_NAMED] if self.check and self.judged else []

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.label,
            "start": self.start.isoformat(),
            "requests": self.requests,
            "rows": self.rows,
            "refused": self.refused,
            "traffic": self.requests > 0,
            "drift_judged": self.judged,
            "drifted": [c.name for c in self.drifted()],
            "columns": self.check.as_dict()["columns"] if self.check else [],
            "warnings": self.check.warnings if self.check else [],
            "labelled_rows": self.labelled,
            "metrics": self.metrics,
        }


@dataclass
class Labels:
    """How the ground truth joined the captured requests."""

    source: str
    records: int = 0
    matched: int = 0  # records joined to a captured request
    rows: int = 0  # rows given a label
    problems: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)


@dataclass
class MonitorResult:
    source: str
    model: str
    task: str
    period: str
    since: Optional[datetime]
    until: Optional[datetime] = None
    requests: int = 0
    rows: int = 0
    refused: int = 0
    first: Optional[datetime] = None
    last: Optional[datetime] = None
    overall: Optional[CheckResult] = None
    periods: list[Period] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # requests the server would refuse, grouped, with an example each
    warnings: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    validation: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    labelled: int = 0
    labels: Optional[Labels] = None
    quiet: Optional[str] = None  # why there was nothing to check, when no request was captured in the window (NoTraffic)

    @property
    def quiet_periods(self) -> list[Period]:
        return [p for p in self.periods if p.requests == 0]

    def drifted(self) -> dict[str, tuple[Period, ColumnCheck]]:
        """Each column that drifted in some period, with the period where it drifted most."""
        worst: dict[str, tuple[Period, ColumnCheck]] = {}
        for period in self.periods:
            for column in period.drifted():
                if column.name not in worst or (column.psi or 0) > (worst[column.name][1].psi or 0):
                    worst[column.name] = (period, column)
        return dict(sorted(worst.items(), key=lambda item: -(item[1][1].psi or 0)))

    def sentence(self) -> str:
        if self.quiet:
            return f"No traffic: {self.quiet}."
        span = f"{_when(self.first)} to {_when(self.last)} UTC" if self.first else "no time"
        parts = [f"{self.source}: {self.requests} request(s) ({self.rows} rows) from {span}"]
        if self.refused:
            parts.append(f"{self.refused} the model would refuse")
        parts.append(self._drift_words())
        if self.metrics:
            parts.append(self._metric_words())
        elif self.labels is not None:
            parts.append("no live metrics (no captured row has both a usable label and an answer)")
        quiet = self.quiet_periods
        if quiet:
            shown = ", ".join(p.label for p in quiet[:3]) + (f" and {len(quiet) - 3} more" if len(quiet) > 3 else "")
            parts.append(f"no traffic on {shown}")
        return "; ".join(parts) + "."

    def _drift_words(self) -> str:
        if self.overall is None or not self.overall.profiled:
            return "drift not checked (the model has no training profile: train it again)"
        drifted = self.drifted()
        if not drifted:
            judged = [p for p in self.periods if p.judged]
            return "no column drifted" if judged else f"too few rows per {self.period} to judge drift (under {MIN_ROWS_FOR_DRIFT})"
        shown = [f"{name} ({column.drift}, PSI {column.psi:.2f} on {period.label})" for name, (period, column) in list(drifted.items())[:3]]
        more = f" and {len(drifted) - 3} more" if len(drifted) > 3 else ""
        return f"{len(drifted)} column(s) drifted: {', '.join(shown)}{more}"

    def _metric_words(self) -> str:
        name = next(iter(self.metrics))
        against = f" (validation {self.validation[name]:.4g})" if name in self.validation else ""
        return f"live {name} {self.metrics[name]:.4g} on {self.labelled} labelled rows{against}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "model": self.model,
            "task": self.task,
            "summary": self.sentence(),
            "period": self.period,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "requests": self.requests,
            "rows": self.rows,
            "refused": self.refused,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "errors": self.errors,
            "warnings": self.warnings,
            "malformed": self.malformed,
            "drifted": {name: {"period": p.label, "psi": c.psi, "drift": c.drift} for name, (p, c) in self.drifted().items()},
            "columns": self.overall.as_dict()["columns"] if self.overall else [],
            "periods": [p.as_dict() for p in self.periods],
            "metrics": self.metrics,
            "validation": self.validation,
            "labelled_rows": self.labelled,
            "labels": None if self.labels is None else vars(self.labels),
        }


class NoTraffic(UserError):
    """No captured request in the window: news (a quiet spell, or an outage upstream), not a mistake in the input.
    `result` is the empty result (source, model, window; requests 0), for a scheduled run to report as such."""

    def __init__(self, message: str, result: MonitorResult):
        super().__init__(message)
        self.result = result


def monitor(
    events: Iterable[capture.Event],
    model_dir: Path,
    labels: Any = None,
    since: Optional[datetime] = None,
    period: str = "day",
    until: Optional[datetime] = None,
) -> MonitorResult:
    """The captured traffic (a `capture.Captured`, or any events) checked against the model in `model_dir`.

    `labels`: a folder of ground truth (or `capture.GroundTruth`, or Label records); `since`, `until`: the
    window (a scheduled run's): events before `since`, or at or after `until`, are left out. A mistake that
    leaves nothing to monitor (another model's requests, labels that match no request) is a UserError saying
    which; no request in the window is NoTraffic.
    """
    if period not in PERIODS:
        raise UserError(f"period {period!r}: one of {', '.join(PERIODS)}")
    bundle = bundle_module.load(model_dir)
    source = str(getattr(events, "folder", "captured requests"))
    if since is not None and until is not None and since >= until:
        raise UserError(f"the window is empty: it starts at {_when(since)} and ends at {_when(until)} UTC; give a start before the end")
    traffic = _Traffic(bundle.schema, period, since, until)
    for event in events:
        traffic.add(event)
    result = MonitorResult(source=source, model=str(model_dir), task=bundle.schema.task, period=period, since=since, until=until)
    result.malformed = [str(m) for m in getattr(events, "malformed", [])]
    if result.malformed:
        shown = "; ".join(result.malformed[:EXAMPLES])
        result.warnings.append(f"{len(result.malformed)} capture line(s) could not be read and were left out: {shown}")
    result.validation = {k: v for k, v in bundle.info.get("metrics", {}).get("validation", {}).items() if k in _metric_names(bundle.schema)}
    traffic.check_usable(result, model_dir)
    _summarize(result, traffic)
    training = profile.load(model_dir)
    frame = traffic.frame()
    result.overall = compare_frame(
        CheckResult(source=source, profiled=training is not None),
        frame,
        bundle.schema,
        training,
        drift_warnings=len(frame) >= MIN_ROWS_FOR_DRIFT,
    )
    result.warnings = list(result.overall.warnings) + traffic.warnings() + result.warnings
    if labels is not None:
        result.labels = traffic.join(labels if not isinstance(labels, (str, Path)) else capture.GroundTruth(Path(labels)))
        result.warnings += result.labels.problems
    every = np.ones(len(frame), dtype=bool)
    result.metrics, result.labelled = traffic.metrics(every) if labels is not None else ({}, 0)
    result.periods = _periods(traffic, frame, bundle.schema, training, labels is not None)
    return result


def _summarize(result: MonitorResult, traffic: "_Traffic") -> None:
    requests = traffic.requests
    result.requests, result.rows = len(requests), sum(r.rows for r in requests)
    result.refused = sum(1 for r in requests if r.refused)
    result.first, result.last = min(r.event.time for r in requests), max(r.event.time for r in requests)
    result.errors = traffic.errors()


def _periods(traffic: "_Traffic", frame: pd.DataFrame, schema: Schema, training, labelled: bool) -> list[Period]:
    """Every period from the first request's (or --since's) to the last one's (or now's, with --since; the
    window's last, with --until), traffic or not."""
    step = PERIODS[traffic.period]
    requests = Counter(r.start for r in traffic.requests)
    refused = Counter(r.start for r in traffic.requests if r.refused)
    starts = np.repeat([r.start.timestamp() for r in traffic.requests], [r.rows for r in traffic.requests])
    first = traffic.floor(traffic.since) if traffic.since else min(requests)
    end = traffic.until - timedelta(microseconds=1) if traffic.until else datetime.now(timezone.utc) if traffic.since else None
    last = max(traffic.floor(end) if end else first, max(requests))
    out, start = [], first
    while start <= last:
        rows = starts == start.timestamp()
        period = Period(start=start, label=_period_label(start, traffic.period), requests=requests[start], refused=refused[start])
        period.rows = int(rows.sum())
        if period.rows:
            typed = frame[rows].reset_index(drop=True)
            period.check = compare_frame(
                CheckResult(source=period.label, profiled=training is not None), typed, schema, training, drift_warnings=period.judged
            )
            if labelled:
                period.metrics, period.labelled = traffic.metrics(rows)
        out.append(period)
        start += step
    return out


@dataclass
class _Request:
    event: capture.Event
    start: datetime  # its period's
    rows: int = 0
    refused: Optional[str] = None


class _Traffic:
    """The captured requests as they are read: their rows typed for the model, the answers, what went wrong."""

    def __init__(self, schema: Schema, period: str, since: Optional[datetime], until: Optional[datetime] = None):
        self.schema, self.period, self.since, self.until = schema, period, since, until
        self.classes = _Classes(schema.classes or [])
        self.requests: list[_Request] = []
        self._frames: list[pd.DataFrame] = []
        self._pending: list[list[Any]] = []
        self._index: list[np.ndarray] = []  # per row: the predicted class (-1: none)
        self._probabilities: list[np.ndarray] = []  # per row: the class probabilities (NaN: none)
        self._values: list[np.ndarray] = []  # regression, per row: the predicted value (NaN: none)
        self._seen: set[str] = set()
        self.outside: set[str] = set()  # ids of requests outside the window: to explain labels that match only those
        self.duplicates = self.no_input = self.earlier = self.later = 0
        self.answer_problems: Counter[str] = Counter()
        self.answer_examples: dict[str, str] = {}
        self.sent_names: dict[str, None] = {}  # column names that refused requests sent (header rows, JSON keys)
        self.widths: Counter[int] = Counter()  # row widths of refused requests without names

    def floor(self, moment: datetime) -> datetime:
        moment = moment.astimezone(timezone.utc)
        if self.period == "day":
            return datetime(moment.year, moment.month, moment.day, tzinfo=timezone.utc)
        return moment.replace(minute=0, second=0, microsecond=0)

    def add(self, event: capture.Event) -> None:
        if event.event_id in self._seen:  # the same file downloaded twice, or overlapping folders
            self.duplicates += 1
            return
        self._seen.add(event.event_id)
        if self.since is not None and event.time < self.since:
            self.earlier += 1
            self.outside.update(key for key in (event.inference_id, event.event_id) if key)
            return
        if self.until is not None and event.time >= self.until:
            self.later += 1
            self.outside.update(key for key in (event.inference_id, event.event_id) if key)
            return
        if event.input is None:
            self.no_input += 1
            return
        request = _Request(event, self.floor(event.time))
        self.requests.append(request)
        content_type = media.canonical(event.input.content_type)
        try:
            if content_type is None:
                raise codecs.RequestError(f"unsupported Content-Type {event.input.content_type!r}")
            chunks = list(codecs.decode(event.input.data, content_type, self.schema))
        except codecs.RequestError as exc:
            request.refused = str(exc)
            self._remember_columns(event.input, content_type)
            return
        rows = self._keep(chunks)
        request.rows = rows
        self._answers(event, rows)

    def _keep(self, chunks: list) -> int:
        rows = 0
        for chunk in chunks:
            if isinstance(chunk, pd.DataFrame):
                self._flush()
                self._frames.append(chunk.reset_index(drop=True))
            else:
                self._pending.extend(chunk)
            rows += len(chunk)
        return rows

    def _flush(self) -> None:
        if self._pending:
            self._frames.append(pd.DataFrame(self._pending, columns=self.schema.features))
            self._pending = []

    def frame(self) -> pd.DataFrame:
        self._flush()
        return pd.concat(self._frames, ignore_index=True) if self._frames else pd.DataFrame(columns=self.schema.features)

    # ---- answers -------------------------------------------------------------------------

    def _answers(self, event: capture.Event, rows: int) -> None:
        k = len(self.schema.classes or [])
        index, probabilities, numbers = np.full(rows, -1), np.full((rows, k), np.nan), np.full(rows, np.nan)
        try:
            records = _answer_records(event.output, self.schema)
            if len(records) != rows:
                raise _Unreadable(f"the answer has {len(records)} prediction(s) for {rows} row(s)")
            for i, (prediction, probs) in enumerate(records):
                if self.schema.task == REGRESSION:
                    numbers[i] = _number(prediction)
                else:
                    index[i] = self.classes.index(prediction)
                    probabilities[i] = probs
                    if index[i] < 0:
                        raise _Unreadable(f"the answer names a class the model does not have ({prediction!r}): was it another model's?")
        except _Unreadable as exc:  # the whole answer is left out, not the rows before the problem only
            index[:], probabilities[:], numbers[:] = -1, np.nan, np.nan
            reason = str(exc)
            self.answer_problems[reason] += 1
            self.answer_examples.setdefault(reason, event.where)
        self._index.append(index)
        self._probabilities.append(probabilities)
        self._values.append(numbers)

    # ---- what went wrong -----------------------------------------------------------------

    def _remember_columns(self, body: capture.Body, content_type: Optional[str]) -> None:
        names, width = _columns_sent(body, content_type, self.schema)
        if names:
            self.sent_names.update(dict.fromkeys(names))
        elif width is not None:
            self.widths[width] += 1

    def check_usable(self, result: MonitorResult, model_dir: Path) -> None:
        """Raise the one mistake that leaves nothing to monitor, if there is one; NoTraffic when the window was quiet."""
        if not self.requests:
            mistake = self._mistake(result)
            if mistake:
                raise UserError(mistake)
            result.quiet = self._nothing(result)
            raise NoTraffic(result.quiet, result)
        if all(r.refused for r in self.requests):
            mismatch = self.mismatch(f"the model in {model_dir}")
            first = self.requests[0]
            raise UserError(
                mismatch
                or f"every one of the {len(self.requests)} captured requests would be refused by the model in {model_dir}: "
                f"e.g. {first.refused} ({first.event.where})"
            )

    def _mistake(self, result: MonitorResult) -> Optional[str]:
        """Why no request was read, when that is the capture's fault rather than a quiet window."""
        where = result.source
        if self.no_input:
            return (
                f"the {self.no_input} events under {where} captured the endpoint's answers only: monitoring needs the requests "
                "(capture mode Input or InputAndOutput in the endpoint's DataCaptureConfig)"
            )
        if result.malformed and not (self.earlier or self.later):
            return f"no capture line under {where} could be read ({len(result.malformed)} malformed), e.g. {result.malformed[0]}"
        return None

    def _nothing(self, result: MonitorResult) -> str:
        where = result.source
        if self.until is not None:
            start = f"from {_when(self.since)} " if self.since else ""
            counts = [f"{n} {side}" for n, side in ((self.earlier, "before"), (self.later, "after")) if n]
            outside = f" ({' and '.join(counts)} it)" if counts else ""
            return f"no captured requests {start}until {_when(self.until)} UTC under {where}{outside}"
        if self.since is not None:
            earlier = f" ({self.earlier} before it)" if self.earlier else ""
            return f"no captured requests since {self.since.isoformat(timespec='minutes')} under {where}{earlier}: try an earlier --since"
        return f"no captured requests under {where}"

    def mismatch(self, model: str) -> Optional[str]:
        """The columns refused requests sent that the model does not know, named; or their widths. None if neither."""
        features, known = self.schema.features, self.schema.known_columns
        unknown = [name for name in self.sent_names if name not in known]
        fix = "Were they captured from another model's endpoint? Give that model (--run or --ml-root), or the right --captured folder."
        if unknown:
            missing = [name for name in features if name not in self.sent_names]
            lacking = f", and lack {', '.join(missing[:10])}" if missing else ""
            return (
                f"the captured requests do not fit {model}: they name column(s) {', '.join(unknown[:10])} "
                f"that it does not know{lacking}; its features are {', '.join(features)}. {fix}"
            )
        wrong = sorted(width for width in self.widths if width != len(features))
        if wrong and not self.sent_names:
            return (
                f"the captured requests do not fit {model}: their rows have {', '.join(map(str, wrong))} value(s), "
                f"and it expects {len(features)} ({', '.join(features)}). {fix}"
            )
        return None

    def errors(self) -> list[str]:
        refused = [r for r in self.requests if r.refused]
        if not refused:
            return []
        mismatch = self.mismatch("the model")
        counts = Counter(r.refused for r in refused)
        example = {}
        for r in refused:
            example.setdefault(r.refused, r.event)
        out = [mismatch] if mismatch else []
        for message, count in counts.most_common(EXAMPLES):
            event = example[message]
            out.append(f"{count} request(s): {message} (e.g. event {event.event_id}, {event.where})")
        if len(counts) > EXAMPLES:
            out.append(f"and {len(counts) - EXAMPLES} other error(s)")
        return out

    def warnings(self) -> list[str]:
        out = [
            f"{count} request(s) with answers that could not be read: {reason} (e.g. {self.answer_examples[reason]})"
            for reason, count in self.answer_problems.most_common(EXAMPLES)
        ]
        if self.no_input:
            out.append(f"{self.no_input} event(s) captured no request (capture mode Output), left out")
        if self.duplicates:
            out.append(f"{self.duplicates} event(s) were captured twice (same eventId) and counted once")
        return out

    # ---- ground truth --------------------------------------------------------------------

    def join(self, records: Iterable[capture.Label]) -> Labels:
        """Give each captured row its label: by inferenceId when the request had one, else by eventId."""
        by_key: dict[str, capture.Label] = {}
        for record in records:
            by_key[record.key] = record
        summary = Labels(source=str(getattr(records, "folder", "labels")), records=len(by_key))
        summary.malformed = [str(m) for m in getattr(records, "malformed", [])]
        if summary.malformed:
            summary.problems.append(
                f"{len(summary.malformed)} ground-truth line(s) could not be read: {'; '.join(summary.malformed[:EXAMPLES])}"
            )
        total = sum(r.rows for r in self.requests)
        self.truth_index, self.truth_values = np.full(total, -1), np.full(total, np.nan)
        matched: set[str] = set()
        problems: Counter[str] = Counter()
        offset = 0
        for request in self.requests:
            label, key = self._label_of(request, by_key)
            if label is not None:
                matched.add(key)
                problems.update(self._give(label, request.rows, offset))
            offset += request.rows
        summary.matched, summary.rows = len(matched), int(self._labelled().sum())
        summary.problems += [f"{count} ground-truth record(s): {problem}" for problem, count in problems.most_common(EXAMPLES)]
        self._explain_unmatched(summary, by_key, matched)
        return summary

    @staticmethod
    def _label_of(request: _Request, by_key: dict[str, capture.Label]) -> tuple[Optional[capture.Label], Optional[str]]:
        for key in (request.event.inference_id, request.event.event_id):
            if key and key in by_key:
                return by_key[key], key
        return None, None

    def _give(self, label: capture.Label, rows: int, offset: int) -> list[str]:
        if rows == 0:
            return []
        if len(label.values) != rows:
            return [f"{len(label.values)} label(s) for a request of {rows} row(s): left out"]
        problems = []
        for i, value in enumerate(label.values):
            if self.schema.task == REGRESSION:
                number = _number(value)
                if math.isnan(number):
                    problems.append("a label that is not a number: left out")
                self.truth_values[offset + i] = number
            else:
                index = self.classes.index(value)
                if index < 0:
                    problems.append(
                        f"a label that is not one of the model's classes ({', '.join(map(str, self.schema.classes))}): left out"
                    )
                self.truth_index[offset + i] = index
        return problems

    def _explain_unmatched(self, summary: Labels, by_key: dict[str, capture.Label], matched: set[str]) -> None:
        unmatched = [key for key in by_key if key not in matched]
        if not unmatched:
            return
        captured = next((r for r in self.requests if self._label_of(r, by_key)[0] is None), self.requests[0])
        ids = f"a captured request's inferenceId {captured.event.inference_id!r}" if captured.event.inference_id else ""
        ids = ids or f"a captured request's eventId {captured.event.event_id!r}"
        earlier = sum(1 for key in unmatched if key in self.outside)
        words = "outside the window" if self.until else "before --since"
        windowed = self.since is not None or self.until is not None
        before = f" ({earlier} are for requests {words})" if earlier else f" (requests {words} are left out)" if windowed else ""
        rule = "Each record's eventMetadata.eventId must be the request's inferenceId when the caller gave one, else its eventId."
        if not matched:
            raise UserError(
                f"none of the {summary.records} ground-truth records under {summary.source} matches a captured request{before}: "
                f"e.g. ground truth's id {unmatched[0]!r}, and {ids}. {rule}"
            )
        summary.problems.append(
            f"{summary.matched} of {summary.records} ground-truth records matched a captured request{before}; "
            f"unmatched e.g. {unmatched[0]!r}, and {ids} has no label"
        )

    def _labelled(self) -> np.ndarray:
        if self.schema.task == REGRESSION:
            return ~np.isnan(self.truth_values)
        return self.truth_index >= 0

    # ---- live metrics --------------------------------------------------------------------

    def metrics(self, rows: np.ndarray) -> tuple[dict[str, float], int]:
        """The live metrics over the chosen rows that have a label and a captured answer, and how many those are."""
        if self.schema.task == REGRESSION:
            predicted = _joined(self._values, len(rows))
            use = rows & self._labelled() & ~np.isnan(predicted)
            return regression_metrics(self.truth_values[use], predicted[use]), int(use.sum())
        index = _joined(self._index, len(rows), dtype=int)
        probabilities = np.concatenate(self._probabilities) if self._probabilities else np.empty((0, len(self.schema.classes)))
        use = rows & self._labelled() & (index >= 0)
        scores = classification_metrics(self.truth_index[use], index[use], probabilities[use], self.schema.task)
        return scores, int(use.sum())


class _Unreadable(Exception):
    """Why a captured answer cannot be read back."""


class _Classes:
    """A class label as the model's class index, however it is written: `1`, `1.0`, `"1"`, `true`."""

    def __init__(self, classes: list[Any]):
        self.by_text = {str(label): i for i, label in enumerate(classes)}
        self.by_number = {values.number(label): i for i, label in enumerate(classes) if _is_number(label)}

    def index(self, value: Any) -> int:
        text = values.text(value)
        if text is None:
            return -1
        if text in self.by_text:
            return self.by_text[text]
        spelled = values.true_false(text)
        if spelled in self.by_text:
            return self.by_text[spelled]
        number = values.number(text)
        return self.by_number.get(number, -1) if number is not None and not math.isnan(number) else -1


def classification_metrics(truth: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray, task: str) -> dict[str, float]:
    """Accuracy of the answered labels; logloss (and AUC, binary) of the answered probabilities where there are any."""
    if not len(truth):
        return {}
    scores = {"accuracy": float(np.mean(truth == predicted))}
    present = ~np.isnan(probabilities).any(axis=1)
    if task == BINARY and present.any() and len(set(truth[present].tolist())) == 2:
        from releaseml.training import evaluation

        scores["auc"] = evaluation.roc_curve(truth[present] == 1, probabilities[present, 1])[2]
    if present.any():
        chosen = np.take_along_axis(probabilities[present], truth[present][:, None], axis=1)[:, 0]
        scores["logloss"] = float(-np.mean(np.log(np.clip(chosen, PROBABILITY_FLOOR, 1.0))))
    return scores


def regression_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    if not len(truth):
        return {}
    errors = predicted - truth
    return {"rmse": float(np.sqrt(np.mean(errors**2))), "mae": float(np.mean(np.abs(errors)))}


def _metric_names(schema: Schema) -> list[str]:
    return LIVE_METRICS[schema.task]


def _answer_records(output: Optional[capture.Body], schema: Schema) -> list[tuple[Any, Optional[list[float]]]]:
    """The captured answer's (prediction, probabilities in class order) per row."""
    if output is None:
        raise _Unreadable("no answer was captured (capture mode Input)")
    content_type = media.canonical(output.content_type)
    text = output.data.decode("utf-8", errors="replace")
    if content_type == media.CSV:
        return _csv_answers(text, schema)
    if content_type == media.JSON:
        document = _json(text)
        if isinstance(document, dict) and "error" in document:
            raise _Unreadable(f"the endpoint answered an error: {document['error']}")
        if not isinstance(document, dict) or not isinstance(document.get("predictions"), list):
            raise _Unreadable('a JSON answer without a "predictions" list')
        return [_record(item, schema) for item in document["predictions"]]
    if content_type == media.JSONLINES:
        return [_record(_json(line), schema) for line in text.splitlines() if line.strip()]
    raise _Unreadable(f"an answer of type {output.content_type!r}, not CSV, JSON or JSON Lines")


def _csv_answers(text: str, schema: Schema) -> list[tuple[Any, Optional[list[float]]]]:
    rows = [row for row in csv.reader(text.splitlines()) if row]
    if rows and rows[0][:1] == ["prediction"]:  # `Accept: text/csv; header=present`
        rows = rows[1:]
    k = len(schema.classes or [])
    if schema.task == REGRESSION:
        return [(row[0], None) for row in rows]
    out = []
    for row in rows:
        if len(row) < 1 + k:
            raise _Unreadable(f"a CSV answer row of {len(row)} field(s), not label and {k} probabilities")
        out.append((row[0], [_number(value) for value in row[1 : 1 + k]]))
    return out


def _record(item: Any, schema: Schema) -> tuple[Any, Optional[list[float]]]:
    if not isinstance(item, dict) or "prediction" not in item:
        raise _Unreadable('an answer record without "prediction"')
    if schema.task == REGRESSION:
        return item["prediction"], None
    probabilities = item.get("probabilities")
    if not isinstance(probabilities, dict):
        return item["prediction"], [math.nan] * len(schema.classes)
    return item["prediction"], [_number(probabilities.get(str(label))) for label in schema.classes]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _Unreadable(f"malformed JSON in the answer ({exc})") from None


def _columns_sent(body: capture.Body, content_type: Optional[str], schema: Schema) -> tuple[list[str], Optional[int]]:
    """What a refused request sent: its column names (a header row, JSON keys), else its first row's width."""
    text = body.data.decode("utf-8", errors="replace")
    try:
        if content_type == media.CSV:
            rows = [row for _, row in zip(range(2), csv.reader(text.splitlines())) if row]
            header = rows[0] if len(rows) == 2 and all(f.strip() and values.number(f) is None for f in rows[0]) else None
            return ([f.strip() for f in header], None) if header else ([], len(rows[0]) if rows else None)
        if content_type in (media.JSON, media.JSONLINES):
            first = text.strip().splitlines()[0] if content_type == media.JSONLINES else text
            instance = json.loads(first)
            if isinstance(instance, dict) and content_type == media.JSON:
                instance = (instance.get("instances") or [None])[0]
            elif isinstance(instance, list) and content_type == media.JSON:
                instance = instance[0] if instance else None
            if isinstance(instance, dict):
                return [str(key) for key in instance], None
            return [], len(instance) if isinstance(instance, list) else None
    except (ValueError, IndexError, csv.Error):
        pass
    return [], None


def _joined(parts: list[np.ndarray], size: int, dtype=float) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(size, dtype=dtype)


def _number(value: Any) -> float:
    number = values.number(value)
    return math.nan if number is None else number


def _is_number(value: Any) -> bool:
    number = values.number(value)
    return number is not None and not math.isnan(number)


def _period_label(start: datetime, period: str) -> str:
    return start.strftime("%Y-%m-%d") if period == "day" else start.strftime("%Y-%m-%d %H:00")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
