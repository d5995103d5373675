"""Semantic Scholar: citations, venue and the other ids of papers, by the Graph API's batch.

What it serves. Entities `scholar:<kind>:<key>`, one per linked paper (`Link.also` names
them): `arxiv:<id>` is asked as `ARXIV:<id>`, `doi:<doi>` as `DOI:<doi>` (dl.acm.org and
doi.org links), `acl:<id>` as `ACL:<id>`. The API has no lookup by PMLR or OpenReview id,
so resolve names no record for them (and a request for one would end `skipped`). The
answer's `externalIds.ArXiv` is how a paper linked only by its DOI is found on arXiv: the
fetch stage then fetches that arXiv paper too.

How it asks. `POST {ENRICH_S2_URL}/graph/v1/paper/batch?fields=...` with `{"ids": [...]}`,
at most `S2_BATCH_SIZE` (500, the endpoint's limit) ids a request, one request at a time and
each attempt at least `settings.s2_delay` seconds (1 s) after the previous one ended: the
API's rule for a key is one request per second, and anonymous callers share one pool, so
the same pace is kept either way. `S2_API_KEY`, when set, goes in the `x-api-key` header
and nowhere else. httpx2's async client: no thread needed, and the one HTTP stack of the
project (huggingface_hub uses it too).

How answers are read. The answer is a JSON list in the order of the ids; `null` for an id
the API does not know (recorded in `api-samples/semanticscholar`), which is `not_found`. A
body that is not such a list (not JSON, another length) is a malformed answer: the batch
fails (`PermanentError`) and its items keep their last known values. Values are untrusted:
strings are cleaned and capped (`text.one_line`), counts must be non-negative integers, an
item that does not validate ends `error` alone.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, TypeVar

import httpx2

from enrich.config import S2_BATCH_SIZE, Settings
from enrich.errors import FetchError, PermanentError, TimedOut, Unreachable
from enrich.metadata import Author, ScholarMeta
from enrich.models import Identifier, Kind, Result, Status
from enrich.net import http_error
from enrich.rate import Pacer
from enrich.sources import BatchCall, FetchContext, Request, by_query, result
from enrich.text import clean, distinct, plausible_year, web_url
from enrich.transport import AsyncTransport, bounds

T = TypeVar("T")

WHAT: Final = "Semantic Scholar paper batch"
PATH: Final = "/graph/v1/paper/batch"
FIELDS: Final = (
    "paperId,externalIds,title,authors,year,publicationDate,venue,publicationVenue,"
    "journal,publicationTypes,citationCount,influentialCitationCount,url"
)
_PREFIXES: Final = {"arxiv": "ARXIV", "doi": "DOI", "acl": "ACL"}
_MAX_TITLE: Final = 1_000
_MAX_NAME: Final = 300
_MAX_AUTHORS: Final = 10_000
_MAX_FIELD: Final = 500
# Halving a refused batch: 2 requests a level, so 16 isolate one bad id of 500 down to a
# batch of about 4 (and bound what an API refusing everything costs: 1 s a request).
_MAX_SPLIT_REQUESTS: Final = 16
_SPLIT_ON: Final = frozenset({400, 500})


@dataclass(frozen=True)
class _Failed:
    """A batch that failed after the retry policy, and the attempts it took."""

    error: Exception
    attempts: int


def s2_id(key: str) -> str | None:
    """The batch endpoint's id for a scholar key (`doi:10.1/x` -> `DOI:10.1/x`), or None
    when the API has no lookup for that kind of paper."""
    kind, _, rest = key.partition(":")
    prefix = _PREFIXES.get(kind)
    return f"{prefix}:{rest}" if prefix and rest else None


class Endpoint:
    """What a source of the Semantic Scholar API (the paper batch, the recommendations) is
    made of: the settings, and one pacer for the API's host, so the spacing holds across
    calls (the fetch stage calls the batch twice when some papers must be identified before
    arXiv is asked) and across the two endpoints (`sources.registry` gives both one)."""

    name: str

    def __init__(self, settings: Settings, pacer: Pacer | None = None) -> None:
        self.settings = settings
        self.pacer = pacer or Pacer(settings.s2_delay)

    def client(self) -> httpx2.AsyncClient:
        """A client of the API for this source (`api_client`: its bounds, the key)."""
        return api_client(self.settings, self.name)

    def paced(self, ctx: FetchContext) -> Paced:
        """A request (with its retries) in this API's pace, counted in `ctx`."""
        return Paced(self.pacer, ctx)


