"""What a route returns: status, ordered headers, body bytes; plus small formatting helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal

Api = Literal["arxiv", "github", "hub", "scholar", "landing", "unknown"]


@dataclass
class Request:
    """A parsed incoming request, handed to the per-API routers."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lowercase keys
    body: bytes
    base: str  # "http://host:port" as the client addressed us (for Location and *_url fields)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    server: str = "fakeapi"

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def compact_json(obj: Any) -> bytes:
    """JSON as GitHub and the Hub send it: no spaces, UTF-8."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def iso_z(dt: datetime) -> str:
    """GitHub / arXiv style: 2012-02-25T12:53:47Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(dt: datetime) -> str:
    """Hugging Face style: 2023-07-05T16:19:17.000Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC), usegmt=True)
