"""The seam for sources: a small protocol, a context, and the registry.

A source knows one provider's API and nothing of markdown. It receives a batch of
`Request`s (one per entity, with the last known result for revalidation) and returns one
`Result` per request, keyed by the entity's `Identifier`. It never raises for an item: every failure
ends as that item's status (`error`), and the fetch stage turns an error into `stale` when a
last known value exists. Sync client libraries run in threads (`asyncio.to_thread`), never
on the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from enrich.config import Settings
from enrich.models import (
    HUB_FETCHED,
    LANDING_KINDS,
    Entities,
    Identifier,
    Kind,
    Provenance,
    Result,
    Status,
)
from enrich.net import RetryPolicy
from enrich.rate import Pacer


@dataclass(frozen=True)
class Request:
    """One entity to fetch: what the plan makes (`plan.entities`, `plan.discovery`) and a
    source takes, the one record of it from plan to source."""

    identifier: Identifier
    previous: Result | None = None
    """The last known result (cache or previous dataset): validators and fallback. None in
    the plan; the fetch stage attaches it (`knowing`)."""
    subpaths: tuple[str, ...] = ()
    """Subpaths linked for this entity (`tree/main/docs`), to check where the budget allows."""

    def knowing(self, last: Result | None) -> Request:
        """This request with `last` as its last known result."""
        return replace(self, previous=last)


@dataclass(frozen=True, slots=True)
class Answer:
    """How the requests for one entity went this run: not a fact about the entity."""

    http_status: int | None
    """The status of the answer the result comes from; None without an HTTP answer."""
    attempts: int
    """Requests made for it (0: none made, e.g. a source that stopped before it)."""


@dataclass
class SourceStats:
    """Counters of one source in one run; written by the source, read by the summary.

    Mutable on purpose and guarded by a lock: sources update it from worker threads.
    """

    requests: int = 0
    revalidated: int = 0
    rate_limit_remaining: int | None = None
    rate_limit_spent: int = 0
    notes: list[str] = field(default_factory=list)
    answers: dict[Identifier, Answer] = field(default_factory=dict)
    """By entity, how its requests went: one for each result the source made."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self, n: int = 1) -> None:
        with self._lock:
            self.requests += n

    def count_revalidated(self, n: int = 1) -> None:
        with self._lock:
            self.revalidated += n

    def answered(self, ident: Identifier, answer: Answer) -> None:
        with self._lock:
            self.answers[ident] = answer

    def note(self, message: str) -> None:
        with self._lock:
            if message not in self.notes:
                self.notes.append(message)

    def rate_limit(self, remaining: int | None, spent: int = 0) -> None:
        with self._lock:
            if remaining is not None:
                self.rate_limit_remaining = remaining
            self.rate_limit_spent += spent


def source_for(kind: Kind, sources: Sequence[Source]) -> Source | None:
    """The source that serves `kind`, if any of `sources` does."""
    return next((s for s in sources if kind in s.kinds), None)


def last_fetched(last: Result | None) -> float:
    """When the last known value was fetched (a POSIX time), 0.0 when never: the key of
    "oldest values first" wherever a budget is smaller than what waits."""
    when = last.provenance.fetched_at if last is not None else None
    return when.timestamp() if when is not None else 0.0


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class FetchContext:
    """What a source may use: settings, the retry policy, its counters, progress, a clock."""

    settings: Settings
    policy: RetryPolicy
    stats: SourceStats
    advance: Callable[[int], None] = lambda n: None
    now: Callable[[], datetime] = _utcnow
    keep: Callable[[Entities], None] = lambda results: None

    def settled(self, results: Entities) -> None:
        """A batch of the call is answered (call it on the event loop): progress advances by
        it, and the fetch stage stores its facts now (`keep`), not when the whole call
        returns, so a long call's answers are in the cache as they come, a run stopped
        midway keeps them, and only the last batch is left to store at the end."""
        self.keep(results)
        self.advance(len(results))


class Source(Protocol):
    """A provider of facts about some kinds of identifiers."""

    name: str
    """Also the cache namespace, the `--only`/`--skip` name and the key in summaries."""
    kinds: frozenset[Kind]

    async def fetch(self, requests: Sequence[Request], ctx: FetchContext) -> Entities:
        """One result per request, keyed by `Request.identifier`. Never raises for an item."""
        ...


def result(
    request: Request,
    ctx: FetchContext,
    source: str,
    status: Status,
    *,
    data: object = None,
    http_status: int | None = None,
    attempts: int = 1,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    moved_to: str | None = None,
) -> Result:
    """A `Result` for `request` fetched now: the one way sources build their results. How
    its requests went (`http_status`, `attempts`) goes to the source's stats, not into it."""
    ctx.stats.answered(request.identifier, Answer(http_status, attempts))
    return Result.model_validate(
        {
            "ref": request.identifier.ref,
            "provenance": Provenance(
                source=source,
                status=status,
                fetched_at=ctx.now() if status is not Status.ERROR else None,
                error=error,
                etag=etag,
                last_modified=last_modified,
            ),
            "data": data,
            "moved_to": moved_to,
        }
    )


