"""Which metrics each task reports, and the one log-line format SageMaker reads them from.

Every final metric is printed on its own line:

    #releaseml metric validation:accuracy=0.9565217391304348

that is `#releaseml metric <split>:<name>=<value>`, split being `train` or
`validation`, the value a plain decimal number. `metric_definitions()` gives
the matching regexes for a SageMaker training job's MetricDefinitions.
"""

from __future__ import annotations

import math
import re

from releaseml.config.tasks import TASK_METRICS

SPLITS = ("train", "validation")
LINE_PREFIX = "#releaseml metric"
_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
LINE_PATTERN = re.compile(rf"^{LINE_PREFIX} (?P<split>\w+):(?P<name>\w+)=(?P<value>{_NUMBER}|nan)$")


def format_line(split: str, name: str, value: float) -> str:
    shown = "nan" if math.isnan(value) else repr(float(value))
    return f"{LINE_PREFIX} {split}:{name}={shown}"


def parse_lines(log: str) -> dict[str, dict[str, float]]:
    """Metric lines found in a log, as {split: {name: value}} (the last one of each wins)."""
    found: dict[str, dict[str, float]] = {}
    for line in log.splitlines():
        match = LINE_PATTERN.match(line.strip())
        if match:
            found.setdefault(match["split"], {})[match["name"]] = float(match["value"])
    return found


def metric_definitions(task: str | None = None) -> list[dict[str, str]]:
    """SageMaker MetricDefinitions for every metric of a task (of every task when None)."""
    tasks = [task] if task else list(TASK_METRICS)
    names = dict.fromkeys(name for t in tasks for name in TASK_METRICS[t])
    return [
        {"Name": f"{split}:{name}", "Regex": rf"{re.escape(LINE_PREFIX)} {split}:{name}=({_NUMBER})"} for split in SPLITS for name in names
    ]
