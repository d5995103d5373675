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
import functools
import itertools
import struct
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


_UNIT = _PIECE * 16  # zeros a piece of the gzip stream decodes to
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, no time


def _zeros_gzipped(size: int) -> Any:
    """A gzip stream of `size` zeros, as a piece per _UNIT of them. Every whole unit is the same
    bytes (deflated once: a full flush ends it, so the next one starts afresh), so a stream of
    3 GB costs no compression while it is sent; its CRC is worked out, not computed over the
    bytes (`_zeros_crc`)."""
    yield _GZIP_HEADER
    unit = _deflated_zeros(_UNIT)
    for _ in range(size // _UNIT):
        yield unit
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    yield tail.compress(bytes(size % _UNIT)) + tail.flush()
    yield struct.pack("<II", _zeros_crc(size), size & 0xFFFFFFFF)


@functools.cache
def _deflated_zeros(size: int) -> bytes:
    """Raw deflate blocks of `size` zeros, ended by a full flush (byte-aligned, no history)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(bytes(size)) + packer.flush(zlib.Z_FULL_FLUSH)


def _zeros_crc(size: int) -> int:
    """`zlib.crc32(bytes(size))` without reading `size` bytes: CRC-32 is linear, and appending
    zeros to a message is the register's operator raised to their number, here by squaring
    (zlib's `crc32_combine`)."""
    operator = [0xEDB88320] + [1 << bit for bit in range(31)]  # one zero bit
    for _ in range(3):  # one zero byte
        operator = _squared(operator)
    register = 0xFFFFFFFF
    while size:
        if size & 1:
            register = _times(operator, register)
        size >>= 1
        operator = _squared(operator)
    return register ^ 0xFFFFFFFF


def _times(matrix: list[int], vector: int) -> int:
    """`matrix` (GF(2), a column per bit) times `vector`."""
    product, bit = 0, 0
    while vector:
        if vector & 1:
            product ^= matrix[bit]
        vector >>= 1
        bit += 1
    return product


def _squared(matrix: list[int]) -> list[int]:
    return [_times(matrix, column) for column in matrix]
