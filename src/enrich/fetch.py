"""Stage 3: the planned entities -> results. Cache lookup, dedupe, sources run concurrently.

For each source, the entities it serves are split into those fresh in the cache (answered
from it, no request) and the rest, which go to the source in one call, with their last known
result so it can revalidate (ETag) and so a failure can fall back to it. The sources run
concurrently under one event loop, in the phases `plan.py` declares (`plan.PAPERS` first).
Each call returns its outcome; `fetch_all` returns them as one frozen `FetchReport`.

After a call its facts are stored in the cache, and what each item ends as (a failure
never overwrites a known value) is `lastknown.settle`'s. Nothing here raises per item: a
source that crashes marks its items as failed and the run goes on. Offline, no source is
called: entities keep their last known result as it was, or end `skipped`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from enrich.budget import within_budget
from enrich.cache import CACHEABLE, Cache, Entry, fresh_hit
from enrich.config import GITHUB_CONCURRENCY, HF_CONCURRENCY, Settings
from enrich.lastknown import failed, offline, settle, skipped
from enrich.models import REF, Entities, Identifier, Kind, Result, Status
from enrich.net import RetryPolicy
from enrich.plan import PAPERS, Lead, discovery, entities
from enrich.sources import FetchContext, Request, Source, SourceStats, source_for

__all__ = ["FetchReport", "Progress", "discovery", "entities", "fetch", "fetch_all"]

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, repr=False)
class FetchReport:
    """What the fetch stage returns: a result per entity, and how each source's calls went."""

    results: Entities
    stats: Mapping[str, SourceStats] = field(default_factory=dict)
    served: Mapping[str, int] = field(default_factory=dict)  # items per source
    from_cache: Mapping[str, int] = field(default_factory=dict)
    failed: Mapping[str, int] = field(default_factory=dict)  # items whose fetch failed this run
    unanswered: Mapping[str, int] = field(default_factory=dict)  # attempts without an answer
    unreachable: tuple[str, ...] = ()  # sources whose host could not be connected to at all
    late: Mapping[str, int] = field(default_factory=dict)  # calls not made: run limit passed
    run_limit: float = 0.0  # the run's time limit (`Settings.run_limit`), for the summary
    optional: frozenset[Identifier] = frozenset()  # discovery: whose failure fails nothing
    optional_failed: Mapping[str, int] = field(default_factory=dict)
    deferred: int = 0  # discovery lookups left for a later run (over the budget)

    def __repr__(self) -> str:
        """A summary, not every result: `asyncio.run` (3.11) formats the repr of its main
        task's result twice while it restores the SIGINT handler, a second or more for the
        results of 10,000 entities."""
        return (
            f"FetchReport({len(self.results)} results, served={self.served}, "
            f"from_cache={self.from_cache}, failed={self.failed})"
        )


WORKERS = GITHUB_CONCURRENCY + HF_CONCURRENCY + 4  # + arXiv's, a landing page per site, a spare
# (Semantic Scholar needs no thread: its client is async; the landing pages' client is async
# too, and a thread parses each page.)

Progress = Callable[[str, int, int], None]
"""`progress(source, advanced_by, total)`: called as items of a source finish."""


@dataclass(frozen=True)
class _Outcome:
    """What one call of a source gave: its results and their counts."""

    source: str
    results: Entities
    served: int  # 0: results no source was asked for (`_Run.admit`'s skipped)
    from_cache: int | None = None  # None offline: no cache lookup
    failed: int = 0
    optional_failed: int = 0


