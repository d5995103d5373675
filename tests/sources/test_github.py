"""The GitHub source against the loopback FakeAPI: real PyGithub, real HTTP, no patching."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from enrich.cache import Cache
from enrich.cli import main
from enrich.config import Endpoints, Secret, Settings
from enrich.fetch import FetchReport, fetch_all
from enrich.metadata import RepoMeta
from enrich.models import REF, Identifier, Kind, Result, Status
from enrich.net import RetryPolicy
from enrich.sources import Answer, FetchContext, Request
from enrich.sources import github_graphql as gql
from enrich.sources.github import GitHubSource
from enrich.sources.github_run import WAITS
from enrich.text import clean
from tests import builders as build
from tests.builders import ident
from tests.conftest import Sleeps, point_at
from tests.fakeapi import FakeAPI

TOKEN = "ghp_FAKE_test_token_not_real_SECRET"
CREATED = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
PUSHED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
UPDATED = datetime(2025, 1, 3, 0, 0, 0, tzinfo=UTC)


def make_settings(api: FakeAPI, token: str = "", **overrides: Any) -> Settings:
    base = Settings(
        endpoints=Endpoints(github=api.base_url),
        github_token=Secret(token),
        retry_wait=False,
        retry_attempts=3,
    )
    return dataclasses.replace(base, **overrides)


def ask(key: str, *subpaths: str, previous: Result | None = None) -> Request:
    return Request(Identifier(kind=Kind.GITHUB_REPO, key=key), previous, tuple(subpaths))


def fetch(
    api: FakeAPI,
    requests: Sequence[Request | str],
    *,
    token: str = "",
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
    **overrides: Any,
) -> tuple[dict[Identifier, Result], FetchContext, list[int]]:
    settings = make_settings(api, token, **overrides)
    # `now`: a clock of the test's, the `fetched_at` of what is fetched
    ctx, advanced = build.context(settings, policy, now=None if now is None else lambda: now)
    asked = [r if isinstance(r, Request) else ask(r) for r in requests]
    results = asyncio.run(GitHubSource(settings).fetch(asked, ctx))
    return results, ctx, advanced


def statuses(results: Mapping[Identifier, Result]) -> dict[str, Status]:
    """Each result's status, by its entity's `kind:key` (as the assertions spell it)."""
    return {entity.ref: r.status for entity, r in results.items()}


def add_full_repo(api: FakeAPI) -> None:
    api.add_repo(
        "Mit-Han-Lab/LLM-AWQ",
        stars=2500,
        forks=210,
        subscribers=31,
        open_issues=17,
        license_spdx="MIT",
        archived=True,
        fork=True,
        description="AWQ:\tActivation-aware\x00 weight \u202equantization\n for LLMs",
        homepage="https://hanlab.mit.edu/projects/awq",
        language="Python",
        topics=["llm", "quantization"],
        default_branch="master",
        created_at=CREATED,
        pushed_at=PUSHED,
        updated_at=UPDATED,
    )


EXPECTED = RepoMeta(
    full_name="Mit-Han-Lab/LLM-AWQ",
    description="AWQ: Activation-aware weight quantization for LLMs",
    stars=2500,
    forks=210,
    watchers=31,
    open_issues=17,
    license_spdx="MIT",
    license_name="MIT License",
    archived=True,
    fork=True,
    created_at=CREATED,
    pushed_at=PUSHED,
    updated_at=UPDATED,
    default_branch="master",
    topics=["llm", "quantization"],
    homepage="https://hanlab.mit.edu/projects/awq",
    language="Python",
)


# ------------------------------------------------------------------------------ REST


def test_rest_success_path_maps_every_field(api: FakeAPI) -> None:
    add_full_repo(api)
    results, ctx, advanced = fetch(api, ["mit-han-lab/llm-awq"])

    got = results[ident("github_repo:mit-han-lab/llm-awq")]
    assert got.status is Status.OK
    assert got.data == EXPECTED
    assert ctx.stats.answers[ident(got.ref)] == Answer(200, 1)
    assert (got.provenance.etag or "").startswith('W/"')
    assert got.provenance.last_modified == "Fri, 03 Jan 2025 00:00:00 GMT"
    assert got.provenance.fetched_at is not None
    assert [(r.method, r.path) for r in api.requests] == [("GET", "/repos/mit-han-lab/llm-awq")]
    assert "authorization" not in api.requests[0].headers
    assert api.requests[0].headers["x-github-api-version"] == "2022-11-28"
    assert ctx.stats.requests == 1
    assert ctx.stats.rate_limit_remaining == 59
    assert ctx.stats.rate_limit_spent == 1
    assert sum(advanced) == 1


def test_untrusted_strings_are_cleaned_and_capped(api: FakeAPI) -> None:
    api.add_repo(
        "a/b",
        description="x\x1b[31m" + "y" * 5000,
        homepage="javascript:alert(1)",
        topics=["ok", "\u202ebad\u202c", *(f"t{i}" for i in range(30))],
    )
    results, _, _ = fetch(api, ["a/b"])
    meta = results[ident("github_repo:a/b")].data
    assert isinstance(meta, RepoMeta)
    assert meta.description is not None
    assert len(meta.description) == 1_000
    assert meta.description.startswith("x [31myyy")
    assert meta.description.endswith("…")
    assert meta.homepage is None
    assert meta.topics[:2] == ["ok", "bad"]
    assert len(meta.topics) == 20


def test_rest_many_repositories_concurrently(api: FakeAPI) -> None:
    names = [f"org/repo-{i}" for i in range(20)]
    for name in names:
        api.add_repo(name)
    api.set_latency(0.1, "github")
    started = time.monotonic()
    results, ctx, advanced = fetch(api, names)
    assert time.monotonic() - started < 1.2  # one probe, then 19 at most 8 at a time
    assert set(statuses(results).values()) == {Status.OK}
    assert ctx.stats.requests == 20
    assert ctx.stats.rate_limit_remaining == 40
    assert sum(advanced) == 20


def test_rest_not_found_alongside_found(api: FakeAPI) -> None:
    api.add_repo("real/one")
    results, ctx, _ = fetch(api, ["real/one", "ghost/none"])
    assert statuses(results) == {
        "github_repo:real/one": Status.OK,
        "github_repo:ghost/none": Status.NOT_FOUND,
    }
    missing = results[ident("github_repo:ghost/none")]
    assert ctx.stats.answers[ident(missing.ref)] == Answer(404, 1)
    assert missing.data is None


def test_rest_renamed_repository_is_moved(api: FakeAPI) -> None:
    api.add_repo("Old-Org/Old-Name", stars=7)
    api.rename_repo("Old-Org/Old-Name", "New-Org/New-Name")
    results, ctx, _ = fetch(api, ["old-org/old-name"])

    got = results[ident("github_repo:old-org/old-name")]
    assert got.status is Status.MOVED
    assert got.moved_to == "github_repo:new-org/new-name"
    assert isinstance(got.data, RepoMeta)
    assert got.data.full_name == "New-Org/New-Name"
    assert got.data.stars == 7
    assert ctx.stats.answers[ident(got.ref)].http_status == 301
    paths = [r.path for r in api.requests]
    assert paths[0] == "/repos/old-org/old-name"
    assert paths[1].startswith("/repositories/")
    assert ctx.stats.requests == 2


def test_rest_case_only_difference_is_not_a_move(api: FakeAPI) -> None:
    api.add_repo("CamelCase/Repo")
    results, _, _ = fetch(api, ["camelcase/repo"])
    assert results[ident("github_repo:camelcase/repo")].status is Status.OK


def test_anonymous_revalidation_answers_304_and_is_charged(api: FakeAPI) -> None:
    """Without a token a 304 saves the body, not the budget: GitHub waives its cost only
    for a request with an `Authorization` header."""
    api.add_repo("keep/me", paths=["docs"])
    first, _, _ = fetch(api, [ask("keep/me", "tree/main/docs")])
    previous = first[ident("github_repo:keep/me")]
    assert isinstance(previous.data, RepoMeta)
    assert previous.data.subpaths == {"tree/main/docs": True}
    before = api.rate_limit_remaining(token=False)
    api.reset_requests()

    second, ctx, _ = fetch(api, [ask("keep/me", "tree/main/docs", previous=previous)])

    got = second[ident("github_repo:keep/me")]
    assert got.status is Status.OK
    assert ctx.stats.answers[ident(got.ref)].http_status == 304
    assert got.data == previous.data
    assert got.provenance.etag == previous.provenance.etag
    assert got.provenance.last_modified == previous.provenance.last_modified
    assert api.rate_limit_remaining(token=False) == before - 1
    assert [r.path for r in api.requests] == ["/repos/keep/me"]  # subpath known: no recheck
    assert api.requests[0].headers["if-none-match"] == previous.provenance.etag
    assert ctx.stats.revalidated == 1
    assert ctx.stats.rate_limit_spent == 1


def test_revalidating_a_moved_repository_keeps_it_moved(api: FakeAPI) -> None:
    api.add_repo("Old/Name")
    api.rename_repo("Old/Name", "New/Name")
    first, _, _ = fetch(api, ["old/name"])
    previous = first[ident("github_repo:old/name")]
    second, ctx, _ = fetch(api, [ask("old/name", previous=previous)])
    got = second[ident("github_repo:old/name")]
    assert got.status is Status.MOVED
    assert ctx.stats.answers[ident(got.ref)].http_status == 304
    assert got.moved_to == "github_repo:new/name"
    assert got.data == previous.data
    assert ctx.stats.revalidated == 1


def test_changed_repository_answers_200_with_new_data(api: FakeAPI) -> None:
    api.add_repo("grow/ing", stars=1)
    first, _, _ = fetch(api, ["grow/ing"])
    api.add_repo("grow/ing", stars=2, updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    second, ctx, _ = fetch(api, [ask("grow/ing", previous=first[ident("github_repo:grow/ing")])])
    got = second[ident("github_repo:grow/ing")]
    assert ctx.stats.answers[ident(got.ref)].http_status == 200
    assert isinstance(got.data, RepoMeta)
    assert got.data.stars == 2
    assert got.provenance.etag != first[ident("github_repo:grow/ing")].provenance.etag
    assert ctx.stats.revalidated == 0


RESET = int(datetime(2030, 1, 1, 13, 37, tzinfo=UTC).timestamp())


def summary_row(stderr: str, source: str) -> dict[str, str]:
    """A source's row of the plain summary table (columns apart by two spaces or more)."""
    lines = stderr.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("source "))
    row = next(line for line in lines if line.lstrip().startswith(f"{source} "))
    return dict(
        zip(re.split(r"\s{2,}", header.strip()), re.split(r"\s{2,}", row.strip()), strict=True)
    )


