"""The arXiv source against the loopback FakeAPI: the real `arxiv` client, real HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from enrich.config import Endpoints, Settings
from enrich.metadata import Author, PaperMeta
from enrich.models import Identifier, Kind, Result, Status
from enrich.net import RetryPolicy
from enrich.sources import Answer, FetchContext, Request
from enrich.sources.arxiv import ArxivSource
from tests.builders import context, ident
from tests.conftest import Sleeps
from tests.fakeapi import FakeAPI


def make_settings(api: FakeAPI, **overrides: Any) -> Settings:
    base = Settings(
        endpoints=Endpoints(arxiv=api.base_url + "/api/query"),
        arxiv_delay=0,
        retry_wait=False,
        retry_attempts=3,
    )
    return dataclasses.replace(base, **overrides)


def ask(key: str, version: str | None = None) -> Request:
    return Request(Identifier(kind=Kind.ARXIV, key=key, version=version))


def fetch(
    api: FakeAPI,
    keys: Sequence[str],
    *,
    source: ArxivSource | None = None,
    policy: RetryPolicy | None = None,
    **overrides: Any,
) -> tuple[dict[Identifier, Result], FetchContext]:
    settings = make_settings(api, **overrides)
    ctx, _ = context(settings, policy)
    source = source or ArxivSource(settings)
    results = asyncio.run(source.fetch([ask(key) for key in keys], ctx))
    return results, ctx


def id_lists(api: FakeAPI) -> list[list[str]]:
    return [r.query["id_list"].split(",") for r in api.requests if r.api == "arxiv"]


def test_success_path_normalises_every_field(api: FakeAPI) -> None:
    kept: dict[str, Any] = {  # what the record holds as arXiv says it
        "published": datetime(2023, 1, 5, 10, 0, tzinfo=UTC),
        "updated": datetime(2023, 6, 1, 8, 30, tzinfo=UTC),
        "primary_category": "cs.CL",
        "categories": ["cs.CL", "cs.LG"],
        "journal_ref": "TMLR 2023",
        "doi": "10.1234/slm.2023",
    }
    api.add_paper(
        "2301.00001",
        title="  Small   models,\n   big  results ",
        authors=[("Ada Lovelace", "Analytical Engine Ltd"), "Bo Zhang"],
        summary="We study\n  small models.\n\nThey work.",
        version=3,
        comment="12 pages,\n 3 figures",
        **kept,
    )
    settings = make_settings(api)
    ctx, _ = context(settings)
    request = Request(Identifier(kind=Kind.ARXIV, key="2301.00001", version="v1"))
    results = asyncio.run(ArxivSource(settings).fetch([request], ctx))

    got = results[ident("arxiv:2301.00001")]
    assert got.status is Status.OK
    assert ctx.stats.answers[ident(got.ref)] == Answer(200, 1)
    assert got.provenance.fetched_at is not None
    assert got.data == PaperMeta(
        arxiv_id="2301.00001",
        latest_version="v3",
        title="Small models, big results",
        authors=[
            Author(name="Ada Lovelace", affiliations=["Analytical Engine Ltd"]),
            Author(name="Bo Zhang"),
        ],
        abstract="We study small models. They work.",
        comment="12 pages, 3 figures",
        pdf_url="https://arxiv.org/pdf/2301.00001v3",
        **kept,
    )
    assert isinstance(got.data, PaperMeta)
    assert got.data.published.tzinfo is not None
    # One request, asking for the versionless id (so the latest version comes back).
    assert id_lists(api) == [["2301.00001"]]
    assert ctx.stats.requests == 1


def test_old_style_ids_match_their_entries(api: FakeAPI) -> None:
    api.add_paper("hep-th/9901001", version=2)
    api.add_paper("math.AG/0601001")

    results, _ = fetch(api, ["hep-th/9901001", "math.AG/0601001"])

    old = results[ident("arxiv:hep-th/9901001")]
    assert old.status is Status.OK
    assert isinstance(old.data, PaperMeta)
    assert (old.data.arxiv_id, old.data.latest_version) == ("hep-th/9901001", "v2")
    assert results[ident("arxiv:math.AG/0601001")].status is Status.OK


def test_250_ids_go_out_in_three_batches_of_100(api: FakeAPI) -> None:
    keys = [f"2401.{n:05d}" for n in range(1, 251)]
    for key in keys:
        api.add_paper(key)

    results, ctx = fetch(api, keys)

    assert api.count("arxiv") == 3
    assert ctx.stats.requests == 3
    assert [len(ids) for ids in id_lists(api)] == [100, 100, 50]
    assert [i for ids in id_lists(api) for i in ids] == keys
    assert {r.query["max_results"] for r in api.requests} == {"100"}
    assert {r.query["start"] for r in api.requests} == {"0"}
    assert all(results[ident(f"arxiv:{key}")].status is Status.OK for key in keys)


def test_unknown_id_is_not_found(api: FakeAPI) -> None:
    api.add_paper("2301.00001")

    results, ctx = fetch(api, ["2301.00001", "2301.99999"])

    missing = results[ident("arxiv:2301.99999")]
    assert missing.status is Status.NOT_FOUND
    assert missing.data is None
    assert ctx.stats.answers[ident(missing.ref)].http_status == 200
    assert results[ident("arxiv:2301.00001")].status is Status.OK
    assert api.count("arxiv") == 1


def test_an_answer_without_any_entry_is_confirmed_once(api: FakeAPI) -> None:
    results, ctx = fetch(api, ["2301.99998", "2301.99999"])

    assert {r.status for r in results.values()} == {Status.NOT_FOUND}
    assert api.count("arxiv") == 2
    assert ctx.stats.answers[ident("arxiv:2301.99999")].attempts == 2


def test_a_spurious_empty_page_is_not_taken_for_not_found(api: FakeAPI) -> None:
    api.add_paper("2301.00001")
    api.fault("arxiv", "empty", times=1)

    results, ctx = fetch(api, ["2301.00001"])

    assert results[ident("arxiv:2301.00001")].status is Status.OK
    assert ctx.stats.answers[ident("arxiv:2301.00001")].attempts == 2


def test_malformed_id_is_an_error_and_is_not_sent(api: FakeAPI) -> None:
    results, ctx = fetch(api, ["not-an-id", "2301.1"])

    for ref in (ident("arxiv:not-an-id"), ident("arxiv:2301.1")):
        assert results[ref].status is Status.ERROR
        assert "malformed arXiv id" in (results[ref].provenance.error or "")
        assert ctx.stats.answers[ident(results[ref].ref)].attempts == 0
    assert api.count() == 0
    assert ctx.stats.requests == 0


class _Lenient(ArxivSource):
    """A validation that lets `abc` through: an id arXiv refuses that slipped our check."""

    def query_id(self, key: str) -> str | None:
        return key if key == "abc" else super().query_id(key)


def test_a_refused_id_is_isolated_by_halving_the_batch(api: FakeAPI) -> None:
    keys = [f"2301.{n:05d}" for n in range(1, 8)]
    for key in keys:
        api.add_paper(key)
    keys.insert(5, "abc")  # 8 ids, the refused one in the second half

    source = _Lenient(make_settings(api))
    results, ctx = fetch(api, keys, source=source)

    # [8] 400 -> [4] ok, [4] 400 -> ([2] 400 -> [1] ok, [1] 400), [2] ok
    assert api.count("arxiv") == 7
    assert [len(ids) for ids in id_lists(api)] == [8, 4, 4, 2, 1, 1, 2]
    assert id_lists(api)[5] == ["abc"]
    assert ctx.stats.requests == 7
    refused = results[ident("arxiv:abc")]
    assert refused.status is Status.ERROR
    assert ctx.stats.answers[ident(refused.ref)].http_status == 400
    assert "refused" in (refused.provenance.error or "")
    assert all(results[ident(f"arxiv:{k}")].status is Status.OK for k in keys if k != "abc")


@pytest.mark.parametrize(
    ("kind", "times", "requests"),
    [("429", 1, 2), ("503", 2, 3)],  # the 429 asks for a wait (Retry-After: 2)
    ids=["429-with-retry-after-then-success", "503-burst-then-recovery"],
)
def test_answers_after_refusals(api: FakeAPI, kind: str, times: int, requests: int) -> None:
    api.add_paper("2301.00001")
    api.fault("arxiv", kind, times=times, retry_after=2 if kind == "429" else None)

    results, ctx = fetch(api, ["2301.00001"])

    got = results[ident("arxiv:2301.00001")]
    assert got.status is Status.OK
    assert ctx.stats.answers[ident(got.ref)].attempts == requests
    assert ctx.stats.requests == requests


# `enrich.net.RetryPolicy(wait=True)` passes tenacity's deprecated `initial`.
def test_retry_after_is_read_from_the_answer(api: FakeAPI) -> None:
    # A wait the server asks for that does not fit the policy's time budget is not waited:
    # failing at once proves the source handed Retry-After (not only the status) over.
    api.add_paper("2301.00001")
    api.fault("arxiv", "429", retry_after=600)
    slept = Sleeps()
    policy = RetryPolicy(wait=True, attempts=3, max_seconds=5, sleep=slept)

    results, ctx = fetch(api, ["2301.00001"], policy=policy)

    got = results[ident("arxiv:2301.00001")]
    assert slept == []
    assert got.status is Status.ERROR
    assert got.provenance.error == "arXiv id_list batch: HTTP 429"
    assert ctx.stats.answers[ident(got.ref)] == Answer(429, 1)


def test_permanent_5xx_fails_every_id_of_the_batch(api: FakeAPI) -> None:
    api.add_paper("2301.00001")
    api.fault("arxiv", "500")

    results, ctx = fetch(api, ["2301.00001", "2301.00002"])

    for got in results.values():
        assert got.status is Status.ERROR
        assert got.provenance.error == "arXiv id_list batch: HTTP 500"
        assert ctx.stats.answers[ident(got.ref)] == Answer(500, 3)
        assert got.provenance.fetched_at is None
    assert api.count("arxiv") == ctx.stats.requests == 3


def test_timeout_ends_in_error_within_bounded_time(api: FakeAPI) -> None:
    api.add_paper("2301.00001")
    api.fault("arxiv", "timeout", seconds=30)

    started = time.monotonic()
    results, ctx = fetch(api, ["2301.00001"], timeout=0.15)  # each of 3 attempts waits it

    got = results[ident("arxiv:2301.00001")]
    assert time.monotonic() - started < 5
    assert got.status is Status.ERROR
    error = "arXiv id_list batch: no whole answer in time (0.15 s a read, 60 s in all)"
    assert got.provenance.error == error
    assert ctx.stats.answers[ident(got.ref)].attempts == 3
    assert api.count("arxiv") == 3


@pytest.mark.parametrize("kind", ["reset", "malformed", "truncated"])
def test_a_transport_fault_once_is_retried(api: FakeAPI, kind: str) -> None:
    api.add_paper("2301.00001")
    api.fault("arxiv", kind, times=1)

    results, ctx = fetch(api, ["2301.00001"])

    assert results[ident("arxiv:2301.00001")].status is Status.OK
    assert ctx.stats.answers[ident("arxiv:2301.00001")].attempts == 2


@pytest.mark.parametrize(
    ("kind", "error", "http_status", "requests"),
    [
        ("reset", "arXiv id_list batch: connection failed", None, 3),
        # one retry, then the answer is believed broken (an error, not not_found)
        ("malformed", "arXiv id_list batch: malformed answer", 200, 2),
        ("truncated", "arXiv id_list batch: connection failed", None, 3),
    ],
)
def test_a_transport_fault_every_time_is_an_error(
    api: FakeAPI, kind: str, error: str, http_status: int | None, requests: int
) -> None:
    api.add_paper("2301.00001")
    api.fault("arxiv", kind)

    results, ctx = fetch(api, ["2301.00001"])

    got = results[ident("arxiv:2301.00001")]
    assert got.status is Status.ERROR
    assert (got.provenance.error or "").startswith(error)
    assert ctx.stats.answers[ident(got.ref)].http_status == http_status
    assert api.count("arxiv") == requests


def test_untrusted_values_are_cleaned_and_capped(api: FakeAPI) -> None:
    api.add_paper(
        "2301.00001",
        title="Bidi \u202etrick\u202c and C1 \x9bcontrol " + "x" * 3000,
        summary="word " * 5000,
        authors=["  Ada \u2066Lovelace\u2069 "],
    )

    results, _ = fetch(api, ["2301.00001"])

    paper = results[ident("arxiv:2301.00001")].data
    assert isinstance(paper, PaperMeta)
    assert paper.title.startswith("Bidi trick and C1 control xxx")
    assert len(paper.title) == 1000
    assert paper.title.endswith("…")
    assert len(paper.abstract) <= 10_000
    assert paper.authors[0].name == "Ada Lovelace"


def test_progress_advances_once_per_request(api: FakeAPI) -> None:
    api.add_paper("2301.00001")
    settings = make_settings(api)
    ctx, advanced = context(settings)
    requests = [ask("2301.00001"), ask("2301.00002"), ask("bad id")]

    results = asyncio.run(ArxivSource(settings).fetch(requests, ctx))

    assert set(results) == {r.identifier for r in requests}
    assert sum(advanced) == 3


def test_requests_are_spaced_by_the_arxiv_delay(api: FakeAPI) -> None:
    keys = [f"2401.{n:05d}" for n in range(1, 251)]
    for key in keys:
        api.add_paper(key)

    started = time.monotonic()
    results, _ = fetch(api, keys, arxiv_delay=0.2)
    elapsed = time.monotonic() - started

    # Three requests, each one at least 0.2 s after the previous answer came in.
    assert api.count("arxiv") == 3
    assert elapsed >= 0.4
    assert all(r.status is Status.OK for r in results.values())


def test_each_batch_is_handed_over_as_it_settles(api: FakeAPI) -> None:
    """So the fetch stage stores a batch's facts while the next one waits its turn."""
    keys = [f"2401.{n:05d}" for n in range(1, 6)]
    for key in keys[:4]:
        api.add_paper(key)
    settings = make_settings(api, arxiv_batch=2)
    kept: list[dict[Identifier, Status]] = []
    ctx, _ = context(
        settings, keep=lambda batch: kept.append({ref: r.status for ref, r in batch.items()})
    )

    results = asyncio.run(ArxivSource(settings).fetch([ask(k) for k in keys], ctx))

    assert [len(batch) for batch in kept] == [2, 2, 1]
    assert kept[-1] == {ident(f"arxiv:{keys[4]}"): Status.NOT_FOUND}
    assert {ref for batch in kept for ref in batch} == set(results)