@dataclass(frozen=True)
class _Run:
    """What every call of one run shares."""

    sources: Sequence[Source]
    settings: Settings
    cache: Cache
    previous: Entities
    optional: frozenset[Identifier]
    policies: Mapping[str, RetryPolicy]  # one per source: each has its own circuit breaker
    stats: Mapping[str, SourceStats]
    progress: Progress | None
    known: Mapping[Identifier, Entry | None]  # cache entries looked up already (discovery's)

    def source_for(self, kind: Kind) -> Source | None:
        return source_for(kind, self.sources)

    def entry(self, name: str, ident: Identifier) -> Entry | None:
        """The cache entry of `ident`: the one discovery's budget looked up, else the cache's."""
        return self.known[ident] if ident in self.known else self.cache.get(name, ident)

    def last_known(self, source: Source | None, ident: Identifier) -> Result | None:
        entry = self.entry(source.name, ident) if source is not None else None
        return entry.result if entry is not None else self.previous.get(ident)

    def admit(
        self, found: Iterable[Request]
    ) -> tuple[dict[str, list[Request]], dict[Identifier, Result]]:
        """`found` by the source to fetch them, and the results of those no source fetches
        this run (`skipped`)."""
        groups: dict[str, list[Request]] = {s.name: [] for s in self.sources}
        left: dict[Identifier, Result] = {}
        for entity in found:
            source = self.source_for(entity.identifier.kind)
            if source is None or not self.settings.wants(source.name):
                last = self.last_known(source, entity.identifier)
                left[entity.identifier] = skipped(entity, source, last)
            else:
                groups[source.name].append(entity)
        return groups, left

    async def call(
        self, source: Source, items: list[Request], total: int | None = None
    ) -> _Outcome:
        """The results of `items` from the cache, else from `source`: facts stored, a
        failure turned into the last known value (`lastknown.settle`)."""
        total = len(items) if total is None else total

        def advance(n: int) -> None:
            if self.progress is not None:
                self.progress(source.name, n, total)

        if self.settings.offline:
            advance(total)
            return _Outcome(
                source.name, offline(source.name, items, self.cache, self.previous), len(items)
            )
        hits, todo = self._partition(source.name, items)
        advance(len(hits))
        if not todo:
            return _Outcome(source.name, hits, len(items), len(hits))
        kept: dict[
            Identifier, Result
        ] = {}  # facts the source handed early (`FetchContext.settled`)

        def keep(results: Entities) -> None:
            with self.cache.transaction():
                for ref, got in results.items():
                    if got.status in CACHEABLE and self.cache.put(source.name, got):
                        kept[ref] = got

        policy, stats = self.policies[source.name], self.stats[source.name]
        ctx = FetchContext(self.settings, policy, stats, advance=advance, keep=keep)
        fetched = await _call(source, todo, ctx)
        return self._conclude(source.name, len(items), hits, todo, fetched, kept)

    def _conclude(
        self,
        name: str,
        served: int,
        hits: Entities,
        todo: list[Request],
        fetched: Entities,
        kept: Entities,
    ) -> _Outcome:
        """Each request's result as `lastknown.settle` ends it; the facts not `kept` already
        stored, the failures counted."""
        results, failed, optional = dict(hits), 0, 0
        with self.cache.transaction():  # one commit for the source's facts, not one each
            for request in todo:
                got = fetched.get(request.identifier)
                ended = results[request.identifier] = settle(request, name, got)
                if got is None or got.status is Status.ERROR:
                    optional += request.identifier in self.optional
                    failed += request.identifier not in self.optional
                elif ended is got and kept.get(request.identifier) is not got:
                    self.cache.put(name, got)
        return _Outcome(name, results, served, len(hits), failed, optional)

    def _partition(
        self, name: str, items: list[Request]
    ) -> tuple[dict[Identifier, Result], list[Request]]:
        """Fresh cache hits answered; the requests for the rest."""
        hits: dict[Identifier, Result] = {}
        todo: list[Request] = []
        for entity in items:
            ident = entity.identifier
            entry = self.entry(name, ident)
            hit = fresh_hit(entry, self.settings.refresh)
            if hit is not None:
                hits[ident] = hit
                continue
            last = entry.result if entry is not None else self.previous.get(ident)
            todo.append(entity.knowing(last))
        return hits, todo


