"""One monitoring run in SageMaker Processing's layout: what `docker run IMAGE monitor` does.

`releaseml monitor --schedule` has EventBridge Scheduler start a Processing job with this image and
the argument `monitor`. SageMaker downloads each ProcessingInput to its LocalPath, runs the
container, and uploads /opt/ml/processing/output/ to S3 when it ends; the container itself only
reads and writes files and prints (the image carries no AWS SDK):

    /opt/ml/processing/input/model/      the model.tar.gz the endpoint serves (unpacked here), or its files
    /opt/ml/processing/input/captured/   the endpoint's data-capture files, at any depth
    /opt/ml/processing/input/labels/     ground truth in SageMaker's merge format (optional)
    /opt/ml/processing/output/WINDOW/    monitor.html, figures/ and monitor.json; WINDOW names the day (or hour) checked
    /opt/ml/output/message               what happened in a line: DescribeProcessingJob's ExitMessage (first 1 KB)

Settings: RELEASEML_MONITOR_ENDPOINT, RELEASEML_MONITOR_WINDOW (1d) and RELEASEML_MONITOR_WINDOW_END
(EventBridge Scheduler's scheduled time, so a run that starts late checks the same window; taken back
to the start of its day, or hour, so that a run fired at 00:30 checks the whole day before, after its
last capture files have landed). The root is RELEASEML_ML_ROOT (/opt/ml), so the same code runs on a
local folder.

The log lines. Besides words for people, a run prints JSON lines to stdout, which SageMaker sends to
CloudWatch Logs (group /aws/sagemaker/ProcessingJobs) and `monitor --schedule`'s metric filters turn
into metrics in the namespace releaseml/Monitor. One line per column with a PSI over the window
(metric PSI, dimensions Endpoint and Column):

    {"releaseml_monitor": "ENDPOINT", "column": "bill_length_mm", "psi": 0.31, "drifted": 1}

`drifted` is 1 when the PSI reads moderate or large over at least MIN_ROWS_FOR_DRIFT rows, as `monitor`
names drift. Then one summary line (metrics DriftedColumns and Requests, dimension Endpoint), with a
`live_<metric>` field per live metric when ground truth was given:

    {"releaseml_monitor": "ENDPOINT", "window_start": "2026-12-06T00:00:00+00:00", "window_end": "...",
     "drifted_columns": 1, "requests": 96, "rows": 480, "refused": 0, "labelled_rows": 480, "live_accuracy": 0.93}

A window without a captured request (a quiet weekend, or nothing reaching the endpoint) is news, not a
failure: the run completes, writes monitor.json (requests 0, the window) and a short page, says "No
traffic: ..." in the message, and prints no column line and a summary line with "requests": 0 and
"drifted_columns": 0, so an alarm on Requests can tell of a silent endpoint.
"""

from __future__ import annotations

import json
import math
import tarfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Optional

from releaseml.common import environment
from releaseml.common.errors import UserError

LOG_KEY = "releaseml_monitor"  # the field every metric line has: its value is the endpoint
MODEL_INPUT, CAPTURED_INPUT, LABELS_INPUT = "model", "captured", "labels"
RESULT_FILE = "monitor.json"
MESSAGE_LIMIT = 1024  # SageMaker shows the first 1 KB of the message file as ExitMessage


@dataclass(frozen=True)
class ProcessingPaths:
    """SageMaker Processing's directories under an ML root (/opt/ml in the container)."""

    root: Path

    @classmethod
    def from_env(cls) -> "ProcessingPaths":
        return cls(Path(environment.ML_ROOT.get()))

    def input(self, name: str) -> Path:
        return self.root / "processing" / "input" / name

    @property
    def output(self) -> Path:
        return self.root / "processing" / "output"

    @property
    def message(self) -> Path:
        return self.root / "output" / "message"


def container_input(name: str) -> str:
    """An input's LocalPath inside the container, as a CreateProcessingJob request names it."""
    return str(PurePosixPath(environment.ML_ROOT.default) / "processing" / "input" / name)


def container_output() -> str:
    return str(PurePosixPath(environment.ML_ROOT.default) / "processing" / "output")


@dataclass(frozen=True)
class Window:
    """The traffic one run checks: from `start` to `end` (UTC), read per `period`."""

    start: datetime
    end: datetime

    @property
    def period(self) -> str:
        return "hour" if self.end - self.start < timedelta(days=1) else "day"

    @property
    def label(self) -> str:
        """The output folder's name: the day (or hour) the window starts."""
        return self.start.strftime("%Y-%m-%d" if self.period == "day" else "%Y-%m-%dT%H")


def window_from_env(now: Optional[datetime] = None) -> Window:
    """The window the settings name: the span (1d) before the end, the end taken back to the start of its day
    (or hour, for spans under a day), so a schedule that fires at 00:30 checks the whole day before."""
    from releaseml.checking import capture

    end_variable, span_variable = environment.MONITOR_WINDOW_END, environment.MONITOR_WINDOW
    moment = capture.since_time(end_variable.get(), flag=end_variable.name) or now or datetime.now(timezone.utc)
    back = capture.since_time(span_variable.get(), now=moment, flag=span_variable.name)
    if back is None or back >= moment:
        raise UserError(f"{span_variable.name}={span_variable.get()!r}: give how far back from the window's end to look (1d, 1h)")
    span = moment - back
    end = moment.replace(minute=0, second=0, microsecond=0)
    if span >= timedelta(days=1):
        end = end.replace(hour=0)
    return Window(end - span, end)


