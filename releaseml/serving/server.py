"""Run the app under waitress, configured from the environment, stopping cleanly on SIGTERM or SIGINT.

Settings: the container variables of `releaseml.common.environment` (port, host, threads, body limits,
batch transform hints, stop grace).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import signal
import socket
import sys
import time

import orjson
import waitress
import waitress.channel
import waitress.parser
import waitress.rfc7230
import waitress.task
import waitress.utilities

from releaseml.common import environment
from releaseml.common.errors import UserError
from releaseml.common.layout import MLPaths
from releaseml.model import bundle as bundle_module
from releaseml.serving.app import Limits, create_app
from releaseml.serving.core_budget import CoreBudget

# SageMaker: MaxConcurrentTransforms x MaxPayloadInMB may not exceed 100 MB.
SAGEMAKER_TRANSFORM_BUDGET_MB = 100
log = logging.getLogger("releaseml.serving")
BACKLOG = 1024  # connections the kernel queues per worker socket


def settings_from_env(env=None) -> dict:
    workers = environment.WORKERS.get(env)
    # Batch transform may send one request per worker at once: as many as there are, unless told otherwise.
    concurrent = environment.CONCURRENT_TRANSFORMS.get(env) if environment.CONCURRENT_TRANSFORMS.is_set(env) else workers
    batch_mb = min(environment.BATCH_PAYLOAD_MB.get(env), SAGEMAKER_TRANSFORM_BUDGET_MB // concurrent)
    limits = Limits(
        max_payload_mb=environment.MAX_PAYLOAD_MB.get(env),
        max_json_payload_mb=environment.MAX_JSON_PAYLOAD_MB.get(env),
        batch_payload_mb=max(batch_mb, 1),
        concurrent_transforms=concurrent,
    )
    return {
        "cores": environment.cpu_count(),
        "host": environment.HOST.get(env),
        "port": environment.PORT.get(env),
        "threads": environment.THREADS.get(env),
        "workers": workers,
        "grace_seconds": environment.STOP_GRACE_SECONDS.get(env),
        "limits": limits,
        "explain": environment.EXPLAIN.get(env),
    }


def run(paths: MLPaths) -> None:
    """Load the model, open the port, and serve until SIGTERM or SIGINT: in this process for one
    worker, else in that many forked worker processes sharing the port (one Python each, so every
    core of the machine predicts; the model is loaded once, before the fork, and shared)."""
    started = time.monotonic()
    settings = settings_from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("waitress.queue").addFilter(QueueDepthSummary())
    with _catboost_output_in_the_log():
        model = bundle_module.load(paths.model_dir)
        model.cores = CoreBudget(settings["cores"])  # made before the fork: shared by every worker
        app = create_app(model, settings["limits"], settings["explain"])
        workers = settings["workers"]
        if workers == 1:
            server = _server(app, settings)
            _announce(model, settings, started)
            _serve(server, settings)
        else:
            held = _listen(settings["host"], settings["port"])
            _announce(model, settings, started)
            _Supervisor(app, settings, held).run()
    print("Server stopped.", flush=True)


def _catboost_output_in_the_log():
    """CatBoost's own output while serving: its info lines dropped, its warnings and errors logged.

    Under concurrent requests CatBoost printed `Object info sizes: 1 6` (rows, features) for about
    one Pool in five: thousands of lines a minute, each a CloudWatch cost; one request at a time, none.
    Its log level is one for the process; each call sets it for its own span (Silent: a prediction is
    not verbose) and puts back what it found, so concurrent calls put back each other's and a Pool
    is now and then built at a level no call asked for. No setting of the model or of a call (they
    are all Silent already) prevents that; CatBoost's own logger does: the base of its stack of
    loggers (`log_fixup`, entered here in the main thread; calls in other threads leave it alone),
    inherited by the forked workers.
    """
    import catboost.core

    return catboost.core.log_fixup(log_cout=_drop, log_cerr=_log_catboost_warning)


def _drop(message: str) -> None:
    pass


def _log_catboost_warning(message: str) -> None:
    if message.strip():
        log.warning("catboost: %s", message.strip())


def _announce(model, settings: dict, started: float) -> None:
    workers = f"{settings['workers']} worker processes x " if settings["workers"] > 1 else ""
    print(
        f"Serving the {model.schema.task} model for {model.schema.target!r} on http://{settings['host']}:{settings['port']} "
        f"with {workers}{settings['threads']} threads, sharing {settings['cores']} cores for CatBoost "
        f"(ready in {time.monotonic() - started:.2f}s).",
        flush=True,
    )


def _server(app, settings: dict, listening: socket.socket | None = None):
    """A waitress server for the app: on its own new socket, or on one already listening (a worker's)."""
    host, port = settings["host"], settings["port"]
    where = {"sockets": [listening]} if listening is not None else {"host": host, "port": port}
    try:
        server = waitress.create_server(
            app,
            **where,
            threads=settings["threads"],
            # Our app answers 413 in JSON up to its limit; waitress guards beyond it.
            max_request_body_size=(settings["limits"].max_payload_mb + 1) * 1024 * 1024,
            ident="releaseml",
            clear_untrusted_proxy_headers=True,
            connection_limit=_connection_limit(),
            channel_timeout=CHANNEL_TIMEOUT_SECONDS,
            **_buffered_answers(),
        )
    except OSError as exc:
        raise UserError(_cannot_listen(host, port, exc)) from None
    except ValueError:  # waitress's word for a host name that does not resolve
        raise UserError(f"RELEASEML_HOST={host!r} is not an address or a host name this machine knows; use 0.0.0.0 or 127.0.0.1") from None
    server.channel_class = _JsonErrorsChannel
    return server


# An answer below this many bytes is sent by waitress's I/O thread once the request's thread is done,
# not by the request's thread as it writes it: see `_buffered_answers`.
SEND_BYTES = 18_000


def _buffered_answers() -> dict:
    """waitress's `send_bytes` at its pre-2.1 default instead of today's 1.

    With 1, the thread that runs a request sends its answer itself while the I/O thread also tries
    to flush that connection: under concurrent requests the two contend for the connection's lock
    and the GIL on every answer. Measured here (2 cores, wrk, 4 connections, 15-byte answers): a
    bare waitress app answers 1,300-2,500 requests/s with 1 and 5,500-7,000 with 18,000; with one
    connection at a time both do ~4,500. waitress deprecates the setting (it still honours it in
    3.x, which setup.cfg pins); `benchmarks/serving.py` shows the effect on this server.
    """
    import warnings

    warnings.filterwarnings("ignore", message="send_bytes will be removed", category=DeprecationWarning)
    return {"send_bytes": SEND_BYTES}


def _listen(host: str, port: int) -> socket.socket:
    """Hold the port for the workers: bound (SO_REUSEPORT), not listening, so a port in use is said
    once, before any worker starts, and no connection waits on a socket that nobody accepts from."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError):
        raise UserError(f"RELEASEML_HOST={host!r} is not an address or a host name this machine knows; use 0.0.0.0 or 127.0.0.1") from None
    try:
        held = _reuse_port_socket(host, port, family)
    except OSError as exc:
        raise UserError(_cannot_listen(host, port, exc)) from None
    if _answers_here(host, port):  # another server that shares ports too (a second `serve`) already listens there
        held.close()
        raise UserError(_cannot_listen(host, port, OSError(errno.EADDRINUSE, "in use")))
    return held


def _reuse_port_socket(host: str, port: int, family: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT: each worker listens on its own, and the kernel spreads new
    connections across them (one shared socket let the first worker to wake take them all)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _answers_here(host: str, port: int) -> bool:
    """Whether something on this machine accepts connections at the port (asked on loopback only:
    connections elsewhere may be answered by a proxy on the way)."""
    loopback = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "localhost": "127.0.0.1", "::": "::1", "::1": "::1"}
    target = loopback.get(host, host if host.startswith("127.") else None)
    if target is None:
        return False
    try:
        socket.create_connection((target, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _serve(server, settings: dict) -> None:
    """Answer until SIGTERM or SIGINT, then drain (see `_drain`)."""
    stop = _StopSignal(server, signal.SIGTERM, signal.SIGINT)
    try:
        while not stop.requested:
            _loop_once(server, timeout=1.0)
        _drain(server, settings["grace_seconds"], stop)
    finally:
        server.close()
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)


class _Supervisor:
    """Forks the workers, replaces one that dies, and passes SIGTERM/SIGINT on to all of them.

    Workers are in their own process group, so a Ctrl-C in a terminal reaches them once, through
    here (a second Ctrl-C still stops them at once); and each dies with this process if it is killed.
    """

    QUICK_DEATH_SECONDS = 5.0  # a worker that dies this soon after starting, more than MAX_QUICK_DEATHS times: stop
    MAX_QUICK_DEATHS = 3

    def __init__(self, app, settings: dict, held: socket.socket):
        self.app, self.settings, self.held = app, settings, held
        self.children: dict[int, float] = {}  # pid -> when it started
        self.signals: list[int] = []
        self.quick_deaths = 0

    def run(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        for _ in range(self.settings["workers"]):
            self._spawn()
        deadline = None
        while self.children:
            if self.signals and deadline is None:
                deadline = time.monotonic() + self.settings["grace_seconds"] + 5
            if deadline is not None and time.monotonic() > deadline:
                for pid in self.children:
                    os.kill(pid, signal.SIGKILL)
            pid, status = os.waitpid(-1, os.WNOHANG) if deadline is not None else os.waitpid(-1, 0)
            if pid == 0:
                time.sleep(0.05)
                continue
            started = self.children.pop(pid)
            if not self.signals:
                self._replace(pid, status, started)
        self.held.close()

    def _replace(self, pid: int, status: int, started: float) -> None:
        log.warning("worker %d stopped unasked (%s); starting another", pid, _exit_text(status))
        if time.monotonic() - started < self.QUICK_DEATH_SECONDS:
            self.quick_deaths += 1
            if self.quick_deaths > self.MAX_QUICK_DEATHS:
                self._on_signal(signal.SIGTERM, None)
                raise UserError("the server's workers keep stopping as soon as they start; the log above says why")
        self._spawn()

    def _spawn(self) -> None:
        """Fork a worker. The stop signals are held back across the fork: the parent takes one once the
        child is known (and passes it on), the child once its own handler keeps it for `_serve`."""
        stops = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, stops)
        pid = os.fork()
        if pid:
            self.children[pid] = time.monotonic()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
            return
        code = 0
        for signum in stops:  # not the supervisor's handler, copied by the fork
            signal.signal(signum, _stop_before_serving)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
        try:
            os.setpgid(0, 0)
            _die_with_parent()
            own = _reuse_port_socket(self.settings["host"], self.settings["port"], self.held.family)
            own.listen(BACKLOG)
            own.setblocking(False)
            _serve(_server(self.app, self.settings, own), self.settings)
        except BaseException:  # noqa: BLE001 - a worker reports and exits; the supervisor decides
            log.exception("worker %d failed", os.getpid())
            code = 1
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os._exit(code)

    def _on_signal(self, signum, frame) -> None:
        self.signals.append(signum)
        for pid in list(self.children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent dies, so no worker outlives its supervisor."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


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


# The longest chunk size line (with extensions) and trailer waited for; waitress waits without bound.
MAX_CHUNK_LINE_BYTES = 4096
MAX_TRAILER_BYTES = 64 * 1024
_BARE_LF = re.compile(rb"(?<!\r)\n")
_HEX_DIGITS = re.compile(rb"[0-9a-fA-F]+")


class _ChunkedBody:
    """A chunked request body read strictly, line by line (RFC 9112, 7.1).

    waitress's own reader waits for a CRLF that a line ended by a bare LF never brings, and for every
    byte of a chunk larger than the body limit (`c800000`: 200 MB): a client that has sent its whole
    body hears nothing until the 60 s channel timeout. Here each is an error as soon as it is seen,
    which the channel answers (400 or 413, in JSON) and then closes.
    """

    completed = False
    error = None

    def __init__(self, buf, max_body: int):
        self.buf, self.max_body = buf, max_body
        self.on_line = self._size_line
        self.pending = b""  # the start of a line whose end has not come yet
        self.remaining = 0  # bytes of the current chunk still to come
        self.body_bytes = self.trailer_bytes = 0

    def __len__(self) -> int:
        return self.buf.__len__()

    def getfile(self):
        return self.buf.getfile()

    def getbuf(self):
        return self.buf

    def received(self, data: bytes) -> int:
        """Takes what it can of `data`; returns how many bytes were this body's (the rest is the next request's)."""
        size = len(data)
        while data and not (self.completed or self.error):
            if self.remaining:
                data = self._chunk_data(data)
                continue
            line, data = self._line(data)
            if line is not None:
                self.on_line(line)
        return size - len(data) if self.completed else size

    def _line(self, data: bytes) -> tuple[bytes | None, bytes]:
        """(the next whole line without its CRLF, what follows it), or (None, b"") until its end comes."""
        data = self.pending + data
        end = data.find(b"\n")
        if end < 0:
            self.pending = data
            longest = MAX_CHUNK_LINE_BYTES if self.on_line != self._trailer_line else MAX_TRAILER_BYTES - self.trailer_bytes
            if len(data) > longest:
                self._refuse(f"a chunk size or trailer line of over {longest} bytes")
            return None, b""
        line, self.pending = data[:end], b""
        if not line.endswith(b"\r") or b"\r" in line[:-1]:
            self._refuse("a chunk size, chunk end or trailer line ends in a bare LF or holds a bare CR (lines end in CRLF)")
            return None, b""
        return line[:-1], data[end + 1 :]

    def _size_line(self, line: bytes) -> None:
        if not line:
            return  # waitress lets an empty line come before a size line; so does this
        digits, semicolon, extensions = line.partition(b";")
        if semicolon and not waitress.rfc7230.CHUNK_EXT_RE.match(semicolon + extensions):
            return self._refuse("Invalid chunk extension")
        if not _HEX_DIGITS.fullmatch(digits):
            return self._refuse("Invalid chunk size")
        size = int(digits, 16)
        if not size:
            self.on_line = self._trailer_line
        elif self.body_bytes + size > self.max_body:
            self.error = waitress.utilities.RequestEntityTooLarge(
                f"a chunk of {size} bytes takes the body over the limit of {self.max_body}"
            )
        else:
            self.remaining, self.body_bytes = size, self.body_bytes + size

    def _chunk_data(self, data: bytes) -> bytes:
        taken = data[: self.remaining]
        self.buf.append(taken)
        self.remaining -= len(taken)
        if not self.remaining:
            self.on_line = self._chunk_end
        return data[len(taken) :]

    def _chunk_end(self, line: bytes) -> None:
        if line:
            return self._refuse("Chunk not properly terminated")
        self.on_line = self._size_line

    def _trailer_line(self, line: bytes) -> None:
        self.trailer_bytes += len(line) + 2
        if not line:
            self.completed = True
        elif self.trailer_bytes > MAX_TRAILER_BYTES:
            self._refuse(f"a trailer of over {MAX_TRAILER_BYTES} bytes")

    def _refuse(self, why: str) -> None:
        self.error = waitress.utilities.BadRequest(why)


class _StrictRequestParser(waitress.parser.HTTPRequestParser):
    """waitress's request parser with its silent waits made answers: a head with a line ended by a bare
    LF (it waits for a CRLF CRLF that never comes), and a chunked body (read by `_ChunkedBody`).
    `Transfer-Encoding: chunked, chunked` is refused: waitress read such a body as chunked once."""

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        if self.body_rcv is None and not self.completed and _bare_lf_in_head(self.header_plus, len(data)):
            self.parse_header(b"GET / HTTP/1.0\r\n")  # what the error answer needs (as waitress does for a head too large)
            self.error = waitress.utilities.BadRequest("a line of the request's head ends in a bare LF (HTTP lines end in CRLF)")
            self.completed = True
        return consumed

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if not self.chunked:
            return
        if _transfer_codings(header_plus).count(b"chunked") > 1:
            raise waitress.parser.ParsingError("Transfer-Encoding: chunked may be applied only once")
        self.body_rcv = _ChunkedBody(self.body_rcv.getbuf(), self.adj.max_request_body_size)


def _bare_lf_in_head(head: bytes, new_bytes: int) -> bool:
    """Whether the unfinished head, in the `new_bytes` that just came (and the byte before), has a line
    ended by a bare LF; blank lines before the request line are waitress's to skip, as it does."""
    start = max(0, len(head) - new_bytes - 1)
    if not _BARE_LF.search(head, start):
        return False
    return _BARE_LF.search(head, max(start, len(head) - len(head.lstrip()))) is not None