async def fetch_all(
    wanted: Mapping[Identifier, Request],
    sources: Sequence[Source],
    settings: Settings,
    cache: Cache,
    previous: Entities,
    progress: Progress | None = None,
    optional: Mapping[Identifier, Request] | None = None,
) -> FetchReport:
    """Results for every entity in `wanted` and `optional`; never raises for an item.

    `optional` entities (discovery's lookups) are asked within a budget of
    `settings.discover_limit` requests a run, and a failure among them fails nothing: the
    run's exit code is about the linked entities. The phases: `PAPERS` first when both its
    sources take part, then the others, the one with the most items first (its share of the
    run is the longest: a seed's 95 Hub lookups, 16 at a time, outlast its 28 repositories).
    """
    optional = {r: e for r, e in (optional or {}).items() if r not in wanted}
    until = time.monotonic() + settings.run_limit  # no request starts after it
    policies = {s.name: _policy(settings, until) for s in sources}
    budget = within_budget(optional, sources, settings, cache, previous)
    run = _Run(
        sources, settings, cache, previous, frozenset(optional), policies,
        {s.name: SourceStats() for s in sources}, progress, budget.known,
    )  # fmt: skip
    groups, left = run.admit([*wanted.values(), *budget.asked])
    leader, follower = run.source_for(PAPERS.leader), run.source_for(PAPERS.follower)
    first: list[Coroutine[Any, Any, list[_Outcome]]] = []
    rest = [s for s in sources if groups[s.name]]
    if leader is not None and follower is not None:
        trailing = [s for s in rest if s.kinds & PAPERS.trailing]
        first.append(_lead(PAPERS, (leader, follower), groups, wanted, left, run, trailing))
        rest = [s for s in rest if s not in (leader, follower, *trailing)]
        rest.sort(key=lambda s: len(groups[s.name]), reverse=True)
    outcomes = await asyncio.gather(*first, *(_one(run.call(s, groups[s.name])) for s in rest))
    return _report(
        run, [o for some in outcomes for o in some], {**budget.later, **left}, len(budget.later)
    )


async def _one(call: Coroutine[Any, Any, _Outcome]) -> list[_Outcome]:
    return [await call]


async def _lead(
    lead: Lead,
    pair: tuple[Source, Source],
    groups: Mapping[str, list[Request]],
    linked: Mapping[Identifier, Request],
    left: Entities,
    run: _Run,
    trailing: Sequence[Source] = (),
) -> list[_Outcome]:
    """The leader's entities that may name new ones first (their batches filled up with the
    others), then the follower with what they named (and the `trailing` sources), while the
    rest of the leader's go on.

    The follower waits only while the leader answers: at its first failed attempt
    (`troubled`), it starts with its own entities, and what the leader names later gets a
    call of its own. The results of entities no source fetches this run (`left`) name
    entities too (a record known from an earlier run)."""
    leader, follower = pair
    mine = groups[leader.name]
    ordered = sorted(mine, key=lambda e: not lead.may_name(e.identifier))
    naming = sum(1 for e in ordered if lead.may_name(e.identifier))
    size = -(-naming // lead.batch) * lead.batch  # whole batches holding them all
    head, tail = ordered[:size], ordered[size:]
    asked = asyncio.ensure_future(run.call(leader, head, len(mine))) if head else None
    if asked is not None:
        trouble = asyncio.ensure_future(run.policies[leader.name].breaker.troubled.wait())
        await asyncio.wait({asked, trouble}, return_when=asyncio.FIRST_COMPLETED)
        trouble.cancel()
    ready = asked is None or asked.done()
    answered = asked.result().results.values() if ready and asked is not None else ()
    found = _named(lead, [*left.values(), *answered], linked, run) if ready else _Named([], {})
    # The rest of the leader's as a task of its own, queued behind the other sources; the
    # follower is awaited here, in the first task of `fetch_all`'s.
    rest = asyncio.ensure_future(run.call(leader, tail, len(mine))) if tail else None
    behind = [asyncio.ensure_future(run.call(s, groups[s.name])) for s in trailing]
    outcomes = [_Outcome(follower.name, found.left, 0)]
    try:
        if groups[follower.name] or found.entities:
            papers = [*groups[follower.name], *found.entities]
            outcomes.append(await run.call(follower, papers))
        if not ready and asked is not None:
            outcomes.append(await asked)
            late = _named(lead, [*left.values(), *outcomes[-1].results.values()], linked, run)
            outcomes.append(_Outcome(follower.name, late.left, 0))
            if late.entities:
                outcomes.append(await run.call(follower, late.entities))
        elif asked is not None:
            outcomes.append(asked.result())
        if rest is not None:
            outcomes.append(await rest)
        outcomes.extend([await task for task in behind])
    except BaseException:
        for task in (asked, rest, *behind):
            if task is not None:
                task.cancel()
        raise
    return outcomes


@dataclass(frozen=True)
class _Named:
    entities: list[Request]  # for the follower to fetch
    left: Entities  # skipped: the follower is left out this run


def _named(
    lead: Lead, results: Iterable[Result], linked: Mapping[Identifier, Request], run: _Run
) -> _Named:
    """The follower's entities named by `results` and not linked themselves, admitted."""
    found: dict[Identifier, Request] = {}
    for result in results:
        ident = lead.names(result)
        if ident is not None and ident not in linked:
            found[ident] = Request(ident)
    groups, left = run.admit(found[ident] for ident in sorted(found, key=REF))
    follower = run.source_for(lead.follower)
    return _Named(groups[follower.name] if follower is not None else [], left)


def _policy(settings: Settings, until: float) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.retry_attempts,
        max_seconds=settings.retry_max_seconds,
        wait=settings.retry_wait,
        until=until,
    )


