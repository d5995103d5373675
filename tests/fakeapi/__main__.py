"""`python -m tests.fakeapi`: serve until killed; line 1 of stdout is the base URL.

    python -m tests.fakeapi --port 0 --latency 0.08 --seed-file seeds/slm-survey.md \
        --fault github:503:2 --fault arxiv:timeout::seconds=5

`GET /_fake/stats` and `POST /_fake/reset` control it from outside (`control.py`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .server import FakeAPI


def _fault(spec: str) -> tuple[str, str, int | None, dict[str, Any]]:
    """`api:kind[:times[:key=value,...]]`, e.g. `hub:429:3:retry_after=2`."""
    parts = spec.split(":")
    if len(parts) < 2:
        raise argparse.ArgumentTypeError(f"bad fault {spec!r}: want api:kind[:times[:k=v,...]]")
    times = int(parts[2]) if len(parts) > 2 and parts[2] else None
    params: dict[str, Any] = {}
    for pair in filter(None, (parts[3] if len(parts) > 3 else "").split(",")):
        key, _, value = pair.partition("=")
        params[key] = float(value) if value.replace(".", "", 1).isdigit() else value
    return parts[0], parts[1], times, params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakeapi", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument(
        "--hub-limit",
        type=int,
        default=500,
        help="Hub API calls per 5-minute window (the Hub's anonymous quota is 500)",
    )
    parser.add_argument(
        "--seed-file",
        type=Path,
        action="append",
        default=[],
        help="markdown whose links are registered (repeatable)",
    )
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        help="api:kind[:times[:k=v,...]] (repeatable)",
    )
    args = parser.parse_args(argv)
    api = FakeAPI(args.host, args.port, latency=args.latency, hub_limit=args.hub_limit)
    for path in args.seed_file:
        api.populate_from_markdown(path.read_text(encoding="utf-8"))
    for name, kind, times, params in args.fault:
        api.fault(name, kind, times=times, **params)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with api:
        print(api.base_url, flush=True)
        counts = (
            f"papers={len(api.papers)} repos={len(api.github.repos)} hub_repos={len(api.hub.repos)}"
        )
        print(counts, file=sys.stderr, flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
