"""The one rule of what a fetched item ends as: a failure never overwrites a known value
(`lastknown.settle`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enrich.lastknown import settle
from enrich.metadata import ScholarMeta
from enrich.models import Identifier, Kind, Provenance, Result, Status
from enrich.sources import Request

REF = "scholar:arxiv:2306.07629"
OLD = datetime(2023, 6, 1, tzinfo=UTC)
NEW = datetime(2024, 5, 1, tzinfo=UTC)


def got(status: Status, title: str | None = None, error: str | None = None) -> Result:
    data = ScholarMeta(paper_id=title) if title is not None else None
    when = NEW if status is not Status.ERROR else None
    provenance = Provenance(source="arxiv", status=status, fetched_at=when, error=error)
    return Result(ref=REF, provenance=provenance, data=data)


def last(status: Status = Status.OK, title: str | None = "old") -> Result:
    provenance = Provenance(source="arxiv", status=status, fetched_at=OLD, etag='"e"')
    return Result(
        ref=REF, provenance=provenance, data=ScholarMeta(paper_id=title) if title else None
    )


def request(previous: Result | None) -> Request:
    return Request(Identifier(Kind.SCHOLAR, "arxiv:2306.07629"), previous)


@pytest.mark.parametrize(
    "answer", [None, got(Status.ERROR, error="HTTP 503"), got(Status.ERROR, error=None)]
)
def test_a_failure_keeps_the_last_known_value_marked_stale(answer: Result | None) -> None:
    ended = settle(request(last()), "arxiv", answer)
    assert ended.status is Status.STALE
    assert ended.data == ScholarMeta(paper_id="old")
    assert ended.provenance.fetched_at == OLD  # its old timestamp: nothing new was learnt
    assert ended.provenance.etag == '"e"'
    assert ended.provenance.error  # says why it is stale


@pytest.mark.parametrize("previous", [None, last(Status.NOT_FOUND, title=None)])
def test_a_failure_without_a_known_value_is_the_failure(previous: Result | None) -> None:
    ended = settle(request(previous), "arxiv", got(Status.ERROR, error="HTTP 503"))
    assert (ended.status, ended.data, ended.provenance.error) == (Status.ERROR, None, "HTTP 503")
    missing = settle(request(previous), "arxiv", None)
    assert missing.status is Status.ERROR
    assert missing.provenance.error == "the source returned no result for it"


@pytest.mark.parametrize("status", [Status.OK, Status.NOT_FOUND, Status.MOVED])
@pytest.mark.parametrize("previous", [None, last()])
def test_a_fact_replaces_the_known_value(status: Status, previous: Result | None) -> None:
    answer = got(status, title="new" if status is Status.OK else None)
    assert settle(request(previous), "arxiv", answer) is answer


@pytest.mark.parametrize("previous", [last(), last(Status.NOT_FOUND, title=None)])
def test_a_skip_keeps_the_last_known_result_as_it_was(previous: Result) -> None:
    assert settle(request(previous), "arxiv", got(Status.SKIPPED, error="later")) is previous


def test_a_skip_without_a_known_result_is_skipped() -> None:
    ended = settle(request(None), "github", got(Status.SKIPPED, error="rate limit spent"))
    assert (ended.status, ended.provenance.error) == (Status.SKIPPED, "rate limit spent")
    assert ended.provenance.source == "github"
