"""Local runs of the container's jobs: each training a new run in the project's run store
(`local.runs`), or on an ML root the user names (`--ml-root`, test_dir/ in this repository).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from releaseml.common import defaults
from releaseml.common.errors import UserError
from releaseml.common.layout import MLPaths
from releaseml.config import config_file as config_module
from releaseml.config.config_file import Config
from releaseml.data import data_paths
from releaseml.local import engines, runs, staging
from releaseml.local.training_log import TrainingLog
from releaseml.serving import client

DEFAULT_ML_ROOT = Path(defaults.LOCAL_ML_ROOT)


@dataclass
class LocalTrainingRun:
    exit_code: int
    model_dir: Path
    metrics: dict
    failure: Optional[str]
    report: Optional[Path] = None
    run_id: Optional[str] = None  # None when trained on an --ml-root rather than into the run store
    limits: list[str] = field(default_factory=list)  # the report's known limits

    def summary(self) -> dict:
        """What `train-local --json` prints."""
        report = str(self.report) if self.report else None
        return {"run": self.run_id, "model": str(self.model_dir), "report": report, "metrics": self.metrics, "limits": self.limits}


def train(
    config_path: Path,
    data: Optional[Path] = None,
    validation: Optional[Path] = None,
    ml_root: Optional[Path] = None,
    engine: str | engines.Engine = "auto",
    image: Optional[str] = None,
    config: Optional[Config] = None,
    verbose: bool = True,
) -> LocalTrainingRun:
    """Stage config and data like SageMaker would, then run the container's `train`.

    Without `ml_root` the run is a new folder in the project's run store, kept whatever happens;
    `config` (already validated, from the Python API) stands in for reading `config_path`;
    without `verbose`, CatBoost's own lines become one progress line (`training_log`).
    """
    config = config or config_module.load(config_path)
    if ml_root is not None:
        _check_ml_root(ml_root)
    data = data or configured_path(config_path, config.data.training if config.data else None)
    validation = validation or configured_path(config_path, config.data.validation if config.data else None)
    if ml_root is not None:
        return _train_in(MLPaths(ml_root), config, data, validation, engine, image, verbose)
    if data is None:
        raise UserError(f"no training data: set `data:` in {config_path} or pass --data FILE_OR_DIR")
    store = runs.RunStore.of_config(config_path)
    run = store.create(config_path, config.model_dump(mode="json", exclude_unset=True), data_files(data, validation))
    print(f"Run {run.id} (in {store.root})", flush=True)
    outcome = LocalTrainingRun(1, run.model_dir, {}, None, run_id=run.id)
    try:
        outcome = _train_in(run.paths, config, data, validation, engine, image, verbose)
        outcome.run_id = run.id
    except BaseException as exc:  # a mistake, Ctrl-C: the run is kept, marked failed
        outcome.failure = str(exc) or type(exc).__name__
        raise
    finally:
        store.finish(run, outcome.exit_code, outcome.metrics, outcome.failure)
    return outcome


def _check_ml_root(ml_root: Path) -> None:
    """An ML root is a directory this process can make and write: said in one line now, not as a traceback from staging."""
    if ml_root.exists() and not ml_root.is_dir():
        raise UserError(f"--ml-root {str(ml_root)!r} is a file; give a directory (it is created if missing), e.g. --ml-root test_dir")
    action = "written to" if ml_root.is_dir() else "created"
    probe = ml_root / ".releaseml-write-check"
    try:
        ml_root.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"--ml-root {str(ml_root)!r} cannot be {action} ({exc.strerror or exc}); "
            "pass a directory you can write (it is created if missing), e.g. --ml-root test_dir"
        ) from None


def _train_in(paths: MLPaths, config: Config, data, validation, engine, image, verbose: bool) -> LocalTrainingRun:
    staging.stage_training(paths, config, data, validation)
    runner = _runner(engine, image)
    exit_code = runner.train(paths) if verbose else runner.train(paths, TrainingLog())
    return LocalTrainingRun(
        exit_code=exit_code,
        model_dir=paths.model_dir,
        metrics=_read_json(paths.metrics) if exit_code == 0 else {},
        failure=paths.failure.read_text(encoding="utf-8").strip() if paths.failure.exists() else None,
        report=_if_exists(paths.report) if exit_code == 0 else None,
        limits=_read_json(paths.limits) if exit_code == 0 and paths.limits.is_file() else [],
    )


def data_files(*sources: Optional[Path]) -> list[Path]:
    """The files a run trains on, for its fingerprint (a missing path is staging's to report)."""
    files: list[Path] = []
    for source in sources:
        if source is not None and source.is_file():
            files.append(source)
        elif source is not None and source.is_dir():
            files.extend(path for path in data_paths.visible_files(source).values() if path.is_file())
    return files


def serve(
    ml_root: Path, port: int = defaults.PORT, engine: str = "auto", image: Optional[str] = None, host: str = engines.LOCAL_HOST
) -> int:
    """Run the container's `serve` in the foreground until Ctrl-C (or SIGTERM, SIGHUP)."""
    _check_can_serve(ml_root, port, engine)
    return _runner(engine, image).serve(MLPaths(ml_root), port, host)


@contextmanager
def serving(ml_root: Path, port: int = 8080, engine: "str | engines.Engine" = "auto", image: Optional[str] = None) -> Iterator[str]:
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


DEMO_FILES = Path(__file__).resolve().parents[1] / "demo"  # shipped in the package: works from any folder
DEMO_CONFIG = """\
# releaseml demo: predict a penguin's species from its measurements.
# Only `target` is required; `releaseml init` writes a config with every common key explained.
target: species
data: penguins.csv
"""


def demo(folder: Path, port: int = defaults.PORT, engine: str = "auto") -> None:
    """Make (or reuse) a demo project in `folder`, train a run, serve it, predict the test payloads, stop."""
    config_path = make_demo_project(folder)
    runner = _runner(engine, None)  # one choice (and one Docker probe) for both steps
    require_free_port(port)  # before training, so a taken port is said at once
    outcome = train(config_path, engine=runner, verbose=False)
    if outcome.exit_code != 0:
        raise UserError(outcome.failure or f"training exited with code {outcome.exit_code}")
    validation = outcome.metrics.get("validation", {})
    print("\nValidation metrics: " + ", ".join(f"{name} {value:.4g}" for name, value in validation.items()))
    print(f"Training report: {outcome.report} (`releaseml report --open` in {folder} shows it)\n")
    with serving(outcome.model_dir.parent, port, runner) as url:
        for payload in sorted(folder.glob("test.*")):
            print(f"POST {payload} to {url}/invocations:")
            # CSV answers with a header row, so a first look names its columns
            print(client.predict(payload, url=url, accept="text/csv; header=present" if payload.suffix == ".csv" else None))
    print(f"\nThe demo project is {folder}: `cd {folder}` and try `releaseml runs` or `releaseml score penguins.csv`.")


def make_demo_project(folder: Path) -> Path:
    """The packaged demo data and a config in `folder`; files already there are left as they are."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--dir {str(folder)!r} is a file; give a folder for the demo project (it is made if missing)")
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / defaults.CONFIG_FILE
    if not config_path.exists():
        config_path.write_text(DEMO_CONFIG, encoding="utf-8")
    for name in ("penguins.csv", "test.csv", "test.json"):
        if not (folder / name).exists():
            (folder / name).write_bytes((DEMO_FILES / name).read_bytes())
    return config_path


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
        raise UserError(
            f"no trained model in {paths.model_dir} ({', '.join(missing)} missing): train one first with `releaseml train-local`"
        )


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
