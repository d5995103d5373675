"""Faults, latency, request records, seeding from markdown, and the standalone process."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
import requests
from arxiv import _feed
from github import Github, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait

from tests.fakeapi import FakeAPI
from tests.fakeapi.server import ApiName
from tests.fakeapi.test_fakeapi import UNTHROTTLED

ROOT = Path(__file__).resolve().parents[2]
SEED = "\n".join(
    [
        "| Paper | Code | Model |",
        "|---|---|---|",
        "| [SqueezeLLM](https://arxiv.org/abs/2306.07629) "
        "| [c](https://github.com/SqueezeAILab/SqueezeLLM) | |",
        "| [MobileBERT](https://arxiv.org/pdf/2004.02984v2.pdf) "
        "| [c](https://github.com/google-research/google-research/tree/master/mobilebert) "
        "| [m](https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0) |",
        "| old <https://arxiv.org/abs/hep-th/9901001v3> | https://github.com/a/b.git "
        "| https://huggingface.co/datasets/tatsu-lab/alpaca |",
        "See https://huggingface.co/spaces/junyangwang0410/Mobile-Agent, "
        "https://huggingface.co/codellama,",
        "https://huggingface.co/collections/MBZUAI/mobillama-65dd4182d588c91e8230332e and",
        "https://huggingface.co/papers/2402.14905 and https://huggingface.co/docs/transformers.",
    ]
)


pytestmark = pytest.mark.usefixtures("stocked")


def _url(api: FakeAPI, which: str) -> str:
    paths = {
        "arxiv": "/api/query?id_list=2306.07629",
        "github": "/repos/a/b",
        "hub": "/api/models/a/b",
    }
    return api.base_url + paths[which]


@pytest.mark.parametrize("which", ["arxiv", "github", "hub"])
@pytest.mark.parametrize("kind", ["500", "502", "503", "404", "429", "403_rate_limit"])
def test_status_faults(api: FakeAPI, which: str, kind: str) -> None:
    api.fault(which, kind, times=1, retry_after=7)  # type: ignore[arg-type]
    with httpx2.Client(timeout=5) as client:
        failed = client.get(_url(api, which))
        healthy = client.get(_url(api, which))
    assert failed.status_code == int(kind[:3])
    assert healthy.status_code == 200
    assert failed.headers["Retry-After"] == "7"
    assert api.requests[0].fault == kind
    assert api.requests[1].fault is None
    if which == "github" and kind in ("429", "403_rate_limit"):
        assert failed.headers["x-ratelimit-remaining"] == "0"
    if which == "hub" and kind == "429":
        assert failed.headers["RateLimit"].startswith('"api";r=0;t=')


def test_github_403_fault_message_and_pygithub_default_retry(api: FakeAPI) -> None:
    api.fault("github", "403_rate_limit", times=1, reset=2_000_000_000)
    body = requests.get(_url(api, "github"), timeout=5).json()
    assert body["message"].startswith("API rate limit exceeded for 127.0.0.1. (But here's")
    # PyGithub's default GithubRetry would sleep until X-RateLimit-Reset; a cap makes it raise.
    api.fault("github", "403_rate_limit", times=1, reset=2_000_000_000)
    capped = Github(base_url=api.base_url, retry=GithubRetry(max_rate_limit_wait=1), **UNTHROTTLED)
    with pytest.raises(RateLimitExceededExceedsMaxWait):
        capped.get_repo("a/b")
    capped.close()


def test_pygithub_default_retry_repeats_5xx_and_429(api: FakeAPI) -> None:
    api.fault("github", "502", times=2)
    api.fault("github", "429", times=1, retry_after=0)
    gh = Github(base_url=api.base_url, **UNTHROTTLED)  # default retry: GithubRetry()
    try:
        assert gh.get_repo("a/b").full_name == "a/b"
    finally:
        gh.close()
    assert [r.status for r in api.requests] == [502, 502, 429, 200]


def test_timeout_fault_and_stop_does_not_hang() -> None:
    server = FakeAPI().start()
    server.add_repo("a/b")
    server.fault("github", "timeout", seconds=30)
    with httpx2.Client(timeout=0.2) as client, pytest.raises(httpx2.ReadTimeout):
        client.get(server.base_url + "/repos/a/b")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(server.base_url + "/repos/a/b", timeout=0.2)
    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began < 2


def test_timeout_shorter_than_client_timeout_answers(api: FakeAPI) -> None:
    api.fault("hub", "timeout", times=1, seconds=0.1)
    assert requests.get(_url(api, "hub"), timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("api_name", "kind", "by_requests", "by_httpx", "statuses"),
    [
        pytest.param(
            "github",
            "reset",
            requests.exceptions.ConnectionError,
            httpx2.ReadError,
            [None, None],  # no status line
            id="reset",
        ),
        pytest.param(
            "hub",
            "truncated",
            requests.exceptions.ChunkedEncodingError,
            httpx2.RemoteProtocolError,
            [200, 200],  # a status line, then half the body
            id="truncated",
        ),
    ],
)
def test_a_broken_connection_fault_fails_both_clients(
    api: FakeAPI,
    api_name: ApiName,
    kind: str,
    by_requests: type[Exception],
    by_httpx: type[Exception],
    statuses: list[int | None],
) -> None:
    api.fault(api_name, kind, times=2)
    with pytest.raises(by_requests):
        requests.get(_url(api, api_name), timeout=5)
    with httpx2.Client(timeout=5) as client, pytest.raises(by_httpx):
        client.get(_url(api, api_name))
    assert [r.status for r in api.requests] == statuses


def test_malformed_and_empty_faults(api: FakeAPI) -> None:
    api.fault("github", "malformed", times=1)
    with pytest.raises(requests.exceptions.JSONDecodeError):
        requests.get(_url(api, "github"), timeout=5).json()
    api.fault("arxiv", "malformed", times=1)
    broken = requests.get(_url(api, "arxiv"), timeout=5)
    assert broken.status_code == 200
    assert _feed.parse(broken.content).results == []
    api.fault("arxiv", "empty", times=1)
    empty = _feed.parse(requests.get(_url(api, "arxiv"), timeout=5).content)
    assert (empty.malformed, empty.header.total_results, empty.results) == (False, 0, [])
    api.fault("hub", "empty", times=1)
    assert requests.get(_url(api, "hub"), timeout=5).content == b""


def test_fault_matching_by_path_and_count(api: FakeAPI) -> None:
    api.add_repo("c/d")
    api.fault("github", "503", path_contains="/c/d")
    assert requests.get(_url(api, "github"), timeout=5).status_code == 200
    assert requests.get(api.base_url + "/repos/c/d", timeout=5).status_code == 503
    assert requests.get(api.base_url + "/repos/c/d", timeout=5).status_code == 503
    api.clear_faults()
    assert requests.get(api.base_url + "/repos/c/d", timeout=5).status_code == 200
    assert api.count("github") == 4
    assert api.count(path_prefix="/repos/c/") == 3
    with pytest.raises(ValueError, match="unknown fault kind"):
        api.fault("github", "418")


def test_latency_and_request_records(api: FakeAPI) -> None:
    api.set_latency(0.15)
    began = time.monotonic()
    requests.get(_url(api, "arxiv"), headers={"X-Probe": "1"}, timeout=5)
    assert time.monotonic() - began >= 0.15
    api.set_latency(0.0)
    record = api.requests[0]
    assert (record.method, record.path, record.api, record.status) == (
        "GET",
        "/api/query",
        "arxiv",
        200,
    )
    assert record.query == {"id_list": "2306.07629"}
    assert record.headers["x-probe"] == "1"


@pytest.mark.parametrize("lowered", [0.0, 0.3])
def test_lowering_the_latency_answers_the_requests_held_at_once(
    api: FakeAPI, lowered: float
) -> None:
    """A request held for a latency of 30 s is answered once `set_latency` lowers it to what
    it has waited already (0), or when it has waited the new latency (0.3 s), not after 30 s."""
    api.set_latency(30.0)
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=3) as pool:
        held = [pool.submit(requests.get, _url(api, "hub"), timeout=10) for _ in range(3)]
        assert wait_until_count(api, 3)
        api.set_latency(lowered)
        assert [f.result().status_code for f in held] == [200] * 3
    took = time.monotonic() - began
    assert lowered <= took < lowered + 2.0, took
    assert api.latency_for("hub") == lowered


def wait_until_count(api: FakeAPI, count: int) -> bool:
    """Whether `api` has seen `count` requests within 10 s."""
    limit = time.monotonic() + 10
    while api.count() < count:
        if time.monotonic() > limit:
            return False
        time.sleep(0.005)
    return True


def test_concurrent_requests_overlap_their_latency(api: FakeAPI) -> None:
    api.set_latency(0.2)
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(
            pool.map(lambda _: requests.get(_url(api, "hub"), timeout=5).status_code, range(40))
        )
    assert statuses == [200] * 40
    assert time.monotonic() - began < 1.5  # 40 x 0.2 s would be 8 s if serialised


def test_populate_from_markdown_is_deterministic() -> None:
    with FakeAPI() as one, FakeAPI() as two:
        found = one.populate_from_markdown(SEED)
        two.populate_from_markdown(SEED)
        assert one.papers == two.papers
        assert one.github.repos == two.github.repos
        assert one.hub.repos == two.hub.repos
        assert set(found.papers) == {"2306.07629", "2004.02984", "hep-th/9901001"}
        assert "2402.14905" in one.papers  # a Hub paper page is an arXiv paper too
        assert one.papers["2004.02984"].version >= 2
        assert one.papers["hep-th/9901001"].version >= 3
        assert one.papers["2306.07629"].title == "Paper title for 2306.07629"
        assert set(found.repos) == {
            "SqueezeAILab/SqueezeLLM",
            "google-research/google-research",
            "a/b",
        }
        assert set(found.hub) == {
            ("model", "TinyLlama/TinyLlama-1.1B-Chat-v1.0"),
            ("dataset", "tatsu-lab/alpaca"),
            ("space", "junyangwang0410/Mobile-Agent"),
        }
        assert list(found.orgs) == ["codellama"]
        assert "docs" not in one.hub.orgs
        tree = requests.get(
            one.base_url + "/repos/google-research/google-research/contents/mobilebert?ref=master",
            timeout=5,
        )
        assert tree.status_code == 200
        slug = "MBZUAI/mobillama-65dd4182d588c91e8230332e"
        assert requests.get(f"{one.base_url}/api/collections/{slug}", timeout=5).ok
        assert requests.get(one.base_url + "/api/papers/2402.14905", timeout=5).ok


@pytest.mark.skipif(not (ROOT / "seeds" / "slm-survey.md").exists(), reason="no seed file")
def test_populate_from_the_project_seed() -> None:
    with FakeAPI() as server:
        found = server.populate_from_markdown((ROOT / "seeds/slm-survey.md").read_text())
    assert len(found.papers) > 50
    assert len(found.repos) > 25
    assert found.hub


def test_standalone_process_prints_base_url(tmp_path: Path) -> None:
    seed = tmp_path / "seed.md"
    seed.write_text(SEED, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "tests.fakeapi",
        "--port",
        "0",
        "--latency",
        "0",
        "--seed-file",
        str(seed),
        "--fault",
        "hub:503:1",
    ]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        try:
            assert base.startswith("http://127.0.0.1:")
            feed = requests.get(base + "/api/query?id_list=2306.07629", timeout=5)
            assert _feed.parse(feed.content).results[0].title == "Paper title for 2306.07629"
            assert requests.get(base + "/api/models/a/b", timeout=5).status_code == 503
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    assert proc.returncode == 0