def waiting(results: Mapping[Identifier, Result], ctx: FetchContext) -> list[str]:
    """The refs left for a later run: not sent, `skipped` with the budget's reason."""
    found = [entity for entity, r in results.items() if r.status is Status.SKIPPED]
    assert all(results[entity].provenance.error == WAITS for entity in found)
    assert all(ctx.stats.answers[entity].attempts == 0 for entity in found)
    return sorted(entity.ref for entity in found)


@pytest.mark.parametrize(("budget", "sent"), [(1, 1), (6, 1), (8, 3), (12, 7), (16, 10)])
def test_a_budget_smaller_than_the_list_is_spent_and_the_rest_wait(
    api: FakeAPI, budget: int, sent: int
) -> None:
    """Without a token: the probe, then as many repositories as the budget allows beyond
    the reserve of 5; the others are not sent, not failed: they wait for a later run."""
    names = [f"many/repo-{i}" for i in range(10)]
    for name in names:
        api.add_repo(name)
    api.set_rate_limit(budget, reset_epoch=RESET)
    results, ctx, advanced = fetch(api, names)

    assert api.count("github") == sent
    assert all(r.status == 200 for r in api.requests)  # never burnt into 403s
    assert [r.status for r in results.values()].count(Status.OK) == sent
    assert waiting(results, ctx) == sorted(f"github_repo:{n}" for n in names[sent:])
    notes = [
        f"github: {10 - sent} repositories wait for a later run (rate limit:"
        f" {max(0, budget - sent)} requests left, resets at 13:37 UTC), oldest values first"
        " — set GITHUB_TOKEN for 5,000/hour"
    ]
    assert ctx.stats.notes == (notes if sent < 10 else [])
    assert sum(advanced) == 10


