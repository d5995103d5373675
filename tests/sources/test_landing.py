"""The landing-page source against the loopback FakeAPI: httpx2, real HTTP, real HTML."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest

from enrich.config import Endpoints, Settings
from enrich.errors import PermanentError
from enrich.metadata import PageMeta
from enrich.models import Identifier, Kind, Result, Status
from enrich.net import RetryPolicy
from enrich.rate import Pacer
from enrich.sources import FetchContext, Request
from enrich.sources.landing import MAX_REDIRECTS, LandingSource, page_meta, page_url
from tests.builders import context, ident
from tests.fakeapi import FakeAPI, PeakFakeAPI
from tests.fakeapi.landing import KNOWN
from tests.test_net import Clock

JSQ = "v235/guo24g"
FORUM = "tEYskw1VY2"


def fetch(
    api: FakeAPI,
    items: Sequence[tuple[Kind, str]],
    *,
    source: LandingSource | None = None,
    **overrides: Any,
) -> tuple[dict[Identifier, Result], FetchContext, list[int]]:
    base = api.base_url
    settings = dataclasses.replace(
        Settings(
            endpoints=Endpoints(pmlr=base, openreview=base),
            landing_delay=0,
            retry_wait=False,
            timeout=5.0,
        ),
        **overrides,
    )
    ctx, advanced = context(settings, RetryPolicy(wait=False))
    requests = [Request(Identifier(kind=kind, key=key)) for kind, key in items]
    results = asyncio.run((source or LandingSource(settings)).fetch(requests, ctx))
    return results, ctx, advanced


def one(api: FakeAPI, kind: Kind, key: str, **overrides: Any) -> Result:
    results, _, advanced = fetch(api, [(kind, key)], **overrides)
    assert list(results) == [Identifier(kind, key)]
    assert sum(advanced) == 1
    return results[Identifier(kind, key)]


def meta(found: Result) -> PageMeta:
    assert isinstance(found.data, PageMeta), found.provenance
    return found.data


def pages(api: FakeAPI) -> list[str]:
    return [r.path for r in api.requests if r.api == "landing"]


# ------------------------------------------------------------------------------ reading


def test_landing_urls_by_site() -> None:
    pmlr, forum = Identifier(kind=Kind.PMLR, key=JSQ), Identifier(kind=Kind.OPENREVIEW, key=FORUM)
    assert page_url(pmlr, "https://proceedings.mlr.press") == (
        "https://proceedings.mlr.press/v235/guo24g.html"
    )
    assert page_url(forum, "https://openreview.net") == (
        "https://openreview.net/forum?id=tEYskw1VY2"
    )
    for kind, key in [(Kind.PMLR, "v235/../../etc"), (Kind.OPENREVIEW, "a&b=c"), (Kind.DOI, "x")]:
        with pytest.raises(PermanentError):
            page_url(Identifier(kind=kind, key=key), "https://example.org")


def test_a_pmlr_page_gives_title_authors_venue_and_date(api: FakeAPI) -> None:
    api.add_landing_page("pmlr", JSQ, **KNOWN[("pmlr", JSQ)])
    results, ctx, _ = fetch(api, [(Kind.PMLR, JSQ)])
    got = results[ident(f"pmlr:{JSQ}")]
    assert got.status is Status.OK
    assert (got.provenance.source, ctx.stats.answers[ident(got.ref)].http_status) == (
        "landing",
        200,
    )
    data = meta(got)
    assert data.title == (
        "Compressing Large Language Models by Joint Sparsification and Quantization"
    )
    assert [a.name for a in data.authors][:2] == ["Jinyang Guo", "Jianyu Wu"]
    assert len(data.authors) == 9
    assert (data.year, data.publication_date) == (2024, date(2024, 7, 8))
    assert data.venue == "Proceedings of the 41st International Conference on Machine Learning"
    assert data.pdf_url == (
        "https://raw.githubusercontent.com/mlresearch/v235/main/assets/guo24g/guo24g.pdf"
    )
    assert data.url == "https://proceedings.mlr.press/v235/guo24g.html"  # not the fake's
    [request] = [r for r in api.requests if r.api == "landing"]
    assert (request.method, request.path) == ("GET", "/v235/guo24g.html")
    assert request.headers["user-agent"].startswith("enrich/")
    assert ctx.stats.requests == 1


def test_an_openreview_forum_gives_its_online_date_and_journal(api: FakeAPI) -> None:
    api.add_landing_page(
        "openreview",
        FORUM,
        title="A Forum Paper",
        authors=["Ada Lovelace", "Alan Turing"],
        date="2023/10/13",
        venue="Transactions on Machine Learning Research",
        venue_tag="citation_journal_title",
    )
    data = meta(one(api, Kind.OPENREVIEW, FORUM))
    assert (data.title, data.year, data.publication_date) == (
        "A Forum Paper",
        2023,
        date(2023, 10, 13),
    )
    assert [a.name for a in data.authors] == ["Ada Lovelace", "Alan Turing"]
    assert data.venue == "Transactions on Machine Learning Research"
    assert data.pdf_url == f"https://openreview.net/pdf?id={FORUM}"
    assert data.url == f"https://openreview.net/forum?id={FORUM}"
    [request] = [r for r in api.requests if r.api == "landing"]
    assert (request.path, request.query) == ("/forum", {"id": FORUM})


def test_unknown_pages_are_not_found_without_a_retry(api: FakeAPI) -> None:
    results, ctx, advanced = fetch(api, [(Kind.PMLR, "v1/nope"), (Kind.OPENREVIEW, "nope")])
    assert {r.status for r in results.values()} == {Status.NOT_FOUND}
    assert {ctx.stats.answers[ident(r.ref)].http_status for r in results.values()} == {404}
    assert sorted(pages(api)) == ["/forum", "/v1/nope.html"]
    assert sum(advanced) == 2


def test_a_key_that_is_not_one_is_not_asked(api: FakeAPI) -> None:
    got = one(api, Kind.OPENREVIEW, "x&id=y")
    assert got.status is Status.ERROR
    assert "not a key of openreview pages: 'x&id=y'" in (got.provenance.error or "")
    assert pages(api) == []


def test_a_page_without_a_title_tag_is_a_malformed_answer(api: FakeAPI) -> None:
    # The forum page's script writes a title tag: text to a parser, never read.
    api.add_landing_page("openreview", FORUM, title=None)
    got = one(api, Kind.OPENREVIEW, FORUM)
    assert got.status is Status.ERROR
    assert "malformed answer (no citation_title)" in (got.provenance.error or "")
    assert len(pages(api)) == 1  # not worth retrying


def test_hostile_values_are_cleaned_and_capped(api: FakeAPI) -> None:
    api.add_landing_page(
        "pmlr",
        JSQ,
        title="A |\n<script>alert(1)</script>\u202e title " + "x" * 5000,
        authors=["Eve\x00 Evil", "", "Guo, Jinyang", "  "],
        venue="Venue\nwith | newline",
        pdf_url="javascript:alert(1)",
        date="2024-07-08T10:00:00Z",
        extra_head='<meta name="citation_author" content="' + "y" * 100_000 + '">',
    )
    data = meta(one(api, Kind.PMLR, JSQ))
    assert data.title.startswith("A | <script>alert(1)</script> title xxx")  # text, kept as such
    assert "\n" not in data.title
    assert "\u202e" not in data.title
    assert len(data.title) == 1000
    assert data.title.endswith("…")
    names = [a.name for a in data.authors]
    assert names[:2] == ["Eve Evil", "Jinyang Guo"]
    assert len(names) == 3
    assert len(names[2]) == 300
    assert data.venue == "Venue with | newline"
    assert data.pdf_url is None
    assert (data.year, data.publication_date) == (2024, date(2024, 7, 8))


@pytest.mark.parametrize(
    ("value", "year", "day"),
    [
        ("2024/07/08", 2024, date(2024, 7, 8)),
        ("2024-07-08", 2024, date(2024, 7, 8)),
        ("2024/7/8", 2024, date(2024, 7, 8)),
        ("2024", 2024, None),
        ("2024/07", 2024, None),
        ("2024/13/40", 2024, None),
        ("20240708", None, None),
        ("yesterday", None, None),
        ("", None, None),
    ],
)
def test_dates_as_pages_write_them(value: str, year: int | None, day: date | None) -> None:
    text = (
        '<meta name="citation_title" content="T">'
        f'<meta name="citation_publication_date" content="{value}">'
    )
    data = page_meta(text, "https://example.org/p")
    assert (data.year, data.publication_date) == (year, day)


def test_the_first_date_tag_that_reads_as_a_date_wins() -> None:
    text = (
        '<meta name="citation_title" content="T">'
        '<meta name="citation_online_date" content="2023/10/13">'
        '<meta name="citation_publication_date" content="n/a">'
        '<meta name="citation_date" content="2024">'
    )
    assert page_meta(text, "https://example.org/p").year == 2024


def test_only_real_meta_tags_count() -> None:
    text = (
        "<html><head><!-- <meta name='citation_title' content='a comment'> -->"
        '<script>document.write(\'<meta name="citation_author" content="a script">\')</script>'
        '<META NAME="Citation_Title" CONTENT="The &amp; Title">'
        '<meta name="citation_authors" content="Ada Lovelace; Turing, Alan;">'
        '<meta name="citation_pdf_url" content="/pdf?id=abc">'
        '<meta property="citation_journal_title" content="not a name attribute">'
        "</head><body><meta name='citation_title' content='in the body, after a title'>"
    )
    data = page_meta(text, "https://openreview.net/forum?id=abc")
    assert data.title == "The & Title"
    assert [a.name for a in data.authors] == ["Ada Lovelace", "Alan Turing"]
    assert data.pdf_url == "https://openreview.net/pdf?id=abc"  # resolved against the page
    assert data.venue is None


def test_tags_in_the_body_are_read_when_the_head_has_none() -> None:
    text = (
        "<html><head><title>x</title></head><body>"
        '<meta name="citation_title" content="Streamed"><meta name="citation_author" content="A B">'
    )
    data = page_meta(text, "https://openreview.net/forum?id=abc")
    assert (data.title, [a.name for a in data.authors]) == ("Streamed", ["A B"])


@pytest.mark.parametrize("filler", [162_000, 1_000_000])  # 2.1 MB and 13 MB: over the cap
def test_a_page_over_the_cap_is_malformed_and_not_retried(api: FakeAPI, filler: int) -> None:
    api.add_landing_page("pmlr", JSQ, extra_body="<p>filler</p>" * filler)
    results, ctx, _ = fetch(api, [(Kind.PMLR, JSQ)])
    found = results[Identifier(Kind.PMLR, JSQ)]
    assert found.status is Status.ERROR
    assert ctx.stats.answers[ident(found.ref)].attempts == 1
    assert len(pages(api)) == 1
    assert "larger than 2,097,152 bytes" in (found.provenance.error or "")


def test_a_page_under_the_cap_is_read_whole(api: FakeAPI) -> None:
    api.add_landing_page("pmlr", JSQ, extra_body="<p>filler</p>" * 150_000)  # 1.95 MB
    data = meta(one(api, Kind.PMLR, JSQ))
    assert data.title == "Paper guo24g"


# ------------------------------------------------------------------------ redirects


def test_a_redirect_on_the_site_is_followed(api: FakeAPI) -> None:
    api.add_landing_page("openreview", "blind1", title="Blind")
    api.landing.redirects["openreview", "orig1"] = "/forum?id=blind1"
    got = one(api, Kind.OPENREVIEW, "orig1")
    assert meta(got).title == "Blind"
    assert meta(got).url == "https://openreview.net/forum?id=orig1"  # the key's page
    assert [r.query for r in api.requests] == [{"id": "orig1"}, {"id": "blind1"}]


def test_a_redirect_off_the_site_is_refused(api: FakeAPI) -> None:
    api.landing.redirects["openreview", "away"] = "http://evil.example/forum?id=x"
    got = one(api, Kind.OPENREVIEW, "away")
    assert got.status is Status.ERROR
    assert "redirected off the site" in (got.provenance.error or "")
    assert len(api.requests) == 1


def test_a_redirect_loop_ends(api: FakeAPI) -> None:
    api.landing.redirects["openreview", "loop"] = "/forum?id=loop"
    got = one(api, Kind.OPENREVIEW, "loop")
    assert got.status is Status.ERROR
    assert f"more than {MAX_REDIRECTS} redirects" in (got.provenance.error or "")
    assert len(api.requests) == MAX_REDIRECTS + 1


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("kind", ["503", "reset", "truncated", "timeout"])
def test_a_transient_failure_is_retried(api: FakeAPI, kind: str) -> None:
    api.add_landing_page("pmlr", JSQ)
    api.fault("landing", kind, times=1, seconds=2)
    results, ctx, _ = fetch(api, [(Kind.PMLR, JSQ)], timeout=0.5)
    got = results[ident(f"pmlr:{JSQ}")]
    assert got.status is Status.OK
    assert ctx.stats.answers[ident(got.ref)].attempts == 2
    assert len(pages(api)) == 2


def test_a_429_is_retried_then_answered(api: FakeAPI) -> None:
    api.add_landing_page("pmlr", JSQ)
    api.fault("landing", "429", times=1, retry_after=1)
    results, ctx, _ = fetch(api, [(Kind.PMLR, JSQ)])
    got = results[ident(f"pmlr:{JSQ}")]
    assert (got.status, ctx.stats.answers[ident(got.ref)].attempts) == (Status.OK, 2)


def test_a_failure_that_lasts_ends_in_error(api: FakeAPI) -> None:
    api.add_landing_page("pmlr", JSQ)
    api.fault("landing", "503")
    results, ctx, _ = fetch(api, [(Kind.PMLR, JSQ)])
    got = results[ident(f"pmlr:{JSQ}")]
    assert got.status is Status.ERROR
    assert ctx.stats.answers[ident(got.ref)].http_status == 503
    assert got.provenance.error == f"PMLR page {JSQ}: HTTP 503"
    assert len(pages(api)) == 4  # the policy's attempts


@pytest.mark.parametrize("kind", ["malformed", "empty"])
def test_an_unusable_page_is_not_retried(api: FakeAPI, kind: str) -> None:
    api.add_landing_page("pmlr", JSQ)
    api.fault("landing", kind)
    got = one(api, Kind.PMLR, JSQ)
    assert got.status is Status.ERROR
    assert "malformed answer" in (got.provenance.error or "")
    assert len(pages(api)) == 1


def test_one_failing_page_fails_alone(api: FakeAPI) -> None:
    api.add_landing_page("pmlr", JSQ)
    api.add_landing_page("openreview", FORUM)
    api.fault("landing", "500", path_contains="guo24g")
    results, _, _ = fetch(api, [(Kind.PMLR, JSQ), (Kind.OPENREVIEW, FORUM)])
    assert results[ident(f"pmlr:{JSQ}")].status is Status.ERROR
    assert results[ident(f"openreview:{FORUM}")].status is Status.OK


# ------------------------------------------------------------------------------ limits


def test_one_page_at_a_time_from_each_site() -> None:
    with PeakFakeAPI(latency=0.2) as api:
        keys = [f"v1/p{i}" for i in range(3)]  # two at once on a site would show as 3 or 4
        forums = [f"forum{i}" for i in range(3)]
        for key in keys:
            api.add_landing_page("pmlr", key)
        for forum in forums:
            api.add_landing_page("openreview", forum)
        items = [(Kind.PMLR, k) for k in keys] + [(Kind.OPENREVIEW, f) for f in forums]
        results, _, _ = fetch(api, items)
        assert all(r.status is Status.OK for r in results.values())
        assert api.peak == 2  # the two sites at once, each one page at a time


@pytest.mark.parametrize("reading", [0.0, 0.3])
def test_requests_to_a_site_are_spaced_from_the_last_answer_across_calls(
    api: FakeAPI, reading: float
) -> None:
    """The pace is the source's own `rate.Pacer` per site (an injected clock here): the next
    request starts `landing_delay` after the previous answer was read, however long the
    answer took, and in the next call of the source too."""
    for key in ("v1/a", "v1/b"):
        api.add_landing_page("pmlr", key)
    settings = Settings(endpoints=Endpoints(pmlr=api.base_url), landing_delay=0.4)
    source = LandingSource(settings)
    clock = Clock()
    source._pacers[Kind.PMLR] = Pacer(0.4, clock=clock, sleep=clock.sleep, asleep=clock.asleep)
    api.set_latency(0.0)
    fetch(api, [(Kind.PMLR, "v1/a")], source=source)
    clock.advance(reading)  # time passes between the calls: it counts toward the pause
    fetch(api, [(Kind.PMLR, "v1/b")], source=source)
    assert [seconds for seconds, _ in clock.waits] == [pytest.approx(0.4 - reading)]
    assert len([r for r in api.requests if r.api == "landing"]) == 2


@pytest.mark.parametrize("charset", ["base64", "zlib", "rot13", "no-such-codec"])
def test_a_page_naming_a_codec_that_is_not_a_text_encoding_is_read_as_utf8(
    api: FakeAPI, charset: str
) -> None:
    """An untrusted header must not make the whole source fail: `bytes.decode('base64')`
    raises LookupError, which no handler expected."""
    api.add_landing_page("pmlr", JSQ, charset=charset, **KNOWN[("pmlr", JSQ)])
    api.add_landing_page("pmlr", "v235/other24a")
    results, _, _ = fetch(api, [(Kind.PMLR, JSQ), (Kind.PMLR, "v235/other24a")])
    assert results[ident(f"pmlr:{JSQ}")].status is Status.OK
    assert results[ident("pmlr:v235/other24a")].status is Status.OK


@pytest.mark.parametrize("day", ["0000/01/01", "99999", "3024-07-08"])
def test_an_implausible_date_is_no_date(api: FakeAPI, day: str) -> None:
    api.add_landing_page("pmlr", JSQ, date=day)
    results, _, _ = fetch(api, [(Kind.PMLR, JSQ)])
    data = meta(results[ident(f"pmlr:{JSQ}")])
    assert (data.year, data.publication_date) == (None, None)
