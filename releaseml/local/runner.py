"""Local runs of the container's jobs on a local /opt/ml (test_dir/ by default)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from releaseml.common import defaults
from releaseml.common.errors import UserError
from releaseml.common.layout import MLPaths
from releaseml.config import config_file as config_module
from releaseml.local import engines, staging
from releaseml.serving import client

DEFAULT_ML_ROOT = Path(defaults.LOCAL_ML_ROOT)


@dataclass
class LocalTrainingRun:
    exit_code: int
    model_dir: Path
    metrics: dict
    failure: Optional[str]
    report: Optional[Path] = None

    def summary(self) -> dict:
        """What `train-local --json` prints."""
        return {"model": str(self.model_dir), "report": str(self.report) if self.report else None, "metrics": self.metrics}


def train(
    config_path: Path,
    data: Optional[Path] = None,
    validation: Optional[Path] = None,
    ml_root: Path = DEFAULT_ML_ROOT,
    engine: str | engines.Engine = "auto",
    image: Optional[str] = None,
) -> LocalTrainingRun:
    """Stage config and data like SageMaker would, then run the container's `train`."""
    config = config_module.load(config_path)
    if ml_root.exists() and not ml_root.is_dir():
        raise UserError(f"--ml-root {str(ml_root)!r} is a file; give a directory (it is created if missing), e.g. --ml-root test_dir")
    data = data or configured_path(config_path, config.data.training if config.data else None)
    validation = validation or configured_path(config_path, config.data.validation if config.data else None)
    paths = MLPaths(ml_root)
    staging.stage_training(paths, config, data, validation)
    runner = _runner(engine, image)
    exit_code = runner.train(paths)
    return LocalTrainingRun(
        exit_code=exit_code,
        model_dir=paths.model_dir,
        metrics=_read_json(paths.metrics) if exit_code == 0 else {},
        failure=paths.failure.read_text(encoding="utf-8").strip() if paths.failure.exists() else None,
        report=_if_exists(paths.report) if exit_code == 0 else None,
    )


def serve(ml_root: Path = DEFAULT_ML_ROOT, port: int = defaults.PORT, engine: str = "auto", image: Optional[str] = None) -> int:
    """Run the container's `serve` in the foreground until Ctrl-C."""
    _check_can_serve(ml_root, port, engine)
    return _runner(engine, image).serve(MLPaths(ml_root), port)


@contextmanager
def serving(
    ml_root: Path = DEFAULT_ML_ROOT, port: int = 8080, engine: "str | engines.Engine" = "auto", image: Optional[str] = None
) -> Iterator[str]:
    """A model server in the background for the duration of a `with` block; yields its URL."""
    _check_can_serve(ml_root, port, engine)
    runner = _runner(engine, image)
    child = runner.start_serving(MLPaths(ml_root), port)
    url = f"http://127.0.0.1:{port}"
    try:
        client.wait_until_ready(url, is_alive=lambda: child.poll() is None)
        yield url
    finally:
        engines.stop(child)


def demo(config_path: Path, ml_root: Path = DEFAULT_ML_ROOT, port: int = 8080, engine: str = "auto") -> None:
    """Train on the configured data, serve, and predict the test payloads of the ML root."""
    runner = _runner(engine, None)  # one choice (and one Docker probe) for both steps
    outcome = train(config_path, ml_root=ml_root, engine=runner)
    if outcome.exit_code != 0:
        raise UserError(outcome.failure or f"training exited with code {outcome.exit_code}")
    print(f"\nValidation metrics: {json.dumps(outcome.metrics.get('validation', {}))}")
    print(f"Training report: {outcome.report} (`invoke report --open` shows it)\n")
    payloads = sorted((ml_root / "input" / "data" / "test").glob("test.*"))
    with serving(ml_root, port, runner) as url:
        for payload in payloads:
            print(f"POST {payload} to {url}/invocations:")
            print(client.predict(payload, url=url))


def _runner(engine, image: Optional[str]) -> engines.Engine:
    """An engine: given as one, or chosen by name (saying which and why)."""
    if not isinstance(engine, str):
        return engine
    runner, why = engines.choose(engine, image)
    print(why, flush=True)
    return runner


def require_free_port(port: int) -> None:
    """A UserError if another program listens on the port (on any address of this machine)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT leftovers are no obstacle
        try:
            probe.bind(("0.0.0.0", port))
        except OSError as exc:
            raise UserError(
                f"port {port} is already in use by another program ({exc.strerror}): stop it, or pass --port with a free port"
            ) from None


def _check_can_serve(ml_root: Path, port: int, engine) -> None:
    """Flags, model and port checked before anything starts (a taken port: the readiness check could
    otherwise be answered by another program)."""
    engines.check_name(engine)
    _check_model(ml_root)
    require_free_port(port)


def _check_model(ml_root: Path) -> None:
    paths = MLPaths(ml_root)
    missing = [path.name for path in (paths.model_file, paths.schema_file) if not path.is_file()]
    if missing:
        raise UserError(f"no trained model in {paths.model_dir} ({', '.join(missing)} missing): train one first with `invoke train-local`")


def configured_path(config_path: Path, value: Optional[str]) -> Optional[Path]:
    """A path from the config file, relative to the file's own directory."""
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else config_path.parent / path


def _if_exists(path: Path) -> Optional[Path]:
    return path if path.exists() else None


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
