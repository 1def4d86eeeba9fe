"""Where a training run's time and memory go: wall and CPU seconds per stage, and the peak memory so far.

A training job records its stages (`recording`); the modules it calls mark theirs with `stage`,
which costs nothing when no run records (the same functions serve `check-data`, `score`, tuning).
Each stage prints one line when it ends:

    #releaseml stage reading: wall 3.21 s, CPU 3.10 s, peak 850 MB

CPU seconds count every thread of the process (CatBoost's too), so on a busy machine they say more
than wall seconds; the peak is the process's largest resident memory so far. `train-local
--verbose` shows the lines, SageMaker keeps them in the job's log, and benchmarks/training.py reads
them (`parse_lines`) to show where releaseml's time goes.
"""

from __future__ import annotations

import re
import resource
import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Iterator

LINE_PREFIX = "#releaseml stage"
LINE_PATTERN = re.compile(rf"^{LINE_PREFIX} (?P<name>.+?): wall (?P<wall>[0-9.]+) s, CPU (?P<cpu>[0-9.]+) s, peak (?P<peak>[0-9]+) MB$")


@dataclass
class StageTime:
    name: str
    wall: float  # seconds
    cpu: float  # seconds, every thread of the process
    peak_mb: float  # the process's largest resident memory so far


_recording: ContextVar[Callable[[str], None] | None] = ContextVar("stage_recording", default=None)


@contextmanager
def recording(emit: Callable[[str], None] | None = None) -> Iterator[None]:
    """Stages marked inside are timed and each said in a line (printed, unless `emit` takes them)."""
    token = _recording.set(emit or _print)
    try:
        yield
    finally:
        _recording.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Times what runs inside as the stage `name`, when a run is recording; stages follow each other, never nest."""
    emit = _recording.get()
    if emit is None:
        yield
        return
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    emit(format_line(StageTime(name, time.perf_counter() - wall, time.process_time() - cpu, peak_mb())))


def peak_mb() -> float:
    """This process's largest resident memory so far (Linux counts ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def format_line(timed: StageTime) -> str:
    return f"{LINE_PREFIX} {timed.name}: wall {timed.wall:.2f} s, CPU {timed.cpu:.2f} s, peak {timed.peak_mb:.0f} MB"


def parse_lines(log: str) -> list[StageTime]:
    """The stage lines of a log, in order."""
    found = []
    for line in log.splitlines():
        match = LINE_PATTERN.match(line.strip())
        if match:
            found.append(StageTime(match["name"], float(match["wall"]), float(match["cpu"]), float(match["peak"])))
    return found


def _print(line: str) -> None:
    print(line, file=sys.stdout, flush=True)
