"""What an item of the fetch stage ends as when nothing new is learnt about it.

After a failure: its last known value, marked `stale` (never overwritten by the failure).
Without one (offline, left out with `--only`/`--skip`, a lookup left for a later run): the
last known result as it was, else `skipped`.
"""

from __future__ import annotations

from collections.abc import Mapping

from enrich.cache import Cache
from enrich.models import Provenance, Result, Status
from enrich.plan import Entity
from enrich.sources import Request, Source


def offline(
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
        results[entity.ref] = fallback(request, name, "offline: not fetched")


def failed(request: Request, source: str, error: str) -> Result:
    return Result(
        ref=request.ref,
        provenance=Provenance(source=source, status=Status.ERROR, error=error),
    )


def fallback(request: Request, source: str, error: str, failed: Result | None = None) -> Result:
    """After a failure: the last known value marked `stale`, else the failure itself.

    Without a failure (offline, the source left out with --only/--skip, a discovery lookup
    left for a later run): the last known result as it was, whatever it was — a value, a
    fact, or the failure or skip that left it without one: nothing was learnt, nothing
    failed, and `check` reproduces the output of the run before — else `skipped`.
    """
    last = request.previous
    if failed is None:
        if last is not None:
            return last
        provenance = Provenance(source=source, status=Status.SKIPPED, error=error)
        return Result(ref=request.ref, provenance=provenance)
    if last is not None and last.data is not None:
        provenance = last.provenance.model_copy(update={"status": Status.STALE, "error": error})
        return last.model_copy(update={"provenance": provenance})
    return failed


def skipped(entity: Entity, source: Source | None, last: Result | None) -> Result:
    if source is None:
        reason = f"no source fetches {entity.identifier.kind.value} links"
        return Result(
            ref=entity.ref,
            provenance=Provenance(source="none", status=Status.SKIPPED, error=reason),
        )
    request = Request(entity.identifier, last, entity.subpaths)
    return fallback(request, source.name, f"skipped: --only/--skip left out {source.name}")
