"""Concurrent small requests share CatBoost calls, and each still gets exactly its own answer."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from helpers import Server
from releaseml.data.schema import model_frame
from releaseml.model import bundle
from releaseml.serving.coalescing import Coalescer

FEATURES = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]


@pytest.fixture(scope="module")
def model(species_model):
    return bundle.load(species_model.model_dir)


@pytest.fixture(scope="module")
def requests_rows(model, penguins):
    """12 requests of 1 to 4 different penguins each, typed as the server types them."""
    typed = model_frame(penguins[FEATURES], model.schema).to_numpy(dtype=object).tolist()
    sizes = [1, 2, 1, 4, 1, 3, 1, 1, 2, 1, 4, 1]
    starts = np.cumsum([0, *sizes])
    return [typed[start : start + size] for start, size in zip(starts, sizes)]


class HeldFirstCall:
    """The model's own predict, with its first call held until `waiting` requests queue behind it.

    That makes the overlap that load makes by chance certain, so the test is about combining.
    """

    def __init__(self, model, waiting):
        self.model, self.waiting = model, waiting
        self.coalescer = None  # the one whose queue is watched, set once it exists
        self.calls = []
        self._first = True

    def __call__(self, rows):
        if self._first:
            self._first = False
            while len(self.coalescer._waiting) < self.waiting:
                threading.Event().wait(0.005)
        self.calls.append(len(rows))
        return self.model.predict(rows)


def held_coalescer(model, requests, max_rows, predict=None):
    """A Coalescer over `predict` (default: the model's, held) whose first call waits for the others."""
    held = HeldFirstCall(model, waiting=len(requests) - 1)
    held.coalescer = Coalescer(predict(held) if predict else held, max_rows=max_rows)
    return held.coalescer, held


def all_at_once(function, requests):
    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(function, requests))


def test_requests_that_wait_together_are_predicted_in_one_call_each_with_its_own_rows(model, requests_rows):
    coalescer, predict = held_coalescer(model, requests_rows, max_rows=64)
    answers = all_at_once(coalescer, requests_rows)
    # the first request alone, then the 11 that queued behind it in one call
    assert len(predict.calls) == 2 and sum(predict.calls) == sum(map(len, requests_rows)), predict.calls
    for rows, answer in zip(requests_rows, answers):
        alone = model.predict(rows)
        assert answer.probabilities.shape == alone.probabilities.shape
        np.testing.assert_array_equal(answer.probabilities, alone.probabilities)


def test_a_combined_call_holds_at_most_max_rows_unless_one_request_is_larger(model, requests_rows):
    coalescer, predict = held_coalescer(model, requests_rows, max_rows=5)
    answers = all_at_once(coalescer, requests_rows)
    assert all(size <= 5 for size in predict.calls), predict.calls
    assert sum(predict.calls) == sum(map(len, requests_rows))  # every row predicted once
    for rows, answer in zip(requests_rows, answers):
        np.testing.assert_array_equal(answer.probabilities, model.predict(rows).probabilities)
    big = [row for rows in requests_rows for row in rows]
    np.testing.assert_array_equal(coalescer(big).probabilities, model.predict(big).probabilities)


def test_a_failing_request_fails_alone_and_the_others_are_answered(model, requests_rows):
    bad = [["Atlantis", *requests_rows[3][0][1:]]]
    batch = [*requests_rows[:5], bad, *requests_rows[5:]]

    def refusing_atlantis(held):
        def predict(rows):
            if any(row[0] == "Atlantis" for row in rows):
                raise ValueError("no such island")
            return held(rows)

        return predict

    coalescer, _ = held_coalescer(model, batch, max_rows=64, predict=refusing_atlantis)

    def call(rows):
        try:
            return coalescer(rows)
        except ValueError as exc:
            return exc

    answers = all_at_once(call, batch)
    assert isinstance(answers[5], ValueError)
    for rows, answer in zip(batch[:5] + batch[6:], answers[:5] + answers[6:]):
        np.testing.assert_array_equal(answer.probabilities, model.predict(rows).probabilities)


def test_an_idle_server_predicts_at_once_in_the_callers_thread(model, requests_rows):
    threads = []

    def predict(rows):
        threads.append(threading.current_thread())
        return model.predict(rows)

    coalescer = Coalescer(predict)
    for rows in requests_rows[:3]:
        np.testing.assert_array_equal(coalescer(rows).probabilities, model.predict(rows).probabilities)
    assert threads == [threading.current_thread()] * 3


def test_concurrent_clients_of_the_real_server_each_get_their_own_rows(species_server, model, requests_rows, penguins):
    """Many connections at once (the server has 4 threads), different rows each: answers as if alone."""
    frame = penguins[FEATURES]
    bodies = [frame.iloc[i : i + 1 + i % 3].to_csv(index=False, header=False) for i in range(0, 300, 3)]

    def post(body):
        response = requests.post(f"{species_server.url}/invocations", data=body, headers={"Content-Type": "text/csv"}, timeout=30)
        assert response.status_code == 200, response.text
        return response.text

    sequential = [post(body) for body in bodies]
    with ThreadPoolExecutor(16) as pool:
        for _ in range(3):
            assert list(pool.map(post, bodies)) == sequential


def test_requests_waiting_for_a_thread_are_logged_once_a_minute_not_once_each(species_model, penguins):
    """waitress's own warning comes per queued request; under load that floods the log."""
    server = Server(species_model.root, RELEASEML_THREADS="1", RELEASEML_WORKERS="1")
    body = penguins[FEATURES].iloc[:40].to_csv(index=False, header=False)
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(
                    lambda _: (
                        requests.post(f"{server.url}/invocations", data=body, headers={"Content-Type": "text/csv"}, timeout=30).status_code
                    ),
                    range(200),
                )
            )
    finally:
        server.stop()
    log = server.process.stdout.read()
    assert statuses == [200] * 200
    assert "Task queue depth" not in log
    summaries = [line for line in log.splitlines() if "requests waited for a free thread" in line]
    assert len(summaries) == 1, log[-2000:]
    assert "RELEASEML_WORKERS or RELEASEML_THREADS" in summaries[0]