def _transfer_codings(header_plus: bytes) -> list[bytes]:
    """Every coding that the head's Transfer-Encoding fields name, in order (waitress keeps only the fields' join)."""
    codings = []
    for line in waitress.parser.get_header_lines(header_plus.partition(b"\r\n")[2]):
        field = waitress.rfc7230.HEADER_FIELD_RE.match(line)
        if field and field.group("name").lower() == b"transfer-encoding":
            codings += [coding.strip(b" \t").lower() for coding in field.group("value").split(b",") if coding.strip(b" \t")]
    return codings


class _ClosingWhenDrainingTask(waitress.task.WSGITask):
    """A request's task; once the server drains (`_drain`), its answer closes the connection."""

    def execute(self) -> None:
        if getattr(self.channel.server, "draining", False):
            self.set_close_on_finish()
        super().execute()


class _JsonErrorsChannel(waitress.channel.HTTPChannel):
    task_class = _ClosingWhenDrainingTask
    error_task_class = _JsonErrorTask
    parser_class = _StrictRequestParser


class QueueDepthSummary(logging.Filter):
    """waitress warns each time a request waits for a free thread: under load, a line per request
    (thousands a minute into CloudWatch, and time spent writing them). One line a minute, with the
    deepest queue since the last one and what to do about it, says the same."""

    def __init__(self, every_seconds: float = 60.0):
        super().__init__()
        self._every = every_seconds
        self._last = -every_seconds
        self._deepest = 0

    def filter(self, record: logging.LogRecord) -> bool:
        depth = record.args[0] if isinstance(record.args, tuple) and record.args else 1
        self._deepest = max(self._deepest, depth)
        now = time.monotonic()
        if now - self._last < self._every:
            return False
        record.msg = (
            "requests waited for a free thread (queue up to %d deep); if answers are slow, raise RELEASEML_WORKERS or RELEASEML_THREADS"
        )
        record.args = (self._deepest,)
        self._last, self._deepest = now, 0
        return True


