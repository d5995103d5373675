"""The loopback fake API (`tests/fakeapi`) as a separate process, and what it counted.

The fake runs as its own process, as a real API would, so its CPU time is not the measured
process's; it is reset (`POST /_fake/reset`: request records dropped, rate-limit budgets
refilled) before each measured run and read (`GET /_fake/stats`) after it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APIS = ("arxiv", "github", "hub", "scholar", "landing")


@dataclass(frozen=True)
class Counts:
    """What the fake saw during one measured run."""

    requests: Mapping[str, int] = field(default_factory=dict)
    github_points: Mapping[str, int] = field(default_factory=dict)
    hub_calls: int = 0
    spans: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.requests.get(api, 0) for api in APIS)

    @property
    def points(self) -> int:
        """GitHub rate-limit points spent: REST core (anonymous or token) plus GraphQL."""
        return sum(self.github_points.values())

    def busy(self, api: str) -> float:
        """Seconds from the first request of `api` arriving to its last answer leaving."""
        first, last = self.spans.get(api, (0.0, 0.0))
        return last - first


def counts_from(stats: Mapping[str, Any]) -> Counts:
    spans = {api: (s["first"], s["last"]) for api, s in stats.get("spans", {}).items()}
    return Counts(
        requests=dict(stats.get("requests", {})),
        github_points=dict(stats.get("github_points", {})),
        hub_calls=int(stats.get("hub_calls", 0)),
        spans=spans,
    )


class FakeProcess:
    """A running `python -m tests.fakeapi`."""

    def __init__(self, process: subprocess.Popen[str], base: str) -> None:
        self._process, self.base = process, base

    def env(self) -> dict[str, str]:
        """The variables that point `enrich` (and the baseline) at this fake."""
        return {
            "ENRICH_ARXIV_URL": f"{self.base}/api/query",
            "ENRICH_GITHUB_URL": self.base,
            "HF_ENDPOINT": self.base,
            "ENRICH_S2_URL": self.base,
            "ENRICH_PMLR_URL": self.base,
            "ENRICH_OPENREVIEW_URL": self.base,
        }

    def reset(self) -> None:
        self._call("POST", "/_fake/reset")

    def counts(self) -> Counts:
        return counts_from(self._call("GET", "/_fake/stats"))

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def _call(self, method: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            body: dict[str, Any] = json.load(answer)
        return body


@contextmanager
def fake_api(seeds: Sequence[Path], latency: float, hub_limit: int = 500) -> Iterator[FakeProcess]:
    """Start the fake on a free loopback port with every link of `seeds` registered."""
    command = [sys.executable, "-m", "tests.fakeapi", "--port", "0", "--latency", str(latency)]
    command += ["--hub-limit", str(hub_limit)]
    for seed in seeds:
        command += ["--seed-file", str(seed)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    base = process.stdout.readline().strip()
    fake = FakeProcess(process, base)
    try:
        if not base.startswith("http://"):
            raise RuntimeError(f"the fake API did not start (exit code {process.poll()})")
        yield fake
    finally:
        fake.stop()
