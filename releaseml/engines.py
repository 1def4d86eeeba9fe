"""Where the container's `train` and `serve` run locally: a plain process, or (later) a Docker engine.

Both see the same /opt/ml layout, so a model trained by one serves from the other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Protocol

from releaseml.errors import UserError
from releaseml.layout import ML_ROOT_ENV, MLPaths

PORT_ENV = "SAGEMAKER_BIND_TO_PORT"
ENGINE_NAMES = ("auto", "docker", "process")


class Engine(Protocol):
    name: str

    def train(self, paths: MLPaths) -> int: ...

    def serve(self, paths: MLPaths, port: int) -> int: ...

    def start_serving(self, paths: MLPaths, port: int) -> subprocess.Popen: ...


class ProcessEngine:
    """Runs the entry points as a child Python process with RELEASEML_ML_ROOT set: no Docker needed."""

    name = "process"

    def train(self, paths: MLPaths) -> int:
        return _wait_in_foreground(subprocess.Popen(self._command("train"), env=self._env(paths)))

    def serve(self, paths: MLPaths, port: int) -> int:
        return _wait_in_foreground(self.start_serving(paths, port))

    def start_serving(self, paths: MLPaths, port: int) -> subprocess.Popen:
        """Start `serve` in the background; the caller stops it (SIGTERM)."""
        return subprocess.Popen(self._command("serve"), env={**self._env(paths), PORT_ENV: str(port)})

    @staticmethod
    def _command(entry_point: str) -> list[str]:
        return [sys.executable, "-m", "releaseml", entry_point]

    @staticmethod
    def _env(paths: MLPaths) -> dict[str, str]:
        return {**os.environ, ML_ROOT_ENV: str(paths.root.resolve()), "PYTHONUNBUFFERED": "1"}


def choose(name: str) -> tuple[Engine, str]:
    """The engine for a name, and a sentence saying why it was picked."""
    if name not in ENGINE_NAMES:
        raise UserError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
    if name == "process":
        return ProcessEngine(), "Engine: process (as asked)."
    if name == "docker":
        raise UserError("the docker engine is not available in this version of releaseml yet; use --engine process")
    return ProcessEngine(), "Engine: process (auto: the docker engine is not available in this version)."


def _wait_in_foreground(child: subprocess.Popen) -> int:
    """Wait for a child; Ctrl-C asks it to stop (SIGTERM) and waits for it."""
    try:
        return child.wait()
    except KeyboardInterrupt:
        return stop(child)


def stop(child: subprocess.Popen, timeout: float = 30) -> int:
    """Ask a child to stop with SIGTERM; kill it if it has not stopped within `timeout` seconds."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()
