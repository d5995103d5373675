"""Landing pages: title, authors, venue and date of papers on PMLR and OpenReview.

What it serves. `pmlr:<volume>/<slug>` (proceedings.mlr.press/v235/guo24g.html, key
`v235/guo24g`) and `openreview:<forum id>` (openreview.net/forum?id=<id>): papers that may
not be on arXiv and that Semantic Scholar cannot look up (its API has no lookup by PMLR or
OpenReview id). Their landing pages carry the Highwire Press meta tags Google Scholar reads
(`<meta name="citation_title" content="...">`), and those are what is kept, as a `PageMeta`.

How it asks. `GET {ENRICH_PMLR_URL}/<key>.html` and `GET {ENRICH_OPENREVIEW_URL}/forum?id=<id>`
with httpx2's async client (the project's one HTTP stack), one request per page; to each
site one request at a time, each starting at least `settings.landing_delay` seconds (0.5 s)
after the previous answer from that site was read (`rate.Pacer`, the project's one way of
spacing requests), across calls of the source. Every attempt goes through the shared retry
policy (`ctx.policy.call`): 429 and 5xx answers (`enrich.net.http_error`, so `Retry-After`
sets the wait), timeouts, resets and cut bodies are retried. Redirects are followed on the
same site, at most 3 (a blind OpenReview submission sends its original's forum to its own);
a redirect to another site is refused. A key that is not a PMLR volume/slug or an
OpenReview id is not asked.

How answers are read. 404 (and 410) is `not_found`. A page larger than the source's answer
bytes (`config.ANSWER_BYTES`, `enrich.transport`) is malformed and not read further; a page
is decoded by its charset (else UTF-8, bad bytes replaced), and parsed with the standard
library's `html.parser` in a worker thread: every `<meta name="citation_*" content="...">` of
the document, head or body (script and style contents are text to the parser, comments are
skipped, so a tag written inside either is not read). Parsing stops at `<body>` once the
head has given a title. A page without a `citation_title` is a malformed answer (a login or
error page, a cut or broken body): the item ends `error` and keeps its last known value.
Values are untrusted, every one cleaned and capped (`text.one_line`):

* title: the first `citation_title`;
* authors: every `citation_author`, in order (`Family, Given` becomes `Given Family`), else
  an older form, one `citation_authors` of names separated by `;`;
* date: the first of `citation_publication_date`, `citation_date`, `citation_online_date`
  that reads as `YYYY`, `YYYY/MM` or `YYYY/MM/DD` (`-` works too): its year, and the day when
  it gives a valid one;
* venue: `citation_conference_title`, else `citation_journal_title`;
* pdf_url: `citation_pdf_url`, resolved against the page, kept when it is http(s);
* url: the public landing page of the key (`https://proceedings.mlr.press/...`,
  `https://openreview.net/forum?id=...`), not the endpoint asked: a mirror or a test server
  leaves no trace in the dataset.

Assumptions, from the sites' published templates and not checked against the live sites
(no network here): a PMLR paper page (mlresearch's Jekyll template) has `citation_title`, a
`citation_author` per author, `citation_publication_date` (`%Y/%m/%d`: the volume's
publication date, e.g. 2024/07/08 for ICML 2024's volume 235), `citation_conference_title`,
`citation_volume`, `citation_firstpage`/`lastpage` and `citation_pdf_url`. An OpenReview
forum page (openreview-web's `app/forum/page.js`) has `citation_title`, `citation_author`,
`citation_online_date` (`YYYY/MM/DD`: when the paper went public, which can be the year
before its venue's), `citation_pdf_url`, and `citation_conference_title` or
`citation_journal_title` from the paper's BibTeX; older deployments sent `citation_authors`
(`A; B`) and `citation_publication_date`. Its metadata may be streamed into the body, hence
the whole document is read. A forum that does not exist is taken to answer 404; one that is
not public redirects to the login page, which has no title tag: `error`, as any page
without one.
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import Mapping, Sequence
from datetime import date
from html.parser import HTMLParser
from typing import Final
from urllib.parse import quote, urljoin

import httpx2

from enrich import __version__
from enrich.config import Endpoints, Settings
from enrich.errors import FetchError, PermanentError, TimedOut, Unreachable
from enrich.metadata import Author, PageMeta
from enrich.models import LANDING_KINDS, Identifier, Kind, Result, Status
from enrich.net import http_error
from enrich.rate import Pacer
from enrich.sources import FetchContext, Request, result
from enrich.text import one_line, plausible_year, web_url
from enrich.transport import AsyncTransport, bounds

NAME: Final = "landing"
USER_AGENT: Final = f"enrich/{__version__} (httpx2)"
MAX_REDIRECTS: Final = 3
_MAX_TITLE: Final = 1_000
_MAX_NAME: Final = 300
_MAX_AUTHORS: Final = 1_000
_MAX_VALUES: Final = 2_000  # values kept per tag name
_MAX_FIELD: Final = 500
_PMLR_KEY: Final = re.compile(r"v\d{1,4}/[A-Za-z0-9_-]{1,200}")
_OPENREVIEW_KEY: Final = re.compile(r"[A-Za-z0-9_-]{1,100}")
_DATE: Final = re.compile(r"(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?(?!\d)")
_DATE_TAGS: Final = ("citation_publication_date", "citation_date", "citation_online_date")
_VENUE_TAGS: Final = ("citation_conference_title", "citation_journal_title")
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_GONE: Final = frozenset({404, 410})
SITES: Final = {Kind.PMLR: "PMLR page", Kind.OPENREVIEW: "OpenReview forum"}


class _Missing(PermanentError):
    """The site says the page does not exist."""


class LandingSource:
    """Papers' landing pages on PMLR and OpenReview, a page per paper."""

    name = NAME
    kinds = LANDING_KINDS

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One pacer per site, kept across calls: the pace holds across them.
        self._pacers = {kind: Pacer(settings.landing_delay) for kind in self.kinds}

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> dict[Identifier, Result]:
        """One result per request, keyed by its `Identifier`. Never raises for an item."""
        async with httpx2.AsyncClient(
            headers={"User-Agent": USER_AGENT},
            timeout=self.settings.timeout,
            follow_redirects=False,
            transport=AsyncTransport(bounds(self.settings, NAME)),
        ) as client:
            done = await asyncio.gather(*(self._item(client, r, ctx) for r in requests))
        return {r.identifier: found for r, found in zip(requests, done, strict=True)}

    async def _item(
        self,
        client: httpx2.AsyncClient,
        request: Request,
        ctx: FetchContext,
    ) -> Result:
        ident = request.identifier
        attempts = 0

        async def attempt() -> PageMeta:
            nonlocal attempts
            attempts += 1
            return await self._read(client, ident, ctx)

        try:
            page_url(ident, self._base(ident.kind))  # a key that is not one is not asked
            meta, _ = await ctx.policy.call(attempt)
        except _Missing as exc:
            found = result(
                request, ctx, NAME, Status.NOT_FOUND, http_status=exc.status, attempts=attempts
            )
        except (FetchError, httpx2.HTTPError, OSError) as exc:
            status = exc.status if isinstance(exc, FetchError) else None
            error = _describe(exc, ident)
            found = result(
                request,
                ctx,
                NAME,
                Status.ERROR,
                http_status=status,
                attempts=attempts,
                error=error,
            )
        except Exception as exc:  # noqa: BLE001 - an item never raises: it ends as its status
            error = f"{_describe(exc, ident)}: unexpected"
            found = result(request, ctx, NAME, Status.ERROR, attempts=attempts, error=error)
        else:
            found = result(
                request, ctx, NAME, Status.OK, data=meta, http_status=200, attempts=attempts
            )
        ctx.advance(1)
        return found

    def _base(self, kind: Kind) -> str:
        endpoints = self.settings.endpoints
        return endpoints.pmlr if kind is Kind.PMLR else endpoints.openreview

    async def _read(
        self, client: httpx2.AsyncClient, ident: Identifier, ctx: FetchContext
    ) -> PageMeta:
        """One attempt: the page (following same-site redirects), its meta tags read. Each
        request in the site's turn, admitted then (the breaker may have opened meanwhile)."""
        what = f"{SITES[ident.kind]} {ident.key}"
        url = httpx2.URL(page_url(ident, self._base(ident.kind)))
        site = (url.scheme, url.host, url.port)
        for _ in range(MAX_REDIRECTS + 1):
            async with self._pacers[ident.kind]:
                ctx.policy.admit()
                ctx.stats.count_request()
                status, body, charset, target = await _get(client, url, what)
            if target is None:
                text = _decode(body, charset)
                public = page_url(ident, _public(ident.kind))
                try:
                    return await asyncio.to_thread(page_meta, text, public)
                except ValueError as exc:  # pydantic's ValidationError is one too
                    why = one_line(str(exc), 60) if type(exc) is ValueError else "invalid values"
                    raise PermanentError(f"{what}: malformed answer ({why})", status=200) from None
            if (target.scheme, target.host, target.port) != site:
                raise PermanentError(f"{what}: redirected off the site", status=status)
            url = target
        raise PermanentError(f"{what}: more than {MAX_REDIRECTS} redirects", status=status)


