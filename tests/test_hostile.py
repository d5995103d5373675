"""Hostile servers on loopback: no answer may hang a run or exhaust its memory.

The transport (`enrich.transport`) is driven through each of the three ways the sources reach
it — httpx2 sync (the Hub), httpx2 async (Semantic Scholar, landing pages), `requests`
(arXiv, PyGithub) — against the fake's hostile answers (`tests/fakeapi/hostile.py`): a drip
after the headers or of the headers, an answer that never comes, a body of 3 GB announced,
streamed, or gzip-packed. Every source end to end under each of them is a column of the
fault matrix (`test_faults.py`); the CLI runs against hanging and huge answers here are
whole processes: the time they take, their exit code, the rows and last known values they
keep, and their peak memory. The runs on a dead network go through `enrich.cli.main` in this
process (their time is the question, not the process's).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
import requests

from enrich import pipeline
from enrich.cli import main
from enrich.config import Settings
from enrich.progress import hints
from enrich.transport import AsyncTransport, Bounds, TooLarge, Transport, mount
from tests.conftest import api_env, point_at
from tests.fakeapi import FakeAPI
from tests.test_faults import (
    Template,
    advance_upstream,
    check_entity,
    check_rows_kept,
    make_template,
    populate,
)
from tests.test_faults import settings as fault_settings

DEADLINE = 0.1  # a request's, in the transport tests: what never answers is cut then
CAP = 1 << 20
RUN_DEADLINE = 0.1  # ENRICH_DEADLINE of the whole processes against hanging servers
# ENRICH_DEADLINE of the processes answered 3 GB: room to read every answer up to its cap
# on a loaded machine, so that each is cut by the cap (as malformed), not by the deadline.
HUGE_DEADLINE = 10.0
PATH = "/api/models/acme/m"  # the fake's Hub: any path of the API will do


def sync_get(url: str, bounds: Bounds) -> bytes:
    with httpx2.Client(transport=Transport(bounds), timeout=5) as client:
        return client.get(url).content


def async_get(url: str, bounds: Bounds) -> bytes:
    async def get() -> bytes:
        async with httpx2.AsyncClient(transport=AsyncTransport(bounds), timeout=5) as client:
            return (await client.get(url)).content

    return asyncio.run(get())


def requests_get(url: str, bounds: Bounds) -> bytes:
    with requests.Session() as session:
        mount(session, bounds)
        return session.get(url, timeout=5).content


CLIENTS = {"httpx2-sync": sync_get, "httpx2-async": async_get, "requests": requests_get}
TIMEOUTS = (httpx2.TimeoutException, requests.exceptions.Timeout)


def timed(get: Callable[[], Any]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as info:  # noqa: PT011 - each test checks the type
        get()
    return info.value, time.monotonic() - started


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("drip", {"interval": 0.02}),
        ("drip", {"interval": 0.02, "headers": True}),
        ("drip", {"interval": 0.15}),  # slower than the deadline's rest: the read is cut short
        ("timeout", {"seconds": 3600}),
    ],
    ids=["drip-body", "drip-headers", "drip-slow", "silent"],
)
def test_a_request_ends_at_its_deadline_as_a_timeout(
    client: str, kind: str, params: dict[str, Any]
) -> None:
    with FakeAPI() as api:
        api.fault("hub", kind, **params)
        exc, elapsed = timed(lambda: CLIENTS[client](api.base_url + PATH, Bounds(DEADLINE, CAP)))
    assert isinstance(exc, TIMEOUTS), repr(exc)
    assert DEADLINE * 0.9 < elapsed < DEADLINE + 0.3  # the client's timeout is 5 s


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"declared": False},
        {"gzip": True},
        {"gzip": True, "trailer": True},
        {"size": CAP + 1, "declared": False},
    ],
    ids=["announced", "streamed", "gzip-bomb", "gzip-then-junk", "one-byte-over"],
)
def test_an_answer_over_the_cap_is_malformed_and_not_read(
    client: str, params: dict[str, Any]
) -> None:
    with FakeAPI() as api:
        api.fault("hub", "huge", **params)
        exc, elapsed = timed(lambda: CLIENTS[client](api.base_url + PATH, Bounds(30.0, CAP)))
    assert isinstance(exc, TooLarge), repr(exc)
    assert "larger than 1,048,576 bytes" in str(exc)
    assert elapsed < 2.0


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("gzip", [False, True])
def test_an_answer_at_the_cap_is_read_whole(client: str, gzip: bool) -> None:
    with FakeAPI() as api:
        api.fault("hub", "huge", size=CAP, declared=False, gzip=gzip)
        body = CLIENTS[client](api.base_url + PATH, Bounds(30.0, CAP))
    assert len(body) == CAP


@pytest.mark.parametrize("client", CLIENTS)
def test_an_honest_answer_passes_untouched(client: str) -> None:
    with FakeAPI() as api:
        api.add_model("acme/m", downloads=123)
        body = CLIENTS[client](api.base_url + PATH, Bounds(30.0, CAP))
    assert b'"downloads":123' in body


# ------------------------------------------------------------------------ whole processes


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Output and cache of one clean run: the last known values every run here keeps."""
    return make_template(tmp_path_factory)


