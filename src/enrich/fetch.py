"""Stage 3: identifiers -> results. Dedupe, cache lookup, sources run concurrently.

For each source, the entities it serves are split into those fresh in the cache (answered
from it, no request) and the rest, which go to the source in one call, with their last known
result so it can revalidate (ETag) and so a failure can fall back to it. Sources run
concurrently under one event loop.

After the call: facts (`ok`, `not_found`, `moved`) are stored in the cache; an `error`
becomes `stale` when a last known value exists (from the cache, else the previous dataset),
keeping that value and its old `fetched_at`; a `skipped` (not sent by design: GitHub's rate
limit left it for a later run) keeps the last known result as it was, not stored again.
Nothing here raises per item: a source that crashes marks its items as failed and the run
goes on.

Offline, no source is called: entities keep their last known result as it was, or end
`skipped` when nothing is known.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from enrich.cache import Cache
from enrich.config import (
    GITHUB_CONCURRENCY,
    HF_CONCURRENCY,
    S2_BATCH_SIZE,
    Settings,
)
from enrich.lastknown import failed, fallback, offline, skipped
from enrich.models import Identifier, Kind, Result, ScholarMeta, Status
from enrich.net import Breaker, RetryPolicy
from enrich.plan import Entity, discovery, entities
from enrich.sources import FetchContext, Request, Source, SourceStats
from enrich.urls import ARXIV_ID

__all__ = ["Entity", "FetchReport", "Progress", "discovery", "entities", "fetch_all"]


@dataclass(repr=False)
class FetchReport:
    results: dict[str, Result]
    stats: dict[str, SourceStats] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)  # items per source
    from_cache: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)  # items whose fetch failed this run
    unanswered: dict[str, int] = field(default_factory=dict)  # attempts that got no answer
    unreachable: tuple[str, ...] = ()  # sources whose host could not be connected to at all
    late: dict[str, int] = field(default_factory=dict)  # calls not made: run limit passed
    run_limit: float = 0.0  # the run's time limit (`Settings.run_limit`), for the summary
    optional: frozenset[str] = frozenset()  # discovery: refs whose failure fails nothing
    optional_failed: dict[str, int] = field(default_factory=dict)
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

FACTS = frozenset({Status.OK, Status.NOT_FOUND, Status.MOVED})

Progress = Callable[[str, int, int], None]
"""`progress(source, advanced_by, total)`: called as items of a source finish."""


def _last_known(
    cache: Cache, source: Source | None, ref: str, previous: Mapping[str, Result]
) -> Result | None:
    entry = cache.get(source.name, ref) if source is not None else None
    return entry.result if entry is not None else previous.get(ref)


def _source_for(kind: Kind, sources: Sequence[Source]) -> Source | None:
    return next((s for s in sources if kind in s.kinds), None)


async def fetch_all(
    wanted: Mapping[str, Entity],
    sources: Sequence[Source],
    settings: Settings,
    cache: Cache,
    previous: Mapping[str, Result],
    progress: Progress | None = None,
    optional: Mapping[str, Entity] | None = None,
) -> FetchReport:
    """Results for every entity in `wanted` and `optional`; never raises for an item.

    `optional` entities (discovery's lookups) are asked within a budget of
    `settings.discover_limit` requests a run, and a failure among them fails nothing: the
    run's exit code is about the linked entities.
    """
    # Sync clients run in worker threads (`asyncio.to_thread`): the default pool has
    # cpu + 4 of them, fewer than the sources' own limits together on a small machine.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="enrich")
    )
    optional = {r: e for r, e in (optional or {}).items() if r not in wanted}
    report = FetchReport(results={}, optional=frozenset(optional), run_limit=settings.run_limit)
    until = time.monotonic() + settings.run_limit  # no request starts after it

    def admit(found: Iterable[Entity]) -> dict[str, list[Entity]]:
        """`found` by the source to fetch them; the others answered `skipped` now."""
        groups: dict[str, list[Entity]] = {s.name: [] for s in sources}
        for entity in found:
            source = _source_for(entity.identifier.kind, sources)
            if source is None or not settings.wants(source.name):
                last = _last_known(cache, source, entity.ref, previous)
                report.results[entity.ref] = skipped(entity, source, last)
            else:
                groups[source.name].append(entity)
        return groups

    asked = _within_budget(optional, sources, settings, cache, previous, report)
    groups = admit([*wanted.values(), *asked])

    def policy() -> RetryPolicy:  # one per source: each has its own circuit breaker
        return RetryPolicy(
            attempts=settings.retry_attempts,
            max_seconds=settings.retry_max_seconds,
            wait=settings.retry_wait,
            until=until,
        )

    policies = {s.name: policy() for s in sources}

    def run(source: Source, items: list[Entity], total: int | None = None) -> Awaitable[None]:
        total = len(items) if total is None else total
        return _run_source(
            source, items, total, settings, cache, previous, policies[source.name], report, progress
        )

    by_name = {s.name: s for s in sources}
    arxiv, scholar = by_name.get("arxiv"), by_name.get("scholar")
    if arxiv is None or scholar is None:
        await asyncio.gather(*(run(s, groups[s.name]) for s in sources if groups[s.name]))
    else:
        # The papers first: the gathered coroutines start in this order, and arXiv, paced
        # 3 s a request, is the run's critical path; the others' cache lookups and client
        # imports come after its first request, not before it. Of the others, the one with
        # the most items first: its share of the run is the longest (a seed's 95 Hub
        # lookups, 16 at a time, outlast its 28 repositories).
        others = [s for s in sources if s not in (arxiv, scholar) and groups[s.name]]
        others.sort(key=lambda s: len(groups[s.name]), reverse=True)
        troubled = policies[scholar.name].breaker.troubled
        await asyncio.gather(
            _papers(arxiv, scholar, groups, wanted, report, run, admit, troubled),
            *(run(s, groups[s.name]) for s in others),
        )
    report.results = dict(sorted(report.results.items()))
    return report


async def _papers(
    arxiv: Source,
    scholar: Source,
    groups: Mapping[str, list[Entity]],
    wanted: Mapping[str, Entity],
    report: FetchReport,
    run: Callable[[Source, list[Entity], int | None], Awaitable[None]],
    admit: Callable[[Iterable[Entity]], dict[str, list[Entity]]],
    troubled: asyncio.Event,
) -> None:
    """Semantic Scholar, then arXiv with the papers it found: a paper linked by its DOI
    whose record names an arXiv id is fetched from arXiv in the same run.

    The Semantic Scholar records of papers not linked on arXiv are asked first (their
    batches filled up with the others), and arXiv starts when they are in; the rest of the
    batches go on while arXiv is asked. So the seed costs one request of each, and arXiv,
    the slowest source, waits for as many Semantic Scholar requests as there are 500s of
    papers not linked on arXiv (one for the seed, none for a list of arXiv links only).
    It waits only while Semantic Scholar answers: at its first failed attempt (`troubled`),
    arXiv starts with the papers linked on arXiv, and the papers Semantic Scholar names
    later get an arXiv call of their own.
    """
    papers = groups[scholar.name]
    first = sorted(papers, key=lambda e: e.identifier.key.startswith("arxiv:"))
    others = sum(1 for e in first if not e.identifier.key.startswith("arxiv:"))
    size = -(-others // S2_BATCH_SIZE) * S2_BATCH_SIZE  # whole batches holding them all
    head, tail = first[:size], first[size:]
    asked = asyncio.ensure_future(run(scholar, head, len(papers))) if head else None
    if asked is not None:
        trouble = asyncio.ensure_future(troubled.wait())
        await asyncio.wait({asked, trouble}, return_when=asyncio.FIRST_COMPLETED)
        trouble.cancel()
    ready = asked is None or asked.done()
    found = admit(_found_on_arxiv(report.results, wanted))[arxiv.name] if ready else []
    # The rest of Semantic Scholar as a task of its own, queued behind the other sources;
    # arXiv is awaited here, in this task, the first of `fetch_all`'s: its first request
    # goes out before the other sources' cache lookups and imports, not after them.
    rest = asyncio.ensure_future(run(scholar, tail, len(papers))) if tail else None
    try:
        if groups[arxiv.name] or found:
            await run(arxiv, [*groups[arxiv.name], *found], None)
        if not ready and asked is not None:
            await asked
            late = admit(_found_on_arxiv(report.results, wanted))[arxiv.name]
            if late:
                await run(arxiv, late, None)
    except BaseException:
        for task in (asked, rest):
            if task is not None:
                task.cancel()
        raise
    if rest is not None:
        await rest


def _found_on_arxiv(results: Mapping[str, Result], wanted: Mapping[str, Entity]) -> list[Entity]:
    """arXiv papers named by Semantic Scholar records and not linked themselves."""
    found: dict[str, Entity] = {}
    for result in results.values():
        data = result.data
        if isinstance(data, ScholarMeta) and data.arxiv_id and ARXIV_ID.fullmatch(data.arxiv_id):
            entity = Entity(Identifier(kind=Kind.ARXIV, key=data.arxiv_id))
            if entity.ref not in wanted:
                found[entity.ref] = entity
    return [found[ref] for ref in sorted(found)]


async def _run_source(
    source: Source,
    items: list[Entity],
    total: int,
    settings: Settings,
    cache: Cache,
    previous: Mapping[str, Result],
    policy: RetryPolicy,
    report: FetchReport,
    progress: Progress | None,
) -> None:
    stats = report.stats.setdefault(source.name, SourceStats())
    report.served[source.name] = report.served.get(source.name, 0) + len(items)

    def advance(n: int) -> None:
        if progress is not None:
            progress(source.name, n, total)

    if settings.offline:
        offline(source.name, items, cache, previous, report.results)
        advance(total)
        return
    todo = _partition(source.name, items, settings, cache, previous, report.results)
    hits = len(items) - len(todo)
    report.from_cache[source.name] = report.from_cache.get(source.name, 0) + hits
    advance(hits)
    if not todo:
        return
    kept: dict[str, Result] = {}  # facts the source handed early (`FetchContext.settled`)

    def keep(results: Mapping[str, Result]) -> None:
        with cache.transaction():
            for ref, got in results.items():
                if got.status in FACTS and cache.put(source.name, got):
                    kept[ref] = got

    ctx = FetchContext(settings=settings, policy=policy, stats=stats, advance=advance, keep=keep)
    fetched = await _call(source, todo, ctx)
    _note_host(source.name, policy.breaker, report)
    _conclude(source.name, todo, fetched, kept, cache, report)


def _note_host(name: str, breaker: Breaker, report: FetchReport) -> None:
    """What the source's circuit breaker saw, for the summary."""
    if breaker.unanswered:
        report.unanswered[name] = breaker.unanswered
    if breaker.unreachable:
        report.unreachable = tuple(sorted({*report.unreachable, name}))
    if breaker.late:
        report.late[name] = breaker.late


def _conclude(
    name: str,
    todo: list[Request],
    fetched: Mapping[str, Result],
    kept: Mapping[str, Result],
    cache: Cache,
    report: FetchReport,
) -> None:
    """Each request's result into `report`: facts stored (those not `kept` already), a
    failure counted and turned into the last known value, marked stale."""
    with cache.transaction():  # one commit for the source's facts, not one each
        for request in todo:
            got = fetched.get(request.ref)
            if got is None:
                got = failed(request, name, "the source returned no result for it")
            if got.status is Status.ERROR:
                optional = request.ref in report.optional
                counts = report.optional_failed if optional else report.failed
                counts[name] = counts.get(name, 0) + 1
                got = fallback(request, name, got.provenance.error or "failed", got)
            elif got.status is Status.SKIPPED:  # not sent by design: kept as it was
                got = fallback(request, name, got.provenance.error or "not sent")
            elif kept.get(request.ref) is not got:
                cache.put(name, got)
            report.results[request.ref] = got


def _within_budget(
    optional: Mapping[str, Entity],
    sources: Sequence[Source],
    settings: Settings,
    cache: Cache,
    previous: Mapping[str, Result],
    report: FetchReport,
) -> list[Entity]:
    """The optional entities to ask this run: every one fresh in the cache (free), and of
    the others at most `settings.discover_limit`, never asked ones first, then the longest
    unasked; the rest keep their last known result (or end `skipped`) until a later run."""
    free: list[Entity] = []
    due: list[tuple[float, str, Entity, Result | None]] = []
    for ref, entity in optional.items():
        source = _source_for(entity.identifier.kind, sources)
        entry = cache.get(source.name, ref) if source is not None else None
        fresh = entry is not None and entry.fresh and not settings.refresh
        if source is None or settings.offline or fresh:
            free.append(entity)
            continue
        last = entry.result if entry is not None else previous.get(ref)
        when = last.provenance.fetched_at if last is not None else None
        due.append((when.timestamp() if when else 0.0, ref, entity, last))
    due.sort(key=lambda item: item[:2])
    limit = settings.discover_limit  # `--refresh` too: it re-asks, within the same budget
    for _, ref, entity, last in due[limit:]:
        source = _source_for(entity.identifier.kind, sources)
        name = source.name if source is not None else "none"
        reason = f"discovery: over this run's {limit} lookups, asked on a later run"
        report.results[ref] = fallback(Request(entity.identifier, last), name, reason)
    report.deferred = max(0, len(due) - limit)
    return [*free, *(item[2] for item in due[:limit])]


def _partition(
    name: str,
    items: list[Entity],
    settings: Settings,
    cache: Cache,
    previous: Mapping[str, Result],
    results: dict[str, Result],
) -> list[Request]:
    """Answer fresh cache hits into `results`; return the requests for the rest."""
    todo: list[Request] = []
    for entity in items:
        entry = cache.get(name, entity.ref)
        if entry is not None and entry.fresh and not settings.refresh:
            results[entity.ref] = entry.result
            continue
        last = entry.result if entry is not None else previous.get(entity.ref)
        todo.append(Request(entity.identifier, last, entity.subpaths))
    return todo


async def _call(source: Source, todo: list[Request], ctx: FetchContext) -> Mapping[str, Result]:
    try:
        return await source.fetch(todo, ctx)
    except Exception as exc:  # noqa: BLE001 - a crashing source must not lose the run's data
        message = f"{source.name} failed: {type(exc).__name__}: {exc}"
        ctx.stats.note(message)
        return {r.ref: failed(r, source.name, message) for r in todo}
