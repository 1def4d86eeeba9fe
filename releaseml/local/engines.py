"""Where the container's `train` and `serve` run locally: a plain process, or (later) a Docker engine.

Both see the same /opt/ml layout, so a model trained by one serves from the other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, Protocol

from releaseml.common import defaults, environment
from releaseml.common.errors import UserError
from releaseml.common.layout import ML_ROOT_ENV, MLPaths

if TYPE_CHECKING:
    from releaseml.local.training_log import TrainingLog

PORT_ENV = environment.PORT.name
HOST_ENV = environment.HOST.name
LOCAL_HOST = defaults.LOCAL_HOST
ENGINE_NAMES = ("auto", "docker", "process")


class Engine(Protocol):
    name: str

    def train(self, paths: MLPaths, log: "TrainingLog | None" = None) -> int: ...

    def serve(self, paths: MLPaths, port: int, host: str = LOCAL_HOST) -> int: ...

    def start_serving(self, paths: MLPaths, port: int, host: str = LOCAL_HOST) -> subprocess.Popen | "ContainerProcess": ...


class ProcessEngine:
    """Runs the entry points as a child Python process with RELEASEML_ML_ROOT set: no Docker needed."""

    name = "process"

    def train(self, paths: MLPaths, log: "TrainingLog | None" = None) -> int:
        if log is None:
            child = subprocess.Popen(self._command("train"), env=self._env(paths), stdout=_current_stdout(), preexec_fn=_ends_with_us)
            return _wait_in_foreground(child)
        child = subprocess.Popen(
            self._command("train"),
            env=self._env(paths),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            preexec_fn=_ends_with_us,
        )
        return _wait_in_foreground(child, lambda: _pump(child.stdout, log))

    def serve(self, paths: MLPaths, port: int, host: str = LOCAL_HOST) -> int:
        return _wait_in_foreground(self.start_serving(paths, port, host))

    def start_serving(self, paths: MLPaths, port: int, host: str = LOCAL_HOST) -> subprocess.Popen:
        """Start `serve` in the background; the caller stops it (SIGTERM)."""
        env = {**self._env(paths), PORT_ENV: str(port), HOST_ENV: host}
        return subprocess.Popen(self._command("serve"), env=env, preexec_fn=_ends_with_us)

    @staticmethod
    def _command(entry_point: str) -> list[str]:
        return [sys.executable, "-m", "releaseml", entry_point]

    @staticmethod
    def _env(paths: MLPaths) -> dict[str, str]:
        return {**os.environ, ML_ROOT_ENV: str(paths.root.resolve()), "PYTHONUNBUFFERED": "1"}


class DockerEngine:
    """Runs the image as SageMaker does: `docker run IMAGE train|serve`, the ML root mounted at /opt/ml."""

    name = "docker"

    def __init__(self, image: str, client=None):
        from releaseml.image.build import docker_client, image_exists

        self.image = image
        self.client = client or docker_client("start Docker, or use --engine process")
        if not image_exists(self.client, image):  # else `docker run` would try to pull it from a public registry
            raise UserError(f"no local image {image!r}: build it first with `releaseml build` (or pass --image NAME, or --engine process)")

    def train(self, paths: MLPaths, log: "TrainingLog | None" = None) -> int:
        return _wait_in_foreground(self._start("train", paths, {}, log))

    def serve(self, paths: MLPaths, port: int, host: str = LOCAL_HOST) -> int:
        return _wait_in_foreground(self.start_serving(paths, port, host))

    def start_serving(self, paths: MLPaths, port: int, host: str = LOCAL_HOST) -> "ContainerProcess":
        """The container listens on 0.0.0.0 as SageMaker needs; the published port only on `host`."""
        return self._start("serve", paths, {"8080/tcp": (host, port)})

    def _start(self, entry_point: str, paths: MLPaths, ports: dict, log: "TrainingLog | None" = None) -> "ContainerProcess":
        import docker.errors

        paths.root.mkdir(parents=True, exist_ok=True)
        try:
            container = self.client.containers.run(
                self.image,
                entry_point,
                detach=True,
                init=True,  # signals reach the entry point, and it stops promptly
                volumes={str(paths.root.resolve()): {"bind": "/opt/ml", "mode": "rw"}},
                ports=ports,
            )
        except docker.errors.ImageNotFound:
            raise UserError(f"no image {self.image!r}: build it first with `releaseml build`") from None
        except docker.errors.APIError as exc:
            explanation = str(exc.explanation or exc)
            if "port is already allocated" in explanation or "address already in use" in explanation:
                port = next(iter(ports.values()))[1] if ports else "?"
                raise UserError(f"port {port} is already in use by another program: stop it, or pass --port with a free port") from None
            raise UserError(f"Docker could not start the container: {explanation}") from None
        return ContainerProcess(container, log)


class ContainerProcess:
    """A running container with the parts of subprocess.Popen's interface the engines use; logs stream to stdout."""

    def __init__(self, container, log: "TrainingLog | None" = None):
        import threading

        self.container = container
        self.returncode = None
        self._log = log
        self._logs = threading.Thread(target=self._stream_logs, daemon=True)
        self._logs.start()

    def _stream_logs(self) -> None:
        chunks = (chunk.decode("utf-8", "replace") for chunk in self.container.logs(stream=True, follow=True))
        if self._log is not None:
            _pump(_lines(chunks), self._log)
            return
        for text in chunks:
            sys.stdout.write(text)
            sys.stdout.flush()

    def poll(self):
        if self.returncode is None:
            self.container.reload()
            if self.container.status in ("exited", "dead"):
                self.returncode = self.container.attrs["State"]["ExitCode"]
        return self.returncode

    def wait(self, timeout=None) -> int:
        import requests

        try:
            self.returncode = self.container.wait(timeout=timeout)["StatusCode"]
        except requests.exceptions.RequestException:  # the SDK's way of saying the wait timed out
            raise subprocess.TimeoutExpired("docker wait", timeout) from None
        self._logs.join(timeout=5)
        self.container.remove(force=True)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        self.container.kill(signal=signum)

    def kill(self) -> None:
        self.container.kill()


