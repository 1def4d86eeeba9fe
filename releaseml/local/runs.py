"""Runs kept, not overwritten: each local training is a new ML root in the project's run store.

    PROJECT/.releaseml/runs/<id>/     an /opt/ml layout (input/, model/, output/), as SageMaker's
    PROJECT/.releaseml/runs/<id>/run.json   what the run was: when, its config, its data's
                                            fingerprint, its status, metrics and failure

Ids sort by time (`20261204-191502-3fa2`). `latest` is the newest run that succeeded: it is worked
out from the runs themselves, never written, so two trainings at once cannot corrupt it; each
creates its own folder (an atomic mkdir) and writes only its own run.json (an atomic rename).
A run whose process died before it finished is shown as failed. The tasks, the Python API and
`score` resolve `latest` or an id (or a unique start or end of one) here.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from releaseml.common.errors import UserError
from releaseml.common.layout import MLPaths
from releaseml.config import hyperparameters
from releaseml.local import project

RUNS_DIR = "runs"
RUN_FILE = "run.json"
LATEST = "latest"
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


@dataclass(frozen=True)
class Run:
    """One run: its folder (an ML root) and what run.json says of it."""

    id: str
    path: Path
    info: dict[str, Any]

    @property
    def paths(self) -> MLPaths:
        return MLPaths(self.path)

    @property
    def model_dir(self) -> Path:
        return self.paths.model_dir

    @property
    def status(self) -> str:
        status = self.info.get("status", FAILED)
        return FAILED if status == RUNNING and not _alive(self.info.get("pid")) else status

    @property
    def created(self) -> str:
        return self.info.get("created", "")

    @property
    def metrics(self) -> dict[str, Any]:
        return self.info.get("metrics", {})

    @property
    def config(self) -> dict[str, Any]:
        return self.info.get("config", {})

    def main_metric(self) -> tuple[str, float] | None:
        """The task's first validation metric (what early stopping watches), e.g. ('logloss', 0.12)."""
        validation = self.metrics.get("validation", {})
        return next(iter(validation.items()), None)

    def summary(self) -> dict[str, Any]:
        """What `runs --json` prints for the run."""
        report = self.paths.report
        return {
            "id": self.id,
            "created": self.created,
            "status": self.status,
            "task": self.info.get("task"),
            "target": self.info.get("target") or self.config.get("target"),
            "rows": self.info.get("rows"),
            "metrics": self.metrics,
            "model": str(self.model_dir),
            "report": str(report) if report.exists() else None,
            "config_file": self.info.get("config_file"),
            "data": self.info.get("data"),
            "failure": self.info.get("failure"),
        }