def _public(kind: Kind) -> str:
    return Endpoints.pmlr if kind is Kind.PMLR else Endpoints.openreview


def page_url(ident: Identifier, base: str) -> str:
    """The landing page of a PMLR or OpenReview key under `base`; a key that is not one is a
    `PermanentError`, not a request."""
    if ident.kind is Kind.PMLR and _PMLR_KEY.fullmatch(ident.key):
        return f"{base}/{ident.key}.html"
    if ident.kind is Kind.OPENREVIEW and _OPENREVIEW_KEY.fullmatch(ident.key):
        return f"{base}/forum?id={quote(ident.key, safe='')}"
    raise PermanentError(f"not a key of {ident.kind.value} pages: {one_line(ident.key, 100)!r}")


async def _get(
    client: httpx2.AsyncClient, url: httpx2.URL, what: str
) -> tuple[int, bytes, str | None, httpx2.URL | None]:
    """(200, body, charset, None) of a page, or (status, b"", None, where a redirect
    points); any other answer as the `FetchError` the policy judges."""
    try:
        async with client.stream("GET", url) as response:
            status = response.status_code
            location = response.headers.get("location")
            if status in _REDIRECTS and location:
                return status, b"", None, response.url.join(location)
            if status in _GONE:
                raise _Missing(f"{what}: HTTP {status}", status=status)
            if status != 200:
                raise http_error(status, response.headers, what)
            body = await response.aread()  # at most the source's bytes (`transport.Bounds`)
            return status, body, response.charset_encoding, None
    except httpx2.ConnectError as exc:
        raise Unreachable(f"{what}: connection failed ({type(exc).__name__})") from None
    except httpx2.TimeoutException:
        raise TimedOut(f"{what}: no answer in time") from None