def aged(result: Result, when: datetime) -> Result:
    """`result` as if fetched at `when`."""
    provenance = result.provenance.model_copy(update={"fetched_at": when})
    return result.model_copy(update={"provenance": provenance})


def test_the_budget_goes_to_the_oldest_values_first(api: FakeAPI) -> None:
    """Never fetched first, then the oldest `fetched_at`, whatever the order asked in."""
    names = [f"age/repo-{i}" for i in range(8)]
    for name in names:
        api.add_repo(name)
    first, _, _ = fetch(api, names)
    hours = [5, 1, 7, 3, 2, 6, 4]  # repo-7 was never fetched
    asked = [
        ask(
            name,
            previous=aged(first[ident(f"github_repo:{name}")], datetime(2026, 1, 1, h, tzinfo=UTC)),
        )
        for name, h in zip(names, hours, strict=False)
    ]
    asked.append(ask(names[7]))
    api.set_rate_limit(9)  # the probe and 3 more
    api.reset_requests()
    results, ctx, _ = fetch(api, list(reversed(asked)))

    sent = [r.path.removeprefix("/repos/") for r in api.requests]
    assert sent[0] == "age/repo-7"  # never fetched: the probe
    assert sorted(sent[1:]) == ["age/repo-1", "age/repo-3", "age/repo-4"]  # 1, 2, 3 o'clock
    assert waiting(results, ctx) == sorted(f"github_repo:age/repo-{i}" for i in (0, 2, 5, 6))


