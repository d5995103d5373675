"""Discovery's budget: which of its lookups a run asks, and what the others keep.

Every lookup fresh in the cache is free (`cache.fresh_hit`), and so is every lookup no source
asks this run (none serves it, `--offline`, or `--only`/`--skip` leaves its source out); of
the others at most `settings.discover_limit` are asked a run, never asked ones first, then the
longest unasked; the rest keep their last known result (or end `skipped`) until a later run.
The cache entries looked up here are handed on (`Budgeted.known`), so the fetch stage does
not look them up again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from enrich.cache import Cache, Entry, fresh_hit
from enrich.config import Settings
from enrich.lastknown import fallback
from enrich.models import Result
from enrich.sources import Request, Source, last_fetched, source_for


@dataclass(frozen=True)
class Budgeted:
    known: Mapping[str, Entry | None]  # the cache entries looked up, by ref
    asked: list[Request]  # the lookups to make this run
    later: Mapping[str, Result]  # the results of those left for a later run


def within_budget(
    optional: Mapping[str, Request],
    sources: Sequence[Source],
    settings: Settings,
    cache: Cache,
    previous: Mapping[str, Result],
) -> Budgeted:
    """The optional entities to ask this run, within the budget (see the module)."""
    known: dict[str, Entry | None] = {}
    free: list[Request] = []
    due: list[tuple[float, str, Request, Result | None, str]] = []
    for ref, entity in optional.items():
        source = source_for(entity.identifier.kind, sources)
        if source is None or settings.offline or not settings.wants(source.name):
            free.append(entity)  # asks nothing: it keeps what it had (`fetch._Run.admit`)
            continue
        entry = known[ref] = cache.get(source.name, ref)
        if fresh_hit(entry, settings.refresh) is not None:
            free.append(entity)
            continue
        last = entry.result if entry is not None else previous.get(ref)
        due.append((last_fetched(last), ref, entity, last, source.name))
    due.sort(key=lambda item: item[:2])
    limit = settings.discover_limit  # `--refresh` too: it re-asks, within the same budget
    reason = f"discovery: over this run's {limit} lookups, asked on a later run"
    later = {
        ref: fallback(entity.knowing(last), name, reason)
        for _, ref, entity, last, name in due[limit:]
    }
    return Budgeted(known, [*free, *(item[2] for item in due[:limit])], later)
