"""Every environment variable releaseml reads, declared once: name, type, default, meaning.

Code reads a variable through its declaration (`THREADS.get()`), never `os.environ` by name, so a
bad value gets one message naming the variable, and the README's table is made from this list
(`tests/test_environment.py` checks that it is). Like mlflow's `environment_variables.py`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Union

from releaseml.common.errors import UserError

Default = Union[Any, Callable[[], Any]]


@dataclass(frozen=True)
class Variable:
    name: str
    kind: str  # "int", "port", "float", "text", "flag"
    default: Default
    doc: str
    minimum: float = 1
    shown_default: str = ""  # for the README when the default is computed

    def get(self, env: Mapping[str, str] | None = None) -> Any:
        """The value from the environment (or the default), typed; a UserError naming the variable if it is wrong."""
        raw = (os.environ if env is None else env).get(self.name, "")
        if raw.strip() == "":
            return self.default() if callable(self.default) else self.default
        return _PARSERS[self.kind](self, raw.strip())

    def is_set(self, env: Mapping[str, str] | None = None) -> bool:
        return bool((os.environ if env is None else env).get(self.name, "").strip())

    @property
    def default_text(self) -> str:
        return self.shown_default or ("" if self.default is None else str(self.default))


def _int(variable: Variable, raw: str) -> int:
    try:
        number = int(raw)
    except ValueError:
        raise UserError(f"{variable.name}={raw!r} must be a whole number") from None
    if number < variable.minimum:
        raise UserError(f"{variable.name}={raw!r} must be at least {variable.minimum:g}")
    return number


def _float(variable: Variable, raw: str) -> float:
    try:
        number = float(raw)
    except ValueError:
        raise UserError(f"{variable.name}={raw!r} must be a number") from None
    if not number >= variable.minimum or number == float("inf"):
        raise UserError(f"{variable.name}={raw!r} must be at least {variable.minimum:g}")
    return number


def _port(variable: Variable, raw: str) -> int:
    from releaseml.common import arguments as cli

    return cli.port(raw, variable.name)


def _flag(variable: Variable, raw: str) -> bool:
    return raw.lower() not in ("0", "false", "no", "off")


_PARSERS = {"int": _int, "float": _float, "port": _port, "text": lambda variable, raw: raw, "flag": _flag}


def cpu_count() -> int:
    """The cores this process may run on (a container's cpuset counts), else the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ---- the container (SageMaker's contract and the server) ----------------------------------------
ML_ROOT = Variable("RELEASEML_ML_ROOT", "text", "/opt/ml", "the /opt/ml directory of `train` and `serve` (a local one outside a container)")
PORT = Variable("SAGEMAKER_BIND_TO_PORT", "port", 8080, "port the server listens on (SageMaker's own variable)")
HOST = Variable("RELEASEML_HOST", "text", "0.0.0.0", "address the server listens on")
WORKERS = Variable(
    "RELEASEML_WORKERS", "int", cpu_count, "server worker processes sharing the port (one per core)", shown_default="CPU count"
)
THREADS = Variable("RELEASEML_THREADS", "int", 4, "threads per server worker process")
CHECKPOINT_SECONDS = Variable(
    "RELEASEML_CHECKPOINT_SECONDS", "int", 60, "seconds between CatBoost snapshots in /opt/ml/checkpoints (spot training)", minimum=1
)
MAX_PAYLOAD_MB = Variable("RELEASEML_MAX_PAYLOAD_MB", "int", 100, "largest CSV or JSON Lines body (413 above)")
MAX_JSON_PAYLOAD_MB = Variable(
    "RELEASEML_MAX_JSON_PAYLOAD_MB", "int", 20, "largest JSON document (`application/json` is parsed whole: ~12x its size in memory)"
)
BATCH_PAYLOAD_MB = Variable("RELEASEML_BATCH_PAYLOAD_MB", "int", 20, "MaxPayloadInMB suggested to batch transform")
CONCURRENT_TRANSFORMS = Variable(
    "RELEASEML_CONCURRENT_TRANSFORMS",
    "int",
    cpu_count,
    "MaxConcurrentTransforms suggested to batch transform",
    shown_default="the worker count",
)
EXPLAIN = Variable(
    "RELEASEML_EXPLAIN",
    "int",
    0,
    "reasons per prediction when a request asks for none (`batch-predict --explain K` sets it on the transform); 0: none",
    minimum=0,
)
STOP_GRACE_SECONDS = Variable("RELEASEML_STOP_GRACE_SECONDS", "int", 20, "after SIGTERM, how long requests in progress may take")
# ---- `monitor` in the image (a Processing job that `monitor --schedule` starts) ------------------
MONITOR_ENDPOINT = Variable(
    "RELEASEML_MONITOR_ENDPOINT", "text", None, "the endpoint `monitor` in the image reports on (its name in the log lines and metrics)"
)
MONITOR_WINDOW = Variable(
    "RELEASEML_MONITOR_WINDOW", "text", "1d", "how much traffic `monitor` in the image checks: the span before the window's end (1d, 1h)"
)
MONITOR_WINDOW_END = Variable(
    "RELEASEML_MONITOR_WINDOW_END",
    "text",
    None,
    "the end of that window, an ISO time (a schedule passes its scheduled time)",
    shown_default="now",
)
# ---- the workstation ---------------------------------------------------------------------------
QUIET = Variable("RELEASEML_QUIET", "flag", False, "no progress bars or narration (what `--quiet` sets)")
AWS_POLL_SECONDS = Variable("RELEASEML_AWS_POLL_SECONDS", "float", 10.0, "seconds between looks at a SageMaker job", minimum=0.01)
AWS_SETTING_PREFIX = "RELEASEML_AWS_"  # RELEASEML_AWS_<KEY> sets `aws.<key>` of the config (see Running on AWS)
AWS_SETTINGS = Variable(
    AWS_SETTING_PREFIX + "<KEY>", "text", None, "any key of the config's `aws:` section, over the file and under the flags"
)
AWS_REGION = Variable(
    "AWS_REGION", "text", None, "AWS region when boto3 finds none (boto3 itself reads AWS_DEFAULT_REGION and the profile)"
)
BASE_IMAGE = Variable("RELEASEML_BASE_IMAGE", "text", "python:3.11-slim", "the image tests build on (tox's integration and AWS tests)")

ALL = [
    ML_ROOT,
    PORT,
    HOST,
    WORKERS,
    THREADS,
    MAX_PAYLOAD_MB,
    MAX_JSON_PAYLOAD_MB,
    BATCH_PAYLOAD_MB,
    CONCURRENT_TRANSFORMS,
    EXPLAIN,
    STOP_GRACE_SECONDS,
    MONITOR_ENDPOINT,
    MONITOR_WINDOW,
    MONITOR_WINDOW_END,
    QUIET,
    AWS_POLL_SECONDS,
    AWS_SETTINGS,
    AWS_REGION,
    BASE_IMAGE,
]


def markdown_table() -> str:
    """The README's table of environment variables."""
    rows = ["| environment variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{v.name}` | {v.default_text or '-'} | {v.doc} |" for v in ALL]
    return "\n".join(rows)