@pytest.mark.parametrize(("repos", "runs"), [(130, 3), (56, 2), (40, 1)])
def test_consecutive_runs_fetch_every_repository_oldest_first(
    api: FakeAPI, repos: int, runs: int
) -> None:
    """Hourly runs without a token on 60 requests an hour: each run spends its budget on
    the values that waited longest, the rest keep theirs; every repository is fetched."""
    names = [f"hourly/repo-{i:03d}" for i in range(repos)]
    for name in names:
        api.add_repo(name)
    known: dict[Identifier, Result] = {}  # what the dataset holds between runs
    fetched_in: dict[Identifier, list[int]] = {ident(f"github_repo:{n}"): [] for n in names}
    start = datetime(2020, 3, 1, 8, 0, tzinfo=UTC)  # before the fake's resets
    for run in range(runs + 1):
        api.refill_budgets()  # an hour later: a new window of 60
        clock = start + timedelta(hours=run)
        asked = [ask(n, previous=known.get(ident(f"github_repo:{n}"))) for n in names]
        due = sorted(asked, key=lambda r: (_stamp(r.previous), REF(r.identifier)))
        due = due[: min(repos, 55)]
        results, ctx, _ = fetch(api, asked, now=clock)
        sent = sorted((e for e, r in results.items() if r.status is Status.OK), key=REF)
        assert sent == sorted((r.identifier for r in due), key=REF)  # the oldest 55 (or all)
        assert not [r for r in results.values() if r.status is Status.ERROR]
        assert ctx.stats.requests == len(sent) <= 60
        for ref in sent:
            known[ref] = results[ref]
            fetched_in[ref].append(run)
    assert all(fetched_in[ref] and fetched_in[ref][0] < runs for ref in fetched_in)
    for ref, fetched in fetched_in.items():  # no value waits longer than `runs` runs
        gaps = [b - a for a, b in zip([-1, *fetched], [*fetched, runs + 1], strict=True)]
        assert max(gaps) <= runs + 1, ref


def _stamp(previous: Result | None) -> float:
    when = previous.provenance.fetched_at if previous is not None else None
    return when.timestamp() if when is not None else 0.0


def test_revalidation_costs_a_point_per_conditional_request(api: FakeAPI) -> None:
    """Without a token, ten repositories with ETags on a budget of 8: each conditional
    request costs a point (a 304 too), so 3 revalidate and 7 wait."""
    names = [f"many/repo-{i}" for i in range(10)]
    for name in names:
        api.add_repo(name)
    first, _, _ = fetch(api, names)
    api.set_rate_limit(8)
    api.reset_requests()
    asked = [ask(name, previous=first[ident(f"github_repo:{name}")]) for name in names]
    second, ctx, _ = fetch(api, asked)
    assert api.count("github") == 3
    assert all(r.headers["if-none-match"] for r in api.requests)
    assert [ctx.stats.answers[r].http_status for r in second].count(304) == 3
    assert len(waiting(second, ctx)) == 7
    assert ctx.stats.revalidated == 3
    assert ctx.stats.rate_limit_spent == 3
    assert api.rate_limit_remaining(token=False) == 5


def test_a_spent_budget_refuses_even_a_conditional_request_and_all_wait(api: FakeAPI) -> None:
    """The probe's conditional request is refused (403: without a token a 304 is no
    exception) and tells the budget: nothing more is sent, nothing fails."""
    names = [f"many/repo-{i}" for i in range(4)]
    for name in names:
        api.add_repo(name)
    first, _, _ = fetch(api, names)
    api.set_rate_limit(0, reset_epoch=RESET)
    api.reset_requests()
    asked = [ask(name, previous=first[ident(f"github_repo:{name}")]) for name in names]
    second, ctx, _ = fetch(api, asked)
    assert api.count("github") == 1  # the probe, whose answer tells the budget
    assert len(waiting(second, ctx)) == 4
    assert ctx.stats.rate_limit_remaining == 0
    assert ctx.stats.notes[0].startswith("github: 4 repositories wait")


def test_rate_limited_403_with_distant_reset_waits_without_delay(api: FakeAPI) -> None:
    """Someone else spent the budget: the 403 costs no wait and fails nothing."""
    api.add_repo("slow/down")
    api.add_repo("slow/other")
    api.fault("github", "403_rate_limit", reset=int(time.time()) + 3600)
    slept = Sleeps()
    patient = RetryPolicy(attempts=3, max_seconds=60, wait=True, sleep=slept)
    results, ctx, _ = fetch(api, ["slow/down", "slow/other"], policy=patient)

    assert slept == []
    assert api.count("github") == 1
    assert waiting(results, ctx) == ["github_repo:slow/down", "github_repo:slow/other"]
    assert "GITHUB_TOKEN" in ctx.stats.notes[0]
    assert ctx.stats.rate_limit_remaining == 0


