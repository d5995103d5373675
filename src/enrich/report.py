"""Stage 5, for people: what this refresh changed (`CHANGES.md`) and what to fix (`report.md`).

Both are derived from datasets only — pure functions, deterministic text, no run timestamps —
so they can be committed. `CHANGES.md` is short enough to be a commit message body or a
pull-request description; it is `None` when nothing changed, so a refresh that finds
nothing new leaves the last one in place. `report.md` lists every data problem a maintainer
should fix, each with the seed's `file:line` and a suggested fix.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from enrich.columns import humanise, paper
from enrich.merge import diff, same_facts
from enrich.models import (
    Change,
    Dataset,
    Kind,
    PaperMeta,
    RepoMeta,
    Result,
    RowRecord,
    Severity,
    Status,
)
from enrich.render import escape_cell

MOVERS = 10


@dataclass(frozen=True, order=True)
class Problem:
    """A data problem: where, what, and what to do."""

    file: str
    line: int
    code: str
    message: str
    fix: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


# ------------------------------------------------------------------------------ CHANGES.md


def changes_markdown(previous: Dataset | None, dataset: Dataset) -> str | None:
    """What this refresh changed, or None when nothing did."""
    old_entities = previous.entities if previous else {}
    old_ids = {r.id for r in previous.records} if previous else set()
    new_rows = [r for r in dataset.records if r.id not in old_ids] if previous else []
    gone_rows = sorted(old_ids - {r.id for r in dataset.records})
    changed = {
        ref: diff(old_entities[ref], new)
        for ref, new in dataset.entities.items()
        if ref in old_entities and not same_facts(new, old_entities[ref])
    }
    sections = [
        _rows_section("New rows", [f"{_name(r)} ({r.file}:{r.line})" for r in new_rows]),
        _rows_section("Removed rows", gone_rows),
        _movers(changed),
        _rows_section("New versions", list(_versions(changed))),
        _rows_section("Repositories", list(_repo_events(changed, dataset.entities))),
        _rows_section("Other changes", list(_other(changed))),
    ]
    body = [s for s in sections if s]
    if previous is None:
        first = f"First refresh: {len(dataset.records)} rows, {len(dataset.entities)} entities."
    elif not body:
        return None
    else:
        first = f"{len(new_rows)} new rows, {sum(map(len, changed.values()))} changed facts."
    return f"# Changes\n\n{first}\n\n" + "\n".join(body)


def _name(record: RowRecord) -> str:
    first = next((v for v in record.cells.values() if v), record.id)
    return escape_cell(first, 80)


def _rows_section(title: str, items: list[str]) -> str:
    if not items:
        return ""
    return f"## {title}\n\n" + "".join(f"- {item}\n" for item in items)


def _movers(changed: Mapping[str, list[Change]]) -> str:
    moves = [
        (ref, c.field, c.old, c.new)
        for ref, changes in changed.items()
        for c in changes
        if c.field in ("stars", "downloads") and isinstance(c.old, int) and isinstance(c.new, int)
    ]
    moves.sort(key=lambda m: (-abs(m[3] - m[2]), m[0], m[1]))
    lines = [
        f"- {ref}: {name} {humanise(new)} ({new - old:+,})"
        for ref, name, old, new in moves[:MOVERS]
    ]
    return _rows_section("Biggest movers", lines)


def _versions(changed: Mapping[str, list[Change]]) -> Iterator[str]:
    for ref, changes in changed.items():
        for c in changes:
            if c.field == "latest_version":
                yield f"{ref}: {c.old} → {c.new}"


def _repo_events(
    changed: Mapping[str, list[Change]], entities: Mapping[str, Result]
) -> Iterator[str]:
    for ref, changes in changed.items():
        for c in changes:
            if c.field == "archived" and c.new is True:
                yield f"{ref}: archived"
            elif c.field == "moved_to" and c.new:
                yield f"{ref}: moved to {c.new}"
            elif c.field == "status" and c.new == Status.NOT_FOUND.value:
                yield f"{ref}: gone (404)"
            elif c.field == "license_spdx":
                yield f"{ref}: license {c.old} → {c.new}"


def _other(changed: Mapping[str, list[Change]]) -> Iterator[str]:
    shown = {"stars", "downloads", "latest_version", "archived", "moved_to", "license_spdx"}
    for ref, changes in changed.items():
        for c in changes:
            if c.field not in shown and not (c.field == "status" and c.new == "not_found"):
                yield f"{ref}: {c.field} {_short(c.old)} → {_short(c.new)}"


def _short(value: object) -> str:
    text = escape_cell(str(value), 60)
    return text or "—"


# ------------------------------------------------------------------------------ report.md


def problems(dataset: Dataset) -> list[Problem]:
    """Every data problem in the dataset, sorted by place."""
    found = [
        Problem(d.file, d.line, d.code, d.message, d.hint)
        for d in dataset.diagnostics
        if d.severity is not Severity.INFO or d.code == "duplicate-entity"
    ]
    for record in dataset.records:
        found.extend(_year(record, dataset.entities))
        found.extend(_entity_problems(record, dataset.entities))
        found.extend(_model_card(record))
    return sorted(set(found))


def _year(record: RowRecord, entities: Mapping[str, Result]) -> Iterator[Problem]:
    year = next((v for k, v in record.cells.items() if k.strip().lower() == "year"), "")
    found = paper(record, entities)
    if not year.isdigit() or found is None or not isinstance(found.data, PaperMeta):
        return
    published = found.data.published
    if int(year) != published.year:
        yield Problem(
            record.file,
            record.line,
            "year-mismatch",
            f"Year cell says {year}, but arXiv {found.data.arxiv_id} was first published "
            f"{published:%Y-%m}",
            f"write {published.year}, unless {year} is a deliberate venue year",
        )


def _entity_problems(record: RowRecord, entities: Mapping[str, Result]) -> Iterator[Problem]:
    for link in record.links:
        result = entities.get(link.ref)
        if result is None:
            continue
        if result.status is Status.NOT_FOUND:
            yield Problem(
                record.file,
                record.line,
                "not-found",
                f"{link.url} no longer exists ({link.kind.value} not found)",
                "remove the link or replace it with the new address",
            )
        elif result.status is Status.MOVED and result.moved_to:
            new = result.moved_to.split(":", 1)[1]
            name = result.data.full_name if isinstance(result.data, RepoMeta) else new
            yield Problem(
                record.file,
                record.line,
                "moved",
                f"{link.url} moved to {name}",
                f"link https://github.com/{name} instead",
            )
        if isinstance(result.data, RepoMeta) and result.data.archived:
            yield Problem(
                record.file,
                record.line,
                "archived",
                f"repository {result.data.full_name} is archived",
                "keep it if the code is still the reference; consider a maintained fork",
            )
        if result.status in (Status.ERROR, Status.STALE):
            yield Problem(
                record.file,
                record.line,
                result.status.value,
                f"{link.ref} could not be fetched: {result.provenance.error}",
                "it is retried on the next refresh; check the link if it persists",
            )


def _model_card(record: RowRecord) -> Iterator[Problem]:
    for link in record.links:
        if "model" not in link.column.lower():
            continue
        what = {
            Kind.HF_DOCS: "a documentation page",
            Kind.HF_ORG: "an organisation or user page",
            Kind.GITHUB_USER: "a GitHub user page",
            Kind.HF_PAPER: "a paper page",
        }.get(link.kind)
        if what is not None:
            yield Problem(
                record.file,
                record.line,
                "not-a-model",
                f"{link.column} cell points to {what}: {link.url}",
                "link the model itself (huggingface.co/ORG/MODEL)",
            )


def report_markdown(dataset: Dataset) -> str:
    """`report.md`: the problems to fix, grouped by kind, each with file:line and a fix."""
    found = problems(dataset)
    lines = ["# Report", "", f"{len(found)} problem(s) to look at.", ""]
    for code in sorted({p.code for p in found}):
        group = [p for p in found if p.code == code]
        lines += [f"## {code} ({len(group)})", ""]
        lines += [f"- `{p.where}`: {escape_cell(p.message, 300)} — {p.fix}" for p in group]
        lines.append("")
    return "\n".join(lines)
