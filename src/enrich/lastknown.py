"""What an item of the fetch stage ends as: the one home of "a failure never overwrites a
known value". Pure but for `offline`'s cache lookup.

A fact (`ok`, `not_found`, `moved`) as it came (`settle`). After a failure: its last known
value, marked `stale`, with its old `fetched_at`. Without a failure and with nothing new
learnt (offline, left out with `--only`/`--skip`, not sent by design, a lookup left for a
later run): the last known result as it was, else `skipped`.
"""

from __future__ import annotations

from collections.abc import Mapping

from enrich.cache import Cache
from enrich.models import Provenance, Result, Status
from enrich.sources import Request, Source


def offline(
    name: str, items: list[Request], cache: Cache, previous: Mapping[str, Result]
) -> dict[str, Result]:
    """No request: the previous dataset's result as it was (so `check` reproduces the
    output), else the cache's, else `skipped`."""
    results: dict[str, Result] = {}
    for entity in items:
        last = previous.get(entity.ref)
        if last is None:
            entry = cache.get(name, entity.ref)
            last = entry.result if entry is not None else None
        request = entity.knowing(last)
        results[entity.ref] = fallback(request, name, "offline: not fetched")
    return results


def settle(request: Request, source: str, got: Result | None) -> Result:
    """What `request` ends as, given what its source answered (`got`; None: no result for
    it): a fact as it came; an `error` (or no result) the last known value marked `stale`,
    else the error; a `skipped` (not sent by design, e.g. a rate limit spent) the last
    known result as it was."""
    if got is None:
        got = failed(request, source, "the source returned no result for it")
    if got.status is Status.ERROR:
        return fallback(request, source, got.provenance.error or "failed", got)
    if got.status is Status.SKIPPED:
        return fallback(request, source, got.provenance.error or "not sent")
    return got


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


def skipped(entity: Request, source: Source | None, last: Result | None) -> Result:
    if source is None:
        reason = f"no source fetches {entity.identifier.kind.value} links"
        return Result(
            ref=entity.ref,
            provenance=Provenance(source="none", status=Status.SKIPPED, error=reason),
        )
    request = entity.knowing(last)
    return fallback(request, source.name, f"skipped: --only/--skip left out {source.name}")
