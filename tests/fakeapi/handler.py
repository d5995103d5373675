"""The HTTP layer: parse a request, record it, sleep the latency, apply a fault or route it.

Faults are the failure modes fetchers must survive, produced at the socket where that matters:
`reset` closes with SO_LINGER 0 (the peer sees ECONNRESET), `truncated` promises the full
Content-Length and sends half, `timeout` waits on the server's stop event (so stopping the
server never hangs on a sleeping handler); `drip` and `huge` are hostile answers (`hostile`).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast
from urllib.parse import parse_qs, urlsplit

from . import arxiv_feed, control, github, hostile, hub, landing, scholar
from .wire import Api, Reply, Request

if TYPE_CHECKING:
    from .server import FakeAPI

FAULT_KINDS = frozenset(
    {
        "429",
        "403_rate_limit",
        "500",
        "502",
        "503",
        "timeout",
        "reset",
        "malformed",
        "truncated",
        "404",
        "empty",
        *hostile.HOSTILE_KINDS,
    }
)
_GITHUB_PREFIXES = (
    "/repos/",
    "/repositories/",
    "/rate_limit",
    "/graphql",
    "/users/",
    "/orgs/",
    "/licenses/",
    "/search/",
)
_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    404: "Not Found",
    403: "Forbidden",
    429: "Too Many Requests",
}


@dataclass
class Fault:
    api: str
    kind: str
    times: int | None = None
    path_contains: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]  # repeated keys joined with ","
    headers: dict[str, str]  # lowercase keys
    api: Api
    body: bytes = b""
    status: int | None = None  # None: no response was sent (reset, or stopped mid-timeout)
    fault: str | None = None
    at: float = field(default_factory=time.time)  # when it arrived (epoch seconds)
    done: float | None = None  # when its answer was sent


def classify(path: str) -> Api:
    if path.rstrip("/") == "/api/query":
        return "arxiv"
    if path.startswith("/api/"):
        return "hub"
    if path.startswith(("/graph/v1/", "/recommendations/v1/")):
        return "scholar"
    if landing.PMLR_PATH.match(path) or path.rstrip("/") == "/forum":
        return "landing"
    if path.startswith(_GITHUB_PREFIXES):
        return "github"
    return "unknown"


def _text(status: int, text: str, server: str, content_type: str = "text/plain") -> Reply:
    return Reply(
        status, [("Content-Type", f"{content_type}; charset=utf-8")], text.encode(), server=server
    )


def fault_reply(app: FakeAPI, fault: Fault, api: Api, request: Request) -> Reply:
    """The reply for every fault kind that still answers with a status line."""
    status = int(fault.kind[:3]) if fault.kind[:3].isdigit() else 200
    if fault.kind == "empty":
        if api == "arxiv":
            return arxiv_feed.empty(request)
        if api == "landing":
            return landing.page_reply(200, "")
        return Reply(200, [("Content-Type", "application/json; charset=utf-8")], b"", server="")
    if fault.kind == "malformed":
        if api == "arxiv":
            body = b"<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns=\"http://www.w3.org/2005"
            return Reply(200, [("Content-Type", arxiv_feed.CONTENT_TYPE)], body, server="Apache")
        if api == "landing":
            return landing.malformed()
        body = fault.params.get("body", b'{"id": "broken", "stargazers_count": <html>')
        return Reply(200, [("Content-Type", "application/json; charset=utf-8")], body, server="")
    builder = {
        "github": _github_fault,
        "hub": _hub_fault,
        "scholar": _scholar_fault,
        "landing": _landing_fault,
    }.get(api)
    if builder is not None:
        reply = builder(app, fault, request, status)
    else:
        reply = _text(status, f"{_REASONS.get(status, 'Error')}\n", "Apache", "text/html")
    if "retry_after" in fault.params and reply.header("Retry-After") is None:
        reply.headers.append(("Retry-After", str(fault.params["retry_after"])))
    elif status == 429 and reply.header("Retry-After") is None:
        reply.headers.append(("Retry-After", "1"))
    return reply


def _github_fault(app: FakeAPI, fault: Fault, request: Request, status: int) -> Reply:
    budget = app.github.core["authorization" in request.headers]
    if request.path == "/graphql":
        budget = app.github.graphql
    reset = int(fault.params.get("reset", budget.reset))
    if status == 403:
        snapshot = github.Budget(budget.limit, 0, reset, budget.resource)
        return github.rate_limited(request, snapshot)
    if status == 429:
        remaining = int(fault.params.get("remaining", 0))
        snapshot = github.Budget(budget.limit, remaining, reset, budget.resource)
        body = {
            "message": _SECONDARY,
            "documentation_url": "https://docs.github.com/rest/overview/"
            "rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": "429",
        }
        retry = [("Retry-After", str(fault.params.get("retry_after", 1)))]
        return github.json_reply(request, 429, body, snapshot, retry)
    if status == 404:
        return github.not_found(request, budget)
    return github.server_error(request, status, budget)


def _hub_fault(app: FakeAPI, fault: Fault, request: Request, status: int) -> Reply:
    rate = app.hub.rate(spend=False)
    if status == 429:
        return app.hub.too_many(request, int(fault.params.get("retry_after", 1)))
    if status == 404:
        return hub.repo_not_found(rate)
    if status == 403:
        return hub.error_reply(403, "Forbidden", rate)
    message = "Internal Error - We're working hard to fix this as soon as possible!"
    return hub.error_reply(status, message, rate)


def _scholar_fault(app: FakeAPI, fault: Fault, request: Request, status: int) -> Reply:
    if status == 429:
        return app.scholar.too_many()
    if status == 404:
        return scholar.error(404, "Paper with id 0 not found")
    if status == 403:
        return scholar.reply(403, {"message": "Forbidden"})
    return scholar.reply(status, {"message": "Internal server error"})


def _landing_fault(app: FakeAPI, fault: Fault, request: Request, status: int) -> Reply:
    if status == 404:
        return landing.not_found(request)
    return landing.error_page(status, _REASONS.get(status, "Error"))


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # listen backlog: benchmarks open many connections at once

    def __init__(self, address: tuple[str, int], app: FakeAPI) -> None:
        self.app = app
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer are part of the game; stay quiet about them."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body of every answer
    # after the first on a keep-alive connection waited for the client's delayed ACK of the
    # headers (40 ms on Linux) on top of `--latency`: 125 ms per Hub call instead of 80.
    disable_nagle_algorithm = True
    server: FakeServer
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log."""

    def setup(self) -> None:
        super().setup()
        self.server.app.track_connection(self.connection, open_=True)

    def finish(self) -> None:
        self.server.app.track_connection(self.connection, open_=False)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_GET

    def _parse(self) -> Request:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = headers.get("host") or self.server.app.authority
        query = parse_qs(split.query, keep_blank_values=True)
        return Request(self.command, split.path, query, headers, body, f"http://{host}")

    def _dispatch(self) -> None:
        app = self.server.app
        request = self._parse()
        if request.path.startswith(control.PREFIX):
            self._send(control.reply(app, request))
            return
        api = classify(request.path)
        record = app.record(request, api)
        if not app.hold(api):
            self._abort()
            return
        fault = app.take_fault(api, self.path)
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind == "reset":
            self._reset()
            return
        if fault is not None and fault.kind in hostile.HOSTILE_KINDS:
            record.status = 200
            hostile.serve(self, fault, api)
            record.done = time.time()
            return
        if fault is not None and fault.kind == "timeout":
            if not app.pause(float(fault.params.get("seconds", 30))):
                self._abort()
                return
            fault = None
        if fault is not None and fault.kind != "truncated":
            reply = fault_reply(app, fault, api, request)
        else:
            reply = app.route(api, request)
        record.status = reply.status
        self._send(reply, truncate=fault is not None and fault.kind == "truncated")
        record.done = time.time()

    def _send(self, reply: Reply, truncate: bool = False) -> None:
        self.send_response_only(reply.status, _REASONS.get(reply.status))
        self.send_header("Date", self.date_time_string())
        if reply.server:
            self.send_header("Server", reply.server)
        for key, value in reply.headers:
            self.send_header(key, value)
        if reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        body = reply.body if self.command != "HEAD" and reply.status != 304 else b""
        if truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_WR)
            time.sleep(0.01)  # let the client read the half before the FIN/close race
            return
        self.wfile.write(body)

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # drop makefile()'s reference so close() really closes
        self.connection.close()

    def _abort(self) -> None:
        """The server is stopping: drop the connection without an answer."""
        self.close_connection = True


class LoopbackServer:
    """Owns the listening socket, the serving thread and the stop event."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: FakeServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._server is None:
            self._stopping.clear()
            self._server = FakeServer(self._address, cast("FakeAPI", self))
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                # How often the loop looks for `stop()`: a stop waits half of it on average,
                # and a test suite starts and stops hundreds of servers.
                kwargs={"poll_interval": 0.005},
                name="fakeapi",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; sleeping handlers wake up, open keep-alive connections are shut."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def authority(self) -> str:
        """ "host:port" of the listening socket (RuntimeError before start())."""
        if self._server is None:
            raise RuntimeError("FakeAPI is not started")
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.authority}"

    def pause(self, seconds: float) -> bool:
        """Sleep unless stopping; False when the server is stopping."""
        if seconds > 0:
            self._stopping.wait(seconds)
        return not self._stopping.is_set()

    def track_connection(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)