class ScholarSource(Endpoint):
    """Papers' Semantic Scholar records, in batches of up to 500 ids."""

    name = "scholar"
    kinds = frozenset({Kind.SCHOLAR})

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> dict[Identifier, Result]:
        """One result per request, keyed by its `Identifier`. Never raises for an item."""
        wanted, results = by_query(requests, ctx, self.name, s2_id, _no_lookup)
        async with self.client() as client:
            run = _Run(self, ctx, wanted, results, client)
            ids = list(wanted)
            for start in range(0, len(ids), S2_BATCH_SIZE):
                await run.batch(ids[start : start + S2_BATCH_SIZE])
        return results


def _no_lookup(key: str) -> tuple[Status, str]:
    return Status.SKIPPED, f"Semantic Scholar has no lookup by {key.partition(':')[0]} id"


@dataclass
class _Run(BatchCall[ScholarSource]):
    """One `fetch` call: its client, its requests by batch id, the results so far, and what
    is left of its halving (`splits`: for the whole call, so a refusing API costs little)."""

    client: httpx2.AsyncClient
    splits: int = _MAX_SPLIT_REQUESTS

    async def batch(self, ids: list[str]) -> None:
        """Ask `ids`; record a result for each (see `split` for a refused batch)."""
        failed = await self.ask(ids)
        if failed is not None:
            await self.split(ids, failed)

    async def split(self, ids: list[str], failed: _Failed) -> None:
        """A batch the API refused with 400 or 500 — answers that one malformed or unlucky
        id can cause for the whole batch (allenai/s2-folks#38, #103) — is halved while
        `splits` lasts, so the other ids are answered. Both halves are asked before either
        is halved again, and halving goes on only into a half refused while its sibling was
        answered: when both fail, the failure is the server's, not an id's, and their ids
        end `error` without more requests. Any other failure ends the batch at once."""
        status = failed.error.status if isinstance(failed.error, FetchError) else None
        if status not in _SPLIT_ON or len(ids) < 2 or self.splits < 2:
            self.fail(ids, failed)
            return
        self.splits -= 2
        halves = (ids[: len(ids) // 2], ids[len(ids) // 2 :])
        outcomes = [await self.ask(half) for half in halves]
        servers = all(outcome is not None for outcome in outcomes)
        for half, outcome in zip(halves, outcomes, strict=True):
            if outcome is not None and servers:
                self.fail(half, outcome)
            elif outcome is not None:
                await self.split(half, outcome)

    async def ask(self, ids: list[str]) -> _Failed | None:
        """One batch under the retry policy: its ids' results recorded, or the failure."""
        paced = self.source.paced(self.ctx)
        client = self.client
        try:
            answer = await paced.call(lambda: _post(client, ids))
        except Exception as exc:  # noqa: BLE001 - a batch never raises: its ids end `error`
            return _Failed(exc, paced.attempts)
        attempts = paced.attempts
        self.done(
            {
                request.identifier: self.one(request, item, attempts)
                for ident, item in zip(ids, answer, strict=True)
                for request in self.wanted[ident]
            }
        )
        return None

    def fail(self, ids: list[str], failed: _Failed) -> None:
        status = failed.error.status if isinstance(failed.error, FetchError) else None
        self.failed(ids, describe(failed.error), status, failed.attempts)

    def one(self, request: Request, item: Any, attempts: int) -> Result:
        """The result of a batch answer's `item` for `request`."""
        if item is None:
            return result(request, self.ctx, self.source.name, Status.NOT_FOUND, http_status=200)
        try:
            data = record(item)
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            error = f"unusable Semantic Scholar record ({type(exc).__name__})"
            return result(
                request,
                self.ctx,
                self.source.name,
                Status.ERROR,
                http_status=200,
                attempts=attempts,
                error=error,
            )
        return result(
            request,
            self.ctx,
            self.source.name,
            Status.OK,
            data=data,
            http_status=200,
            attempts=attempts,
        )


async def _post(client: httpx2.AsyncClient, ids: list[str]) -> list[Any]:
    """One batch request: the answer's list, or the `FetchError` the policy judges."""
    answer = await post_json(client, PATH, {"fields": FIELDS}, {"ids": ids}, WHAT)
    if not isinstance(answer, list) or len(answer) != len(ids):
        raise PermanentError(f"{WHAT}: malformed answer (not one item per id)", status=200)
    return answer


def api_client(settings: Settings, source: str) -> httpx2.AsyncClient:
    """A client of the Semantic Scholar API (`ENRICH_S2_URL`) for `source` (its bounds), with
    `S2_API_KEY` in its `x-api-key` header, and there only."""
    key = settings.s2_api_key
    return httpx2.AsyncClient(
        base_url=settings.endpoints.scholar,
        headers={"x-api-key": key.reveal()} if key else {},
        timeout=settings.timeout,
        transport=AsyncTransport(bounds(settings, source)),
    )


class Paced:
    """Requests to Semantic Scholar (its batch and recommendations endpoints) under the retry
    policy, each attempt in the shared pacer's turn and counted; `attempts` made so far."""

    def __init__(self, pacer: Pacer, ctx: FetchContext) -> None:
        self._pacer, self._ctx = pacer, ctx
        self.attempts = 0

    async def call(self, post: Callable[[], Awaitable[T]]) -> T:
        """`post()`'s answer; what its last attempt raised when the policy gives up."""

        async def once() -> T:
            self.attempts += 1
            async with self._pacer:
                self._ctx.stats.count_request()
                return await post()

        answer, _ = await self._ctx.policy.call(once)
        return answer


async def post_json(
    client: httpx2.AsyncClient, path: str, params: dict[str, str], body: object, what: str
) -> Any:
    """One POST of `body` to the Semantic Scholar API, its answer's JSON; a `FetchError`
    (for the retry policy to judge) when it fails or is not JSON. Its shape is the
    caller's to check. `what` names the endpoint in errors."""
    try:
        response = await client.post(path, params=params, json=body)
    except httpx2.ConnectError as exc:
        raise Unreachable(f"{what}: connection failed ({type(exc).__name__})") from None
    except httpx2.TimeoutException:
        raise TimedOut(f"{what}: no answer in time") from None
    if response.status_code != 200:
        raise http_error(response.status_code, response.headers, what)
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):  # RecursionError: nested beyond the parser's depth
        raise PermanentError(f"{what}: malformed answer (not JSON)", status=200) from None


def record(item: Any) -> ScholarMeta:
    """A batch answer's item as a `ScholarMeta`, every value cleaned and checked."""
    if not isinstance(item, dict):
        raise TypeError("not an object")
    ids = item.get("externalIds")
    external: dict[str, Any] = ids if isinstance(ids, dict) else {}
    venue = item.get("publicationVenue")
    venue_name = venue.get("name") if isinstance(venue, dict) else None
    return ScholarMeta(
        paper_id=clean(item.get("paperId"), 100) or _missing("paperId"),
        title=clean(item.get("title"), _MAX_TITLE) or None,
        authors=_authors(item.get("authors")),
        year=_year(item.get("year")),
        publication_date=_date(item.get("publicationDate")),
        venue=clean(venue_name, _MAX_FIELD) or clean(item.get("venue"), _MAX_FIELD) or None,
        journal=_journal(item.get("journal")),
        publication_types=distinct(item.get("publicationTypes"), 100),
        arxiv_id=clean(external.get("ArXiv"), 50) or None,
        doi=clean(external.get("DOI"), _MAX_FIELD) or None,
        acl_id=clean(external.get("ACL"), 100) or None,
        citations=_count(item.get("citationCount")),
        influential_citations=_count(item.get("influentialCitationCount")),
        url=web_url(item.get("url"), _MAX_FIELD),
    )


def _missing(name: str) -> str:
    raise ValueError(f"no {name}")


def _count(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not a count: {type(value).__name__}")
    return value


def _year(value: object) -> int | None:
    """A year a paper can have, else None (an odd year is dropped, not the record)."""
    return plausible_year(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _date(value: object) -> date | None:
    day = date.fromisoformat(value) if isinstance(value, str) and value else None
    return day if day is not None and plausible_year(day.year) else None


def _authors(values: object) -> list[Author]:
    items = values if isinstance(values, list) else []
    names = (clean(a.get("name"), _MAX_NAME) for a in items[:_MAX_AUTHORS] if isinstance(a, dict))
    return [Author(name=name) for name in names if name]


def _journal(value: object) -> str | None:
    """`Nature 521, 436-444`: the journal's name, volume and pages as one line."""
    if not isinstance(value, dict):
        return None
    name = clean(value.get("name"), _MAX_FIELD)
    volume = clean(value.get("volume"), 50)
    pages = clean(value.get("pages"), 50)
    text = " ".join(p for p in (name, volume) if p)
    return (f"{text}, {pages}" if text and pages else text) or None


def describe(exc: BaseException, what: str = WHAT) -> str:
    """A short, token-free message for a failed request to the endpoint `what` (`post_json`
    turns timeouts and refused connections into `FetchError`s already)."""
    if isinstance(exc, FetchError):
        return str(exc)
    if isinstance(exc, httpx2.HTTPError | OSError):
        return f"{what}: connection failed ({type(exc).__name__})"
    return f"{what}: failed ({type(exc).__name__})"
