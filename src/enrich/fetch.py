"""Stage 3: identifiers -> results. Dedupe, cache lookup, sources run concurrently.

For each source, the entities it serves are split into those fresh in the cache (answered
from it, no request) and the rest, which go to the source in one call, with their last known
result so it can revalidate (ETag) and so a failure can fall back to it. Sources run
concurrently under one event loop.

After the call: facts (`ok`, `not_found`, `moved`) are stored in the cache; an `error`
becomes `stale` when a last known value exists (from the cache, else the previous dataset),
keeping that value and its old `fetched_at`. Nothing here raises per item: a source that
crashes marks its items as failed and the run goes on.

Offline, no source is called: entities keep their last known result as it was, or end
`skipped` when nothing is known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from enrich.cache import Cache
from enrich.config import GITHUB_CONCURRENCY, HF_CONCURRENCY, Settings
from enrich.models import Identifier, Kind, Provenance, Result, RowRecord, Status
from enrich.net import RetryPolicy
from enrich.sources import FetchContext, Request, Source, SourceStats


@dataclass(frozen=True)
class Entity:
    """A unique entity of the run and the subpaths linked for it."""

    identifier: Identifier
    subpaths: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return self.identifier.ref


@dataclass(repr=False)
class FetchReport:
    results: dict[str, Result]
    stats: dict[str, SourceStats] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)  # items per source
    from_cache: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)  # items whose fetch failed this run
    unanswered: dict[str, int] = field(default_factory=dict)  # attempts that got no answer

    def __repr__(self) -> str:
        """A summary, not every result: `asyncio.run` (3.11) formats the repr of its main
        task's result twice while it restores the SIGINT handler, a second or more for the
        results of 10,000 entities."""
        return (
            f"FetchReport({len(self.results)} results, served={self.served}, "
            f"from_cache={self.from_cache}, failed={self.failed})"
        )


WORKERS = GITHUB_CONCURRENCY + HF_CONCURRENCY + 2  # + arXiv's one, + one spare

FACTS = frozenset({Status.OK, Status.NOT_FOUND, Status.MOVED})

Progress = Callable[[str, int, int], None]
"""`progress(source, advanced_by, total)`: called as items of a source finish."""


def entities(records: Iterable[RowRecord]) -> dict[str, Entity]:
    """The unique entities linked from `records`, each with every subpath linked for it."""
    found: dict[str, Entity] = {}
    for record in records:
        for link in record.links:
            ref = link.ref  # an entity's identifier is that of the first link naming it
            entity = found.get(ref)
            if entity is None:
                ident = Identifier(kind=link.kind, key=link.key, version=link.version)
                entity = found[ref] = Entity(ident)
            if link.subpath and link.subpath not in entity.subpaths:
                found[ref] = Entity(entity.identifier, (*entity.subpaths, link.subpath))
            for also in link.also:
                if also not in found:
                    kind, key = also.split(":", 1)
                    found[also] = Entity(Identifier(kind=Kind(kind), key=key))
    return dict(sorted(found.items()))


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
) -> FetchReport:
    """Results for every entity in `wanted`; never raises for an item."""
    # Sync clients run in worker threads (`asyncio.to_thread`): the default pool has
    # cpu + 4 of them, fewer than the sources' own limits together on a small machine.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="enrich")
    )
    report = FetchReport(results={})
    groups: dict[str, list[Entity]] = {s.name: [] for s in sources}
    for ref, entity in wanted.items():
        source = _source_for(entity.identifier.kind, sources)
        if source is None or not settings.wants(source.name):
            report.results[ref] = _skipped(
                entity, source, _last_known(cache, source, ref, previous)
            )
        else:
            groups[source.name].append(entity)

    def policy() -> RetryPolicy:  # one per source: each has its own circuit breaker
        return RetryPolicy(
            attempts=settings.retry_attempts,
            max_seconds=settings.retry_max_seconds,
            wait=settings.retry_wait,
        )

    jobs = [
        _run_source(s, groups[s.name], settings, cache, previous, policy(), report, progress)
        for s in sources
        if groups[s.name]
    ]
    await asyncio.gather(*jobs)
    report.results = dict(sorted(report.results.items()))
    return report


async def _run_source(
    source: Source,
    items: list[Entity],
    settings: Settings,
    cache: Cache,
    previous: Mapping[str, Result],
    policy: RetryPolicy,
    report: FetchReport,
    progress: Progress | None,
) -> None:
    stats = report.stats.setdefault(source.name, SourceStats())
    report.served[source.name] = len(items)
    total = len(items)

    def advance(n: int) -> None:
        if progress is not None:
            progress(source.name, n, total)

    if settings.offline:
        _offline(source.name, items, cache, previous, report.results)
        advance(total)
        return
    todo = _partition(source.name, items, settings, cache, previous, report.results)
    report.from_cache[source.name] = hits = len(items) - len(todo)
    advance(hits)
    if not todo:
        return
    ctx = FetchContext(settings=settings, policy=policy, stats=stats, advance=advance)
    fetched = await _call(source, todo, ctx)
    if policy.breaker.unanswered:
        report.unanswered[source.name] = policy.breaker.unanswered
    with cache.transaction():  # one commit for the source's facts, not one each
        for request in todo:
            got = fetched.get(request.ref)
            if got is None:
                got = _failed(request, source.name, "the source returned no result for it")
            if got.status is Status.ERROR:
                report.failed[source.name] = report.failed.get(source.name, 0) + 1
                got = _fallback(request, source.name, got.provenance.error or "failed", got)
            else:
                cache.put(source.name, got)
            report.results[request.ref] = got


def _offline(
    name: str,
    items: list[Entity],
    cache: Cache,
    previous: Mapping[str, Result],
    results: dict[str, Result],
) -> None:
    """No request: the previous dataset's result as it was (so `check` reproduces the
    output), else the cache's, else `skipped`."""
    for entity in items:
        last = previous.get(entity.ref)
        if last is None:
            entry = cache.get(name, entity.ref)
            last = entry.result if entry is not None else None
        request = Request(entity.identifier, last, entity.subpaths)
        results[entity.ref] = _fallback(request, name, "offline: not fetched")


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
            results[entity.ref] = _from_cache(entry.result)
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
        return {r.ref: _failed(r, source.name, message) for r in todo}