def test_a_retry_without_budget_is_not_sent_and_fails(api: FakeAPI) -> None:
    """A unit that was sent and got no answer (which may have been charged) is not retried
    on the reserve: it fails, and the fetch stage keeps its last value as stale. A refusal
    or a server error costs nothing: see `test_fault_matrix`."""
    api.add_repo("flaky/one")
    api.add_repo("flaky/two")
    api.set_rate_limit(7)
    api.fault("github", "reset", times=1, path_contains="flaky/two")
    results, _, _ = fetch(api, ["flaky/one", "flaky/two"])
    assert api.count("github") == 2  # the probe (one), two; no retry: 5 left is the reserve
    assert results[ident("github_repo:flaky/one")].status is Status.OK
    failed = results[ident("github_repo:flaky/two")]
    assert failed.status is Status.ERROR
    assert "no requests left to retry" in (failed.provenance.error or "")


def test_429_with_retry_after_is_retried(api: FakeAPI) -> None:
    api.add_repo("busy/repo")
    api.fault("github", "429", times=1, retry_after=1, remaining=50)
    results, ctx, _ = fetch(api, ["busy/repo"])
    got = results[ident("github_repo:busy/repo")]
    assert got.status is Status.OK
    assert ctx.stats.answers[ident(got.ref)].attempts == 2
    assert [r.status for r in api.requests] == [429, 200]


@pytest.mark.parametrize(
    ("faults", "status", "error", "attempts"),
    [
        pytest.param(["502", "503"], Status.OK, None, 3, id="5xx-burst-then-recovery"),
        pytest.param(["reset"], Status.OK, None, 2, id="reset-once-is-retried"),
        pytest.param(["truncated"], Status.OK, None, 2, id="truncated-once-is-retried"),
        pytest.param(
            "malformed",
            Status.ERROR,
            "GET /repos/o/r: malformed answer (not JSON)",
            1,
            id="malformed-json-fails-at-once",
        ),
        pytest.param("truncated", Status.ERROR, "connection failed", 3, id="truncated-always"),
    ],
)
def test_a_transport_fault_is_retried_or_ends_in_error(
    api: FakeAPI, faults: list[str] | str, status: Status, error: str | None, attempts: int
) -> None:
    """A list of faults: each once, in turn; a single fault: every time."""
    api.add_repo("o/r")
    for kind in [faults] if isinstance(faults, str) else faults:
        api.fault("github", kind, times=None if isinstance(faults, str) else 1)
    results, ctx, _ = fetch(api, ["o/r"])
    got = results[ident("github_repo:o/r")]
    assert got.status is status
    assert error is None if status is Status.OK else error in (got.provenance.error or "")
    assert ctx.stats.answers[ident(got.ref)].attempts == attempts


def test_permanent_500_ends_in_error(api: FakeAPI) -> None:
    api.add_repo("down/repo")
    api.fault("github", "500")
    results, ctx, _ = fetch(api, ["down/repo"])
    got = results[ident("github_repo:down/repo")]
    assert got.status is Status.ERROR
    assert got.provenance.error == "GET /repos/down/repo: HTTP 500"
    assert ctx.stats.answers[ident(got.ref)] == Answer(500, 3)
    assert got.provenance.fetched_at is None
    assert ctx.stats.requests == 3


def test_timeout_is_retried(api: FakeAPI) -> None:
    api.add_repo("sleepy/repo")
    api.fault("github", "timeout", times=1, seconds=5)
    started = time.monotonic()
    results, ctx, _ = fetch(api, ["sleepy/repo"], timeout=0.2)
    assert time.monotonic() - started < 3
    got = results[ident("github_repo:sleepy/repo")]
    assert got.status is Status.OK
    assert ctx.stats.answers[ident(got.ref)].attempts == 2


def test_persistent_timeout_ends_in_error(api: FakeAPI) -> None:
    api.add_repo("sleepy/repo")
    api.fault("github", "timeout", seconds=5)
    policy = RetryPolicy(wait=False, attempts=2)
    results, ctx, _ = fetch(api, ["sleepy/repo"], policy=policy, timeout=0.2)
    got = results[ident("github_repo:sleepy/repo")]
    assert got.status is Status.ERROR
    assert got.provenance.error == "GET /repos/sleepy/repo: timed out"
    assert ctx.stats.answers[ident(got.ref)].attempts == 2


