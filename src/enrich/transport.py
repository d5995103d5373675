"""The one way every source's requests reach the network: a total deadline and a size cap.

Every request of every source goes through `Transport` (httpx2, sync) or `AsyncTransport`
(httpx2, async): Semantic Scholar and the landing pages directly, the Hub through the client
huggingface_hub is given, arXiv and PyGithub (`requests`) through `Adapter`, a `requests`
transport adapter that sends with `Transport`. Each request is held to its `Bounds`:

* a deadline for the whole exchange — connect, send, headers and the whole body. Every
  socket operation's timeout is the client's timeout clipped to what is left of the
  deadline (`enrich.deadline`), so a server that sends its headers, or its body, a byte at
  a time is cut off at the deadline as surely as one that never answers. A deadline passed
  is a timeout (httpx2's `ReadTimeout`, `requests`' `ReadTimeout`): retryable for the
  policy, and counted by the circuit breaker (`net.Breaker`).
* at most `max_bytes` of answer, counted after decompression: a larger answer (announced by
  its `Content-Length` or found while reading) is `TooLarge`, a malformed answer that is not
  retried, and nothing more is read. Only `gzip` and `deflate` are accepted (asked for with
  `Accept-Encoding`), decoded here under the cap: a small compressed body cannot expand
  past it. The body is streamed, so memory never holds more than the cap.

A request through a proxy (`HTTP(S)_PROXY`) goes through httpx2's own proxy transport, and
is bounded by the client's timeout per read only.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore2
import httpx2
import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from enrich import deadline
from enrich.config import Settings
from enrich.errors import PermanentError
from enrich.net import TooLarge, tls

BOUNDS = "enrich.bounds"
"""A request extension: the `Bounds` of that request, over the transport's own."""
ACCEPTED_ENCODINGS = "gzip, deflate"


@dataclass(frozen=True)
class Bounds:
    """What one request may cost: `deadline` seconds in all, `max_bytes` of answer."""

    deadline: float
    max_bytes: int


def bounds(settings: Settings, source: str) -> Bounds:
    """The bounds of `source`'s requests (`Settings.deadline`, `Settings.answer_bytes`)."""
    return Bounds(settings.deadline, settings.answer_bytes[source])


# ------------------------------------------------------------------------ the answers


class _Cap:
    """Counts an answer's bytes after decoding; `TooLarge` past `max_bytes`."""

    def __init__(self, headers: httpx2.Headers, limit: int, url: httpx2.URL) -> None:
        self._limit, self._size, self._raw, self._what = limit, 0, 0, f"answer of {url.host}"
        declared = headers.get("content-length", "")
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large()
        if encoding in ("", "identity"):
            self._decoder: Any = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header
        else:
            raise PermanentError(f"{self._what}: malformed (Content-Encoding {encoding[:40]!r})")

    def _too_large(self) -> TooLarge:
        return TooLarge(f"{self._what}: malformed (larger than {self._limit:,} bytes)", status=200)

    def take(self, chunk: bytes) -> bytes:
        """`chunk` decoded; the answer so far (on the wire, decoded) must fit the cap."""
        self._raw += len(chunk)  # what the decoder may hold back (after a gzip stream's end)
        room = self._limit - self._size
        if self._decoder is not None:
            try:
                chunk = self._decoder.decompress(chunk, room + 1)
            except zlib.error:
                raise PermanentError(f"{self._what}: malformed (bad compression)") from None
        self._size += len(chunk)
        if max(self._size, self._raw) > self._limit:
            # Nothing of the answer stays referenced from the traceback (its frames live as
            # long as the error, which the retry policy keeps): the piece and the decoder go.
            del chunk
            self._decoder = None
            raise self._too_large()
        return chunk


def _answer(response: httpx2.Response, cap: _Cap, stream: Any) -> httpx2.Response:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-encoding"]
    return httpx2.Response(
        response.status_code, headers=headers, stream=stream, extensions=response.extensions
    )


class _Body(httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, until: float, cap: _Cap) -> None:
        self._inner, self._until, self._cap = inner, until, cap

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            with deadline.until(self._until):
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield self._cap.take(chunk)

    def close(self) -> None:
        self._inner.close()


class _AsyncBody(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, until: float, cap: _Cap) -> None:
        self._inner, self._until, self._cap = inner, until, cap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = aiter(self._inner)
        while True:
            with deadline.until(self._until):
                chunk = await anext(chunks, None)
            if chunk is None:
                return
            yield self._cap.take(chunk)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _prepare(request: httpx2.Request, default: Bounds | None) -> tuple[Bounds | None, float]:
    found = request.extensions.get(BOUNDS, default)
    if found is not None:
        request.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
    return found, time.monotonic() + (found.deadline if found is not None else 0.0)


