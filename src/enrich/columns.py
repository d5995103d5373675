"""The generated columns of the regenerated document: what each shows and how. Pure.

A column is a name (used in `[tool.enrich] columns`), a header, an alignment and a function
from a row's entities to a cell's text. Values are humanised (`12.3k`, `1.2M`), missing ones
blank, stale ones marked with a dagger (`12.3k†`: the last known value; fetching it failed).
Every generated header carries the marker `<!-- enrich -->`, invisible on GitHub, by which
the parser recognises generated columns when a regenerated document is used as a seed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from enrich.document import GENERATED_MARK
from enrich.errors import InputError
from enrich.models import (
    HubMeta,
    Kind,
    PaperMeta,
    RepoMeta,
    Result,
    RowRecord,
    ScholarMeta,
    Status,
)

__all__ = ["GENERATED_MARK", "Column", "humanise", "select"]
STALE_MARK = "†"

Entities = Mapping[str, Result]


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    align: str  # delimiter cell: "---:" right, ":---:" center, "---" none
    value: Callable[[RowRecord, Entities], str]


def humanise(number: int | None) -> str:
    """`999`, `1.2k`, `12.3k`, `1.2M`, `3.4B`; blank for None."""
    if number is None:
        return ""
    if abs(number) < 1_000:
        return str(number)
    for size, suffix in ((1_000, "k"), (1_000_000, "M"), (1_000_000_000, "B")):
        text = f"{number / size:.1f}"
        # Rounding may reach the next unit: 999,950 is 1000.0k, shown as 1M.
        if abs(float(text)) < 1_000 or suffix == "B":
            break
    return f"{text.removesuffix('.0')}{suffix}"


def row_entity(
    record: RowRecord, entities: Entities, kinds: frozenset[Kind], type_: type
) -> Result | None:
    """The first entity of `kinds` linked from the row that has data of `type_`."""
    prefixes = _prefixes(kinds)
    for link in record.links:
        if link.kind in kinds:
            result = entities.get(link.ref)
            if result is not None and isinstance(result.data, type_):
                return result
        for ref in link.also:
            if ref.startswith(prefixes):
                result = entities.get(ref)
                if result is not None and isinstance(result.data, type_):
                    return result
    return None


@functools.cache
def _prefixes(kinds: frozenset[Kind]) -> tuple[str, ...]:
    """The `kind:` prefixes of the refs of `kinds`."""
    return tuple(sorted(f"{k.value}:" for k in kinds))


def _mark(result: Result, text: str) -> str:
    return f"{text}{STALE_MARK}" if text and result.status is Status.STALE else text


def scholar(record: RowRecord, entities: Entities) -> Result | None:
    """The row's paper as Semantic Scholar knows it (citations, venue, other ids)."""
    return row_entity(record, entities, frozenset({Kind.SCHOLAR}), ScholarMeta)


def paper(record: RowRecord, entities: Entities) -> Result | None:
    """The row's arXiv paper: linked, or found through Semantic Scholar (a DOI paper that
    is also on arXiv)."""
    found = row_entity(record, entities, frozenset({Kind.ARXIV}), PaperMeta)
    if found is None and (record_ := scholar(record, entities)) is not None:
        data = record_.data
        if isinstance(data, ScholarMeta) and data.arxiv_id:
            other = entities.get(f"{Kind.ARXIV.value}:{data.arxiv_id}")
            found = other if other is not None and isinstance(other.data, PaperMeta) else None
    return found


def repo(record: RowRecord, entities: Entities) -> Result | None:
    return row_entity(record, entities, frozenset({Kind.GITHUB_REPO}), RepoMeta)


def hub(record: RowRecord, entities: Entities) -> Result | None:
    kinds = frozenset({Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE})
    return row_entity(record, entities, kinds, HubMeta)


Pick = Callable[[RowRecord, Entities], Result | None]


def _cell(pick: Pick, show: Callable[[Any], str]) -> Callable[[RowRecord, Entities], str]:
    """A column's value: `show` of the data of the entity `pick` finds, stale-marked."""

    def value(record: RowRecord, entities: Entities) -> str:
        found = pick(record, entities)
        return "" if found is None or found.data is None else _mark(found, show(found.data))

    return value


def _month(moment: datetime | None) -> str:
    if moment and moment.year >= 1000:  # what strftime("%Y-%m") gives, without its cost
        return f"{moment.year}-{moment.month:02d}"
    return moment.strftime("%Y-%m") if moment else ""


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column("stars", "Stars", "---:", _cell(repo, lambda d: humanise(d.stars))),
        Column("downloads", "Downloads", "---:", _cell(hub, lambda d: humanise(d.downloads))),
        Column("published", "Published", ":---:", _cell(paper, lambda d: _month(d.published))),
        Column("citations", "Citations", "---:", _cell(scholar, lambda d: humanise(d.citations))),
        Column("likes", "Likes", "---:", _cell(hub, lambda d: humanise(d.likes))),
        Column("license", "License", ":---:", _cell(repo, lambda d: d.license_spdx or "")),
        Column("pushed", "Last push", ":---:", _cell(repo, lambda d: _day(d.pushed_at))),
    )
}
DEFAULT_COLUMNS = ("stars", "downloads", "published")


def select(names: Sequence[str], headers: Mapping[str, str] | None = None) -> tuple[Column, ...]:
    """The columns named, in order, with headers overridden where `headers` says so."""
    headers = headers or {}
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        known = ", ".join(COLUMNS)
        raise InputError(f"unknown column(s) {', '.join(unknown)} in [tool.enrich]; known: {known}")
    return tuple(
        Column(c.name, headers.get(c.name, c.header), c.align, c.value)
        for c in (COLUMNS[n] for n in names)
    )
