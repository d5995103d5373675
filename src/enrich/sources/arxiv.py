"""arXiv: paper metadata by id, through the `arxiv` package's client and Atom parser.

How it asks. Every id of the call goes out in `id_list` queries of `Settings.arxiv_batch` ids,
one after the other, never two at once, each request (retries included) at least
`settings.arxiv_delay` seconds after the previous answer came in (as the `arxiv` package
spaces its own; reading the answer is not arXiv's time): the arXiv API terms of use, "make
no more than one request every three seconds, and limit requests to a single connection at
a time" (https://info.arxiv.org/help/api/tou.html). The blocking client runs in a worker
thread, which also sleeps the spacing (`rate.Pacer.run`): the event loop keeps serving the
other sources, and however busy they keep it, no request starts late. Ids are asked
without version, so the latest version comes back; the entry id tells which it is. The
arXiv API has no validators (ETag), so there is no revalidation.

How the package is bent to the project's timeouts, bounds, retries and spacing (no spacing
or retries of its own, one page per query, a session of ours) lives in one adapter,
`sources/arxiv_client.py`, whose contract test fails on an upgrade that breaks it.

How answers are read:

* An id left out of a 200 answer is `not_found`: arXiv drops unknown ids silently
  (recordings in `api-samples/arxiv`). But arXiv sometimes answers an empty page under load
  (the package's `UnexpectedEmptyPageError`), so an answer without any entry is confirmed
  by one more request before it is believed; `not_found` is cached as a fact.
* A 400 means arXiv refused an id of the batch. The batch is halved until the refused id
  is isolated (that id `error`, the others fetched), within `_MAX_SPLIT_REQUESTS`.
* The package's parser runs lxml with `recover=True`: a cut or broken document parses as
  a shorter feed, and would turn the missing ids into `not_found`. So the body must also be
  well-formed XML (expat, `ArxivClient.get`). A malformed answer is usually a transport
  accident (a proxy cutting the body) and is retried once; malformed twice, it is the
  server's answer and the batch fails (`PermanentError`). A cut body with a wrong
  `Content-Length` already fails in `requests` (`ChunkedEncodingError`), which the retry
  policy retries.
* Values are untrusted: control characters removed, whitespace collapsed, lengths capped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from requests import RequestException
from requests.exceptions import ChunkedEncodingError, Timeout
from requests.exceptions import ConnectionError as RequestsConnectionError

from enrich.config import Settings
from enrich.errors import FetchError, PermanentError, TransientError
from enrich.metadata import Author, PaperMeta
from enrich.models import Identifier, Kind, Result, Status, utc
from enrich.rate import Pacer
from enrich.sources import BatchCall, FetchContext, Request, by_query, result
from enrich.sources.arxiv_client import ArxivClient
from enrich.text import clean, distinct, web_url
from enrich.transport import bounds
from enrich.urls import ARXIV_ID

WHAT: Final = "arXiv id_list batch"
# Halving a refused batch of 100 to one id costs 2 requests per level (about 14); this
# isolates a few refused ids, and bounds the cost (at 3 s a request) of a server that
# refuses everything.
_MAX_SPLIT_REQUESTS: Final = 40
# Caps on untrusted values, far above genuine ones: arXiv limits abstracts to 1,920
# characters at submission (info.arxiv.org/help/prep); the longest author lists (ATLAS +
# CMS) hold about 5,000 names.
_MAX_TITLE: Final = 1_000
_MAX_ABSTRACT: Final = 10_000
_MAX_AUTHORS: Final = 10_000
_MAX_NAME: Final = 300
_MAX_FIELD: Final = 2_000  # comment, journal ref, affiliation, URL
_MAX_TERM: Final = 300  # category, DOI
# `math.AG/0601001`: an old-style id's subject class, which arXiv's entry ids leave out.
_SUBJECT_CLASS = re.compile(r"\.[A-Z]{2}/")


@dataclass
class _Answer:
    """How one batch query went: the feed, or the failure after the retry policy."""

    attempts: int = 0
    suspect: int = 0  # malformed or empty answers seen
    feed: Any = None
    failure: BaseException | None = None


class ArxivSource:
    """Papers by arXiv id, in spaced `id_list` batches."""

    name = "arxiv"
    kinds = frozenset({Kind.ARXIV})

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One pacer per source, so the spacing holds across calls (one call at a time).
        self.pacer = Pacer(settings.arxiv_delay)

    def query_id(self, key: str) -> str | None:
        """The versionless id to ask for, or None when `key` is not an arXiv id."""
        match = ARXIV_ID.fullmatch(key)
        return match["id"] if match else None

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> dict[Identifier, Result]:
        """One result per request, keyed by its `Identifier`. Never raises for an item."""
        wanted, results = by_query(requests, ctx, self.name, self.query_id, _malformed)
        if wanted:
            run = _Run(self, ctx, wanted, results)
            try:
                ids = list(wanted)
                size = self.settings.arxiv_batch
                for start in range(0, len(ids), size):
                    await run.batch(ids[start : start + size])
            finally:
                run.client.close()
        return results


def _malformed(key: str) -> tuple[Status, str]:
    return Status.ERROR, f"malformed arXiv id {clean(key, 80)!r}: not sent"


@dataclass
class _Run(BatchCall[ArxivSource]):
    """One `fetch` call: its client, its requests by id, and the results so far."""

    split_budget: int = _MAX_SPLIT_REQUESTS
    client: ArxivClient = field(init=False)

    def __post_init__(self) -> None:
        settings = self.source.settings
        self.client = ArxivClient(
            settings.endpoints.arxiv,
            settings.arxiv_batch,
            settings.timeout,
            bounds(settings, self.source.name),
            self.source.pacer.answered,
        )

    async def batch(self, ids: list[str]) -> None:
        """Fetch `ids` (one query, or halves of it after a 400) and record their results."""
        answer = await self.query(ids)
        failure = answer.failure
        # 400: a bad id in the batch; 414: a URL too long for arXiv's front end (GET
        # request lines beyond about 8 KB, some 640 ids). Halving cures both.
        refused = isinstance(failure, PermanentError) and failure.status in (400, 414)
        if refused and len(ids) > 1 and self.split_budget >= 2:
            self.split_budget -= 2
            half = len(ids) // 2
            await self.batch(ids[:half])
            await self.batch(ids[half:])
        elif failure is not None:
            self.fail(ids, answer, failure)
        else:
            self.settle(ids, answer)

    async def query(self, ids: list[str]) -> _Answer:
        """One id_list query under the retry policy, each attempt spaced and counted."""
        answer = _Answer()
        url = self.client.url(ids)

        async def once() -> Any:
            answer.attempts += 1
            feed, well_formed = await self.source.pacer.run(self.get, url)
            return _check(feed, well_formed, answer)

        try:
            answer.feed, _ = await self.ctx.policy.call(once)
        except (FetchError, RequestException, OSError) as exc:
            answer.failure = exc
        return answer

    def get(self, url: str) -> tuple[Any, bool]:
        """In a worker thread: the parsed feed of `url` and whether its body is well-formed."""
        self.ctx.stats.count_request()
        return self.client.get(url, WHAT)

    def fail(self, ids: list[str], answer: _Answer, failure: BaseException) -> None:
        status = failure.status if isinstance(failure, FetchError) else None
        message = _describe(failure, self.source.settings)
        if status == 400 and len(ids) == 1:
            message = "arXiv refused this id (HTTP 400)"
        self.failed(ids, message, status, answer.attempts)

    def settle(self, ids: list[str], answer: _Answer) -> None:
        feed = answer.feed
        entries = _entries(feed)
        dropped = int(feed.header.total_results) > len(feed.results)
        batch = {}
        for query_id in ids:
            found = entries.get(_canonical(query_id))
            for request in self.wanted[query_id]:
                batch[request.identifier] = self._one(request, found, dropped, answer.attempts)
        self.done(batch)

    def _one(self, request: Request, found: Any, dropped: bool, attempts: int) -> Result:
        def done(status: Status, data: PaperMeta | None = None, error: str | None = None) -> Result:
            return result(
                request,
                self.ctx,
                self.source.name,
                status,
                data=data,
                http_status=200,
                attempts=attempts,
                error=error,
            )

        if found is None and dropped:
            return done(Status.ERROR, error=f"{WHAT}: an entry of the answer could not be read")
        known = request.previous is not None and isinstance(request.previous.data, PaperMeta)
        if found is None and known:
            # arXiv never deletes a paper (a withdrawn one keeps its entry): a known paper
            # missing from an answer is arXiv's hiccup, not a fact to cache for a week.
            return done(Status.ERROR, error=f"{WHAT}: a known paper was left out of the answer")
        if found is None:
            return done(Status.NOT_FOUND)
        try:
            return done(Status.OK, data=_paper(*found))
        except ValueError as exc:  # pydantic's ValidationError is one
            return done(Status.ERROR, error=f"unusable arXiv entry ({type(exc).__name__})")


def _check(feed: Any, well_formed: bool, answer: _Answer) -> Any:
    """`feed`, or the error that makes the policy ask once more (see the module docstring)."""
    if not well_formed or feed.malformed:
        answer.suspect += 1
        kind = TransientError if answer.suspect == 1 else PermanentError
        raise kind(f"{WHAT}: malformed answer (not well-formed XML)", status=200)
    if not feed.results and answer.suspect == 0:
        answer.suspect += 1
        raise TransientError(f"{WHAT}: empty answer, asking once more", status=200)
    return feed


def _describe(exc: BaseException, settings: Settings) -> str:
    """A short, token-free message for a failed batch."""
    if isinstance(exc, FetchError):
        return str(exc)
    if isinstance(exc, Timeout):
        limits = f"{settings.timeout:g} s a read, {settings.deadline:g} s in all"
        return f"{WHAT}: no whole answer in time ({limits})"
    if isinstance(exc, RequestsConnectionError | ChunkedEncodingError | OSError):
        return f"{WHAT}: connection failed ({type(exc).__name__})"
    return f"{WHAT}: {type(exc).__name__}"


def _canonical(arxiv_id: str) -> str:
    """`math.AG/0601001` -> `math/0601001`: arXiv's entry ids drop the subject class."""
    return _SUBJECT_CLASS.sub("/", arxiv_id)