def _pool() -> dict[str, Any]:
    """What httpx2's transport gives its pool by default (its `DEFAULT_LIMITS`)."""
    return {
        "ssl_context": tls(),
        "max_connections": 100,
        "max_keepalive_connections": 20,
        "keepalive_expiry": 5.0,
    }


class Transport(httpx2.BaseTransport):
    """httpx2's transport, each request held to its `Bounds` (see the module docstring):
    those of the `BOUNDS` request extension, else `default` (None: unbounded)."""

    def __init__(self, default: Bounds | None = None) -> None:
        self._default = default
        self._inner = httpx2.HTTPTransport(verify=tls())
        self._inner._pool = httpcore2.ConnectionPool(network_backend=deadline.Backend(), **_pool())

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        found, until = _prepare(request, self._default)
        if found is None:
            return self._inner.handle_request(request)
        with deadline.until(until):
            response = self._inner.handle_request(request)
        try:
            cap = _Cap(response.headers, found.max_bytes, request.url)
        except PermanentError:
            response.close()
            raise
        assert isinstance(response.stream, httpx2.SyncByteStream)
        return _answer(response, cap, _Body(response.stream, until, cap))

    def close(self) -> None:
        self._inner.close()


class AsyncTransport(httpx2.AsyncBaseTransport):
    """The async twin of `Transport`."""

    def __init__(self, default: Bounds | None = None) -> None:
        self._default = default
        self._inner = httpx2.AsyncHTTPTransport(verify=tls())
        self._inner._pool = httpcore2.AsyncConnectionPool(
            network_backend=deadline.AsyncBackend(), **_pool()
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        found, until = _prepare(request, self._default)
        if found is None:
            return await self._inner.handle_async_request(request)
        with deadline.until(until):
            response = await self._inner.handle_async_request(request)
        try:
            cap = _Cap(response.headers, found.max_bytes, request.url)
        except PermanentError:
            await response.aclose()
            raise
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return _answer(response, cap, _AsyncBody(response.stream, until, cap))

    async def aclose(self) -> None:
        await self._inner.aclose()


# ----------------------------------------------------------------------- requests


class Adapter(requests.adapters.BaseAdapter):
    """A `requests` transport adapter that sends through `Transport` under `bounds`.

    Mounted on the sessions of the `arxiv` package and PyGithub, so that their requests are
    bounded like every other. httpx2's failures come back as the `requests` exceptions the
    callers know: a connection that cannot be made `ConnectionError`, a deadline or timeout
    `ReadTimeout` (`ConnectTimeout` while connecting), a connection lost mid-answer
    `ChunkedEncodingError`. `TooLarge` comes back as itself.
    """

    def __init__(self, bounds: Bounds) -> None:
        super().__init__()
        self._client = httpx2.Client(transport=Transport(bounds), follow_redirects=False)

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        body = request.body
        if body is not None and not isinstance(body, str | bytes):
            raise TypeError("a streamed request body (neither library sends one)")
        content = body.encode() if isinstance(body, str) else body
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        try:
            answer = self._client.request(
                request.method or "GET",
                request.url or "",
                headers={k: str(v) for k, v in request.headers.items()},
                content=content,
                timeout=httpx2.Timeout(read, connect=connect),
            )
        except httpx2.ConnectTimeout as exc:
            raise requests.exceptions.ConnectTimeout(str(exc), request=request) from None
        except httpx2.TimeoutException as exc:
            raise requests.exceptions.ReadTimeout(str(exc), request=request) from None
        except httpx2.ConnectError as exc:
            raise requests.exceptions.ConnectionError(str(exc), request=request) from None
        except (httpx2.NetworkError, httpx2.RemoteProtocolError) as exc:
            raise requests.exceptions.ChunkedEncodingError(str(exc), request=request) from None
        except (httpx2.UnsupportedProtocol, httpx2.InvalidURL) as exc:
            raise requests.exceptions.InvalidURL(str(exc), request=request) from None
        return self._response(request, answer)

    def _response(
        self, request: requests.PreparedRequest, answer: httpx2.Response
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response._content = answer.content
        response._content_consumed = True
        response.url = request.url or ""
        response.reason = answer.reason_phrase
        response.encoding = get_encoding_from_headers(response.headers)
        response.request = request
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        self._client.close()


def mount(session: requests.Session, bounds: Bounds) -> None:
    """Send every request of `session` through an `Adapter` under `bounds`."""
    adapter = Adapter(bounds)
    for prefix in ("http://", "https://"):
        old = session.adapters.get(prefix)
        session.mount(prefix, adapter)
        if old is not None and old is not adapter:
            old.close()
