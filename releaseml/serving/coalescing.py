"""Concurrent small requests predicted together: one CatBoost call for the rows of many requests.

A CatBoost call costs about the same for 1 row as for 16 (building the Pool and starting the
apply dominate; measured ~95 us either way), and it releases the GIL while it runs. So while one
request's rows are being predicted, the requests that arrive meanwhile queue their rows, and the
next of them predicts all queued rows in one call. An idle server adds no wait: a request that
finds nothing running predicts at once (this is "flat combining", not a batching window).

Each request gets back exactly its own rows' predictions, in its order. If a combined call
fails, each request's rows are predicted again alone, so one request's trouble stays its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from releaseml.model.bundle import Prediction

Rows = list[list[Any]]


@dataclass
class _Request:
    rows: Rows
    done: bool = False
    result: Prediction | None = None
    error: BaseException | None = None


@dataclass
class Coalescer:
    """Predicts lists of typed rows with `predict`, combining requests that wait at the same time.

    `max_rows` bounds one combined call (CatBoost's cost starts to grow with rows beyond it).
    """

    predict: Callable[[Rows], Prediction]
    max_rows: int = 64
    _condition: threading.Condition = field(default_factory=threading.Condition, init=False)
    _waiting: list[_Request] = field(default_factory=list, init=False)
    _busy: bool = field(default=False, init=False)

    def __call__(self, rows: Rows) -> Prediction:
        request = _Request(rows)
        with self._condition:
            self._waiting.append(request)
        while True:
            with self._condition:
                while self._busy and not request.done:
                    self._condition.wait()
                if request.done:
                    break
                self._busy = True  # nothing running: this thread predicts what waits, oldest first
                batch = self._take()
            self._run(batch)
        if request.error is not None:
            raise request.error
        return request.result

    def _take(self) -> list[_Request]:
        """The waiting requests, oldest first, up to `max_rows` rows (always at least one request)."""
        taken, rows = 0, 0
        for request in self._waiting:
            if taken and rows + len(request.rows) > self.max_rows:
                break
            taken += 1
            rows += len(request.rows)
        batch, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return batch

    def _run(self, batch: list[_Request]) -> None:
        try:
            if len(batch) == 1:
                _settle(batch[0], self.predict)
            else:
                _settle_together(batch, self.predict)
        finally:
            with self._condition:
                for request in batch:
                    request.done = True
                self._busy = False
                self._condition.notify_all()


def _settle(request: _Request, predict: Callable[[Rows], Prediction]) -> None:
    try:
        request.result = predict(request.rows)
    except BaseException as exc:  # handed to the request's own thread, which raises it
        request.error = exc


def _settle_together(batch: list[_Request], predict: Callable[[Rows], Prediction]) -> None:
    try:
        combined = predict([row for request in batch for row in request.rows])
    except Exception:  # predict each alone, so the error lands on the request that caused it
        for request in batch:
            _settle(request, predict)
        return
    start = 0
    for request in batch:
        end = start + len(request.rows)
        request.result = _slice(combined, start, end)
        start = end


def _slice(prediction: Prediction, start: int, end: int) -> Prediction:
    return prediction.rows(start, end)
