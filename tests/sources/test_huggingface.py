"""The Hub source against the loopback FakeAPI: the real huggingface_hub, real HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import constants
from huggingface_hub.utils import _detect_agent

from enrich.config import HF_CONCURRENCY, Endpoints, Secret, Settings
from enrich.fetch import WORKERS
from enrich.metadata import HubMeta, TaggedModel, TaggedModels
from enrich.models import Identifier, Kind, Result, Status
from enrich.net import RetryPolicy
from enrich.sources import Answer, FetchContext, Request
from enrich.sources.huggingface import TAGGED_MODELS, HubSource
from tests.builders import context, ident
from tests.conftest import Sleeps
from tests.fakeapi import FakeAPI, PeakFakeAPI
from tests.sources.conftest import tagged_models_request

TIMEOUT = 0.3
TOKEN = "hf_TESTtokenDoNotLeak0123456789"
SLUG = "acme/small-models-0123456789abcdef01234567"


def fetch(
    api: FakeAPI,
    items: Sequence[tuple[Kind, str]],
    *,
    token: str = "",
    policy: RetryPolicy | None = None,
    **overrides: Any,
) -> tuple[dict[Identifier, Result], FetchContext, list[int]]:
    settings = Settings(
        endpoints=Endpoints(huggingface=api.base_url),
        hf_token=Secret(token),
        retry_wait=False,
        retry_attempts=3,
        timeout=TIMEOUT,
    )
    settings = dataclasses.replace(settings, **overrides)
    ctx, advanced = context(settings, policy)
    requests = [Request(Identifier(kind=kind, key=key)) for kind, key in items]

    async def main() -> Mapping[Identifier, Result]:
        # As the fetch stage does: enough worker threads for the sources' own limits.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(WORKERS))
        return await HubSource(settings).fetch(requests, ctx)

    return dict(asyncio.run(main())), ctx, advanced


def one(api: FakeAPI, kind: Kind, key: str, **kwargs: Any) -> tuple[Result, FetchContext]:
    results, ctx, advanced = fetch(api, [(kind, key)], **kwargs)
    assert list(results) == [Identifier(kind, key)]
    assert sum(advanced) == 1
    return results[Identifier(kind, key)], ctx


def meta(found: Result) -> HubMeta:
    assert isinstance(found.data, HubMeta), found.provenance
    return found.data


def tagged(found: Result) -> TaggedModels:
    assert isinstance(found.data, TaggedModels), found.provenance
    return found.data


# --------------------------------------------------------------------------------- success


def test_serves_the_hub_kinds_but_docs() -> None:
    hub = {Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE, Kind.HF_COLLECTION, Kind.HF_PAPER}
    assert HubSource.kinds == frozenset({*hub, Kind.HF_ORG, Kind.HF_PAPER_MODELS})
    assert HubSource.name == "huggingface"


def test_model_reads_the_expanded_properties(api: FakeAPI) -> None:
    modified = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    api.add_model(
        "acme/tiny-lm",
        downloads=1234,
        downloads_all_time=98765,
        likes=42,
        license="apache-2.0",
        arxiv_ids=["2306.07629", "1910.09700"],
        pipeline_tag="text-generation",
        last_modified=modified,
    )
    found, ctx = one(api, Kind.HF_MODEL, "acme/tiny-lm")
    assert found.status is Status.OK
    assert ctx.stats.answers[ident(found.ref)] == Answer(200, 1)
    assert meta(found) == HubMeta(
        hub_kind="model",
        id="acme/tiny-lm",
        downloads=1234,
        downloads_all_time=98765,
        likes=42,
        last_modified=modified,
        pipeline_tag="text-generation",
        library="transformers",
        license="apache-2.0",
        gated=False,
        arxiv_ids=["2306.07629", "1910.09700"],
    )
    (sent,) = api.requests
    assert sent.path == "/api/models/acme/tiny-lm"
    assert "downloadsAllTime" in sent.query["expand"].split(",")
    assert "authorization" not in sent.headers
    assert ctx.stats.requests == 1
    assert (ctx.stats.rate_limit_remaining, ctx.stats.rate_limit_spent) == (499, 1)


def test_gated_dataset_is_ok_with_its_gate(api: FakeAPI) -> None:
    api.add_dataset("acme/corpus", gated="manual", license="mit", downloads=7, likes=3)
    found, _ = one(api, Kind.HF_DATASET, "acme/corpus")
    data = meta(found)
    assert found.status is Status.OK
    assert (data.hub_kind, data.gated, data.license, data.downloads) == (
        "dataset",
        "manual",
        "mit",
        7,
    )
    assert data.downloads_all_time is not None


def test_space_title_and_sdk(api: FakeAPI) -> None:
    api.add_space("acme/demo", sdk="gradio", likes=11)
    found, _ = one(api, Kind.HF_SPACE, "acme/demo")
    data = meta(found)
    assert (data.hub_kind, data.title, data.library, data.likes) == ("space", "demo", "gradio", 11)
    assert data.downloads is None


def test_collection_title_items_upvotes(api: FakeAPI) -> None:
    updated = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    api.add_model("acme/tiny-lm")
    items = [("model", "acme/tiny-lm"), ("paper", "2306.07629"), ("dataset", "acme/corpus")]
    api.add_collection(SLUG, title="Small models", items=items, upvotes=17, last_updated=updated)
    found, _ = one(api, Kind.HF_COLLECTION, SLUG)
    data = meta(found)
    assert (data.hub_kind, data.id, data.title, data.items) == (
        "collection",
        SLUG,
        "Small models",
        3,
    )
    assert (data.upvotes, data.last_modified) == (17, updated)


def test_paper_page_with_and_without_a_repository(api: FakeAPI) -> None:
    api.add_paper_page("2306.07629", github_repo="https://github.com/Acme/tiny.git", upvotes=9)
    api.add_paper_page("2401.00001", title="A  title\x07 with\ncontrols", upvotes=0)
    results, _, _ = fetch(api, [(Kind.HF_PAPER, "2306.07629"), (Kind.HF_PAPER, "2401.00001")])
    linked, bare = (
        meta(results[ident("hf_paper:2306.07629")]),
        meta(results[ident("hf_paper:2401.00001")]),
    )
    assert (linked.upvotes, linked.github_repo) == (9, "https://github.com/Acme/tiny")
    assert (bare.title, bare.upvotes, bare.github_repo) == ("A title with controls", 0, None)


def test_tagged_models_most_downloaded_first_in_one_request(api: FakeAPI) -> None:
    downloads = {"acme/a": 10, "acme/b": 5_000, "acme/c": 0, "Other/d": 70, "x/e": 70, "x/f": 9}
    for repo_id, count in downloads.items():
        api.add_model(repo_id, arxiv_ids=["2306.07629"], downloads=count, likes=1)
    api.add_model("acme/unrelated", arxiv_ids=["2401.00001"], downloads=10**6)
    api.add_model("gpt2", arxiv_ids=["2306.07629"], downloads=10**6)  # no owner: never a pick
    found, ctx = one(api, Kind.HF_PAPER_MODELS, "2306.07629")
    data = tagged(found)
    assert (found.status, data.arxiv_id) == (Status.OK, "2306.07629")
    assert [(m.id, m.downloads) for m in data.models] == [
        ("acme/b", 5_000),
        ("Other/d", 70),
        ("x/e", 70),
        ("acme/a", 10),
    ]  # the Hub's 5 most downloaded, the one without an owner left out
    assert data.models[0] == TaggedModel(id="acme/b", downloads=5_000, likes=1)
    sent = tagged_models_request(api, "2306.07629", TAGGED_MODELS)
    assert "authorization" not in sent.headers
    assert ctx.stats.requests == 1


def test_no_tagged_model_is_an_empty_fact_and_a_missing_paper_page_not_found(
    api: FakeAPI,
) -> None:
    items = [(Kind.HF_PAPER_MODELS, "2401.99999"), (Kind.HF_PAPER, "2401.99999")]
    results, ctx, _ = fetch(api, items)
    listed, page = (
        results[ident("hf_paper_models:2401.99999")],
        results[ident("hf_paper:2401.99999")],
    )
    assert (listed.status, tagged(listed).models) == (Status.OK, [])
    assert (page.status, ctx.stats.answers[ident(page.ref)].http_status, page.data) == (
        Status.NOT_FOUND,
        404,
        None,
    )
    assert sorted(r.path for r in api.requests) == ["/api/models", "/api/papers/2401.99999"]


def test_org_and_user_model_counts(api: FakeAPI) -> None:
    api.add_org("acme", models=3, fullname="Acme Labs")
    api.add_org("alice", kind="user", models=2)
    results, ctx, _ = fetch(api, [(Kind.HF_ORG, "acme"), (Kind.HF_ORG, "alice")])
    acme, alice = meta(results[ident("hf_org:acme")]), meta(results[ident("hf_org:alice")])
    assert (acme.hub_kind, acme.title, acme.models) == ("org", "Acme Labs", 3)
    assert (alice.hub_kind, alice.models) == ("org", 2)
    paths = sorted(r.path for r in api.requests)
    assert paths == [
        "/api/organizations/acme/overview",
        "/api/organizations/alice/overview",
        "/api/users/alice/overview",
    ]
    assert ctx.stats.requests == 3


# ------------------------------------------------------------------------------ not found


def test_missing_and_private_entities_are_not_found(api: FakeAPI) -> None:
    api.add_model("acme/secret", private=True)
    items = [
        (Kind.HF_MODEL, "acme/nope"),
        (Kind.HF_MODEL, "acme/secret"),
        (Kind.HF_DATASET, "acme/nope"),
        (Kind.HF_SPACE, "acme/nope"),
        (Kind.HF_COLLECTION, SLUG),
        (Kind.HF_PAPER, "2401.99999"),
        (Kind.HF_ORG, "nobody"),
    ]
    results, ctx, advanced = fetch(api, items)
    assert sum(advanced) == len(items)
    for found in results.values():
        assert found.status is Status.NOT_FOUND, found
        assert ctx.stats.answers[ident(found.ref)] == Answer(404, 1)
        assert found.data is None
    assert len(api.requests) == len(items) + 1  # the org name is also tried as a user


def test_invalid_keys_fail_without_a_request(api: FakeAPI) -> None:
    items = [
        (Kind.HF_MODEL, "a/b..c"),
        (Kind.HF_COLLECTION, "no slug"),
        (Kind.HF_ORG, "-x"),
        (Kind.HF_PAPER_MODELS, "arxiv:1234"),
    ]
    results, _, _ = fetch(api, items)
    for found in results.values():
        assert found.status is Status.ERROR
        assert "not a valid" in (found.provenance.error or "")
    assert api.requests == []


# --------------------------------------------------------------------------------- faults


def test_rate_limited_429_waits_as_told_then_succeeds(api: FakeAPI) -> None:
    api.add_model("acme/tiny-lm")
    api.fault("hub", "429", times=1, retry_after=1)
    slept = Sleeps()
    policy = RetryPolicy(
        attempts=3, initial=0.01, max_backoff=0.01, jitter=0, max_seconds=10, sleep=slept
    )
    found, ctx = one(api, Kind.HF_MODEL, "acme/tiny-lm", policy=policy)
    assert slept == [1.0]  # `RateLimit: "api";r=0;t=1` + `Retry-After: 1`, not the backoff
    assert (found.status, ctx.stats.answers[ident(found.ref)].attempts) == (Status.OK, 2)
    assert [r.status for r in api.requests] == [429, 200]
    assert ctx.stats.requests == 2


def test_server_error_burst_then_recovery(api: FakeAPI) -> None:
    api.add_model("acme/tiny-lm")
    api.fault("hub", "503", times=2)
    found, ctx = one(api, Kind.HF_MODEL, "acme/tiny-lm")
    assert (found.status, ctx.stats.answers[ident(found.ref)].attempts) == (Status.OK, 3)


def test_permanent_server_error_gives_up_after_the_policy(api: FakeAPI) -> None:
    api.add_model("acme/tiny-lm")
    api.fault("hub", "500")
    found, ctx = one(api, Kind.HF_MODEL, "acme/tiny-lm")
    assert found.status is Status.ERROR
    assert ctx.stats.answers[ident(found.ref)] == Answer(500, 3)
    assert found.provenance.error == "Hub model acme/tiny-lm: HTTP 500"
    assert len(api.requests) == ctx.stats.requests == 3


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (Kind.HF_MODEL, "acme/tiny-lm"),
        (Kind.HF_COLLECTION, SLUG),
        (Kind.HF_ORG, "acme"),
        (Kind.HF_PAPER_MODELS, "2306.07629"),
    ],
)
def test_timeout_applies_to_every_call_and_is_retried(api: FakeAPI, kind: Kind, key: str) -> None:
    api.add_model("acme/tiny-lm")
    api.add_collection(SLUG)
    api.add_org("acme", models=1)
    api.fault("hub", "timeout", seconds=10)
    hung = TIMEOUT / 3  # every answer hangs: a shorter timeout only ends each attempt sooner
    started = time.monotonic()
    found, ctx = one(api, kind, key, timeout=hung)
    assert time.monotonic() - started < 3 * hung + 1.5
    assert (found.status, ctx.stats.answers[ident(found.ref)].attempts) == (Status.ERROR, 3)
    assert "Timeout" in (found.provenance.error or "")
    assert len(api.requests) == 3


@pytest.mark.parametrize("fault", ["timeout", "reset", "truncated"])
def test_transport_failures_are_retried(api: FakeAPI, fault: str) -> None:
    api.add_model("acme/tiny-lm", likes=5)
    api.fault("hub", fault, times=1, seconds=10)
    found, ctx = one(api, Kind.HF_MODEL, "acme/tiny-lm")
    assert (found.status, ctx.stats.answers[ident(found.ref)].attempts, meta(found).likes) == (
        Status.OK,
        2,
        5,
    )


def test_tagged_models_are_retried_by_the_policy_not_by_the_library(api: FakeAPI) -> None:
    # `list_models` would retry a 5xx or 429 itself, sleeping 1, 2, 4, 8 s in the thread.
    api.add_model("acme/tiny-lm", arxiv_ids=["2306.07629"])
    api.fault("hub", "503", times=2, path_contains="filter=arxiv")
    started = time.monotonic()
    found, ctx = one(api, Kind.HF_PAPER_MODELS, "2306.07629")
    assert time.monotonic() - started < 1
    assert (found.status, ctx.stats.answers[ident(found.ref)].attempts) == (Status.OK, 3)
    assert [m.id for m in tagged(found).models] == ["acme/tiny-lm"]
    api.fault("hub", "429", retry_after=60)
    failed, _ = one(api, Kind.HF_PAPER_MODELS, "2306.07629", policy=RetryPolicy(attempts=1))
    assert time.monotonic() - started < 2
    assert failed.status is Status.ERROR
    assert (failed.provenance.error or "").startswith("Hub models tagged arxiv:2306.07629: ")


def test_connection_resets_give_up_after_the_policy(api: FakeAPI) -> None:
    api.add_model("acme/tiny-lm")
    api.fault("hub", "reset")
    found, ctx = one(api, Kind.HF_MODEL, "acme/tiny-lm")
    assert (found.status, ctx.stats.answers[ident(found.ref)].attempts) == (Status.ERROR, 3)
    assert "Hub model acme/tiny-lm: " in (found.provenance.error or "")


@pytest.mark.parametrize("fault", ["malformed", "empty"])
@pytest.mark.parametrize(
    ("kind", "what"),
    [(Kind.HF_PAPER, "Hub paper "), (Kind.HF_PAPER_MODELS, "Hub models tagged arxiv:")],
)
def test_malformed_answer_is_a_permanent_error(
    api: FakeAPI, fault: str, kind: Kind, what: str
) -> None:
    api.add_paper_page("2306.07629")
    api.fault("hub", fault)
    found, ctx = one(api, kind, "2306.07629")
    assert (found.status, ctx.stats.answers[ident(found.ref)].attempts) == (Status.ERROR, 1)
    assert found.provenance.error == f"{what}2306.07629: malformed answer (JSONDecodeError)"
    assert len(api.requests) == 1


def test_exhausted_rate_limit_stops_early_with_one_note() -> None:
    with FakeAPI(hub_limit=2) as api:
        names = [f"acme/m{i}" for i in range(2 * HF_CONCURRENCY + 2)]
        for name in names:
            api.add_model(name)
        results, ctx, advanced = fetch(api, [(Kind.HF_MODEL, n) for n in names])
        sent = len(api.requests)
    statuses = [r.status for r in results.values()]
    assert statuses.count(Status.OK) == 2
    assert statuses.count(Status.ERROR) == len(names) - 2
    assert sum(advanced) == len(names)
    assert sent <= 2 + HF_CONCURRENCY  # the requests in flight when the budget ran out
    errors = [r.provenance.error or "" for r in results.values() if r.status is Status.ERROR]
    # In flight when the budget ran out: a 429 the policy does not wait out (the reset is
    # far); the rest: not sent at all.
    assert all("rate limit exhausted" in e or "HTTP 429" in e for e in errors)
    not_sent = sum("rate limit exhausted" in e for e in errors)
    assert not_sent >= len(names) - 2 - HF_CONCURRENCY
    assert ctx.stats.rate_limit_remaining == 0
    assert ctx.stats.notes == [f"huggingface: rate limit exhausted, {not_sent} item(s) not fetched"]


# ---------------------------------------------------------------------- limits and secrets


def test_at_most_hf_concurrency_requests_in_flight() -> None:
    # 0.3 s a request: long enough for all the workers to be in flight at once even on a
    # loaded machine (at 0.05 s, a busy CI saw 7 of 8).
    with PeakFakeAPI(latency=0.3) as api:
        names = [f"acme/m{i}" for i in range(3 * HF_CONCURRENCY)]
        for name in names:
            api.add_model(name)
        results, _, _ = fetch(api, [(Kind.HF_MODEL, n) for n in names], timeout=5.0)
        assert all(r.status is Status.OK for r in results.values())
        assert api.peak == HF_CONCURRENCY


def test_token_is_sent_but_never_shown(api: FakeAPI) -> None:
    api.add_model("acme/tiny-lm")
    api.add_model("acme/broken")
    api.fault("hub", "500", path_contains="broken")
    items = [(Kind.HF_MODEL, "acme/tiny-lm"), (Kind.HF_MODEL, "acme/broken")]
    items += [(Kind.HF_MODEL, "acme/nope"), (Kind.HF_COLLECTION, "bad slug")]
    results, ctx, _ = fetch(api, items, token=TOKEN)
    assert {r.headers.get("authorization") for r in api.requests} == {f"Bearer {TOKEN}"}
    assert results[ident("hf_model:acme/broken")].status is Status.ERROR
    for found in results.values():
        assert TOKEN not in found.model_dump_json(exclude_none=False)
        assert TOKEN not in repr(found.provenance)
    assert all(TOKEN not in note for note in ctx.stats.notes)


def test_no_implicit_token_from_the_environment(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    api.add_model("acme/tiny-lm")
    found, _ = one(api, Kind.HF_MODEL, "acme/tiny-lm")
    assert found.status is Status.OK
    assert "authorization" not in api.requests[0].headers


def test_no_hidden_requests(api: FakeAPI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Building headers makes the library fetch an "agent harness" registry from its
    # import-time endpoint (and cache it under HF_HOME) unless telemetry is off. Point that
    # endpoint at the fake and forget the registry it caches in-process, so it would try.
    registry = tmp_path / "agent_harnesses.json"
    monkeypatch.setattr(constants, "ENDPOINT", api.base_url)
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(registry))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", False)
    monkeypatch.setattr(_detect_agent, "_registry", None)
    api.add_model("acme/tiny-lm")
    found, ctx = one(api, Kind.HF_MODEL, "acme/tiny-lm")
    assert found.status is Status.OK
    assert [r.path for r in api.requests] == ["/api/models/acme/tiny-lm"]
    assert ctx.stats.requests == 1
    assert _detect_agent._registry is not None  # it tried, and was refused
    assert not registry.exists()


def test_library_offline_switch_does_not_apply(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`HF_HUB_OFFLINE` would fail every request as a retryable ConnectionError; the
    project's own `--offline` (the fetch stage never calls the source) governs instead."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    api.add_model("acme/tiny-lm")
    found, ctx = one(api, Kind.HF_MODEL, "acme/tiny-lm")
    assert (found.status, ctx.stats.answers[ident(found.ref)].attempts) == (Status.OK, 1)


def test_renamed_repo_is_moved_and_case_is_not_a_rename(api: FakeAPI) -> None:
    # FakeAPI has no Hub rename (the Hub redirects the old name): the old name answers with
    # the renamed repo's body, which is what the client sees after following the redirect.
    api.hub.repos[("model", "acme/old-name")] = api.add_model("acme/new-name")
    api.add_model("Acme/Tiny-LM")
    results, _, _ = fetch(api, [(Kind.HF_MODEL, "acme/old-name"), (Kind.HF_MODEL, "acme/tiny-lm")])
    renamed, cased = (
        results[ident("hf_model:acme/old-name")],
        results[ident("hf_model:acme/tiny-lm")],
    )
    assert (renamed.status, renamed.moved_to, meta(renamed).id) == (
        Status.MOVED,
        "hf_model:acme/new-name",
        "acme/new-name",
    )
    assert (cased.status, cased.moved_to, meta(cased).id) == (Status.OK, None, "Acme/Tiny-LM")


@pytest.mark.parametrize("items", [6, 95, 3 * HF_CONCURRENCY])
def test_a_silent_host_trips_the_breaker_in_one_wave(items: int) -> None:
    """A Hub that accepts connections and never answers: the requests in flight end at their
    deadline, five of them open the breaker, and the items still queued for a slot are not
    sent (they are admitted when they get one, not when they were queued)."""
    with FakeAPI() as api:
        api.fault("hub", "timeout", seconds=3600)
        names = [f"acme/m{i}" for i in range(items)]
        started = time.monotonic()
        deadline = 0.15  # each request's: the host never answers, nothing to wait for
        items_asked = [(Kind.HF_MODEL, n) for n in names]
        results, ctx, _ = fetch(api, items_asked, timeout=5.0, deadline=deadline)
        elapsed = time.monotonic() - started
        sent = api.count("hub")
    assert all(r.status is Status.ERROR for r in results.values())
    assert ctx.policy.breaker.open
    assert sent <= max(HF_CONCURRENCY, 5) + 5  # one wave (and the retries of a few)
    assert elapsed < deadline * 4 + 1.0  # a handful of deadlines, not one per item
    queued = [r for r in results.values() if "not tried" in (r.provenance.error or "")]
    assert len(queued) >= items - sent