# Runs a command as its own child and writes that child's peak RSS (KB) to a file. Linux
# counts in a process's peak the memory of the process it was forked from (pytest, hundreds
# of MB by the end of the suite): the run is forked from this small launcher instead.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_process(
    root: Path, env: dict[str, str], mode: str = "--refresh"
) -> tuple[int, str, float, int]:
    """`python -m enrich run --refresh` (or another `mode`) in `root`: exit code, stderr,
    seconds, peak RSS (KB)."""
    command = [sys.executable, "-m", "enrich", "run", mode]
    command += ["--seeds", str(root / "seeds"), "--out", str(root / "output")]
    command += ["--cache", str(root / "cache")]
    peak = root / "peak-rss.txt"
    launch = [sys.executable, "-c", LAUNCHER, str(peak), *command]
    started = time.monotonic()
    done = subprocess.run(
        launch, env=env, cwd=root, capture_output=True, text=True, timeout=120, check=False
    )
    elapsed = time.monotonic() - started
    return done.returncode, done.stderr, elapsed, int(peak.read_text())


APIS = ("arxiv", "github", "hub", "scholar", "landing")


def hostile_run(
    template: Template, tmp_path: Path, kind: str, **params: Any
) -> tuple[int, str, float, int, dict[str, Any]]:
    root = template.copy_to(tmp_path / "run")
    with FakeAPI() as api:
        populate(api)
        advance_upstream(api)
        for name in APIS:
            api.fault(name, kind, **params)  # type: ignore[arg-type]
        deadline = HUGE_DEADLINE if kind == "huge" else RUN_DEADLINE
        env = api_env(api.base_url, ENRICH_DEADLINE=str(deadline))
        code, stderr, elapsed, rss = run_process(root, env)
    done = check_rows_kept(template, root)
    return code, stderr, elapsed, rss, done


def check_all_stale(template: Template, done: dict[str, Any]) -> None:
    """Every entity of the clean run that had a value keeps it, marked stale."""
    for ref, old in template.dataset["entities"].items():
        if old["data"] is not None:
            check_entity("stale", ref, done["entities"][ref], old)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "params"),
    [("drip", {"interval": RUN_DEADLINE / 2}), ("timeout", {"seconds": 3600})],
    ids=["drip", "silent"],
)
def test_a_run_against_hanging_servers_ends_in_bounded_time(
    template: Template, tmp_path: Path, kind: str, params: dict[str, Any]
) -> None:
    """Every API drips, or never answers: with a deadline of RUN_DEADLINE a request, the whole
    process ends in seconds (each source's breaker opens after 5 requests without an answer),
    exit 1, every row kept, every value its last known one, stale."""
    code, stderr, elapsed, rss, done = hostile_run(template, tmp_path, kind, **params)
    print(f"{kind} everywhere: {elapsed:.1f} s, peak RSS {rss / 1024:.0f} MB")
    assert code == 1, stderr
    assert elapsed < 20.0, f"the run took {elapsed:.1f} s"
    check_all_stale(template, done)
    assert "--offline" in stderr  # nothing answered: the network hint