class RunStore:
    """The runs of one project, in `PROJECT/.releaseml/runs/`."""

    def __init__(self, project_dir: Path):
        self.root = project_dir / project.OUTPUT_DIR / RUNS_DIR

    @classmethod
    def of_config(cls, config: Path) -> "RunStore":
        return cls(project.project_dir(config))

    def create(self, config_file: Path, config: dict[str, Any], data: Iterable[Path]) -> Run:
        """A new run folder, marked running, with the config and the data's fingerprint."""
        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
            try:
                (self.root / run_id).mkdir()
                break
            except FileExistsError:  # another training started in the same second with the same suffix
                continue
        info = {
            "id": run_id,
            "created": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
            "status": RUNNING,
            "started": time.time(),  # orders runs made in the same second (ids sort by the second only)
            "pid": os.getpid(),
            "config_file": str(config_file.resolve()),
            "config": config,
            "data": fingerprint(data),
        }
        run = Run(run_id, self.root / run_id, info)
        _write(run)
        return run

    def finish(self, run: Run, exit_code: int, metrics: dict[str, Any], failure: str | None) -> Run:
        """Mark the run succeeded or failed, with what the model's schema.json says of it."""
        details = _schema_details(run.paths.schema_file) if exit_code == 0 else {}
        info = {**run.info, **details, "status": SUCCEEDED if exit_code == 0 else FAILED, "metrics": metrics}
        info.pop("pid", None)
        if failure:
            info["failure"] = failure
        finished = Run(run.id, run.path, info)
        _write(finished)
        return finished

    def all(self) -> list[Run]:
        """Every run, oldest first."""
        if not self.root.is_dir():
            return []
        runs = []
        for folder in sorted(self.root.iterdir()):
            info = _read(folder / RUN_FILE)
            if info is not None:
                runs.append(Run(folder.name, folder, info))
        return sorted(runs, key=lambda run: (run.id[:15], run.info.get("started", 0), run.id))

    def latest(self) -> Run | None:
        """The newest run that succeeded."""
        return next((run for run in reversed(self.all()) if run.status == SUCCEEDED), None)

    def resolve(self, ref: str | None = None) -> Run:
        """`latest` (the default), an id, a unique start of one, or a unique end (the id's last part, since
        a day's runs share their start); a UserError lists the known runs."""
        ref = (ref or LATEST).strip()
        runs = self.all()
        if ref == LATEST:
            run = self.latest()
            if run is None:
                raise UserError(_no_run_message(runs, self.root))
            return run
        matches = (
            [run for run in runs if run.id == ref]
            or [run for run in runs if run.id.startswith(ref)]
            or [run for run in runs if run.id.endswith(ref)]
        )
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(run.id for run in runs[-10:]) or "none yet"
        if matches:
            raise UserError(f"run id {ref!r} matches {len(matches)} runs ({', '.join(r.id for r in matches[:5])}): give more of the id")
        raise UserError(f"no run {ref!r} in {self.root}; known runs: {known} (`releaseml runs` lists them)")


def changes(before: Run | None, after: Run) -> list[str]:
    """What changed from one run to the next: config keys (flattened) and the data, in words."""
    if before is None:
        return ["first run"]
    old, new = _flat(before.config), _flat(after.config)
    said = [
        f"{key} {old.get(key, '(unset)')} -> {new.get(key, '(unset)')}"
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]
    if (before.info.get("data") or {}).get("sha256") != (after.info.get("data") or {}).get("sha256"):
        said.append("data changed")
    return said or ["nothing"]


def fingerprint(files: Iterable[Path]) -> dict[str, Any]:
    """The data's files, bytes and one SHA-256 over their names and contents: the same data, the same digest."""
    digest = hashlib.sha256()
    listed, total = [], 0
    for file in sorted({Path(f).resolve() for f in files}):
        digest.update(file.name.encode() + b"\0")
        with open(file, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        listed.append(str(file))
        total += file.stat().st_size
    return {"files": listed, "bytes": total, "sha256": digest.hexdigest()}


def _flat(config: dict[str, Any]) -> dict[str, str]:
    return hyperparameters.flatten(config) if config else {}


def _no_run_message(runs: list[Run], root: Path) -> str:
    if runs:
        return (
            f"no run in {root} has succeeded yet ({len(runs)} failed; the last said: {runs[-1].info.get('failure') or 'nothing'}): "
            "fix that, then `releaseml train-local`"
        )
    return "no trained model yet in this project: train one with `releaseml train-local`"


def _schema_details(schema_file: Path) -> dict[str, Any]:
    info = _read(schema_file) or {}
    return {key: info[key] for key in ("task", "target", "rows", "classes") if key in info}


def _write(run: Run) -> None:
    """run.json replaced whole (written beside, then renamed), so a reader never sees half of it."""
    target = run.path / RUN_FILE
    temporary = target.with_name(f".{RUN_FILE}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(run.info, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temporary, target)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def resolve_root(run: str | None, ml_root: str | Path | None, config: str | Path | None = None) -> Path:
    """The ML root a task works on: `--ml-root` as given, else the project's run (`--run`, default latest)."""
    if ml_root:
        if run:
            raise UserError("give --run or --ml-root, not both: --run picks a run of this project, --ml-root any /opt/ml folder")
        return Path(ml_root)
    return RunStore.of_config(project.config_path(config)).resolve(run).path
