"""Test helpers: real data on disk in a real /opt/ml layout, a real server process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from releaseml.common.layout import ML_ROOT_ENV, MLPaths
from releaseml.config import hyperparameters


def make_ml_root(root: Path, config: dict, training=None, validation=None) -> MLPaths:
    """A /opt/ml with hyperparameters.json from `config` and CSV channels from frames (or raw text)."""
    paths = MLPaths(root)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.hyperparameters.write_text(json.dumps(hyperparameters.flatten(config)))
    for name, content in (("training", training), ("validation", validation)):
        if content is None:
            continue
        channel = paths.channel(name)
        channel.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pd.DataFrame):
            content.to_csv(channel / "data.csv", index=False)
        else:
            (channel / "data.csv").write_bytes(content if isinstance(content, bytes) else content.encode())
    return paths


def run_task(*args: str, cwd, env: dict | None = None, drop=(), timeout: float = 300):
    """`invoke TASK ...` run as a user runs it, in `cwd`, with this checkout's tasks.py; output captured."""
    import os
    import subprocess
    import sys

    environment = {**os.environ, **(env or {})}
    for name in drop:
        environment.pop(name, None)
    repo = str(Path(__file__).resolve().parents[1])
    return subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", repo, *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def train_model(root: Path, config: dict, frame: pd.DataFrame) -> MLPaths:
    """Train through the container's entry point (in this process) and return the ML root."""
    import os

    from releaseml.job import entrypoints as container

    paths = make_ml_root(root, config, frame)
    previous = os.environ.get(ML_ROOT_ENV)
    os.environ[ML_ROOT_ENV] = str(root)
    try:
        assert container.train() == 0, paths.failure.read_text() if paths.failure.exists() else "training failed"
    finally:
        os.environ.pop(ML_ROOT_ENV) if previous is None else os.environ.__setitem__(ML_ROOT_ENV, previous)
    return paths


class Server:
    """`python -m releaseml serve` as a real child process on a loopback port."""

    def __init__(self, root: Path, **env: str):
        import os
        import subprocess
        import sys

        from releaseml.serving import client

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "releaseml", "serve"],
            env={**os.environ, ML_ROOT_ENV: str(root), "SAGEMAKER_BIND_TO_PORT": str(self.port), "RELEASEML_HOST": "127.0.0.1", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        client.wait_until_ready(self.url, timeout=60, is_alive=lambda: self.process.poll() is None)

    def stop(self) -> int:
        from releaseml.local import engines

        return engines.stop(self.process, timeout=10)


def flags_frame(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    """A binary target decided by a true/false column, written as `true`/`false` in the CSV file."""
    rng = np.random.default_rng(seed)
    flag = rng.random(rows) < 0.5
    return pd.DataFrame(
        {
            "flag": np.where(flag, "true", "false"),
            "x": rng.random(rows).round(3),
            "colour": rng.choice(["red", "green", "blue"], rows),
            "answer": np.where(flag, "yes", "no"),
        }
    )
