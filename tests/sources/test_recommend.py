"""Semantic Scholar's recommendations source against the loopback FakeAPI: real HTTP, the
documented answer shape, the fake's fault injection."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import Sequence
from typing import Any

import pytest

from enrich.config import DEFAULT_TTLS, S2_RECOMMEND_LIMIT, Endpoints, Secret, Settings
from enrich.metadata import Recommendations
from enrich.models import Identifier, Kind, Result, Status
from enrich.net import RetryPolicy
from enrich.rate import Pacer
from enrich.sources import FetchContext, Request, SourceStats, registry
from enrich.sources.recommend import FIELDS, PATH, RecommendSource
from enrich.sources.scholar import ScholarSource
from tests.fakeapi import FakeAPI
from tests.fakeapi.wire import Reply

KEY = "s2-FAKE-key-zY9xW8vU7"
QLORA, LORA = "arxiv:2305.14314", "arxiv:2106.09685"
HERNIE = "doi:10.1145/3477495.3531986"


def fetch(
    api: FakeAPI, keys: Sequence[str], *, attempts: int = 4, **overrides: Any
) -> tuple[dict[Identifier, Result], FetchContext]:
    """One call of the source for one lookup per `keys` item (its space-separated keys)."""
    settings = dataclasses.replace(
        Settings(endpoints=Endpoints(scholar=api.base_url), s2_delay=0, retry_wait=False),
        **overrides,
    )
    policy = RetryPolicy(attempts=attempts, wait=False)
    ctx = FetchContext(settings=settings, policy=policy, stats=SourceStats())
    requests = [Request(Identifier(Kind.RECOMMENDED, key)) for key in keys]
    return asyncio.run(RecommendSource(settings).fetch(requests, ctx)), ctx


def asked(api: FakeAPI) -> list[Any]:
    return [r for r in api.requests if r.path == PATH]


def lookup(key: str) -> Identifier:
    return Identifier(Kind.RECOMMENDED, key)


def test_one_request_per_lookup_with_the_papers_as_positive_examples(api: FakeAPI) -> None:
    for ident in ("ARXIV:2305.14314", "ARXIV:2106.09685", "DOI:10.1145/3477495.3531986"):
        api.add_scholar(ident)
    keys = [f"{QLORA} {LORA}", HERNIE]
    results, ctx = fetch(api, keys)
    requests = asked(api)
    assert len(requests) == 2 == ctx.stats.requests
    bodies = [json.loads(r.body) for r in requests]
    assert bodies == [
        {"positivePaperIds": ["ARXIV:2305.14314", "ARXIV:2106.09685"], "negativePaperIds": []},
        {"positivePaperIds": ["DOI:10.1145/3477495.3531986"], "negativePaperIds": []},
    ]
    assert {r.method for r in requests} == {"POST"}
    assert {r.query["fields"] for r in requests} == {FIELDS}
    assert {r.query["limit"] for r in requests} == {str(S2_RECOMMEND_LIMIT)}
    for key in keys:
        got = results[lookup(key)]
        assert got.status is Status.OK
        assert got.provenance.source == "recommendations"
        assert isinstance(got.data, Recommendations)
        assert len(got.data.papers) == S2_RECOMMEND_LIMIT


def test_the_answer_is_read_in_its_order_cleaned_and_never_names_a_positive(api: FakeAPI) -> None:
    qlora = api.add_scholar("ARXIV:2305.14314")
    first = api.add_recommended(
        "DOI:10.1/First", title="  A\n first   paper ", year=2024, citations=12
    )
    api.add_recommended("ARXIV:2305.14314")  # the positive itself: never recommended back
    results, _ = fetch(api, [QLORA])
    data = results[lookup(QLORA)].data
    assert isinstance(data, Recommendations)
    top = data.papers[0]
    assert (top.paper_id, top.title, top.year, top.citations) == (
        first.paper_id,
        "A first paper",
        2024,
        12,
    )
    assert top.doi == "10.1/First"
    assert top.arxiv_id is None
    assert qlora.paper_id not in {p.paper_id for p in data.papers}


def _answer(papers: list[Any]) -> bytes:
    return json.dumps({"recommendedPapers": papers}).encode()


@pytest.mark.parametrize(
    "bad",
    [
        {"title": "no paper id"},
        {"paperId": "x1", "citationCount": -3},
        {"paperId": "x2", "citationCount": "many"},
        "not an object",
    ],
)
def test_an_unusable_paper_is_left_out_not_the_answer(api: FakeAPI, bad: Any) -> None:
    good = {"paperId": "good1", "title": "Kept", "year": 2023, "externalIds": {"ArXiv": "2301.1"}}
    body = _answer([bad, good, dict(good)])  # the same paper twice: kept once
    api.fault("scholar", "malformed", path_contains=PATH, body=body)
    results, _ = fetch(api, [QLORA])
    data = results[lookup(QLORA)].data
    assert isinstance(data, Recommendations)
    assert [p.paper_id for p in data.papers] == ["good1"]


def test_no_more_papers_are_kept_than_asked_for(api: FakeAPI) -> None:
    many = [{"paperId": f"p{i}", "title": f"T{i}"} for i in range(S2_RECOMMEND_LIMIT + 7)]
    api.fault("scholar", "malformed", path_contains=PATH, body=_answer(many))
    results, _ = fetch(api, [QLORA])
    data = results[lookup(QLORA)].data
    assert isinstance(data, Recommendations)
    assert [p.paper_id for p in data.papers] == [f"p{i}" for i in range(S2_RECOMMEND_LIMIT)]


@pytest.mark.parametrize(
    "body",
    [b"<html>busy</html>", b'{"papers": []}', b'{"recommendedPapers": {"a": 1}}', b"[]", b""],
)
def test_a_malformed_answer_ends_the_lookup_error_and_never_raises(
    api: FakeAPI, body: bytes
) -> None:
    api.fault("scholar", "malformed", path_contains=PATH, body=body)
    results, _ = fetch(api, [QLORA, LORA])
    for key in (QLORA, LORA):
        got = results[lookup(key)]
        assert got.status is Status.ERROR
        assert got.data is None
        assert "Semantic Scholar recommendations: malformed answer" in (got.provenance.error or "")


@pytest.mark.parametrize(("kind", "attempts"), [("503", 4), ("500", 4), ("404", 1)])
def test_a_refusing_endpoint_is_retried_by_the_policy_then_ends_error(
    api: FakeAPI, kind: str, attempts: int
) -> None:
    api.add_scholar("ARXIV:2305.14314")
    api.fault("scholar", kind, path_contains=PATH)
    results, ctx = fetch(api, [QLORA])
    got = results[lookup(QLORA)]
    assert got.status is Status.ERROR
    assert ctx.stats.answers[lookup(QLORA)].attempts == attempts == len(asked(api))


def test_a_429_then_an_answer_is_a_success(api: FakeAPI) -> None:
    api.add_scholar("ARXIV:2305.14314")
    api.fault("scholar", "429", times=1, path_contains=PATH, retry_after=1)
    results, ctx = fetch(api, [QLORA])
    assert results[lookup(QLORA)].status is Status.OK
    assert ctx.stats.requests == 2


def test_the_batch_endpoint_is_not_touched_by_a_fault_on_the_recommendations(
    api: FakeAPI,
) -> None:
    """One host, two endpoints: the fake tells them apart by path, as the real one does."""
    api.add_scholar("ARXIV:2305.14314")
    api.fault("scholar", "503", path_contains=PATH)
    settings = Settings(endpoints=Endpoints(scholar=api.base_url), s2_delay=0, retry_wait=False)
    ctx = FetchContext(settings, RetryPolicy(wait=False), SourceStats())
    request = Request(Identifier(Kind.SCHOLAR, QLORA))
    got = asyncio.run(ScholarSource(settings).fetch([request], ctx))
    assert got[request.identifier].status is Status.OK


def test_an_unreachable_endpoint_ends_error_with_a_token_free_message() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    settings = Settings(
        endpoints=Endpoints(scholar=f"http://127.0.0.1:{port}"),
        s2_delay=0,
        retry_wait=False,
        s2_api_key=Secret(KEY),
    )
    ctx = FetchContext(settings, RetryPolicy(attempts=2, wait=False), SourceStats())
    request = Request(Identifier(Kind.RECOMMENDED, QLORA))
    got = asyncio.run(RecommendSource(settings).fetch([request], ctx))[request.identifier]
    assert got.status is Status.ERROR
    assert got.provenance.error == (
        "Semantic Scholar recommendations: connection failed (ConnectError)"
    )
    assert KEY not in got.model_dump_json()


def test_the_api_key_goes_in_its_header_only(api: FakeAPI) -> None:
    api.add_scholar("ARXIV:2305.14314")
    results, _ = fetch(api, [QLORA], s2_api_key=Secret(KEY))
    (request,) = asked(api)
    assert request.headers["x-api-key"] == KEY
    assert KEY not in request.path + json.dumps(request.query) + request.body.decode()
    assert KEY not in results[lookup(QLORA)].model_dump_json()


def test_a_lookup_of_papers_it_cannot_look_up_is_skipped_without_a_request(
    api: FakeAPI,
) -> None:
    results, ctx = fetch(api, ["pmlr:v235/guo24g"])
    assert results[lookup("pmlr:v235/guo24g")].status is Status.SKIPPED
    assert asked(api) == []
    assert ctx.stats.requests == 0


def test_semantic_scholar_s_two_endpoints_share_one_pace() -> None:
    """The registry builds both sources with one pacer: the API's rule is per caller."""
    sources = {s.name: s for s in registry(Settings())}
    built = [sources[name]._build() for name in ("scholar", "recommendations")]  # type: ignore[attr-defined]
    pacers = [source.pacer for source in built]
    assert isinstance(pacers[0], Pacer)
    assert pacers[0] is pacers[1]


