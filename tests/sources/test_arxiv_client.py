"""The contract of the `arxiv` adapter (`enrich.sources.arxiv_client`) with the installed
`arxiv` package: each way the project bends the library, checked against the loopback API.

An upgrade of `arxiv` that breaks one of these fails here, by name, not in a run. The
version these tests pass with is the lower bound in `pyproject.toml`, the next minor its
upper bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import arxiv
import pytest
import requests
from arxiv import _feed

from enrich.errors import PermanentError, TransientError
from enrich.net import TooLarge
from enrich.sources.arxiv_client import ArxivClient, _well_formed
from enrich.transport import Bounds
from tests.fakeapi import FakeAPI, arxiv_feed, fixtures

WHAT = "arXiv contract"
LIMITS = Bounds(deadline=5.0, max_bytes=1 << 20)


@pytest.fixture
def answered() -> list[float]:
    return []


@pytest.fixture
def client(api: FakeAPI, answered: list[float]) -> Iterator[ArxivClient]:
    made = ArxivClient(api.base_url + "/api/query", 2, 5.0, LIMITS, answered_at(answered))
    yield made
    made.close()


def answered_at(seen: list[float]) -> Callable[[], None]:
    return lambda: seen.append(time.monotonic())


def test_url_is_one_id_list_page_of_the_batch_on_the_endpoint(
    api: FakeAPI, client: ArxivClient
) -> None:
    """`_format_url` and `query_url_format`: ids kept as given, one page of `batch` entries."""
    url = client.url(["2306.07629", "math.AG/0601001"])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == api.base_url + "/api/query"
    assert parse_qs(parts.query, keep_blank_values=True) == {
        "search_query": [""],
        "id_list": ["2306.07629,math.AG/0601001"],
        "start": ["0"],
        "max_results": ["2"],
        "sortBy": ["relevance"],
        "sortOrder": ["descending"],
    }


def test_an_endpoint_with_braces_is_taken_literally(answered: list[float]) -> None:
    made = ArxivClient("http://h/q{x}", 5, 1.0, LIMITS, answered_at(answered))
    try:
        assert made.url(["2306.07629"]).startswith("http://h/q{x}?")
    finally:
        made.close()


def test_one_request_one_page_even_when_the_feed_has_more(
    api: FakeAPI, client: ArxivClient, answered: list[float]
) -> None:
    """`_parse_feed(first_page=True)` does not follow `totalResults` into further pages (as
    `Client.results` would); the feed's header, entries and flags are what the source reads."""
    ids = ["2306.07629", "2402.14905", "2104.12255"]
    for key in ids:
        api.add_paper(key)
    feed, well_formed = client.get(client.url(ids), WHAT)
    assert well_formed
    assert not feed.malformed
    assert int(feed.header.total_results) == 3
    assert [r.get_short_id() for r in feed.results] == ["2306.07629v1", "2402.14905v1"]
    assert api.count("arxiv") == 1
    assert len(answered) == 1


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [("503", TransientError, 503), ("429", TransientError, 429), ("404", PermanentError, 404)],
)
def test_an_error_answer_raises_at_once_with_its_wait(
    api: FakeAPI,
    client: ArxivClient,
    fault: str,
    error: type[Exception],
    status: int,
) -> None:
    """`num_retries=0`: no retry inside the package; the status comes out of
    `arxiv.HTTPError`, the headers (`Retry-After`) from the answer the session kept."""
    api.fault("arxiv", fault, retry_after=7)
    with pytest.raises(error) as raised:
        client.get(client.url(["2306.07629"]), WHAT)
    assert raised.value.status == status  # type: ignore[attr-defined]
    if error is TransientError:
        assert raised.value.retry_after == 7  # type: ignore[attr-defined]
    assert api.count("arxiv") == 1


def test_no_spacing_of_its_own(
    api: FakeAPI, client: ArxivClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`delay_seconds=0`: the package never sleeps between requests (its default is 3 s);
    the project's pacer spaces them."""
    slept: list[float] = []
    monkeypatch.setattr(arxiv.time, "sleep", slept.append)
    api.add_paper("2306.07629")
    for _ in range(3):
        client.get(client.url(["2306.07629"]), WHAT)
    assert slept == []
    assert api.count("arxiv") == 3


def test_the_session_sends_a_timeout(api: FakeAPI, answered: list[float]) -> None:
    """The package sends none: the session's default bounds a silent server."""
    api.fault("arxiv", "timeout", times=1, seconds=3)
    made = ArxivClient(api.base_url + "/api/query", 2, 0.3, LIMITS, answered_at(answered))
    started = time.monotonic()
    try:
        with pytest.raises(requests.exceptions.Timeout):
            made.get(made.url(["2306.07629"]), WHAT)
    finally:
        made.close()
    assert time.monotonic() - started < 2.5
    assert answered == []  # no answer came in


def test_the_session_sends_through_the_projects_transport(
    api: FakeAPI, answered: list[float]
) -> None:
    """An answer larger than the bounds is refused while it is read."""
    for n in range(1, 41):
        api.add_paper(f"2401.{n:05d}", title="T" * 200)
    made = ArxivClient(api.base_url + "/api/query", 40, 5.0, Bounds(5.0, 4_000), answered_at([]))
    ids = [f"2401.{n:05d}" for n in range(1, 41)]
    try:
        with pytest.raises(TooLarge):
            made.get(made.url(ids), WHAT)
    finally:
        made.close()


def test_a_malformed_body_is_told_apart(api: FakeAPI, client: ArxivClient) -> None:
    api.add_paper("2306.07629")
    api.fault("arxiv", "malformed", times=1)
    _, well_formed = client.get(client.url(["2306.07629"]), WHAT)
    assert not well_formed


def test_a_cut_document_parses_but_is_not_well_formed() -> None:
    """Why the well-formedness gate: the package's parser recovers a cut document into a
    shorter feed, which would turn the ids after the cut into `not_found`."""
    paper = fixtures.default_paper("2301.00001")
    paper.authors = [fixtures.Author(name) for name in ("Ada One", "Bo Two", "Chen Three")]
    query = {"search_query": "", "id_list": "2301.00001"}
    body = arxiv_feed.feed([(paper, 1)], total=1, query=query, start=0, per_page=100).encode()
    cut = body[: body.index(b"<name>Bo Two")]

    recovered = _feed.parse(cut)
    assert not recovered.malformed
    names = [a.name for a in recovered.results[0].authors if a.name]
    assert names == ["Ada One"]  # two authors silently lost
    assert not _well_formed(cut)
    assert _well_formed(body)