SUBPATHS = {  # a linked subpath -> whether the repository has it
    "tree/main/docs": True,
    "blob/main/src/model.py": True,
    "tree/v1/docs": True,
    "tree/main/missing": False,
    "tree/nosuchref/docs": False,
}
CONTENTS = [  # the REST requests that check them: one each, the path at the ref
    ("/repos/docs/repo/contents/docs", {"ref": "main"}),
    ("/repos/docs/repo/contents/src/model.py", {"ref": "main"}),
    ("/repos/docs/repo/contents/docs", {"ref": "v1"}),
    ("/repos/docs/repo/contents/missing", {"ref": "main"}),
    ("/repos/docs/repo/contents/docs", {"ref": "nosuchref"}),
]


@pytest.mark.parametrize(
    ("token", "sent", "contents"),
    [("", 1 + len(CONTENTS), CONTENTS), (TOKEN, 1, [])],
    ids=["rest-one-request-each", "graphql-in-the-same-query"],
)
def test_subpaths_are_checked(
    api: FakeAPI, token: str, sent: int, contents: list[tuple[str, dict[str, str]]]
) -> None:
    """Each linked path at its ref; what is no path (an issue, a pull request) is not asked."""
    api.add_repo("docs/repo", paths=["docs", "src/model.py"], refs=["v1"], default_branch="main")
    asked = ask("docs/repo", *SUBPATHS, "issues/3", "pull/4")
    results, _, _ = fetch(api, [asked], token=token)
    meta = results[ident("github_repo:docs/repo")].data
    assert isinstance(meta, RepoMeta)
    assert meta.subpaths == SUBPATHS
    assert [(r.path, r.query) for r in api.requests if "/contents" in r.path] == contents
    assert api.count("github") == sent


def test_subpath_checks_skipped_when_budget_is_short(api: FakeAPI) -> None:
    api.add_repo("tight/repo", paths=["docs"])
    api.set_rate_limit(6)
    results, _, _ = fetch(api, [ask("tight/repo", "tree/main/docs", "tree/main/other")])
    got = results[ident("github_repo:tight/repo")]
    assert got.status is Status.OK
    assert isinstance(got.data, RepoMeta)
    assert got.data.subpaths == {}
    assert api.count("github") == 1


def test_invalid_key_is_an_error_without_request(api: FakeAPI) -> None:
    results, _, advanced = fetch(api, ["not-a-repo", "a/b/c", "owner/.."])
    assert set(statuses(results).values()) == {Status.ERROR}
    assert api.count() == 0
    assert sum(advanced) == 3


# --------------------------------------------------------------------------- GraphQL


def test_graphql_batches_with_a_token(api: FakeAPI) -> None:
    names = [f"batch/repo-{i:03d}" for i in range(120)]
    for name in names:
        api.add_repo(name)
    results, ctx, advanced = fetch(api, names, token=TOKEN)

    assert set(statuses(results).values()) == {Status.OK}
    assert api.count("github", "/graphql") == 3
    assert api.count("github", "/repos") == 0
    assert all(r.headers["authorization"] == f"token {TOKEN}" for r in api.requests)
    assert ctx.stats.requests == 3
    assert ctx.stats.rate_limit_remaining == 4997
    assert ctx.stats.rate_limit_spent == 3
    assert sorted(advanced) == [20, 50, 50]
    got = results[ident("github_repo:batch/repo-007")]
    assert ctx.stats.answers[ident(got.ref)].http_status == 200
    assert isinstance(got.data, RepoMeta)
    assert got.data.full_name == "batch/repo-007"


def test_graphql_maps_every_field(api: FakeAPI) -> None:
    add_full_repo(api)
    results, _, _ = fetch(api, ["mit-han-lab/llm-awq"], token=TOKEN)
    got = results[ident("github_repo:mit-han-lab/llm-awq")]
    assert got.status is Status.OK
    # GraphQL counts open issues and open pull requests apart; the fake answers 17 and 8.
    assert got.data == EXPECTED.model_copy(update={"open_issues": 17 + 8})


def test_graphql_not_found_does_not_lose_the_batch(api: FakeAPI) -> None:
    api.add_repo("real/one")
    api.add_repo("real/two")
    results, _, _ = fetch(api, ["real/one", "ghost/none", "real/two"], token=TOKEN)
    assert statuses(results) == {
        "github_repo:real/one": Status.OK,
        "github_repo:ghost/none": Status.NOT_FOUND,
        "github_repo:real/two": Status.OK,
    }
    assert api.count("github", "/graphql") == 1


def test_graphql_renamed_repository_is_moved(api: FakeAPI) -> None:
    api.add_repo("Old-Org/Old-Name")
    api.rename_repo("Old-Org/Old-Name", "New-Org/New-Name")
    results, _, _ = fetch(api, ["old-org/old-name"], token=TOKEN)
    got = results[ident("github_repo:old-org/old-name")]
    assert got.status is Status.MOVED
    assert got.moved_to == "github_repo:new-org/new-name"
    assert isinstance(got.data, RepoMeta)
    assert got.data.full_name == "New-Org/New-Name"


