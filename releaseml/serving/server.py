"""Run the app under waitress, configured from the environment, stopping cleanly on SIGTERM or SIGINT.

Settings: the container variables of `releaseml.environment` (port, host, threads, body limits,
batch transform hints, stop grace).
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
import time

import orjson
import waitress
import waitress.channel
import waitress.task

from releaseml import bundle as bundle_module
from releaseml import environment
from releaseml.errors import UserError
from releaseml.layout import MLPaths
from releaseml.serving.app import Limits, create_app

# SageMaker: MaxConcurrentTransforms x MaxPayloadInMB may not exceed 100 MB.
SAGEMAKER_TRANSFORM_BUDGET_MB = 100


def settings_from_env(env=None) -> dict:
    concurrent = environment.CONCURRENT_TRANSFORMS.get(env)
    batch_mb = min(environment.BATCH_PAYLOAD_MB.get(env), SAGEMAKER_TRANSFORM_BUDGET_MB // concurrent)
    limits = Limits(
        max_payload_mb=environment.MAX_PAYLOAD_MB.get(env),
        max_json_payload_mb=environment.MAX_JSON_PAYLOAD_MB.get(env),
        batch_payload_mb=max(batch_mb, 1),
        concurrent_transforms=concurrent,
    )
    return {
        "host": environment.HOST.get(env),
        "port": environment.PORT.get(env),
        "threads": environment.THREADS.get(env),
        "grace_seconds": environment.STOP_GRACE_SECONDS.get(env),
        "limits": limits,
        "explain": environment.EXPLAIN.get(env),
    }


def run(paths: MLPaths) -> None:
    started = time.monotonic()
    settings = settings_from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    model = bundle_module.load(paths.model_dir)
    limits = settings["limits"]
    host, port = settings["host"], settings["port"]
    try:
        server = waitress.create_server(
            create_app(model, limits, settings["explain"]),
            host=host,
            port=port,
            threads=settings["threads"],
            # Our app answers 413 in JSON up to its limit; waitress guards beyond it.
            max_request_body_size=(limits.max_payload_mb + 1) * 1024 * 1024,
            ident="releaseml",
            clear_untrusted_proxy_headers=True,
            connection_limit=_connection_limit(),
            channel_timeout=CHANNEL_TIMEOUT_SECONDS,
        )
        server.channel_class = _JsonErrorsChannel
    except OSError as exc:
        raise UserError(_cannot_listen(host, port, exc)) from None
    except ValueError:  # waitress's word for a host name that does not resolve
        raise UserError(f"RELEASEML_HOST={host!r} is not an address or a host name this machine knows; use 0.0.0.0 or 127.0.0.1") from None
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


# Open connections the server keeps before it stops accepting (waitress's default, 100, let 100 idle
# clients block /ping, and SageMaker then replaces a healthy instance); idle ones close after
# CHANNEL_TIMEOUT_SECONDS. The process's file limit is raised to allow them.
MAX_CONNECTIONS = 1000
CHANNEL_TIMEOUT_SECONDS = 60


def _connection_limit() -> int:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_CONNECTIONS + 64  # the model, logs and temporary files need some too
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
            soft = new_soft
        except (ValueError, OSError):
            pass
    return MAX_CONNECTIONS if soft == resource.RLIM_INFINITY else max(16, min(MAX_CONNECTIONS, soft - 64))


class _JsonErrorTask(waitress.task.ErrorTask):
    """waitress's own answers to malformed HTTP (bad headers, bad chunking, too large) in the app's
    JSON shape. A body encoding it cannot read is the client's mistake: 400, not 501."""

    def execute(self) -> None:
        error = self.request.error
        code, reason = (400, "Bad Request") if error.code == 501 else (error.code, error.reason)
        body = orjson.dumps({"error": f"{reason}: {error.body}" if error.body else reason})
        self.status = f"{code} {reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _JsonErrorsChannel(waitress.channel.HTTPChannel):
    error_task_class = _JsonErrorTask


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


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is already in use by another program: stop it, or choose another port (SAGEMAKER_BIND_TO_PORT, --port)"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"RELEASEML_HOST={host!r} is not an address of this machine ({exc.strerror or exc}); use 0.0.0.0 (all) or 127.0.0.1"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
