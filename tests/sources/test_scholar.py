"""The Semantic Scholar source against the loopback FakeAPI: httpx2, real HTTP, recorded shapes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest

from enrich.config import S2_BATCH_SIZE, Endpoints, Secret, Settings
from enrich.metadata import ScholarMeta
from enrich.models import Identifier, Kind, Result, Status
from enrich.net import RetryPolicy
from enrich.sources import FetchContext, Request, SourceStats
from enrich.sources.scholar import FIELDS, ScholarSource, record, s2_id
from tests.builders import ident
from tests.fakeapi import FakeAPI

KEY = "s2-FAKE-key-aB3cD4eF5gH6"


def fetch(
    api: FakeAPI, keys: Sequence[str], *, source: ScholarSource | None = None, **overrides: Any
) -> tuple[dict[Identifier, Result], FetchContext]:
    settings = dataclasses.replace(
        Settings(endpoints=Endpoints(scholar=api.base_url), s2_delay=0, retry_wait=False),
        **overrides,
    )
    ctx = FetchContext(settings=settings, policy=RetryPolicy(wait=False), stats=SourceStats())
    requests = [Request(Identifier(kind=Kind.SCHOLAR, key=key)) for key in keys]
    results = asyncio.run((source or ScholarSource(settings)).fetch(requests, ctx))
    return results, ctx


def batches(api: FakeAPI) -> list[list[str]]:
    return [json.loads(r.body)["ids"] for r in api.requests if r.api == "scholar"]


def test_ids_by_kind() -> None:
    assert s2_id("arxiv:2305.14314") == "ARXIV:2305.14314"
    assert s2_id("doi:10.5555/3666122.3666563") == "DOI:10.5555/3666122.3666563"
    assert s2_id("acl:2023.findings-emnlp.1033") == "ACL:2023.findings-emnlp.1033"
    assert s2_id("pmlr:v235/guo24g") is None
    assert s2_id("openreview:abc") is None


def test_a_doi_paper_is_normalised_with_its_arxiv_id_and_citations(api: FakeAPI) -> None:
    api.add_scholar(
        "DOI:10.5555/3666122.3666563",
        title="QLoRA:\n  Efficient   Finetuning",
        authors=["Tim Dettmers", "Artidoro Pagnoni"],
        year=2023,
        publication_date=date(2023, 5, 23),
        venue="Neural Information Processing Systems",
        venue_type="conference",
        journal={"name": "Advances in NeurIPS", "volume": "36", "pages": "10088-10115"},
        external={"ArXiv": "2305.14314"},
        citations=4321,
        influential=512,
    )
    results, ctx = fetch(api, ["doi:10.5555/3666122.3666563"])
    got = results[ident("scholar:doi:10.5555/3666122.3666563")]
    assert got.status is Status.OK
    assert got.provenance.source == "scholar"
    data = got.data
    assert isinstance(data, ScholarMeta)
    assert (data.title, data.year, data.publication_date) == (
        "QLoRA: Efficient Finetuning",
        2023,
        date(2023, 5, 23),
    )
    assert [a.name for a in data.authors] == ["Tim Dettmers", "Artidoro Pagnoni"]
    assert (data.arxiv_id, data.doi) == ("2305.14314", "10.5555/3666122.3666563")
    assert (data.citations, data.influential_citations) == (4321, 512)
    assert data.venue == "Neural Information Processing Systems"
    assert data.journal == "Advances in NeurIPS 36, 10088-10115"
    [request] = [r for r in api.requests if r.api == "scholar"]
    assert (request.method, request.path) == ("POST", "/graph/v1/paper/batch")
    assert request.query["fields"] == FIELDS
    assert ctx.stats.requests == 1


def test_unknown_ids_are_not_found_and_unsupported_kinds_are_skipped_unasked(
    api: FakeAPI,
) -> None:
    api.add_scholar("ARXIV:2305.18290")
    keys = ["arxiv:2305.18290", "doi:10.1/unknown", "pmlr:v235/guo24g"]
    results, _ = fetch(api, keys)
    assert results[ident("scholar:arxiv:2305.18290")].status is Status.OK
    assert results[ident("scholar:doi:10.1/unknown")].status is Status.NOT_FOUND
    skipped = results[ident("scholar:pmlr:v235/guo24g")]
    assert skipped.status is Status.SKIPPED
    assert "pmlr" in (skipped.provenance.error or "")
    assert batches(api) == [["ARXIV:2305.18290", "DOI:10.1/unknown"]]


def test_ids_go_in_batches_of_500_spaced_by_the_delay(api: FakeAPI) -> None:
    keys = [f"arxiv:2301.{n:05d}" for n in range(S2_BATCH_SIZE + 20)]
    started = time.monotonic()
    results, ctx = fetch(api, keys, s2_delay=0.3)
    assert time.monotonic() - started >= 0.3
    assert [len(b) for b in batches(api)] == [S2_BATCH_SIZE, 20]
    assert {r.status for r in results.values()} == {Status.NOT_FOUND}
    assert ctx.stats.requests == 2
    first, second = [r for r in api.requests if r.api == "scholar"]
    assert second.at - (first.done or first.at) >= 0.25


def test_the_api_key_goes_in_its_header_and_nowhere_else(api: FakeAPI) -> None:
    api.fault("scholar", "503")
    results, _ = fetch(api, ["arxiv:2305.18290"], s2_api_key=Secret(KEY))
    assert {r.headers.get("x-api-key") for r in api.requests} == {KEY}
    got = results[ident("scholar:arxiv:2305.18290")]
    assert got.status is Status.ERROR
    assert KEY not in got.model_dump_json()


def test_without_a_key_no_key_header_is_sent(api: FakeAPI) -> None:
    fetch(api, ["arxiv:2305.18290"])
    sent = [r for r in api.requests if r.api == "scholar"]
    assert len(sent) == 1
    assert "x-api-key" not in sent[0].headers


def test_a_429_is_retried_then_answered(api: FakeAPI) -> None:
    api.add_scholar("ARXIV:2305.18290")
    api.fault("scholar", "429", times=1, retry_after=1)
    results, ctx = fetch(api, ["arxiv:2305.18290"])
    got = results[ident("scholar:arxiv:2305.18290")]
    assert got.status is Status.OK
    assert ctx.stats.answers[ident(got.ref)].attempts == 2


@pytest.mark.parametrize("kind", ["malformed", "empty", "404"])
def test_an_unusable_answer_fails_the_batch(api: FakeAPI, kind: str) -> None:
    api.add_scholar("ARXIV:2305.18290")
    api.fault("scholar", kind)
    results, _ = fetch(api, ["arxiv:2305.18290", "doi:10.1/x"])
    assert {r.status for r in results.values()} == {Status.ERROR}
    assert len(batches(api)) == 1  # not worth retrying


def test_a_truncated_answer_is_retried(api: FakeAPI) -> None:
    api.add_scholar("ARXIV:2305.18290")
    api.fault("scholar", "truncated", times=1)
    results, _ = fetch(api, ["arxiv:2305.18290"])
    assert results[ident("scholar:arxiv:2305.18290")].status is Status.OK
    assert len(batches(api)) == 2


def test_the_pace_holds_across_calls_of_one_source(api: FakeAPI) -> None:
    settings = Settings(endpoints=Endpoints(scholar=api.base_url), s2_delay=0.4)
    source = ScholarSource(settings)
    fetch(api, ["doi:10.1/a"], source=source)
    fetch(api, ["arxiv:2305.18290"], source=source)
    first, second = [r for r in api.requests if r.api == "scholar"]
    assert second.at - (first.done or first.at) >= 0.35


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"title": "no paper id"}, "paperId"),
        ({"paperId": "a", "citationCount": -1}, "count"),
        ({"paperId": "a", "citationCount": "12"}, "count"),
        ({"paperId": "a", "publicationDate": "yesterday"}, "isoformat"),
        ("a string", "object"),
    ],
)
def test_an_item_that_does_not_validate_is_refused(item: Any, problem: str) -> None:
    with pytest.raises((ValueError, TypeError), match=problem):
        record(item)


def test_untrusted_strings_are_cleaned_and_capped() -> None:
    data = record(
        {
            "paperId": "p1",
            "title": "A |\n<script>alert(1)</script>\u202e title " + "x" * 5000,
            "authors": [{"name": "Eve\x00 Evil"}, {"name": ""}, "not an author"],
            "venue": "Venue\nwith newline",
            "url": "javascript:alert(1)",
            "externalIds": ["not", "a", "dict"],
        }
    )
    assert "\n" not in (data.title or "")
    assert "\u202e" not in (data.title or "")
    assert len(data.title or "") <= 1000
    assert [a.name for a in data.authors] == ["Eve Evil"]
    assert data.venue == "Venue with newline"
    assert data.url is None
    assert data.arxiv_id is None


def test_one_bad_item_fails_alone(api: FakeAPI) -> None:
    api.add_scholar("ARXIV:2305.18290")
    bad = api.add_scholar("ARXIV:2305.00001")
    bad.citations = -5  # the fake sends what it is given
    results, _ = fetch(api, ["arxiv:2305.18290", "arxiv:2305.00001"])
    assert results[ident("scholar:arxiv:2305.18290")].status is Status.OK
    failed = results[ident("scholar:arxiv:2305.00001")]
    assert failed.status is Status.ERROR
    assert "unusable" in (failed.provenance.error or "")


def test_a_batch_refused_because_of_one_id_is_halved_until_the_others_are_answered(
    api: FakeAPI,
) -> None:
    keys = [f"arxiv:2305.{n:05d}" for n in range(8)]
    for key in keys:
        api.add_scholar(key.replace("arxiv:", "ARXIV:"))
    api.scholar.poison.add("ARXIV:2305.00005")
    results, ctx = fetch(api, keys)
    bad = results[ident("scholar:arxiv:2305.00005")]
    assert bad.status is Status.ERROR
    assert ctx.stats.answers[ident(bad.ref)].http_status == 500
    assert {k.ref for k, r in results.items() if r.status is Status.OK} == {
        f"scholar:{k}" for k in keys if k != "arxiv:2305.00005"
    }
    sizes = [len(b) for b in batches(api)]
    assert sizes[0] == 8
    assert 1 in sizes  # isolated
    assert len(batches(api)) <= 4 * (1 + 16)  # attempts x (the call + its split budget)


@pytest.mark.parametrize("poisoned", [(0,), (13,), (3, 12), (0, 15)])
def test_refused_ids_are_isolated_wherever_they_sit(
    api: FakeAPI, poisoned: tuple[int, ...]
) -> None:
    keys = [f"arxiv:2305.{n:05d}" for n in range(16)]
    for key in keys:
        api.add_scholar(key.replace("arxiv:", "ARXIV:"))
    bad = {keys[n] for n in poisoned}
    api.scholar.poison.update(k.replace("arxiv:", "ARXIV:") for k in bad)
    results, _ = fetch(api, keys)
    assert {k.ref for k, r in results.items() if r.status is Status.ERROR} >= {
        f"scholar:{k}" for k in bad
    }
    answered = {k.ref for k, r in results.items() if r.status is Status.OK}
    if len(poisoned) == 1:  # one refused id: halving isolates it, every other is answered
        assert answered == {f"scholar:{k}" for k in keys if k not in bad}
    else:  # in both halves: that looks like the server's failure, and halving stops there
        assert len(results) == 16


@pytest.mark.parametrize("status", ["500", "503"])
@pytest.mark.parametrize("size", [2, 8, 500])
def test_a_server_failing_every_batch_is_not_halved_down(
    api: FakeAPI, status: str, size: int
) -> None:
    """500 on the batch and on both of its halves: the server's failure, not an id's. The
    ids end `error` after three batches (each retried by the policy), not 16 halvings."""
    api.fault("scholar", status)
    keys = [f"arxiv:2305.{n:05d}" for n in range(size)]
    results, _ = fetch(api, keys)
    assert all(r.status is Status.ERROR for r in results.values())
    attempts = RetryPolicy().attempts
    halved = status == "500"  # 503 is not a refusal halving can cure
    assert len(batches(api)) == attempts * (3 if halved else 1)
    assert {len(b) for b in batches(api)} == (
        {size, size // 2, size - size // 2} if halved else {size}
    )


def test_a_rate_limited_batch_is_not_halved(api: FakeAPI) -> None:
    api.fault("scholar", "429")
    fetch(api, ["arxiv:2305.00001", "arxiv:2305.00002"])
    assert {len(b) for b in batches(api)} == {2}


def test_a_body_nested_too_deep_fails_its_batch_only(api: FakeAPI) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    api.fault("scholar", "malformed", body=deep)
    results, _ = fetch(api, ["arxiv:2305.18290"])
    got = results[ident("scholar:arxiv:2305.18290")]
    assert got.status is Status.ERROR
    assert "malformed" in (got.provenance.error or "")


@pytest.mark.parametrize("year", [10**7, -5, 0, 3000])
def test_an_implausible_year_is_dropped(year: int) -> None:
    data = record({"paperId": "p", "year": year, "publicationDate": "9999-01-01"})
    assert data.year is None
    assert data.publication_date is None