_EARLY_SIGNALS: list[int] = []  # those a worker got while starting, before `_serve` listened for them


def _stop_before_serving(signum, frame) -> None:
    _EARLY_SIGNALS.append(signum)


class _StopSignal:
    """The first SIGTERM or SIGINT asks for a drain; a second one ends it at once. A signal that came
    while the worker was starting counts as the first (it once ran the supervisor's copied handler,
    was ignored, and the worker served on until the supervisor killed it, 25 s later)."""

    def __init__(self, server, *signals: int):
        self.requested = self.hurried = False
        self._server = server
        for signum in signals:
            signal.signal(signum, self._on_signal)
        self.requested |= bool(_EARLY_SIGNALS)
        self.hurried |= len(_EARLY_SIGNALS) > 1

    def _on_signal(self, signum, frame) -> None:
        self.hurried = self.requested
        self.requested = True
        self._server.pull_trigger()  # wake the loop now rather than at its next timeout


def _loop_once(server, timeout: float) -> None:
    server.asyncore.loop(timeout=timeout, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)


def _drain(server, grace_seconds: float, stop: _StopSignal) -> None:
    """Stop accepting, let requests already received (or being received) finish and their answers
    go out, then return. After `grace_seconds` the rest are closed without an answer: a client then
    sees a closed connection or a body shorter than its Content-Length, never a complete-looking 200.

    Answers from here on say `Connection: close`, so kept-alive clients stop sending on them."""
    server.accepting = False
    server.draining = True
    _accept_waiting(server)
    server.del_channel()
    server.socket.close()  # new connections are refused from here on
    deadline = time.monotonic() + grace_seconds
    while not stop.hurried and time.monotonic() < deadline:
        busy = False
        for channel in list(server.active_channels.values()):
            if channel.requests or channel.total_outbufs_len or channel.request is not None or _unread(channel):
                busy = True
            elif not channel.will_close:
                channel.handle_close()  # an idle keep-alive connection with nothing sent on it: nothing is lost
        if not busy:
            return
        _loop_once(server, timeout=0.05)
    for channel in list(server.active_channels.values()):
        channel.handle_close()


def _accept_waiting(server) -> None:
    """Make connections of all that the kernel has accepted on the port and waitress not yet: closing
    the port resets those (their requests sent, never read). Under load (64 connections) they are many:
    waitress accepts one per turn of its loop."""
    while True:
        try:
            connection, address = server.socket.accept()
        except ConnectionAbortedError:  # that client is gone already; others may wait behind it
            continue
        except OSError:  # none left (EAGAIN), or none can be taken (EMFILE): as waitress would, leave them
            return
        try:
            server.set_socket_options(connection)
        except OSError:
            connection.close()
            continue
        server.channel_class(server, connection, server.fix_addr(address), server.adj, map=server._map)


def _unread(channel) -> bool:
    """Whether the client has sent bytes that the server has not read yet: a request on a kept-alive
    connection that looks idle. Closing that connection would reset the request unanswered."""
    try:
        return bool(channel.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except OSError:  # nothing to read (BlockingIOError), or the connection is gone
        return False


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is already in use by another program: stop it, or choose another port (SAGEMAKER_BIND_TO_PORT, --port)"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"RELEASEML_HOST={host!r} is not an address of this machine ({exc.strerror or exc}); use 0.0.0.0 (all) or 127.0.0.1"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