def test_graphql_budget_too_small_sends_what_it_can_and_the_rest_wait(api: FakeAPI) -> None:
    names = [f"batch/repo-{i:03d}" for i in range(120)]
    for name in names:
        api.add_repo(name)
    api.github.graphql.remaining = 3
    results, ctx, _ = fetch(api, names, token=TOKEN)
    assert api.count("github", "/graphql") == 1
    counts = list(statuses(results).values())
    assert counts.count(Status.OK) == 50
    assert len(waiting(results, ctx)) == 70
    (note,) = ctx.stats.notes
    assert note.startswith("github: 70 repositories wait for a later run")
    assert "2 points left" in note
    assert "GITHUB_TOKEN" not in note


def test_graphql_server_error_fails_the_batch(api: FakeAPI) -> None:
    api.add_repo("real/one")
    api.fault("github", "502", path_contains="/graphql")
    results, ctx, _ = fetch(api, ["real/one", "real/two"], token=TOKEN)
    for got in results.values():
        assert got.status is Status.ERROR
        assert got.provenance.error == "POST /graphql: HTTP 502"
        assert ctx.stats.answers[ident(got.ref)].attempts == 3


def test_graphql_partial_errors_are_read_alias_by_alias() -> None:
    payload = {
        "data": {"r0": None, "r1": None},
        "errors": [
            {"type": "FORBIDDEN", "path": ["r0"], "message": "SAML\x07 enforcement"},
            {"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve"},
        ],
    }
    outcomes = gql.parse_batch(payload, ["a/b", "c/d", "e/f"], [[], [], []])
    assert [o.status for o in outcomes] == [Status.ERROR, Status.NOT_FOUND, Status.ERROR]
    assert outcomes[0].error == "a/b: GraphQL FORBIDDEN: SAML enforcement"
    assert outcomes[2].error == "e/f: missing from the GraphQL answer"


NODE = {"nameWithOwner": "own/er", "stargazerCount": 1, "forkCount": 0}


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("  spaced\tout\n text ", "spaced out text"),
        ("\u202eevil\u202c", "evil"),
        ("", None),
        ("   ", None),
        (None, None),
        (42, None),  # not text: absent, as every source reads untrusted text (`text.clean`)
        (["a", "list"], None),
    ],
)
def test_strings_of_either_transport_go_through_the_one_clean(
    value: object, kept: str | None
) -> None:
    """REST bodies and GraphQL nodes end in `build_meta`, whose strings are `text.clean`ed:
    one contract (cleaned, capped, None when empty or not a string) for every field."""
    node = {
        **NODE,
        "description": value,
        "homepageUrl": value,
        "licenseInfo": {"spdxId": value, "name": value},
        "primaryLanguage": {"name": value},
        "defaultBranchRef": {"name": value},
        "repositoryTopics": {"nodes": [{"topic": {"name": value}}]},
    }
    meta = gql.meta_from_node(node, [])
    fields = (meta.license_spdx, meta.license_name, meta.language, meta.default_branch)
    assert {meta.description, meta.homepage, *fields} == {kept}
    assert meta.topics == ([kept] if kept else [])
    assert meta.description == (clean(value, 1_000) or None)


def test_a_capped_string_ends_in_an_ellipsis() -> None:
    meta = gql.meta_from_node({**NODE, "description": "x" * 5_000}, [])
    assert meta.description == "x" * 999 + "…"


# ---------------------------------------------------------------------------- secrets


def test_token_never_appears_in_results_or_notes(api: FakeAPI) -> None:
    api.add_repo("real/one")
    api.fault("github", "500", path_contains="/graphql", times=3)
    results, ctx, _ = fetch(api, ["real/one", "ghost/none"], token=TOKEN)
    api.github.graphql.remaining = 0  # the next run stops on its budget, with a note
    later, later_ctx, _ = fetch(api, ["real/one", "ghost/none"], token=TOKEN)

    assert any(r.headers.get("authorization") == f"token {TOKEN}" for r in api.requests)
    for got in [*results.values(), *later.values()]:
        assert TOKEN not in got.model_dump_json()
        assert TOKEN not in repr(got)
        assert TOKEN not in (got.provenance.error or "")
    for notes in (ctx.stats.notes, later_ctx.stats.notes):
        assert all(TOKEN not in note for note in notes)
    assert {r.status for r in results.values()} == {Status.ERROR}
    # The exhausted budget is said (the policy gives up at once on a far reset).
    assert all("rate limit" in (r.provenance.error or "") for r in later.values())


