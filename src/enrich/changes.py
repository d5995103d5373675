"""Stage 5, for people: what this refresh changed (`CHANGES.md`).

Derived from the previous and the new dataset only — a pure function, deterministic text,
no run timestamps — so it can be committed. It is short enough to be a commit message body
or a pull-request description, and `None` when nothing changed, so a refresh that finds
nothing new leaves the last one in place. What to fix in the seeds is `report.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from enrich.columns import humanise
from enrich.merge import diff, same_facts
from enrich.models import REF, Change, Dataset, Identifier, Result, RowRecord, Status
from enrich.render import escape_cell
from enrich.rows import record_name_cell

LIMIT = 10
"""Items per section of CHANGES.md at most: it must fit a commit message body."""

Changed = Mapping[Identifier, list[Change]]
"""What changed, by entity, in order of ref (the entity's name in CHANGES.md)."""


def changes_markdown(previous: Dataset | None, dataset: Dataset) -> str | None:
    """What this refresh changed, or None when nothing did.

    Only an entity the list links can be "gone (404)". A 404 of anything else the run asks
    about (a discovery lookup finding no Hub page for a paper, Semantic Scholar having no
    record of one) says nothing is there to suggest or add, not that a link broke: it is
    not listed."""
    linked = {link.id for record in dataset.records for link in record.links}
    old_entities = previous.results if previous else {}
    old_ids = {r.id for r in previous.records} if previous else set()
    new_rows = [r for r in dataset.records if r.id not in old_ids] if previous else []
    gone_rows = sorted(old_ids - {r.id for r in dataset.records})
    changed = {
        ident: facts
        for ident in sorted(dataset.results, key=REF)
        if ident in old_entities
        and (facts := changed_facts(old_entities[ident], dataset.results[ident]))
    }
    sections = [
        _section("New rows", [f"{_name(r)} ({r.file}:{r.line})" for r in new_rows]),
        _section("Removed rows", gone_rows),
        _movers(changed),
        _section("New versions", list(_versions(changed))),
        _section("Archived, moved, gone", list(_repo_events(changed, linked))),
        _section("Other changes", list(_other(changed))),
    ]
    body = [s for s in sections if s]
    if previous is None:
        first = f"First refresh: {len(dataset.records)} rows, {len(dataset.entities)} entities."
    elif not body:
        return None
    else:
        first = f"{len(new_rows)} new rows, {sum(map(len, changed.values()))} changed facts."
    return "\n".join([f"# Changes\n\n{first}\n", *body])


def changed_facts(old: Result, new: Result) -> list[Change]:
    """What changed upstream between `old` and `new`. A fetch that failed or was not made
    (`ok` to `stale`, `skipped` or `error`, and back) is not a change of the facts."""
    if same_facts(new, old):
        return []
    return [c for c in diff(old, new) if not (c.field == "status" and {c.old, c.new} <= _PASSING)]


_PASSING = {s.value for s in (Status.OK, Status.STALE, Status.ERROR, Status.SKIPPED)}


def _name(record: RowRecord) -> str:
    return escape_cell(record_name_cell(record) or record.id, 80)


def _section(title: str, items: list[str]) -> str:
    """A titled list of at most `LIMIT` items, and how many more there are."""
    if not items:
        return ""
    shown = [f"- {item}\n" for item in items[:LIMIT]]
    if len(items) > LIMIT:
        shown.append(f"- … and {len(items) - LIMIT} more\n")
    return f"## {title}\n\n" + "".join(shown)


_MOVING = ("stars", "downloads", "citations")


def _movers(changed: Changed) -> str:
    moves = [
        (ident.ref, c.field, c.old, c.new)
        for ident, changes in changed.items()
        for c in changes
        if c.field in _MOVING and isinstance(c.old, int) and isinstance(c.new, int)
    ]
    moves.sort(key=lambda m: (-abs(m[3] - m[2]), m[0], m[1]))
    lines = [f"{ref}: {name} {humanise(new)} ({new - old:+,})" for ref, name, old, new in moves]
    return _section("Biggest movers", lines)


def _versions(changed: Changed) -> Iterator[str]:
    for ident, changes in changed.items():
        for c in changes:
            if c.field == "latest_version":
                yield f"{ident.ref}: {_short(c.old)} → {_short(c.new)}"


def _repo_events(changed: Changed, linked: set[Identifier]) -> Iterator[str]:
    for ident, changes in changed.items():
        for c in changes:
            if c.field == "archived" and c.new is True:
                yield f"{ident.ref}: archived"
            elif c.field == "moved_to" and c.new:
                yield f"{ident.ref}: moved to {_short(c.new)}"
            elif c.field == "status" and c.new == Status.NOT_FOUND.value and ident in linked:
                yield f"{ident.ref}: gone (404)"
            elif c.field == "license_spdx":
                yield f"{ident.ref}: license {_short(c.old)} → {_short(c.new)}"


def _other(changed: Changed) -> Iterator[str]:
    """Every other change, except what the sections above explain (a move renames)."""
    shown = {*_MOVING, "latest_version", "archived", "moved_to", "license_spdx"}
    explained = {Status.NOT_FOUND.value, Status.MOVED.value}
    for ident, changes in changed.items():
        moved = any(c.field == "moved_to" and c.new for c in changes)
        for c in changes:
            if c.field in shown or (c.field == "status" and c.new in explained):
                continue
            if not (moved and c.field == "full_name"):
                yield f"{ident.ref}: {c.field} {_short(c.old)} → {_short(c.new)}"


def _short(value: object) -> str:
    text = escape_cell(str(value), 60) if value is not None else ""
    return text or "—"
