"""Hostile answers, written straight to the socket: what no honest server sends, and what no
client may let hang a run or exhaust its memory.

    drip   the status line and headers (or, with `headers=True`, the header bytes themselves
           too), then a body of 100,000 bytes one byte every `interval` seconds (default 0.2),
           for as long as the client reads
    huge   a 200 of `size` bytes (default 3 GB), sent as fast as the client reads: with its
           Content-Length (`declared=True`, the default) or chunked without one; with
           `gzip=True`, a gzip stream of zeros that decodes to `size` bytes (a few MB on the
           wire); with `trailer=True` as well, a gzip stream of 2 bytes followed by `size`
           bytes that are not part of it

An answer that silently never comes is the `timeout` fault with a long `seconds`. Every loop
ends when the client hangs up or the server stops.
"""

from __future__ import annotations

import contextlib
import itertools
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .handler import Fault, Handler

HOSTILE_KINDS = frozenset({"drip", "huge"})
GB = 1 << 30
_PIECE = 1 << 16
_DRIPPED = 100_000  # bytes of body a drip announces: under any source's cap
_CONTENT_TYPES = {"arxiv": "application/atom+xml; charset=UTF-8", "landing": "text/html"}


def serve(handler: Handler, fault: Fault, api: str) -> None:
    """Answer the request `handler` holds as `fault` says (see the module docstring)."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        if fault.kind == "drip":
            _drip(handler, fault.params)
        else:
            _huge(handler, fault.params, api)


def _head(api: str, fields: dict[str, str]) -> bytes:
    content_type = _CONTENT_TYPES.get(api, "application/json; charset=utf-8")
    lines = ["HTTP/1.1 200 OK", f"Content-Type: {content_type}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _drip(handler: Handler, params: dict[str, Any]) -> None:
    interval = float(params.get("interval", 0.2))
    app = handler.server.app
    head = _head("unknown", {"Content-Length": str(_DRIPPED)})
    if not params.get("headers"):
        handler.wfile.write(head)
        head = b""
    for index in range(len(head) + _DRIPPED):
        if not app.pause(interval):
            return
        handler.wfile.write(head[index : index + 1] or b" ")


def _huge(handler: Handler, params: dict[str, Any], api: str) -> None:
    size = int(params.get("size", 3 * GB))
    declared = bool(params.get("declared", True))
    packed = bool(params.get("gzip", False))
    pieces = _zeros_gzipped(size) if packed else _filler(size)
    if packed and params.get("trailer"):
        pieces = itertools.chain(_zeros_gzipped(2), _filler(size))
    fields = {"Content-Encoding": "gzip"} if packed else {}
    if declared and not packed:
        fields["Content-Length"] = str(size)
    else:
        fields["Transfer-Encoding"] = "chunked"
    handler.wfile.write(_head(api, fields))
    stopping = handler.server.app.pause
    for piece in pieces:
        if not stopping(0):
            return
        if "Transfer-Encoding" in fields:
            piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        handler.wfile.write(piece)
    if "Transfer-Encoding" in fields:
        handler.wfile.write(b"0\r\n\r\n")


def _filler(size: int) -> Any:
    piece = b" " * _PIECE
    for start in range(0, size, _PIECE):
        yield piece[: min(_PIECE, size - start)]


def _zeros_gzipped(size: int) -> Any:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(_PIECE * 16)
    for start in range(0, size, len(zeros)):
        chunk = packer.compress(zeros[: min(len(zeros), size - start)])
        if chunk:
            yield chunk
    yield packer.flush()
