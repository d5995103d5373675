"""The generated columns of the regenerated document: what each shows and how. Pure.

A column is a name (used in `[tool.enrich] columns`), a header, an alignment and a function
from a row's entities to a cell's text. Values are humanised (`12.3k`, `1.2M`), missing ones
blank, stale ones marked with a dagger (`12.3k†`: the last known value; fetching it failed).
Every generated header carries the marker `<!-- enrich -->`, invisible on GitHub, by which
the parser recognises generated columns when a regenerated document is used as a seed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from enrich.document import GENERATED_MARK
from enrich.errors import InputError
from enrich.models import (
    LANDING_KINDS,
    HubMeta,
    Kind,
    PageMeta,
    PaperMeta,
    RepoMeta,
    Result,
    RowRecord,
    ScholarMeta,
    Status,
    utc,
)
from enrich.text import plausible_year

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


def mark_stale(result: Result, text: str) -> str:
    """`text` with the stale mark when `result` is a last known value (a failed fetch)."""
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


def landing(record: RowRecord, entities: Entities) -> Result | None:
    """The row's paper as its landing page describes it (a PMLR or OpenReview paper)."""
    return row_entity(record, entities, LANDING_KINDS, PageMeta)


Described = PaperMeta | ScholarMeta | PageMeta


def described(record: RowRecord, entities: Entities) -> Iterator[tuple[Result, Described]]:
    """The row's paper as arXiv, Semantic Scholar and its landing page describe it, in that
    order (the ones known)."""
    for found in (paper(record, entities), scholar(record, entities), landing(record, entities)):
        if found is not None and isinstance(found.data, PaperMeta | ScholarMeta | PageMeta):
            yield found, found.data


def paper_title(record: RowRecord, entities: Entities) -> tuple[Result, Described] | None:
    """The first description of the row's paper that has a title: arXiv's, else Semantic
    Scholar's, else its landing page's."""
    return next(((f, d) for f, d in described(record, entities) if d.title), None)


@dataclass(frozen=True)
class Published:
    """When the row's paper was first published, and the entity that says so."""

    found: Result
    year: int
    day: date | None
    """None when only the year is known."""


def first_published(record: RowRecord, entities: Entities) -> Published | None:
    """arXiv's first version, else Semantic Scholar's date (or year alone), else the landing
    page's (PMLR: the proceedings' publication; OpenReview: when the paper went public)."""
    for found, data in described(record, entities):
        if isinstance(data, PaperMeta):
            day = utc(data.published).date()
            return _plausible(Published(found, day.year, day))
        if data.publication_date is not None:
            return _plausible(Published(found, data.publication_date.year, data.publication_date))
        if data.year:
            return _plausible(Published(found, data.year, None))
    return None


def _plausible(published: Published) -> Published | None:
    """Dates come from payloads: one outside `text.YEARS` (a dataset written before the
    sources checked, or by another program) is no date; the timeline spans its dates."""
    return published if plausible_year(published.year) is not None else None


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
        return "" if found is None or found.data is None else mark_stale(found, show(found.data))

    return value


def _published(record: RowRecord, entities: Entities) -> str:
    """The first-published month (the year alone when that is all that is known)."""
    found = first_published(record, entities)
    if found is None:
        return ""
    day = found.day  # years are 1800 to 2100 (`text.YEARS`): no strftime needed, nor its cost
    return mark_stale(found.found, f"{day.year}-{day.month:02d}" if day else str(found.year))


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column("stars", "Stars", "---:", _cell(repo, lambda d: humanise(d.stars))),
        Column("downloads", "Downloads", "---:", _cell(hub, lambda d: humanise(d.downloads))),
        Column("published", "Published", ":---:", _published),
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
