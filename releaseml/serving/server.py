"""Run the app under waitress, configured from the environment, stopping cleanly on SIGTERM or SIGINT.

Settings (environment variable, default):
  SAGEMAKER_BIND_TO_PORT             8080   the port (SageMaker's own variable)
  RELEASEML_HOST                     0.0.0.0
  RELEASEML_THREADS                  4      waitress worker threads
  RELEASEML_MAX_PAYLOAD_MB           100    largest CSV or JSON Lines body accepted (413 above)
  RELEASEML_MAX_JSON_PAYLOAD_MB      20     largest JSON document accepted (parsed whole: ~12x its size in memory)
  RELEASEML_BATCH_PAYLOAD_MB         20     MaxPayloadInMB told to batch transform
  RELEASEML_CONCURRENT_TRANSFORMS    CPUs   MaxConcurrentTransforms told to batch transform
  RELEASEML_STOP_GRACE_SECONDS       20     on SIGTERM, how long requests in progress may take to finish
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time

import waitress

from releaseml import bundle as bundle_module
from releaseml.errors import UserError
from releaseml.layout import MLPaths
from releaseml.serving.app import Limits, create_app

# SageMaker: MaxConcurrentTransforms x MaxPayloadInMB may not exceed 100 MB.
SAGEMAKER_TRANSFORM_BUDGET_MB = 100


def settings_from_env(env=os.environ) -> dict:
    concurrent = _int(env, "RELEASEML_CONCURRENT_TRANSFORMS", os.cpu_count() or 1)
    batch_mb = min(_int(env, "RELEASEML_BATCH_PAYLOAD_MB", 20), SAGEMAKER_TRANSFORM_BUDGET_MB // concurrent)
    limits = Limits(
        max_payload_mb=_int(env, "RELEASEML_MAX_PAYLOAD_MB", 100),
        max_json_payload_mb=_int(env, "RELEASEML_MAX_JSON_PAYLOAD_MB", 20),
        batch_payload_mb=max(batch_mb, 1),
        concurrent_transforms=concurrent,
    )
    return {
        "host": env.get("RELEASEML_HOST", "0.0.0.0"),
        "port": _int(env, "SAGEMAKER_BIND_TO_PORT", 8080),
        "threads": _int(env, "RELEASEML_THREADS", 4),
        "grace_seconds": _int(env, "RELEASEML_STOP_GRACE_SECONDS", 20),
        "limits": limits,
    }


def run(paths: MLPaths) -> None:
    started = time.monotonic()
    settings = settings_from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    model = bundle_module.load(paths.model_dir)
    limits = settings["limits"]
    server = waitress.create_server(
        create_app(model, limits),
        host=settings["host"],
        port=settings["port"],
        threads=settings["threads"],
        # Our app answers 413 in JSON up to its limit; waitress guards beyond it.
        max_request_body_size=(limits.max_payload_mb + 1) * 1024 * 1024,
        ident="releaseml",
        clear_untrusted_proxy_headers=True,
    )
    stop = _StopSignal(server, signal.SIGTERM, signal.SIGINT)
    print(
        f"Serving the {model.schema.task} model for {model.schema.target!r} on http://{settings['host']}:{settings['port']} "
        f"with {settings['threads']} threads (ready in {time.monotonic() - started:.2f}s).",
        flush=True,
    )
    try:
        while not stop.requested:
            _loop_once(server, timeout=1.0)
        _drain(server, settings["grace_seconds"], stop)
    finally:
        server.close()
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
    print("Server stopped.", flush=True)


class _StopSignal:
    """The first SIGTERM or SIGINT asks for a drain; a second one ends it at once."""

    def __init__(self, server, *signals: int):
        self.requested = self.hurried = False
        self._server = server
        for signum in signals:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.hurried = self.requested
        self.requested = True
        self._server.pull_trigger()  # wake the loop now rather than at its next timeout


def _loop_once(server, timeout: float) -> None:
    server.asyncore.loop(timeout=timeout, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)


def _drain(server, grace_seconds: float, stop: _StopSignal) -> None:
    """Stop accepting, let requests already received (or being received) finish and their answers
    go out, then return. After `grace_seconds` the rest are closed without an answer: a client then
    sees a closed connection or a body shorter than its Content-Length, never a complete-looking 200."""
    server.accepting = False
    server.del_channel()
    server.socket.close()  # new connections are refused from here on
    deadline = time.monotonic() + grace_seconds
    while not stop.hurried and time.monotonic() < deadline:
        busy = False
        for channel in list(server.active_channels.values()):
            if channel.requests or channel.total_outbufs_len or channel.request is not None:
                busy = True
            elif not channel.will_close:
                channel.handle_close()  # an idle keep-alive connection: nothing is lost
        if not busy:
            return
        _loop_once(server, timeout=0.05)
    for channel in list(server.active_channels.values()):
        channel.handle_close()


def _int(env, name: str, default: int) -> int:
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise UserError(f"{name}={value!r} must be a whole number") from None
    if number < 1:
        raise UserError(f"{name}={value!r} must be at least 1")
    return number