def test_recommendations_stay_fresh_a_week_in_the_cache() -> None:
    assert DEFAULT_TTLS["recommendations"] == 7 * 24 * 3600


def test_the_fake_answers_the_documented_shape(api: FakeAPI) -> None:
    api.add_scholar("ARXIV:2305.14314")
    reply: Reply = api.route(
        "scholar",
        _request(PATH, {"positivePaperIds": ["ARXIV:2305.14314"]}, fields=FIELDS, limit="5"),
    )
    body = json.loads(reply.body)
    assert list(body) == ["recommendedPapers"]
    assert len(body["recommendedPapers"]) == 5
    for paper in body["recommendedPapers"]:
        assert set(paper) == {"paperId", *FIELDS.split(",")}
    # deterministic: the same positives in any order give the same bytes, others differ
    api.add_scholar("ARXIV:2106.09685")
    two = [
        api.route("scholar", _request(PATH, {"positivePaperIds": ids}, fields=FIELDS)).body
        for ids in (
            ["ARXIV:2305.14314", "ARXIV:2106.09685"],
            ["arxiv:2106.09685", "ARXIV:2305.14314"],
            ["ARXIV:2305.14314"],
        )
    ]
    assert two[0] == two[1] != two[2]
    for bad in ({"positivePaperIds": "x"}, {"negative": []}):
        assert api.route("scholar", _request(PATH, bad, limit="5")).status == 400
    assert api.route("scholar", _request(PATH, {"positivePaperIds": []}, limit="0")).status == 400


def _request(path: str, body: object, **query: str) -> Any:
    from tests.fakeapi.wire import Request as WireRequest

    query_ = {k: [v] for k, v in query.items()}
    return WireRequest("POST", path, query_, {}, json.dumps(body).encode(), "http://fake")
