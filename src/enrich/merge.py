"""Stage 4: curated rows + fetched results + the previous dataset -> the new dataset. Pure.

Rules, one test each:
- the seed decides membership: entities no row links to any more are dropped;
- a new `ok` replaces the old value;
- a new `error` never overwrites an old `ok`: the fetch stage already turned it into
  `stale`, keeping the old value and its old `fetched_at`;
- `not_found` and `moved` are facts and replace the old value;
- a value that did not change keeps its original `fetched_at`, so a refresh that found
  nothing new rewrites no byte of the output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from enrich.models import Dataset, Diagnostic, Result, RowRecord


def merge(
    seeds: Sequence[str],
    records: Sequence[RowRecord],
    results: Mapping[str, Result],
    previous: Mapping[str, Result],
    diagnostics: Sequence[Diagnostic],
) -> Dataset:
    entities = {ref: keep_timestamp(result, previous.get(ref)) for ref, result in results.items()}
    return Dataset(
        seeds=list(seeds),
        records=list(records),
        entities=dict(sorted(entities.items())),
        diagnostics=list(diagnostics),
    )


def keep_timestamp(new: Result, old: Result | None) -> Result:
    """`new`, with `old`'s `fetched_at` when the facts are the same."""
    if old is None or old.provenance.fetched_at is None:
        return new
    same = (
        new.status == old.status
        and new.data == old.data
        and new.moved_to == old.moved_to
        and new.provenance.error == old.provenance.error
    )
    if not same or new.provenance.fetched_at == old.provenance.fetched_at:
        return new
    provenance = new.provenance.model_copy(update={"fetched_at": old.provenance.fetched_at})
    return new.model_copy(update={"provenance": provenance})