def _report(run: _Run, outcomes: Iterable[_Outcome], left: Entities, deferred: int) -> FetchReport:
    """The run's outcomes, and what its sources' circuit breakers saw, as one report."""
    results = dict(left)
    served: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {"cache": {}, "failed": {}, "optional": {}}
    for o in outcomes:
        results.update(o.results)
        if not o.served:
            continue
        served[o.source] = served.get(o.source, 0) + o.served
        for name, n in (
            ("cache", o.from_cache),
            ("failed", o.failed),
            ("optional", o.optional_failed),
        ):
            if n is not None and (n or name == "cache"):
                counts[name][o.source] = counts[name].get(o.source, 0) + n
    breakers = {name: policy.breaker for name, policy in run.policies.items()}
    return FetchReport(
        results={ident: results[ident] for ident in sorted(results, key=REF)},
        stats={name: run.stats[name] for name in served},
        served=served,
        from_cache=counts["cache"],
        failed=counts["failed"],
        unanswered={n: b.unanswered for n, b in breakers.items() if b.unanswered},
        unreachable=tuple(sorted(n for n, b in breakers.items() if b.unreachable)),
        late={n: b.late for n, b in breakers.items() if b.late},
        run_limit=run.settings.run_limit,
        optional=run.optional,
        optional_failed=counts["optional"],
        deferred=deferred,
    )


def _on_own_loop(run: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """`run` made a plain function that runs it on an event loop of its own, whose worker
    threads (`asyncio.to_thread`, for the sync clients) are enough for the sources' own
    limits together: the default pool has cpu + 4 of them, fewer on a small machine."""

    def on_own_loop(*args: P.args, **kwargs: P.kwargs) -> T:
        with asyncio.Runner() as runner:
            pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="enrich")
            runner.get_loop().set_default_executor(pool)
            return runner.run(run(*args, **kwargs))

    return on_own_loop


fetch = _on_own_loop(fetch_all)
"""`fetch_all` (same arguments) on an event loop of its own: the pipeline's way in."""


async def _call(source: Source, todo: list[Request], ctx: FetchContext) -> Entities:
    try:
        return await source.fetch(todo, ctx)
    except Exception as exc:  # noqa: BLE001 - a crashing source must not lose the run's data
        message = f"{source.name} failed: {type(exc).__name__}: {exc}"
        ctx.stats.note(message)
        return {r.identifier: failed(r, source.name, message) for r in todo}
