"""Stage 5, for people: what this refresh changed (`CHANGES.md`).

Derived from the previous and the new dataset only — a pure function, deterministic text,
no run timestamps — so it can be committed. It is short enough to be a commit message body
or a pull-request description, and `None` when nothing changed, so a refresh that finds
nothing new leaves the last one in place. What to fix in the seeds is `report.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

from enrich.columns import humanise, signed
from enrich.merge import diff, same_facts
from enrich.models import REF, Change, Dataset, Identifier, Result, RowRecord, Status
from enrich.render import escape_cell
from enrich.rows import record_name_cell
from enrich.trends import MOVING, Mover, Trends, movers, went_quiet

LIMIT = 10
"""Items per section of CHANGES.md at most: it must fit a commit message body."""

Changed = Mapping[Identifier, list[Change]]
"""What changed, by entity, in order of ref (the entity's name in CHANGES.md)."""


def changes_markdown(
    previous: Dataset | None,
    dataset: Dataset,
    trends: Trends | None = None,
    since: date | None = None,
) -> str | None:
    """What this refresh changed, or None when nothing did; with the history's `trends`, the
    biggest 30-day movers too, and the repositories that went quiet after `since` (the day
    the history reached before this refresh).

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
        _section("Newly archived, gone quiet", list(_quiet(changed, dataset, trends, since))),
        _section("Moved, gone, relicensed", list(_repo_events(changed, linked))),
        _section("Other changes", list(_other(changed))),
    ]
    body = [s for s in sections if s]
    if body and trends is not None:
        body += [s for s in _trending(trends, dataset) if s]
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


def _movers(changed: Changed) -> str:
    moves = [
        (ident, c.field, c.old, c.new)
        for ident, changes in changed.items()
        for c in changes
        if c.field in MOVING and isinstance(c.old, int) and isinstance(c.new, int)
    ]
    moves.sort(key=lambda m: (-abs(m[3] - m[2]), REF(m[0]), m[1]))
    lines = [f"{i.ref}: {name} {humanise(new)} ({new - old:+,})" for i, name, old, new in moves]
    return _section("Biggest movers", lines)


def _versions(changed: Changed) -> Iterator[str]:
    for ident, changes in changed.items():
        for c in changes:
            if c.field == "latest_version":
                yield f"{ident.ref}: {_short(c.old)} → {_short(c.new)}"


def _repo_events(changed: Changed, linked: set[Identifier]) -> Iterator[str]:
    for ident, changes in changed.items():
        for c in changes:
            if c.field == "moved_to" and c.new:
                yield f"{ident.ref}: moved to {_short(c.new)}"
            elif c.field == "status" and c.new == Status.NOT_FOUND.value and ident in linked:
                yield f"{ident.ref}: gone (404)"
            elif c.field == "license_spdx":
                yield f"{ident.ref}: license {_short(c.old)} → {_short(c.new)}"


def _quiet(
    changed: Changed, dataset: Dataset, trends: Trends | None, since: date | None
) -> Iterator[str]:
    """Repositories archived by this refresh, and those whose last push is now `QUIET` old."""
    for ident, changes in changed.items():
        if any(c.field == "archived" and c.new is True for c in changes):
            yield f"{ident.ref}: archived"
    as_of = trends.as_of if trends is not None else None
    for ident in sorted(dataset.results, key=REF):
        pushed = went_quiet(dataset.results[ident], since, as_of)
        if pushed is not None:
            yield f"{ident.ref}: no push since {pushed.isoformat()}"


def _trending(trends: Trends, dataset: Dataset) -> tuple[str, str]:
    """The biggest 30-day movers: by how much, and by how much of what they had."""
    moved = movers(trends, dataset.results)
    relative = sorted(
        (m for m in moved if m.relative is not None),
        key=lambda m: (-abs(m.relative or 0.0), REF(m.id), m.field),
    )
    return (
        _section("Trending (30 days)", [_mover(m) for m in moved]),
        _section("Trending, relative (30 days)", [_mover(m) for m in relative]),
    )


def _mover(mover: Mover) -> str:
    share = f", {mover.relative:+.0%}" if mover.relative is not None else ""
    return f"{mover.id.ref}: {mover.field} {humanise(mover.now)} ({signed(mover.change)}{share})"


def _other(changed: Changed) -> Iterator[str]:
    """Every other change, except what the sections above explain (a move renames)."""
    shown = {*MOVING, "latest_version", "archived", "moved_to", "license_spdx"}
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
