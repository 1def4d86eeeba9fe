"""`serve` with several worker processes (RELEASEML_WORKERS): one port, every core, one supervisor.

A real server on a loopback port: the workers are the supervisor's children (read from /proc),
a worker that dies is replaced while the port keeps answering, batch transform is told to send as
many requests at once as there are workers, and mistakes in the setting get one clear line.
"""

from __future__ import annotations

import os
import signal
import socket
import time

import requests

from helpers import Server, free_port, run_task
from releaseml.common import environment
from releaseml.data.schema import typed_row
from releaseml.model import bundle

ROW = b"Dream,46.7,17.9,195,3300,female\n"  # the species model of conftest drops year


def workers_of(pid: int) -> list[int]:
    text = open(f"/proc/{pid}/task/{pid}/children").read()
    return [int(child) for child in text.split()]


def predict(server: Server) -> requests.Response:
    return requests.post(f"{server.url}/invocations", data=ROW, headers={"Content-Type": "text/csv"}, timeout=30)


def test_three_workers_share_the_port_and_a_dead_one_is_replaced(species_model):
    server = Server(species_model.root, RELEASEML_WORKERS="3")
    try:
        children = workers_of(server.process.pid)
        assert len(children) == 3
        assert requests.get(f"{server.url}/execution-parameters", timeout=10).json()["MaxConcurrentTransforms"] == 3
        model = bundle.load(species_model.model_dir)
        expected = model.predict([typed_row(ROW.decode().strip().split(","), model.schema, 1)]).labels(model.schema.classes)[0]
        answers = {predict(server).text for _ in range(30)}  # whichever worker answers, the same answer
        assert len(answers) == 1 and next(iter(answers)).startswith(f"{expected},")
        os.kill(children[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (children[0] in workers_of(server.process.pid) or len(workers_of(server.process.pid)) < 3):
            time.sleep(0.1)
        replaced = workers_of(server.process.pid)
        assert len(replaced) == 3 and children[0] not in replaced
        assert all(predict(server).status_code == 200 for _ in range(10))
    finally:
        assert server.stop() == 0
    output = server.process.stdout.read()
    assert "3 worker processes x 4 threads" in output and "stopped unasked (signal SIGKILL); starting another" in output
    assert f"sharing {environment.cpu_count()} cores for CatBoost" in output
    assert "Server stopped." in output
    assert not any(os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z" for pid in replaced)


def test_a_killed_supervisor_takes_its_workers_with_it(species_model):
    server = Server(species_model.root, RELEASEML_WORKERS="2")
    children = workers_of(server.process.pid)
    server.process.kill()
    server.process.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in children):
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in children)  # the port is not held by orphans
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", server.port))


def test_worker_setting_mistakes(species_model, tmp_path):
    env = {"RELEASEML_ML_ROOT": str(species_model.root), "RELEASEML_HOST": "127.0.0.1", "SAGEMAKER_BIND_TO_PORT": str(free_port())}
    zero = run_task(
        "serve-local",
        "--engine",
        "process",
        "--ml-root",
        str(species_model.root),
        cwd=tmp_path,
        env={**env, "RELEASEML_WORKERS": "0"},
        timeout=60,
    )
    assert zero.returncode == 1 and "RELEASEML_WORKERS='0' must be at least 1" in zero.stdout + zero.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_task(
            "serve-local",
            "--engine",
            "process",
            "--port",
            str(port),
            "--ml-root",
            str(species_model.root),
            cwd=tmp_path,
            env={**env, "RELEASEML_WORKERS": "2"},
            timeout=60,
        )
    assert busy.returncode == 1 and f"port {port} is already in use by another program" in busy.stdout + busy.stderr
    assert "Traceback" not in busy.stdout + busy.stderr


def test_a_second_server_on_the_same_port_is_refused_not_merged(species_model):
    """SO_REUSEPORT would let a second `serve` of the same user share the port silently: it is refused."""
    import subprocess
    import sys

    first = Server(species_model.root, RELEASEML_WORKERS="2")
    try:
        env = {**os.environ, "RELEASEML_ML_ROOT": str(species_model.root), "RELEASEML_HOST": "127.0.0.1"}
        second = subprocess.run(
            [sys.executable, "-m", "releaseml", "serve"],
            env={**env, "SAGEMAKER_BIND_TO_PORT": str(first.port), "RELEASEML_WORKERS": "2"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1 and f"port {first.port} is already in use by another program" in second.stderr
    finally:
        first.stop()


SLOW_START = """
import sys, time
from pathlib import Path
from releaseml.serving import server
from releaseml.common.layout import MLPaths
listening = server._reuse_port_socket
def slowly(*args):  # each worker takes a second to open its socket: the window a stop could fall into
    print("worker starting", flush=True)
    time.sleep(1.0)
    return listening(*args)
server._reuse_port_socket = slowly
server.run(MLPaths(Path(sys.argv[1])))
"""


def test_a_stop_while_the_workers_start_stops_them_at_once(species_model):
    """A worker that got SIGTERM before it served ran the supervisor's handler (copied by the fork),
    ignored it and served on until the supervisor killed it, 25 s later: `serve-local` stopped with
    Ctrl-C just after its start took that long."""
    import subprocess
    import sys

    port = free_port()
    env = {**os.environ, "RELEASEML_WORKERS": "2", "RELEASEML_HOST": "127.0.0.1", "SAGEMAKER_BIND_TO_PORT": str(port)}
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SLOW_START, str(species_model.root)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while len(workers_of(supervisor.pid)) < 2 and supervisor.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # the model loads, then both workers are forked and take a second each to open their sockets
        workers = workers_of(supervisor.pid)
        assert len(workers) == 2, supervisor.stdout.read() if supervisor.poll() is not None else workers
        supervisor.send_signal(signal.SIGTERM)
        began = time.monotonic()
        assert supervisor.wait(timeout=20) == 0
        assert time.monotonic() - began < 8, "the workers served on after the stop"
        assert not [
            pid for pid in workers if os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] != "Z"
        ]
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        supervisor.stdout.close()