def by_query(
    requests: Sequence[Request],
    ctx: FetchContext,
    source: str,
    query_id: Callable[[str], str | None],
    unasked: Callable[[str], tuple[Status, str]],
) -> tuple[dict[str, list[Request]], dict[Identifier, Result]]:
    """How a source that asks in batches (arXiv, Semantic Scholar) takes its requests: those
    it can ask, by the id its queries name them by (`query_id` of the key; requests that
    share one are asked once), in order; and a result now for each it cannot ask (`unasked`
    of the key: its status and why; no request made), progress advanced by them."""
    wanted: dict[str, list[Request]] = {}
    results: dict[Identifier, Result] = {}
    for request in requests:
        key = request.identifier.key
        asked = query_id(key)
        if asked is not None:
            wanted.setdefault(asked, []).append(request)
            continue
        status, error = unasked(key)
        results[request.identifier] = result(request, ctx, source, status, attempts=0, error=error)
    ctx.advance(len(results))
    return wanted, results


S = TypeVar("S", bound=Source)


@dataclass
class BatchCall(Generic[S]):
    """One `fetch` call of a source that asks in batches (arXiv, Semantic Scholar): the
    source, its context, its requests by the id a query names them by (`by_query`), and the
    results so far."""

    source: S
    ctx: FetchContext
    wanted: Mapping[str, list[Request]]
    results: dict[Identifier, Result]

    def done(self, batch: dict[Identifier, Result]) -> None:
        """A batch's results recorded, and handed to the fetch stage now (`settled`)."""
        self.results.update(batch)
        self.ctx.settled(batch)

    def failed(
        self, ids: Iterable[str], error: str, http_status: int | None, attempts: int
    ) -> None:
        """Every request of the batch `ids` ends `error` (after `attempts` requests)."""
        self.done(
            {
                request.identifier: result(
                    request,
                    self.ctx,
                    self.source.name,
                    Status.ERROR,
                    http_status=http_status,
                    attempts=attempts,
                    error=error,
                )
                for query_id in ids
                for request in self.wanted[query_id]
            }
        )


class LazySource:
    """A source whose module is imported, and the source built, on its first `fetch`.

    A warm run (everything fresh in the cache) never imports PyGithub or huggingface_hub:
    a few hundred milliseconds of start-up saved. `name` and `kinds` are declared here, and
    a test checks them against the real classes.
    """

    def __init__(self, name: str, kinds: frozenset[Kind], build: Callable[[], Source]) -> None:
        self.name = name
        self.kinds = kinds
        self._build = build
        self._source: Source | None = None

    async def fetch(self, requests: Sequence[Request], ctx: FetchContext) -> Entities:
        if self._source is None:
            self._source = self._build()
        return await self._source.fetch(requests, ctx)


def _arxiv(settings: Settings) -> Source:
    from enrich.sources.arxiv import ArxivSource

    return ArxivSource(settings)


def _github(settings: Settings) -> Source:
    from enrich.sources.github import GitHubSource

    return GitHubSource(settings)


def _huggingface(settings: Settings) -> Source:
    from enrich.sources.huggingface import HubSource

    return HubSource(settings)


def _scholar(settings: Settings, pacer: Pacer) -> Source:
    from enrich.sources.scholar import ScholarSource

    return ScholarSource(settings, pacer)


def _recommend(settings: Settings, pacer: Pacer) -> Source:
    from enrich.sources.recommend import RecommendSource

    return RecommendSource(settings, pacer)


def _landing(settings: Settings) -> Source:
    from enrich.sources.landing import LandingSource

    return LandingSource(settings)


def registry(settings: Settings) -> tuple[Source, ...]:
    """Every source, configured from `settings`, in a fixed order; built when first used.
    Semantic Scholar's two endpoints share one pace (the API's rule is per caller)."""
    s2 = Pacer(settings.s2_delay)
    return (
        LazySource("arxiv", frozenset({Kind.ARXIV}), lambda: _arxiv(settings)),
        LazySource("github", frozenset({Kind.GITHUB_REPO}), lambda: _github(settings)),
        LazySource("huggingface", HUB_FETCHED, lambda: _huggingface(settings)),
        LazySource("scholar", frozenset({Kind.SCHOLAR}), lambda: _scholar(settings, s2)),
        LazySource("landing", LANDING_KINDS, lambda: _landing(settings)),
        LazySource(
            "recommendations", frozenset({Kind.RECOMMENDED}), lambda: _recommend(settings, s2)
        ),
    )