def _entries(feed: Any) -> dict[str, tuple[Any, str, str | None]]:
    """The feed's entries by canonical versionless id, with arXiv's id and the version."""
    found: dict[str, tuple[Any, str, str | None]] = {}
    for entry in feed.results:
        match = ARXIV_ID.fullmatch(str(entry.get_short_id()))
        if match is not None:
            found[_canonical(match["id"])] = (entry, match["id"], match["version"])
    return found


def _paper(entry: Any, arxiv_id: str, version: str | None) -> PaperMeta:
    """An `arxiv.Result` as a `PaperMeta`, every value cleaned and capped."""
    authors = [
        Author(name=name, affiliations=distinct(author.affiliation, _MAX_FIELD))
        for author in list(entry.authors)[:_MAX_AUTHORS]
        if (name := clean(author.name, _MAX_NAME))
    ]
    return PaperMeta(
        arxiv_id=arxiv_id,
        latest_version=version,
        title=clean(entry.title, _MAX_TITLE),
        authors=authors,
        abstract=clean(entry.summary, _MAX_ABSTRACT),
        published=utc(entry.published),
        updated=utc(entry.updated),
        primary_category=clean(entry.primary_category, _MAX_TERM) or None,
        categories=distinct(entry.categories, _MAX_TERM),
        comment=clean(entry.comment, _MAX_FIELD) or None,
        journal_ref=clean(entry.journal_ref, _MAX_FIELD) or None,
        doi=clean(entry.doi, _MAX_TERM) or None,
        pdf_url=web_url(entry.pdf_url, _MAX_FIELD),
    )
