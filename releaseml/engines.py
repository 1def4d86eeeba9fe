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


class ProcessEngine:
    """Runs the entry points as a child Python process with RELEASEML_ML_ROOT set: no Docker needed."""

    name = "process"

    def train(self, paths: MLPaths) -> int:
        return _run_until_done(self._command("train"), self._env(paths))

    def serve(self, paths: MLPaths, port: int) -> int:
        return _run_until_done(self._command("serve"), {**self._env(paths), PORT_ENV: str(port)})

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


def _run_until_done(command: list[str], env: dict[str, str]) -> int:
    """Run a child in the foreground; Ctrl-C asks it to stop (SIGTERM) and waits for it."""
    child = subprocess.Popen(command, env=env)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.send_signal(signal.SIGTERM)
        try:
            return child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()
