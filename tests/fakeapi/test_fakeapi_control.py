"""`/_fake/stats` and `/_fake/reset`, and `--hub-limit`: the fake driven from outside."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.fakeapi import FakeAPI

ROOT = Path(__file__).resolve().parents[2]
TOKEN = {"Authorization": "token fake"}


pytestmark = pytest.mark.usefixtures("stocked")


def _stats(api: FakeAPI) -> dict[str, object]:
    answer = requests.get(api.base_url + "/_fake/stats", timeout=5)
    assert answer.status_code == 200
    stats: dict[str, object] = answer.json()
    return stats


def test_stats_count_requests_statuses_and_points(api: FakeAPI) -> None:
    base = api.base_url
    requests.get(base + "/api/query?id_list=2306.07629", timeout=5)
    first = requests.get(base + "/repos/a/b", timeout=5)
    etag = {"If-None-Match": first.headers["ETag"]}
    assert requests.get(base + "/repos/a/b", headers=etag, timeout=5).status_code == 304
    requests.get(base + "/repos/a/b", headers=TOKEN, timeout=5)
    requests.post(
        base + "/graphql", json={"query": "{ viewer { login } }"}, headers=TOKEN, timeout=5
    )
    requests.get(base + "/api/models/a/b", timeout=5)
    stats = _stats(api)
    assert stats["requests"] == {"arxiv": 1, "github": 4, "hub": 1}
    assert stats["statuses"] == {
        "arxiv": {"200": 1},
        "github": {"200": 3, "304": 1},
        "hub": {"200": 1},
    }
    # the anonymous 304 is charged like a 200; only an authorized one is free
    assert stats["github_points"] == {"core_anonymous": 2, "core_token": 1, "graphql": 1}
    assert stats["hub_calls"] == 1
    spans = stats["spans"]
    assert isinstance(spans, dict)
    assert spans["github"]["first"] <= spans["github"]["last"]
    assert len(api.requests) == 6  # control requests are not recorded


def test_reset_forgets_requests_and_refills_budgets(api: FakeAPI) -> None:
    requests.get(api.base_url + "/repos/a/b", timeout=5)
    requests.get(api.base_url + "/api/models/a/b", timeout=5)
    assert requests.post(api.base_url + "/_fake/reset", timeout=5).json() == {"reset": True}
    stats = _stats(api)
    assert stats["requests"] == {}
    assert stats["github_points"] == {"core_anonymous": 0, "core_token": 0, "graphql": 0}
    assert stats["hub_calls"] == 0
    assert api.rate_limit_remaining(token=False) == 60


def test_control_errors(api: FakeAPI) -> None:
    assert requests.get(api.base_url + "/_fake/nothing", timeout=5).status_code == 404
    assert requests.get(api.base_url + "/_fake/reset", timeout=5).status_code == 405


def test_hub_limit_flag(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tests.fakeapi", "--hub-limit", "2"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        try:
            codes = [requests.get(base + "/api/models/x/y", timeout=5).status_code for _ in "abc"]
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    assert codes == [404, 404, 429]
