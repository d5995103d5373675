"""The GitHub source against the loopback FakeAPI: real PyGithub, real HTTP, no patching."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from enrich.config import Endpoints, Secret, Settings
from enrich.models import Identifier, Kind, RepoMeta, Result, Status
from enrich.net import RetryPolicy
from enrich.sources import FetchContext, Request, SourceStats
from enrich.sources import github_graphql as gql
from enrich.sources.github import GitHubSource
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
    **overrides: Any,
) -> tuple[dict[str, Result], FetchContext, list[int]]:
    settings = make_settings(api, token, **overrides)
    advanced: list[int] = []
    ctx = FetchContext(
        settings=settings,
        policy=policy or RetryPolicy(wait=False, attempts=3),
        stats=SourceStats(),
        advance=advanced.append,
    )
    asked = [r if isinstance(r, Request) else ask(r) for r in requests]
    results = asyncio.run(GitHubSource(settings).fetch(asked, ctx))
    return results, ctx, advanced


def statuses(results: dict[str, Result]) -> dict[str, Status]:
    return {ref: r.status for ref, r in results.items()}


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

    got = results["github_repo:mit-han-lab/llm-awq"]
    assert got.status is Status.OK
    assert got.data == EXPECTED
    assert ctx.stats.answers[got.ref].http_status == 200
    assert ctx.stats.answers[got.ref].attempts == 1
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
    meta = results["github_repo:a/b"].data
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
    missing = results["github_repo:ghost/none"]
    assert ctx.stats.answers[missing.ref].http_status == 404
    assert ctx.stats.answers[missing.ref].attempts == 1
    assert missing.data is None


def test_rest_renamed_repository_is_moved(api: FakeAPI) -> None:
    api.add_repo("Old-Org/Old-Name", stars=7)
    api.rename_repo("Old-Org/Old-Name", "New-Org/New-Name")
    results, ctx, _ = fetch(api, ["old-org/old-name"])

    got = results["github_repo:old-org/old-name"]
    assert got.status is Status.MOVED
    assert got.moved_to == "github_repo:new-org/new-name"
    assert isinstance(got.data, RepoMeta)
    assert got.data.full_name == "New-Org/New-Name"
    assert got.data.stars == 7
    assert ctx.stats.answers[got.ref].http_status == 301
    paths = [r.path for r in api.requests]
    assert paths[0] == "/repos/old-org/old-name"
    assert paths[1].startswith("/repositories/")
    assert ctx.stats.requests == 2


def test_rest_case_only_difference_is_not_a_move(api: FakeAPI) -> None:
    api.add_repo("CamelCase/Repo")
    results, _, _ = fetch(api, ["camelcase/repo"])
    assert results["github_repo:camelcase/repo"].status is Status.OK


def test_revalidation_answers_304_without_spending_budget(api: FakeAPI) -> None:
    api.add_repo("keep/me", paths=["docs"])
    first, _, _ = fetch(api, [ask("keep/me", "tree/main/docs")])
    previous = first["github_repo:keep/me"]
    assert isinstance(previous.data, RepoMeta)
    assert previous.data.subpaths == {"tree/main/docs": True}
    before = api.rate_limit_remaining(token=False)
    api.reset_requests()

    second, ctx, _ = fetch(api, [ask("keep/me", "tree/main/docs", previous=previous)])

    got = second["github_repo:keep/me"]
    assert got.status is Status.OK
    assert ctx.stats.answers[got.ref].http_status == 304
    assert got.data == previous.data
    assert got.provenance.etag == previous.provenance.etag
    assert got.provenance.last_modified == previous.provenance.last_modified
    assert api.rate_limit_remaining(token=False) == before
    assert [r.path for r in api.requests] == ["/repos/keep/me"]  # subpath known: no recheck
    assert api.requests[0].headers["if-none-match"] == previous.provenance.etag
    assert ctx.stats.revalidated == 1
    assert ctx.stats.rate_limit_spent == 0


def test_revalidating_a_moved_repository_keeps_it_moved(api: FakeAPI) -> None:
    api.add_repo("Old/Name")
    api.rename_repo("Old/Name", "New/Name")
    first, _, _ = fetch(api, ["old/name"])
    previous = first["github_repo:old/name"]
    second, ctx, _ = fetch(api, [ask("old/name", previous=previous)])
    got = second["github_repo:old/name"]
    assert got.status is Status.MOVED
    assert ctx.stats.answers[got.ref].http_status == 304
    assert got.moved_to == "github_repo:new/name"
    assert got.data == previous.data
    assert ctx.stats.revalidated == 1


def test_changed_repository_answers_200_with_new_data(api: FakeAPI) -> None:
    api.add_repo("grow/ing", stars=1)
    first, _, _ = fetch(api, ["grow/ing"])
    api.add_repo("grow/ing", stars=2, updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    second, ctx, _ = fetch(api, [ask("grow/ing", previous=first["github_repo:grow/ing"])])
    got = second["github_repo:grow/ing"]
    assert ctx.stats.answers[got.ref].http_status == 200
    assert isinstance(got.data, RepoMeta)
    assert got.data.stars == 2
    assert got.provenance.etag != first["github_repo:grow/ing"].provenance.etag
    assert ctx.stats.revalidated == 0


def test_budget_too_small_stops_early_without_403(api: FakeAPI) -> None:
    names = [f"many/repo-{i}" for i in range(10)]
    for name in names:
        api.add_repo(name)
    api.set_rate_limit(3, reset_epoch=int(datetime(2030, 1, 1, 13, 37, tzinfo=UTC).timestamp()))
    results, ctx, advanced = fetch(api, names)

    assert api.count("github") == 1  # the probe that learnt the budget
    assert all(r.status != 403 for r in api.requests)
    errors = [r for r in results.values() if r.status is Status.ERROR]
    assert len(errors) == 9
    message = "GitHub rate limit: 2 requests left, 9 needed; resets at 13:37 UTC"
    message += " — set GITHUB_TOKEN for 5,000/hour"
    assert {e.provenance.error for e in errors} == {message}
    assert {ctx.stats.answers[e.ref].attempts for e in errors} == {0}
    assert ctx.stats.notes == [message]
    assert sum(advanced) == 10


def test_revalidation_needs_no_budget_for_its_conditional_requests(api: FakeAPI) -> None:
    """Without a token, ten repositories with ETags revalidate on a budget of 3: a 304
    costs nothing, so the run does not stop (it reserved a point per repository before)."""
    names = [f"many/repo-{i}" for i in range(10)]
    for name in names:
        api.add_repo(name)
    first, _, _ = fetch(api, names)
    api.set_rate_limit(3)
    api.reset_requests()
    asked = [ask(name, previous=first[f"github_repo:{name}"]) for name in names]
    second, ctx, _ = fetch(api, asked)
    assert {ctx.stats.answers[r.ref].http_status for r in second.values()} == {304}
    assert {r.status for r in second.values()} == {Status.OK}
    assert api.count("github") == 10
    assert ctx.stats.notes == []
    assert api.rate_limit_remaining(token=False) == 3


def test_a_spent_budget_stops_even_conditional_requests(api: FakeAPI) -> None:
    """Once the budget is known to be spent no request is sent, conditional or not (whether
    GitHub would answer a 304 then is not documented: do not count on it)."""
    names = [f"many/repo-{i}" for i in range(4)]
    for name in names:
        api.add_repo(name)
    first, _, _ = fetch(api, names)
    api.set_rate_limit(0, reset_epoch=int(datetime(2030, 1, 1, 13, 37, tzinfo=UTC).timestamp()))
    api.reset_requests()
    asked = [ask(name, previous=first[f"github_repo:{name}"]) for name in names]
    second, ctx, _ = fetch(api, asked)
    assert api.count("github") == 1  # the probe, whose answer tells the budget
    errors = [r for r in second.values() if r.status is Status.ERROR]
    assert len(errors) == 3
    assert all("0 requests left" in (e.provenance.error or "") for e in errors)
    assert ctx.stats.rate_limit_remaining == 0


def test_rate_limited_403_with_distant_reset_fails_fast(api: FakeAPI) -> None:
    api.add_repo("slow/down")
    api.add_repo("slow/other")
    api.fault("github", "403_rate_limit", reset=int(time.time()) + 3600)
    waiting = RetryPolicy(attempts=3, max_seconds=60, wait=True)
    started = time.monotonic()
    results, ctx, _ = fetch(api, ["slow/down", "slow/other"], policy=waiting)

    assert time.monotonic() - started < 2
    assert api.count("github") == 1
    first = results["github_repo:slow/down"]
    assert first.status is Status.ERROR
    assert ctx.stats.answers[first.ref].http_status == 403
    assert "rate limited" in (first.provenance.error or "")
    other = results["github_repo:slow/other"]
    assert other.status is Status.ERROR
    assert "GITHUB_TOKEN" in (other.provenance.error or "")
    assert ctx.stats.rate_limit_remaining == 0


def test_429_with_retry_after_is_retried(api: FakeAPI) -> None:
    api.add_repo("busy/repo")
    api.fault("github", "429", times=1, retry_after=1, remaining=50)
    results, ctx, _ = fetch(api, ["busy/repo"])
    got = results["github_repo:busy/repo"]
    assert got.status is Status.OK
    assert ctx.stats.answers[got.ref].attempts == 2
    assert [r.status for r in api.requests] == [429, 200]


def test_5xx_burst_then_recovery(api: FakeAPI) -> None:
    api.add_repo("flaky/repo")
    api.fault("github", "502", times=1)
    api.fault("github", "503", times=1)
    results, ctx, _ = fetch(api, ["flaky/repo"])
    got = results["github_repo:flaky/repo"]
    assert got.status is Status.OK
    assert ctx.stats.answers[got.ref].attempts == 3


def test_permanent_500_ends_in_error(api: FakeAPI) -> None:
    api.add_repo("down/repo")
    api.fault("github", "500")
    results, ctx, _ = fetch(api, ["down/repo"])
    got = results["github_repo:down/repo"]
    assert got.status is Status.ERROR
    assert got.provenance.error == "GET /repos/down/repo: HTTP 500"
    assert ctx.stats.answers[got.ref].http_status == 500
    assert ctx.stats.answers[got.ref].attempts == 3
    assert got.provenance.fetched_at is None
    assert ctx.stats.requests == 3


def test_timeout_is_retried(api: FakeAPI) -> None:
    api.add_repo("sleepy/repo")
    api.fault("github", "timeout", times=1, seconds=5)
    started = time.monotonic()
    results, ctx, _ = fetch(api, ["sleepy/repo"], timeout=0.2)
    assert time.monotonic() - started < 3
    got = results["github_repo:sleepy/repo"]
    assert got.status is Status.OK
    assert ctx.stats.answers[got.ref].attempts == 2


def test_persistent_timeout_ends_in_error(api: FakeAPI) -> None:
    api.add_repo("sleepy/repo")
    api.fault("github", "timeout", seconds=5)
    policy = RetryPolicy(wait=False, attempts=2)
    results, ctx, _ = fetch(api, ["sleepy/repo"], policy=policy, timeout=0.2)
    got = results["github_repo:sleepy/repo"]
    assert got.status is Status.ERROR
    assert got.provenance.error == "GET /repos/sleepy/repo: timed out"
    assert ctx.stats.answers[got.ref].attempts == 2


def test_connection_reset_is_retried(api: FakeAPI) -> None:
    api.add_repo("reset/repo")
    api.fault("github", "reset", times=1)
    results, ctx, _ = fetch(api, ["reset/repo"])
    got = results["github_repo:reset/repo"]
    assert got.status is Status.OK
    assert ctx.stats.answers[got.ref].attempts == 2


def test_malformed_json_fails_at_once(api: FakeAPI) -> None:
    api.add_repo("broken/json")
    api.fault("github", "malformed")
    results, ctx, _ = fetch(api, ["broken/json"])
    got = results["github_repo:broken/json"]
    assert got.status is Status.ERROR
    assert got.provenance.error == "GET /repos/broken/json: malformed answer (not JSON)"
    assert ctx.stats.answers[got.ref].attempts == 1


def test_truncated_body_is_retried(api: FakeAPI) -> None:
    api.add_repo("cut/short")
    api.fault("github", "truncated", times=1)
    results, ctx, _ = fetch(api, ["cut/short"])
    got = results["github_repo:cut/short"]
    assert got.status is Status.OK
    assert ctx.stats.answers[got.ref].attempts == 2


def test_truncated_every_time_ends_in_error(api: FakeAPI) -> None:
    api.add_repo("cut/short")
    api.fault("github", "truncated")
    results, ctx, _ = fetch(api, ["cut/short"])
    got = results["github_repo:cut/short"]
    assert got.status is Status.ERROR
    assert "connection failed" in (got.provenance.error or "")
    assert ctx.stats.answers[got.ref].attempts == 3


def test_subpaths_checked_over_rest(api: FakeAPI) -> None:
    api.add_repo("docs/repo", paths=["docs", "src/model.py"], refs=["v1"], default_branch="main")
    subpaths = (
        "tree/main/docs",
        "blob/main/src/model.py",
        "tree/v1/docs",
        "tree/main/missing",
        "tree/nosuchref/docs",
        "issues/3",
    )
    results, _, _ = fetch(api, [ask("docs/repo", *subpaths)])
    meta = results["github_repo:docs/repo"].data
    assert isinstance(meta, RepoMeta)
    assert meta.subpaths == {
        "tree/main/docs": True,
        "blob/main/src/model.py": True,
        "tree/v1/docs": True,
        "tree/main/missing": False,
        "tree/nosuchref/docs": False,
    }
    contents = [r for r in api.requests if "/contents" in r.path]
    assert len(contents) == 5
    assert contents[1].path == "/repos/docs/repo/contents/src/model.py"
    assert contents[1].query == {"ref": "main"}


def test_subpath_checks_skipped_when_budget_is_short(api: FakeAPI) -> None:
    api.add_repo("tight/repo", paths=["docs"])
    api.set_rate_limit(6)
    results, _, _ = fetch(api, [ask("tight/repo", "tree/main/docs", "tree/main/other")])
    got = results["github_repo:tight/repo"]
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
    got = results["github_repo:batch/repo-007"]
    assert ctx.stats.answers[got.ref].http_status == 200
    assert isinstance(got.data, RepoMeta)
    assert got.data.full_name == "batch/repo-007"


def test_graphql_maps_every_field(api: FakeAPI) -> None:
    add_full_repo(api)
    results, _, _ = fetch(api, ["mit-han-lab/llm-awq"], token=TOKEN)
    got = results["github_repo:mit-han-lab/llm-awq"]
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
    got = results["github_repo:old-org/old-name"]
    assert got.status is Status.MOVED
    assert got.moved_to == "github_repo:new-org/new-name"
    assert isinstance(got.data, RepoMeta)
    assert got.data.full_name == "New-Org/New-Name"


def test_graphql_checks_subpaths_in_the_same_query(api: FakeAPI) -> None:
    api.add_repo("docs/repo", paths=["docs", "src/model.py"], default_branch="main")
    subpaths = ("tree/main/docs", "blob/main/src/model.py", "tree/main/missing", "pull/4")
    results, _, _ = fetch(api, [ask("docs/repo", *subpaths)], token=TOKEN)
    meta = results["github_repo:docs/repo"].data
    assert isinstance(meta, RepoMeta)
    assert meta.subpaths == {
        "tree/main/docs": True,
        "blob/main/src/model.py": True,
        "tree/main/missing": False,
    }
    assert api.count("github") == 1


def test_graphql_budget_too_small_stops_early(api: FakeAPI) -> None:
    names = [f"batch/repo-{i:03d}" for i in range(120)]
    for name in names:
        api.add_repo(name)
    api.github.graphql.remaining = 3
    results, ctx, _ = fetch(api, names, token=TOKEN)
    assert api.count("github", "/graphql") == 1
    counts = list(statuses(results).values())
    assert counts.count(Status.OK) == 50
    assert counts.count(Status.ERROR) == 70
    (note,) = ctx.stats.notes
    assert note.startswith("GitHub rate limit: 2 points left, 2 needed; resets at ")
    assert "GITHUB_TOKEN" not in note


def test_graphql_server_error_fails_the_batch(api: FakeAPI) -> None:
    api.add_repo("real/one")
    api.fault("github", "502", path_contains="/graphql")
    results, ctx, _ = fetch(api, ["real/one", "real/two"], token=TOKEN)
    for got in results.values():
        assert got.status is Status.ERROR
        assert got.provenance.error == "POST /graphql: HTTP 502"
        assert ctx.stats.answers[got.ref].attempts == 3


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