# ------------------------------------------------------------------ the fetch stage's view


def test_waiting_repositories_keep_their_values_fail_nothing_and_are_asked_next_run(
    api: FakeAPI, tmp_path: Path
) -> None:
    """Through `fetch_all`, with a cache: a repository left for a later run keeps its last
    value as it was (or ends `skipped`), counts as no failure, and is not stored in the
    cache again (which would make it look fresh): the next run asks it first."""
    names = [f"stage/repo-{i}" for i in range(12)]
    for name in names:
        api.add_repo(name, stars=1)
    settings = make_settings(api, cache=tmp_path / "cache")
    wanted = {(i := Identifier(kind=Kind.GITHUB_REPO, key=n)): Request(i) for n in names}
    old = datetime(2026, 1, 1, tzinfo=UTC)
    known = {ident("github_repo:stage/repo-11"): build.repo("stage/repo-11", 0, fetched_at=old)}

    def run(previous: Mapping[Identifier, Result]) -> FetchReport:
        api.set_rate_limit(10)  # the probe and 4 more
        with Cache(settings.cache, settings.ttls) as cache:
            job = fetch_all(wanted, [GitHubSource(settings)], settings, cache, previous)
            return asyncio.run(job)

    first = run(known)
    answers = first.stats["github"].answers
    fetched = sorted(r.ref for r in first.results if r in answers and answers[r].http_status == 200)
    assert fetched == [f"github_repo:stage/repo-{i}" for i in (0, 1, 10, 2, 3)]  # by ref
    assert first.failed == {}
    kept = first.results[ident("github_repo:stage/repo-11")]
    assert kept.status is Status.OK
    assert kept.data == known[ident(kept.ref)].data
    assert kept.provenance.fetched_at == old
    rest = [first.results[ident(f"github_repo:stage/repo-{i}")] for i in range(4, 10)]
    assert {r.status for r in rest} == {Status.SKIPPED}
    waits = [n for n in first.stats["github"].notes if "wait" in n]  # what the summary says
    assert [n.partition(" (")[0] for n in waits] == ["github: 7 repositories wait for a later run"]

    api.reset_requests()
    second = run({**known, **first.results})
    asked = sorted(r.path.removeprefix("/repos/") for r in api.requests)
    assert asked == [f"stage/repo-{i}" for i in (4, 5, 6, 7, 8)]  # never fetched first
    assert second.failed == {}

    api.reset_requests()
    third = run({**known, **first.results, **second.results})
    asked = sorted(r.path.removeprefix("/repos/") for r in api.requests)
    assert asked == ["stage/repo-11", "stage/repo-9"]  # the last two: every one fetched
    assert (
        third.results[ident("github_repo:stage/repo-11")].data
        != known[ident("github_repo:stage/repo-11")].data
    )
    assert not [n for n in third.stats["github"].notes if "wait" in n]  # none left to wait


# ------------------------------------------------------------------------- the process


def test_a_long_list_without_a_token_fills_in_over_runs_and_exits_0(
    api: FakeAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`enrich run` on a list of 70 repositories without a token, 60 requests an
    hour: the first run fetches 55 and exits 0, saying once that 15 wait (and why, with the
    GITHUB_TOKEN hint); the next hour's run fetches those 15."""
    names = [f"long-list/repo-{i:02d}" for i in range(70)]
    for name in names:
        api.add_repo(name, stars=7)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    rows = "".join(f"| R{i} | [code](https://github.com/{n}) |\n" for i, n in enumerate(names))
    (seeds / "list.md").write_text(f"# L\n\n| Name | Code |\n|---|---|\n{rows}", encoding="utf-8")
    args = ["run", "--only", "github", "--seeds", str(seeds)]
    args += ["--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")]
    point_at(api, monkeypatch)

    def run() -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
        capsys.readouterr()
        code = main(args)
        done = subprocess.CompletedProcess(args, code, *capsys.readouterr())
        data = json.loads((tmp_path / "out" / "enriched.json").read_text(encoding="utf-8"))
        return done, {ref: e["provenance"]["status"] for ref, e in data["entities"].items()}

    first, statuses = run()
    assert first.returncode == 0, first.stderr
    assert sorted(statuses.values()).count("ok") == 55
    assert sorted(statuses.values()).count("skipped") == 15
    assert first.stderr.count("github: 15 repositories wait for a later run") == 1
    assert "set GITHUB_TOKEN" in first.stderr
    assert summary_row(first.stderr, "github")["failed"] == "0"

    api.refill_budgets()  # an hour later
    second, statuses = run()
    assert second.returncode == 0, second.stderr
    assert set(statuses.values()) == {"ok"}
    assert "wait for a later run" not in second.stderr
