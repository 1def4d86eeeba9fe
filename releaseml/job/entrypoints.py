"""The container's entry points: SageMaker runs `docker run IMAGE train`, `serve`, and `monitor`
(a Processing job that `releaseml monitor --schedule` starts).

All read the /opt/ml layout (root from RELEASEML_ML_ROOT). A failed training run writes its reason
to /opt/ml/output/failure, which SageMaker shows as the job's FailureReason; a monitoring run writes
what happened to /opt/ml/output/message, which SageMaker shows as the Processing job's ExitMessage.
Either exits non-zero when it failed.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from releaseml.common.errors import EXIT_INTERNAL_ERROR, EXIT_USER_ERROR, UserError
from releaseml.common.layout import MLPaths


def train() -> int:
    paths = MLPaths.from_env()
    paths.failure.unlink(missing_ok=True)
    try:
        from releaseml.job import training_job

        training_job.run(paths)
    except UserError as exc:
        return _fail(paths.failure, f"Training failed: {exc}", EXIT_USER_ERROR)
    except Exception as exc:  # anything else is our bug: keep the traceback in the log
        traceback.print_exc()
        return _fail(
            paths.failure,
            f"Training failed with an internal error ({type(exc).__name__}: {exc}). Please report it with the log.",
            EXIT_INTERNAL_ERROR,
        )
    print(f"Training complete: model saved in {paths.model_dir}.")
    return 0


def serve() -> int:
    from releaseml.serving import server

    try:
        server.run(MLPaths.from_env())
    except UserError as exc:
        print(f"Cannot serve: {exc}", file=sys.stderr, flush=True)
        return EXIT_USER_ERROR
    return 0


def monitor() -> int:
    """One monitoring run in SageMaker Processing's layout (`releaseml.job.monitoring_job`)."""
    from releaseml.job import monitoring_job

    paths = monitoring_job.ProcessingPaths.from_env()
    paths.message.unlink(missing_ok=True)
    try:
        out = monitoring_job.run(paths)
    except UserError as exc:
        return _fail(paths.message, f"Monitoring failed: {exc}", EXIT_USER_ERROR)
    except Exception as exc:  # our bug: keep the traceback in the log
        traceback.print_exc()
        return _fail(
            paths.message,
            f"Monitoring failed with an internal error ({type(exc).__name__}: {exc}). Please report it with the log.",
            EXIT_INTERNAL_ERROR,
        )
    print(f"Monitoring complete: {out}.")
    return 0


def _fail(file: Path, reason: str, code: int) -> int:
    """Say why on stderr and in the file SageMaker reads back (FailureReason, ExitMessage), and exit `code`."""
    print(reason, file=sys.stderr, flush=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(reason + "\n", encoding="utf-8")
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    commands = {"train": train, "serve": serve, "monitor": monitor}
    if len(args) != 1 or args[0] not in commands:
        print("usage: python -m releaseml {train|serve|monitor}", file=sys.stderr)
        return 2
    return commands[args[0]]()


def train_command() -> None:
    sys.exit(train())


def serve_command() -> None:
    sys.exit(serve())
