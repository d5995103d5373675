"""Stage 4: curated rows + fetched results + the previous dataset -> the new dataset. Pure.

Rules, one test each:
- the seed decides membership: entities no row links to any more are dropped;
- a new `ok` replaces the old value;
- a new `error` never overwrites an old `ok`: the fetch stage already turned it into
  `stale`, keeping the old value and its old `fetched_at` (the rule's one home is
  `lastknown.settle`);
- `not_found` and `moved` are facts and replace the old value;
- a value that did not change keeps its original `fetched_at` (and its `changes`), so a
  refresh that found nothing new rewrites no byte of the output;
- a value that changed records what changed (`changes`: stars, downloads, a new arXiv
  version, a license, archived, moved, gone) against the one before.
"""

from __future__ import annotations

from collections.abc import Sequence

from enrich.metadata import HubMeta, PageMeta, PaperMeta, RepoMeta, ScholarMeta
from enrich.models import Change, Dataset, Diagnostic, Entities, Result, RowRecord, Scalar, by_ref

TRACKED: dict[type, tuple[str, ...]] = {
    PaperMeta: ("latest_version", "title", "journal_ref", "doi"),
    RepoMeta: ("full_name", "stars", "forks", "license_spdx", "archived"),
    HubMeta: ("downloads", "likes", "license", "gated", "upvotes", "items", "models"),
    ScholarMeta: ("citations", "influential_citations", "venue", "journal", "doi", "arxiv_id"),
    PageMeta: ("title", "venue", "year"),
}


def merge(
    seeds: Sequence[str],
    records: Sequence[RowRecord],
    results: Entities,
    previous: Entities,
    diagnostics: Sequence[Diagnostic],
) -> Dataset:
    entities = {ident: carry(result, previous.get(ident)) for ident, result in results.items()}
    return Dataset(
        seeds=list(seeds),
        records=list(records),
        entities=by_ref(entities),
        diagnostics=list(diagnostics),
    )


def carry(new: Result, old: Result | None) -> Result:
    """`new`, with `old`'s `fetched_at` and `changes` when the facts are the same, else with
    what changed since `old`."""
    if old is None:
        return new
    if not same_facts(new, old):
        return new.model_copy(update={"changes": diff(old, new)})
    if old.provenance.fetched_at is None:
        return new.model_copy(update={"changes": old.changes})
    # Same facts: the old time and validators stay, so nothing in the output moves.
    provenance = new.provenance.model_copy(
        update={
            "fetched_at": old.provenance.fetched_at,
            "etag": old.provenance.etag or new.provenance.etag,
            "last_modified": old.provenance.last_modified or new.provenance.last_modified,
        }
    )
    return new.model_copy(update={"provenance": provenance, "changes": old.changes})


def same_facts(new: Result, old: Result) -> bool:
    """Same status, data and move: what a reader of the dataset sees as the facts."""
    return new.status == old.status and new.data == old.data and new.moved_to == old.moved_to


def diff(old: Result, new: Result) -> list[Change]:
    """The tracked fields that differ between `old` and `new`, status and move included."""
    changes = [
        Change(field=name, old=a, new=b)
        for name, a, b in (
            ("status", old.status.value, new.status.value),
            ("moved_to", old.moved_to, new.moved_to),
        )
        if a != b
    ]
    if new.data is None or old.data is None or type(new.data) is not type(old.data):
        return changes
    for name in TRACKED.get(type(new.data), ()):
        before, after = _scalar(old.data, name), _scalar(new.data, name)
        if before != after:
            changes.append(Change(field=name, old=before, new=after))
    return changes


def _scalar(data: object, name: str) -> Scalar:
    value = getattr(data, name, None)
    return value if isinstance(value, int | float | str | bool) or value is None else str(value)
