"""What a person sees of a local training: releaseml's own lines, one progress line, no CatBoost chatter.

The container prints everything (CatBoost's per-100-tree lines, "Shrink model to first N
iterations", the `#releaseml metric` lines SageMaker's regexes read); on SageMaker all of it stays
in the job's log. Locally `train-local` shows releaseml's lines as they come, turns CatBoost's tree
lines into one line rewritten in place, and leaves the metric lines to its own rounded summary.
`--verbose` shows every line as the container printed it, the stages' times among them
(`releaseml/common/stage_timer.py`).
"""

from __future__ import annotations

import re
import sys

from releaseml.common import stage_timer
from releaseml.training.metrics import LINE_PREFIX

# CatBoost's own lines (fit's verbose output and warnings), as CatBoost 1.2 words them.
CATBOOST_LINE = re.compile(
    r"^(\d+:\s+(learn|test|total)|Learning rate set to |bestTest = |bestIteration = |Shrink model to first |"
    r"Stopped by overfitting detector|Default metric period is |Warning: Overfitting detector is active|"
    r"Number of the positive class predictions is |Warning: less than 75% GPU memory)"
)
TREE_LINE = re.compile(r"^(\d+):\s+learn:")
PROGRESS_LINE = "Training: tree "  # fitting._Progress's own progress line
FAILURE_LINE = "Training failed"  # the task says it once, as `error: ...`
SAID_BY_THE_TASK = ("Report: ", "Training complete: ")  # the task's summary names the report and the model


class TrainingLog:
    """A sink for the training's output lines: every line (verbose), or the ones a person needs."""

    def __init__(self, verbose: bool = False, stream=None):
        self.verbose = verbose
        self.stream = stream
        self._status = None

    def line(self, text: str) -> None:
        text = text.rstrip("\n")
        if text.startswith(FAILURE_LINE):
            return
        if self.verbose:
            self._print(text)
            return
        if text.startswith((LINE_PREFIX, stage_timer.LINE_PREFIX, *SAID_BY_THE_TASK)) or not text.strip():
            return
        tree = TREE_LINE.match(text)
        if tree or text.startswith(PROGRESS_LINE):
            if _on_a_terminal():
                self._progress(f"Training: tree {tree.group(1)}" if tree else text.split(",")[0])
            elif not tree:  # in a log file: the line every 15 s, not one per 100 trees
                self._print(text)
            return
        if CATBOOST_LINE.match(text):
            return
        self._print(text)

    def close(self) -> None:
        if self._status is not None:
            self._status.close()
            self._status = None

    def _progress(self, description: str) -> None:
        from releaseml.common import progress

        if self._status is None:
            self._status = progress.status_line(description)
        self._status.set_description_str(description, refresh=True)

    def _print(self, text: str) -> None:
        self.close()  # the progress line ends before the next line of narration
        print(text, file=self.stream or sys.stdout, flush=True)


def _on_a_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
