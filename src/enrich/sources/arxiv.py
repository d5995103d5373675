"""arXiv: paper metadata by id, through the `arxiv` package's client and Atom parser.

How it asks. Every id of the call goes out in `id_list` queries of `Settings.arxiv_batch` ids,
one after the other, never two at once, each request (retries included) at least
`settings.arxiv_delay` seconds after the previous answer came in (as the `arxiv` package
spaces its own; reading the answer is not arXiv's time): the arXiv API terms of use, "make
no more than one request every three seconds, and limit requests to a single connection at
a time" (https://info.arxiv.org/help/api/tou.html). The blocking client runs in a worker
thread, which also sleeps the spacing (`net.Pacer.run`): the event loop keeps serving the
other sources, and however busy they keep it, no request starts late. Ids are asked
without version, so the latest version comes back; the entry id tells which it is. The
arXiv API has no validators (ETag), so there is no revalidation.

How the client is configured, and why:

* `arxiv.Client(page_size=batch, delay_seconds=0, num_retries=0)`. The package's own
  spacing is a `time.sleep` in the thread and its own retries know neither `Retry-After`
  nor the project's retryable set. Both are switched off: `ctx.policy` (`enrich.net`)
  decides what to retry and how long to wait, and our pacer spaces every attempt.
* One page per batch: the client's one-page fetch (`_format_url` + `_parse_feed`), not
  `Client.results`, which follows `totalResults` into further pages on its own (extra,
  unspaced requests when an entry is dropped by the parser). Both are private but have
  been stable since arxiv 2.0; the tests drive them against a real socket, so an upgrade
  that changes them fails loudly.
* Its `requests.Session` is replaced by `_Session`: the package sends no timeout, so a
  server that accepts the connection and never answers would hold a worker thread forever;
  the session sends through `enrich.transport` (a total deadline per request, at most the
  source's answer bytes: a larger feed is malformed, not retried); and `arxiv.HTTPError`
  carries only the status, so a response hook keeps the last answer's headers (for
  `Retry-After` on 429/503) and body (for the well-formedness gate below).

How answers are read:

* An id left out of a 200 answer is `not_found`: arXiv drops unknown ids silently
  (recordings in `api-samples/arxiv`). But arXiv sometimes answers an empty page under load
  (the package's `UnexpectedEmptyPageError`), so an answer without any entry is confirmed
  by one more request before it is believed; `not_found` is cached as a fact.
* A 400 means arXiv refused an id of the batch. The batch is halved until the refused id
  is isolated (that id `error`, the others fetched), within `_MAX_SPLIT_REQUESTS`.
* The package's parser runs lxml with `recover=True`: a cut or broken document parses as
  a shorter feed, and would turn the missing ids into `not_found`. So the body must also be
  well-formed XML (expat). A malformed answer is usually a transport accident (a proxy
  cutting the body) and is retried once; malformed twice, it is the server's answer and
  the batch fails (`PermanentError`). A cut body with a wrong `Content-Length` already
  fails in `requests` (`ChunkedEncodingError`), which the retry policy retries.
* Values are untrusted: control characters removed, whitespace collapsed, lengths capped.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import arxiv
from requests import RequestException, Response, Session
from requests.exceptions import ChunkedEncodingError, Timeout
from requests.exceptions import ConnectionError as RequestsConnectionError

from enrich.config import Settings
from enrich.errors import FetchError, PermanentError, TransientError
from enrich.models import Author, Kind, PaperMeta, Result, Status, utc
from enrich.net import Pacer, http_error
from enrich.sources import FetchContext, Request, result
from enrich.text import clean, distinct, web_url
from enrich.transport import Bounds, bounds, mount
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


class _Session(Session):
    """A `requests.Session` with a default timeout and bounds that remembers its last
    response and tells `answered` when it is in (read whole: the package does not stream)."""

    def __init__(self, timeout: float, limits: Bounds, answered: Callable[[], None]) -> None:
        super().__init__()
        mount(self, limits)
        self.timeout = timeout
        self.answered = answered
        self.last: Response | None = None
        self.hooks["response"].append(self._record)

    def request(self, *args: Any, **kwargs: Any) -> Response:
        # The arxiv package calls `session.get(url, headers=...)` without a timeout.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        response = super().request(*args, **kwargs)
        self.answered()
        return response

    def _record(self, response: Response, *args: Any, **kwargs: Any) -> None:
        self.last = response


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

    async def fetch(self, requests: Sequence[Request], ctx: FetchContext) -> dict[str, Result]:
        """One result per request, keyed by ref. Never raises for an item."""
        results: dict[str, Result] = {}
        wanted: dict[str, list[Request]] = {}
        for request in requests:
            query_id = self.query_id(request.identifier.key)
            if query_id is None:
                error = f"malformed arXiv id {clean(request.identifier.key, 80)!r}: not sent"
                results[request.ref] = result(
                    request, ctx, self.name, Status.ERROR, attempts=0, error=error
                )
            else:
                wanted.setdefault(query_id, []).append(request)
        ctx.advance(len(results))
        if wanted:
            run = _Run(self, ctx, wanted, results)
            try:
                ids = list(wanted)
                size = self.settings.arxiv_batch
                for start in range(0, len(ids), size):
                    await run.batch(ids[start : start + size])
            finally:
                run.session.close()
        return results


@dataclass
class _Run:
    """One `fetch` call: its client, its requests by id, and the results so far."""

    source: ArxivSource
    ctx: FetchContext
    wanted: dict[str, list[Request]]
    results: dict[str, Result]
    split_budget: int = _MAX_SPLIT_REQUESTS
    session: _Session = field(init=False)
    client: Any = field(init=False)

    def __post_init__(self) -> None:
        settings = self.source.settings
        self.client = arxiv.Client(page_size=settings.arxiv_batch, delay_seconds=0, num_retries=0)
        endpoint = settings.endpoints.arxiv.replace("{", "{{").replace("}", "}}")
        self.client.query_url_format = endpoint + "?{}"
        self.client._session.close()
        limits = bounds(settings, self.source.name)
        session = _Session(settings.timeout, limits, self.source.pacer.answered)
        self.session = self.client._session = session

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
        size = self.source.settings.arxiv_batch  # max_results: the API's default is 10
        search = arxiv.Search(id_list=ids, max_results=size)
        url = str(self.client._format_url(search, 0, size))

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
        self.session.last = None
        try:
            feed = self.client._parse_feed(url, first_page=True)
        except arxiv.HTTPError as exc:
            last = self.session.last
            headers: Mapping[str, str] = last.headers if last is not None else {}
            raise http_error(int(exc.status), headers, WHAT) from None
        except RequestException:
            raise  # some are ValueErrors (InvalidURL): not a parse failure
        except ValueError:  # the package's date parser on a broken entry
            return None, False
        body = self.session.last.content if self.session.last is not None else b""
        return feed, _well_formed(body)

    def fail(self, ids: list[str], answer: _Answer, failure: BaseException) -> None:
        status = failure.status if isinstance(failure, FetchError) else None
        message = _describe(failure, self.source.settings)
        if status == 400 and len(ids) == 1:
            message = "arXiv refused this id (HTTP 400)"
        batch = {
            request.ref: result(
                request,
                self.ctx,
                self.source.name,
                Status.ERROR,
                http_status=status,
                attempts=answer.attempts,
                error=message,
            )
            for query_id in ids
            for request in self.wanted[query_id]
        }
        self._settled(batch)

    def settle(self, ids: list[str], answer: _Answer) -> None:
        feed = answer.feed
        entries = _entries(feed)
        dropped = int(feed.header.total_results) > len(feed.results)
        batch = {}
        for query_id in ids:
            found = entries.get(_canonical(query_id))
            for request in self.wanted[query_id]:
                batch[request.ref] = self._one(request, found, dropped, answer.attempts)
        self._settled(batch)

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

    def _settled(self, batch: dict[str, Result]) -> None:
        self.results.update(batch)
        self.ctx.settled(batch)


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


def _well_formed(body: bytes) -> bool:
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


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