def run(paths: ProcessingPaths) -> Path:
    """Check the window's captured traffic against the model; write the page and monitor.json, print the
    metric lines; the output folder. A window without requests is reported as such (requests 0), not failed;
    a mistake (no model, no capture files, a bad window) is a UserError."""
    import tempfile

    from releaseml.checking import capture, monitor
    from releaseml.common import arguments
    from releaseml.report import monitor_page

    endpoint = environment.MONITOR_ENDPOINT.get() or "endpoint"
    window = window_from_env()
    print(f"Monitoring {endpoint}: traffic from {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC", flush=True)
    with tempfile.TemporaryDirectory(prefix="releaseml-model-") as scratch:
        model_dir, model_source = _model(paths.input(MODEL_INPUT), Path(scratch))
        events = capture.Captured(paths.input(CAPTURED_INPUT), since=window.start, until=window.end)
        try:
            result = monitor.monitor(
                events, model_dir, labels=_labels(paths.input(LABELS_INPUT)), since=window.start, until=window.end, period=window.period
            )
        except monitor.NoTraffic as quiet:  # a quiet window is news for the Requests metric, not a failed job
            result = quiet.result
    result.model = model_source
    out = paths.output / window.label
    page = monitor_page.write(out, result)
    document = {**result.as_dict(), "endpoint": endpoint, "page": page.name}
    (out / RESULT_FILE).write_text(arguments.as_json(document), encoding="utf-8")
    print(result.sentence())
    print(f"Page: {page}")
    for line in log_lines(endpoint, result):
        print(json.dumps(line), flush=True)
    write_message(paths, result.sentence())
    return out


def _model(folder: Path, scratch: Path) -> tuple[Path, str]:
    """The model's folder: the input itself when it holds the model's files, else its one model.tar.gz unpacked."""
    from releaseml.common.layout import SCHEMA_FILE

    if (folder / SCHEMA_FILE).is_file():
        return folder, str(folder)
    archives = sorted(folder.rglob("*.tar.gz")) if folder.is_dir() else []
    if len(archives) != 1:
        found = "nothing" if not archives else ", ".join(str(a) for a in archives)
        raise UserError(f"the `{MODEL_INPUT}` input ({folder}) must hold one model.tar.gz, the model the endpoint serves; it holds {found}")
    try:
        with tarfile.open(archives[0]) as archive:
            _extract(archive, scratch)
    except (tarfile.TarError, OSError) as exc:
        raise UserError(f"{archives[0]} is not a readable model.tar.gz ({exc})") from None
    return scratch, str(archives[0])


def _extract(archive: tarfile.TarFile, target: Path) -> None:
    """Plain files and folders only, inside `target`: tarfile's "data" filter, or its rule where Python
    predates it (a base image's Python 3.11 before 3.11.4)."""
    if hasattr(tarfile, "data_filter"):
        archive.extractall(target, filter="data")
        return
    for member in archive.getmembers():
        if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in PurePosixPath(member.name).parts:
            raise tarfile.TarError(f"{member.name!r} is not a plain file inside the archive")
    archive.extractall(target)


def _labels(folder: Path) -> Optional[Path]:
    """The ground truth's folder when it holds some; none yet is no error (drift is checked all the same)."""
    if folder.is_dir() and any(folder.rglob("*.jsonl")):
        return folder
    if folder.exists():
        print(f"No ground truth under {folder} yet: drift only, no live metrics.", flush=True)
    return None


def log_lines(endpoint: str, result) -> list[dict]:
    """The metric lines of a run (see the module's docstring): one per column with a PSI, then the summary."""
    from releaseml.checking.monitor import DRIFT_NAMED, MIN_ROWS_FOR_DRIFT

    judged = result.rows >= MIN_ROWS_FOR_DRIFT
    columns = [c for c in (result.overall.columns if result.overall else []) if c.psi is not None and math.isfinite(c.psi)]
    lines = [
        {LOG_KEY: endpoint, "column": c.name, "psi": round(c.psi, 4), "drifted": int(judged and c.drift in DRIFT_NAMED)} for c in columns
    ]
    summary = {
        LOG_KEY: endpoint,
        "window_start": result.since.isoformat() if result.since else None,
        "window_end": result.until.isoformat() if result.until else None,
        "drifted_columns": sum(line["drifted"] for line in lines),
        "requests": result.requests,
        "rows": result.rows,
        "refused": result.refused,
    }
    if result.labels is not None:
        summary["labelled_rows"] = result.labelled
        summary.update({f"live_{name}": round(value, 6) for name, value in result.metrics.items() if math.isfinite(value)})
    return [*lines, summary]


def write_message(paths: ProcessingPaths, text: str) -> None:
    """The line DescribeProcessingJob shows as ExitMessage (SageMaker keeps the first 1 KB)."""
    paths.message.parent.mkdir(parents=True, exist_ok=True)
    paths.message.write_text(text.encode("utf-8")[:MESSAGE_LIMIT].decode("utf-8", errors="ignore") + "\n", encoding="utf-8")
