"""The machine's cores, shared by every CatBoost call of a server's worker processes.

A large request's prediction may run on several CatBoost threads. Each worker is a process with its
own CatBoost, so the workers cannot see each other's threads: two workers each asking for every
core ran four threads on two cores that waited on each other (10,000-row bodies at 52% of CatBoost's
in-process rate with two workers, 88% with one). A fixed share (cores // workers) avoids that, but
the kernel spreads connections over the workers unevenly (four connections all on one worker, seen
in 3 runs of 5), and then the other worker's core sits idle while the busy one predicts on one
thread. So the share is decided per call, from a count of the large predictions running in all
workers at that moment (shared memory, made before the workers are forked): a call alone gets every
core, two at once get half each. A call keeps the threads it was given, so for a moment the threads
may exceed the cores by the calls that started before it; never by more.
"""

from __future__ import annotations

import multiprocessing
from contextlib import contextmanager
from typing import Iterator


class CoreBudget:
    def __init__(self, cores: int):
        self.cores = max(1, cores)
        self._running = multiprocessing.Value("i", 0)  # large predictions in progress, in every worker

    @contextmanager
    def threads(self) -> Iterator[int]:
        """The threads one large prediction may use, held while it runs."""
        with self._running.get_lock():
            self._running.value += 1
            share = max(1, self.cores // self._running.value)
        try:
            yield share
        finally:
            with self._running.get_lock():
                self._running.value -= 1