@pytest.mark.slow
@pytest.mark.parametrize("params", [{"declared": False}, {"gzip": True}], ids=["3GB", "gzip"])
def test_a_run_against_3gb_answers_stays_small(
    template: Template, tmp_path: Path, params: dict[str, Any]
) -> None:
    """Every API answers 3 GB, streamed without a length (or a gzip stream that decodes to
    3 GB): each answer is cut at its source's cap and fails as malformed; the process stays
    under 300 MB of peak memory."""
    code, stderr, elapsed, rss, done = hostile_run(template, tmp_path, "huge", **params)
    print(f"3 GB answers everywhere: {elapsed:.1f} s, peak RSS {rss / 1024:.0f} MB")
    assert code == 1, stderr
    assert rss < 300 * 1024, f"peak RSS {rss / 1024:.0f} MB"
    assert elapsed < 30.0, f"the run took {elapsed:.1f} s"
    check_all_stale(template, done)
    assert "malformed" in (Path(tmp_path / "run" / "output" / "enriched.json").read_text())


# ------------------------------------------------------------------------- a dead network


def refused_url() -> str:
    """A loopback address where nothing listens: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_here(root: Path, base_url: str, mode: str = "--refresh") -> tuple[int, float]:
    """`enrich run --refresh` (or another `mode`) on `root` through the CLI's entry
    (`enrich.cli.main`), in this process, pointed at `base_url` with the real retry policy
    (`ENRICH_RETRY_WAIT=1`: a wait would show in the time): exit code, seconds."""
    paths = ["--seeds", str(root / "seeds"), "--out", str(root / "output")]
    with pytest.MonkeyPatch.context() as patch:
        point_at(base_url, patch)
        patch.setenv("ENRICH_RETRY_WAIT", "1")
        started = time.monotonic()
        code = main(["run", mode, *paths, "--cache", str(root / "cache")])
        return code, time.monotonic() - started


@pytest.fixture(scope="module")
def offline_seconds(template: Template, tmp_path_factory: pytest.TempPathFactory) -> float:
    """What a run of the same list costs with no network at all (`--offline`), on this
    machine as loaded now: the bound below is on the time a dead network adds to it, not on
    how fast a run goes."""
    root = template.copy_to(tmp_path_factory.mktemp("offline") / "run")
    code, seconds = run_here(root, refused_url(), "--offline")
    assert code == 0
    return seconds


@pytest.mark.parametrize(
    "base", [lambda: "http://api.example.invalid", refused_url], ids=["unresolvable", "refused"]
)
def test_a_dead_network_costs_seconds(
    template: Template,
    tmp_path: Path,
    base: Callable[[], str],
    offline_seconds: float,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No host resolves (or every connection is refused): a connection that cannot be made
    is not retried, and it opens its source's breaker at once. The run (in this process: not
    a test of the process) takes at most 3.5 s more than an offline run of the same list
    (about 0.3 s more here), ends with exit 1, the first hint is the --offline one, every
    value is kept stale, and report.md says once per source that nothing could be fetched,
    not once per link."""
    root = template.copy_to(tmp_path / "run")
    baseline = offline_seconds
    capsys.readouterr()
    code, elapsed = run_here(root, base())
    stderr = capsys.readouterr().err
    print(f"dead network ({base()}): {elapsed:.1f} s, offline {baseline:.1f} s")
    assert code == 1, stderr
    assert elapsed - baseline <= 3.5, f"the run took {elapsed:.1f} s, offline {baseline:.1f} s"
    hints = [line for line in stderr.splitlines() if "item(s) failed" in line or "--" in line]
    assert "--offline" in hints[0], stderr
    done = check_rows_kept(template, root)
    check_all_stale(template, done)
    report = (root / "output" / "report.md").read_text(encoding="utf-8")
    said = [line for line in report.splitlines() if "could be fetched" in line]
    # arxiv, github, huggingface: once each (Semantic Scholar's records are no row's links)
    assert len(said) == 3
    assert "## source-failed (3)" in report
    assert report.count("could not be fetched") == 1  # the seed's one landing page


# ---------------------------------------------------------------------- the run's limit


def test_past_the_run_limit_every_item_keeps_its_value_and_the_summary_says_so(
    template: Template, tmp_path: Path
) -> None:
    """`ENRICH_RUN_LIMIT` passed before a source asks (here: a limit of 0): no request is
    made, every value is kept stale, the run fails (exit 1), and the hints say why."""
    root = template.copy_to(tmp_path / "run")
    with FakeAPI() as api:
        populate(api)
        result = pipeline.run(fault_settings(api, root, refresh=True, run_limit=0.0))
        assert api.count() == 0
    assert result.fetch.late
    assert not result.succeeded
    check_all_stale(template, check_rows_kept(template, root))
    said = list(hints(result, Settings()))
    assert "the run's time limit (0 s, ENRICH_RUN_LIMIT) was reached" in said[0]