def _decode(body: bytes, charset: str | None) -> str:
    """`body` as text in the charset the server named, when that is a text encoding (an
    untrusted header can name `base64` or `zlib`, bytes-to-bytes codecs), else UTF-8."""
    try:
        info = codecs.lookup(charset or "utf-8")
    except LookupError:
        info = codecs.lookup("utf-8")
    if not getattr(info, "_is_text_encoding", True):
        info = codecs.lookup("utf-8")
    return body.decode(info.name, errors="replace")


# ------------------------------------------------------------------------------ reading


class _Enough(Exception):
    """The head gave a title and the body starts: stop parsing."""


class _CitationTags(HTMLParser):
    """Every `<meta name="citation_*" content=...>` of a document, by lower-case name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and self.tags.get("citation_title"):
            raise _Enough
        if tag != "meta":
            return
        named = dict(attrs)
        name = (named.get("name") or "").strip().lower()
        content = named.get("content")
        if name.startswith("citation_") and content is not None:
            values = self.tags.setdefault(name, [])
            if len(values) < _MAX_VALUES:
                values.append(content)


def citation_tags(text: str) -> dict[str, list[str]]:
    """The `citation_*` meta tags of an HTML document, values in document order."""
    parser = _CitationTags()
    try:
        parser.feed(text)
        parser.close()
    except _Enough:
        pass
    return parser.tags


def page_meta(text: str, url: str) -> PageMeta:
    """A landing page's `citation_*` tags as a `PageMeta` for the page at `url`, every value
    cleaned and capped; `ValueError` when the page has no title tag."""
    tags = citation_tags(text)
    title = _first(tags, ("citation_title",), _MAX_TITLE)
    if not title:
        raise ValueError("no citation_title")
    year, day = _when(tags)
    return PageMeta(
        title=title,
        authors=_authors(tags),
        year=year,
        publication_date=day,
        venue=_first(tags, _VENUE_TAGS, _MAX_FIELD) or None,
        pdf_url=_url(_first(tags, ("citation_pdf_url",), _MAX_FIELD), url),
        url=url,
    )


def _first(tags: Mapping[str, list[str]], names: Sequence[str], limit: int) -> str:
    """The first non-blank value of the first of `names` that has one, cleaned."""
    for name in names:
        for value in tags.get(name, ()):
            if text := one_line(value, limit):
                return text
    return ""


def _authors(tags: Mapping[str, list[str]]) -> list[Author]:
    names = tags.get("citation_author") or [
        part for value in tags.get("citation_authors", [])[:1] for part in value.split(";")
    ]
    cleaned = (_person(name) for name in names[:_MAX_AUTHORS])
    return [Author(name=name) for name in cleaned if name]


def _person(raw: str) -> str:
    """`Guo, Jinyang` -> `Jinyang Guo`; a name with no comma, or several, as it is."""
    name = one_line(raw, _MAX_NAME)
    family, comma, given = name.partition(",")
    if comma and "," not in given and family.strip() and given.strip():
        return one_line(f"{given.strip()} {family.strip()}", _MAX_NAME)
    return name


def _when(tags: Mapping[str, list[str]]) -> tuple[int | None, date | None]:
    """(year, day) of the first date tag that reads as a date; the day only when whole."""
    for name in _DATE_TAGS:
        for value in tags.get(name, [])[:1]:
            found = _DATE.match(value.strip())
            if found is None:
                continue
            year, month, day = found[1], found[2], found[3]
            if plausible_year(int(year)) is None:
                continue
            try:
                whole = date(int(year), int(month), int(day)) if month and day else None
            except ValueError:
                whole = None
            return int(year), whole
    return None, None


def _url(value: str, page: str) -> str | None:
    return web_url(urljoin(page, value)) if value else None


def _describe(exc: BaseException, ident: Identifier) -> str:
    """A short message for a failed page (`_get` turns timeouts and refused connections
    into `FetchError`s already)."""
    what = f"{SITES.get(ident.kind, ident.kind.value)} {one_line(ident.key, 100)}"
    if isinstance(exc, FetchError):
        return str(exc)
    return f"{what}: {type(exc).__name__}"