def check_name(name) -> None:
    if isinstance(name, str) and name not in ENGINE_NAMES:
        raise UserError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


def choose(name: str, image: str | None = None) -> tuple[Engine, str]:
    """The engine for a name, and a sentence saying why it was picked."""
    from releaseml.image.build import DEFAULT_IMAGE, docker_client, image_exists

    check_name(name)
    image = image or DEFAULT_IMAGE
    if name == "process":
        return ProcessEngine(), "Engine: process (as asked)."
    if name == "docker":
        return DockerEngine(image), f"Engine: docker, image {image} (as asked)."
    try:
        client = docker_client()
    except UserError:
        return ProcessEngine(), "Engine: process (auto: no Docker engine answers)."
    if not image_exists(client, image):
        return (
            ProcessEngine(),
            f"Engine: process (auto: a Docker engine answers, but there is no image {image}; `releaseml build` makes it).",
        )
    return DockerEngine(image, client), f"Engine: docker, image {image} (auto: a Docker engine answers)."


def _current_stdout():
    """Where the child's output goes: sys.stdout as tasks may have redirected it (--json sends logs to stderr)."""
    try:
        return None if sys.stdout is sys.__stdout__ else sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a stream with no file behind it (pytest's capture)
        return None


def _ends_with_us() -> None:
    """In the child, before exec (Linux): SIGTERM when the task that started it dies, even by SIGKILL,
    so a server (which then drains and stops its workers) or a training never outlives its task."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _Stopped(Exception):
    """SIGTERM or SIGHUP reached the task: its child goes with it."""


def _wait_in_foreground(child: subprocess.Popen, read=None) -> int:
    """Wait for a child (reading its output first, when `read` does); Ctrl-C, SIGTERM or SIGHUP to the
    task asks the child to stop and waits for it, so no server (nor its workers) is left behind answering."""

    def _raise(signum, frame):
        raise _Stopped(signum)

    previous = {signum: signal.signal(signum, _raise) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        if read is not None:
            read()
        return child.wait()
    except (KeyboardInterrupt, _Stopped):
        return stop(child)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _pump(lines, log: "TrainingLog") -> None:
    try:
        for line in lines:
            log.line(line)
    finally:
        log.close()


def _lines(chunks):
    """Whole lines from chunks of text that may end part-way through one."""
    pending = ""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split("\n")
        yield from complete
    if pending:
        yield pending


def stop(child: subprocess.Popen, timeout: float = 30) -> int:
    """Ask a child to stop with SIGTERM; kill it if it has not stopped within `timeout` seconds."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()
