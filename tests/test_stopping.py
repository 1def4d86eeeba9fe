"""SIGTERM (docker stop, SageMaker scaling in) stops the server without cutting answers short.

Requests already received, or being received, are answered in full; new connections are refused;
then the process exits. A real server process on a loopback port, real signals, raw HTTP so that
a body shorter than its Content-Length cannot hide. Each test runs with one server process and
with two worker processes under a supervisor (RELEASEML_WORKERS).
"""

import http.client
import signal
import socket
import threading
import time

import pytest

from helpers import Server

ROW = b"Dream,46.7,17.9,195,3300,female\n"


def raw_post(port: int, body: bytes, sent: threading.Event | None = None) -> tuple[int, bytes, int]:
    """(status, body, Content-Length) read to the end; IncompleteRead propagates."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
    if sent is not None:
        sent.set()
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data, int(response.getheader("Content-Length"))


@pytest.fixture(params=["1", "2"], ids=["one process", "two worker processes"])
def server(species_model, request):
    started = Server(species_model.root, RELEASEML_WORKERS=request.param)
    yield started
    started.stop()


def test_a_large_request_in_progress_is_answered_in_full_before_the_server_stops(server):
    """A 60 MB request once got a 200 with 3.9 MB of its answer when SIGTERM came."""
    rows = 600_000
    body = ROW * rows  # about 19 MB: a second or more of work
    results, sent = [], threading.Event()
    worker = threading.Thread(target=lambda: results.append(raw_post(server.port, body, sent)))
    worker.start()
    assert sent.wait(60)
    time.sleep(0.2)  # the body is with the server, which is working on it
    server.process.send_signal(signal.SIGTERM)
    worker.join(120)
    status, answer, length = results[0]
    assert status == 200 and len(answer) == length and answer.count(b"\n") == rows - 1
    assert server.process.wait(30) == 0
    assert "Server stopped." in server.process.stdout.read()


def test_every_request_received_before_sigterm_is_answered_and_new_ones_are_refused(server):
    """Under load, 4 to 5 of 8 fully received requests were once reset."""
    body = ROW * 60_000
    results, sent = [], [threading.Event() for _ in range(8)]
    workers = [threading.Thread(target=lambda e=e: results.append(raw_post(server.port, body, e))) for e in sent]
    for worker in workers:
        worker.start()
    assert all(event.wait(60) for event in sent)
    time.sleep(0.2)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    with pytest.raises(OSError):  # the port no longer accepts
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        raw_post(server.port, ROW)
    for worker in workers:
        worker.join(120)
    assert len(results) == 8
    assert all(status == 200 and len(answer) == length and answer.count(b"\n") == 60_000 - 1 for status, answer, length in results)
    assert server.process.wait(30) == 0


def test_an_idle_keep_alive_connection_does_not_hold_up_the_stop(server):
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    idle.request("GET", "/ping")
    assert idle.getresponse().read() == b'{"status":"ok"}'  # the connection stays open, idle
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(10) == 0 and time.monotonic() - started < 5