def _from_cache(cached: Result) -> Result:
    provenance = cached.provenance.model_copy(update={"from_cache": True, "attempts": 0})
    return cached.model_copy(update={"provenance": provenance})


def _failed(request: Request, source: str, error: str) -> Result:
    return Result(
        ref=request.ref,
        provenance=Provenance(source=source, status=Status.ERROR, error=error),
    )


def _fallback(request: Request, source: str, error: str, failed: Result | None = None) -> Result:
    """After a failure: the last known value marked `stale`, else the failure itself.

    Without a failure (offline, or the source left out with --only/--skip): the last known
    result as it was — nothing was learnt, nothing failed — else `skipped`.
    """
    last = request.previous
    if failed is None:
        if last is not None and (last.data is not None or last.status in FACTS):
            return _from_cache(last)
        provenance = Provenance(source=source, status=Status.SKIPPED, error=error)
        return Result(ref=request.ref, provenance=provenance)
    if last is not None and last.data is not None:
        provenance = last.provenance.model_copy(
            update={"status": Status.STALE, "error": error, "from_cache": True, "attempts": 0}
        )
        return last.model_copy(update={"provenance": provenance})
    return failed


def _skipped(entity: Entity, source: Source | None, last: Result | None) -> Result:
    if source is None:
        reason = f"no source fetches {entity.identifier.kind.value} links"
        return Result(
            ref=entity.ref,
            provenance=Provenance(source="none", status=Status.SKIPPED, error=reason),
        )
    request = Request(entity.identifier, last, entity.subpaths)
    return _fallback(request, source.name, f"skipped: --only/--skip left out {source.name}")
