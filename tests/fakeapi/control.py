"""`/_fake/...`: the fake's own control endpoints, for benchmarks driving it as a process.

    GET  /_fake/stats   requests per API and status, rate-limit points spent, time spans
    POST /_fake/reset   forget recorded requests and refill every rate-limit budget

Control requests are neither recorded nor delayed, and spend no budget. GitHub points are
what the budgets lost since they were last refilled (a 304 is free to a token caller only, a
GraphQL query is one point); Hub calls are what the current window lost.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from .wire import Reply, Request, compact_json

if TYPE_CHECKING:
    from .server import FakeAPI

PREFIX = "/_fake/"


def reply(app: FakeAPI, request: Request) -> Reply:
    """The answer to a control request (404 for an unknown one, 405 for a wrong method)."""
    routes = {"/_fake/stats": ("GET", stats), "/_fake/reset": ("POST", reset)}
    method, handler = routes.get(request.path.rstrip("/"), ("", None))
    if handler is None:
        return _json(404, {"error": f"unknown control path {request.path}"})
    if request.method != method:
        return _json(405, {"error": f"{request.path} takes {method}"})
    return _json(200, handler(app))


def stats(app: FakeAPI) -> dict[str, Any]:
    """Requests per API and status, budget spent, and when each API was first and last busy."""
    records = app.requests
    per_api: Counter[str] = Counter(r.api for r in records)
    statuses: dict[str, Counter[str]] = {}
    spans: dict[str, list[float]] = {}
    for record in records:
        statuses.setdefault(record.api, Counter())[str(record.status)] += 1
        span = spans.setdefault(record.api, [record.at, record.done or record.at])
        span[0] = min(span[0], record.at)
        span[1] = max(span[1], record.done or record.at)
    return {
        "requests": dict(per_api),
        "statuses": {api: dict(counts) for api, counts in statuses.items()},
        "spans": {api: {"first": s[0], "last": s[1]} for api, s in spans.items()},
        **app.budget_spent(),
        "now": time.time(),
    }


def reset(app: FakeAPI) -> dict[str, Any]:
    app.reset_requests()
    app.refill_budgets()
    return {"reset": True}


def _json(status: int, body: dict[str, Any]) -> Reply:
    return Reply(status, [("Content-Type", "application/json; charset=utf-8")], compact_json(body))
