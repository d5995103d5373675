"""The generated columns of the regenerated document: what each shows and how. Pure.

A column is a name (used in `[tool.enrich] columns`), a header, an alignment and a function
from a row's facts (`RowFacts`: its paper, repository, model... as its linked entities say)
to a cell's text; the page, the report and the timeline read the same facts (`Facts`).
Values are humanised (`12.3k`, `1.2M`), missing ones blank, stale ones marked with a dagger
(`12.3k†`: the last known value; fetching it failed). Every generated header carries the
marker `<!-- enrich -->`, invisible on GitHub, by which the parser recognises generated
columns when a regenerated document is used as a seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple, TypeVar, cast

from enrich.document import GENERATED_MARK
from enrich.errors import InputError
from enrich.metadata import HubMeta, PageMeta, PaperMeta, RepoMeta, ScholarMeta
from enrich.models import (
    LANDING_KINDS,
    Entities,
    Identifier,
    Kind,
    Link,
    Result,
    RowRecord,
    Status,
    utc,
)
from enrich.plan import companions
from enrich.text import plausible_year
from enrich.trends import Held, RowTrend, Trends, row_trend

__all__ = ["GENERATED_MARK", "Column", "humanise", "select"]
STALE_MARK = "†"

D = TypeVar("D")


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    align: str  # delimiter cell: "---:" right, ":---:" center, "---" none
    value: Callable[[RowFacts], str]


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


def mark_stale(result: Result, text: str) -> str:
    """`text` with the stale mark when `result` is a last known value (a failed fetch)."""
    return f"{text}{STALE_MARK}" if text and result.status is Status.STALE else text


Described = PaperMeta | ScholarMeta | PageMeta


class Published(NamedTuple):
    """When the row's paper was first published, and the entity that says so."""

    id: Identifier
    found: Result
    year: int
    day: date | None
    """None when only the year is known."""


class Roles(NamedTuple):
    """The entities a row's facts come from (`RowFacts`), by role; None where it has none."""

    paper: Identifier | None = None
    scholar: Identifier | None = None
    landing: Identifier | None = None
    repo: Identifier | None = None
    hub: Identifier | None = None


class RowFacts(NamedTuple):
    """What a row's linked entities say: for each role, the first entity of the row (in
    link order, a link before the entities it names) of that role's kinds that has data
    (its result; its identifier in `ids`)."""

    paper: Result | None = None
    """The arXiv paper: linked, or named by the row's Semantic Scholar record (a paper
    linked by DOI that is also on arXiv)."""
    scholar: Result | None = None
    """The paper as Semantic Scholar knows it (citations, venue, other ids)."""
    landing: Result | None = None
    """The paper as its landing page describes it (a PMLR or OpenReview paper)."""
    repo: Result | None = None
    hub: Result | None = None
    """A Hub model, dataset or space (not a paper page)."""
    published: Published | None = None
    """arXiv's first version, else Semantic Scholar's date (or year alone), else the
    landing page's (PMLR: the proceedings' publication; OpenReview: when it went public)."""
    title: tuple[Result, Described] | None = None
    """The first description of the paper that has a title: arXiv's, else Semantic
    Scholar's, else its landing page's."""
    bib: tuple[str, ...] = ()
    """The keys of the row's papers in `references.bib` (`bib.py`), in link order."""
    trend: RowTrend = RowTrend()
    """What the history says about the row (`trends.row_trend`): blank without one."""
    ids: Roles = Roles()
    """The entities of the roles above."""


# The role an entity plays for its row, by the kind its ref starts with, and its data type.
_ROLES: dict[Kind, tuple[str, type]] = {
    Kind.ARXIV: ("paper", PaperMeta),
    Kind.SCHOLAR: ("scholar", ScholarMeta),
    **dict.fromkeys(LANDING_KINDS, ("landing", PageMeta)),
    Kind.GITHUB_REPO: ("repo", RepoMeta),
    **dict.fromkeys((Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE), ("hub", HubMeta)),
}


def row_facts(record: RowRecord, entities: Entities) -> RowFacts:
    """The row's facts, in one pass over its links."""
    return links_facts(record.links, entities)


def links_facts(links: Iterable[Link], entities: Entities) -> RowFacts:
    """What `links` say, as `row_facts` says it of a row's links (`references.bib` asks it
    of the links to one paper)."""
    found: dict[str, Result] = {}  # by role
    ids: dict[str, Identifier] = {}
    for link in links:
        for ident in (link.id, *companions(link.id)):
            role = _ROLES.get(ident.kind)
            if role is None or role[0] in found:
                continue
            result = entities.get(ident)
            if result is not None and isinstance(result.data, role[1]):
                found[role[0]], ids[role[0]] = result, ident
    scholar = found.get("scholar")
    if "paper" not in found and scholar is not None:
        named = scholar.data.arxiv_id if isinstance(scholar.data, ScholarMeta) else None
        arxiv = Identifier(Kind.ARXIV, named) if named else None
        other = entities.get(arxiv) if arxiv is not None else None
        if arxiv is not None and other is not None and isinstance(other.data, PaperMeta):
            found["paper"], ids["paper"] = other, arxiv
    # Each found for its data's type (the roles above, the fallback checked): no check again.
    described = [
        (ids[role], found[role], cast(Described, found[role].data))
        for role in ("paper", "scholar", "landing")
        if role in found
    ]
    get, at = found.get, ids.get
    return RowFacts(
        get("paper"),
        scholar,
        get("landing"),
        get("repo"),
        get("hub"),
        _first_published(described),
        next(((f, d) for _, f, d in described if d.title), None),
        ids=Roles(at("paper"), at("scholar"), at("landing"), at("repo"), at("hub")),
    )


class Facts:
    """The rows' facts from one dataset's entities (and, with `trends`, its history): what
    the document's columns, the page, the report and the timeline ask of every row. Worked
    out each time they are asked: keeping them once a row bought too little for any target
    (docs/performance.md)."""

    def __init__(
        self,
        entities: Entities,
        bib: Mapping[str, tuple[str, ...]] | None = None,
        trends: Trends | None = None,
    ) -> None:
        self.entities = entities
        self.bib = bib or {}
        """The keys of each row's papers in `references.bib`, by row id."""
        self.trends = trends
        """The history's trends, for the page's and the documents' columns."""

    def with_trends(self, trends: Trends) -> Facts:
        """These facts, and what `trends` says of each row."""
        return Facts(self.entities, self.bib, trends)

    def of(self, record: RowRecord) -> RowFacts:
        facts = row_facts(record, self.entities)
        keys = self.bib.get(record.id)
        facts = facts._replace(bib=keys) if keys else facts
        if self.trends is None:
            return facts
        links = [(link.id, found) for link in record.links if (found := self.result(link.id))]
        day = facts.published.day if facts.published else None
        ids = facts.ids
        held = Held(facts.repo, (ids.repo, ids.hub, ids.scholar), links, day)
        return facts._replace(trend=row_trend(self.trends, held))

    def of_links(self, links: Iterable[Link]) -> RowFacts:
        """What `links` say (the links to one paper, for `references.bib`)."""
        return links_facts(links, self.entities)

    def result(self, ident: Identifier) -> Result | None:
        """The entity `ident` names, if the dataset has it."""
        return self.entities.get(ident)


def _first_published(
    described: list[tuple[Identifier, Result, Described]],
) -> Published | None:
    for ident, found, data in described:
        if isinstance(data, PaperMeta):
            day = utc(data.published).date()
            return _plausible(Published(ident, found, day.year, day))
        if data.publication_date is not None:
            when = data.publication_date
            return _plausible(Published(ident, found, when.year, when))
        if data.year:
            return _plausible(Published(ident, found, data.year, None))
    return None


def _plausible(published: Published) -> Published | None:
    """Dates come from payloads: one outside `text.YEARS` (a dataset written before the
    sources checked, or by another program) is no date; the timeline spans its dates."""
    return published if plausible_year(published.year) is not None else None


def _cell(
    role: Callable[[RowFacts], Result | None], data: type[D], show: Callable[[D], str]
) -> Callable[[RowFacts], str]:
    """A column's value: `show` of the row's entity in `role` (its data of type `data`, as
    `row_facts` found it), stale-marked; blank without one."""

    def value(facts: RowFacts) -> str:
        found = role(facts)
        if found is None or not isinstance(found.data, data):
            return ""
        return mark_stale(found, show(found.data))

    return value


def _repo(show: Callable[[RepoMeta], str]) -> Callable[[RowFacts], str]:
    return _cell(lambda facts: facts.repo, RepoMeta, show)


def _hub(show: Callable[[HubMeta], str]) -> Callable[[RowFacts], str]:
    return _cell(lambda facts: facts.hub, HubMeta, show)


def _scholar(show: Callable[[ScholarMeta], str]) -> Callable[[RowFacts], str]:
    return _cell(lambda facts: facts.scholar, ScholarMeta, show)


def _published(facts: RowFacts) -> str:
    """The first-published month (the year alone when that is all that is known)."""
    found = facts.published
    if found is None:
        return ""
    day = found.day  # years are 1800 to 2100 (`text.YEARS`): no strftime needed, nor its cost
    return mark_stale(found.found, f"{day.year}-{day.month:02d}" if day else str(found.year))


def signed(number: int | None) -> str:
    """A change, humanised and signed: `+1.2k`, `-35`, `0`; blank for None."""
    if number is None:
        return ""
    return f"+{humanise(number)}" if number > 0 else humanise(number)


def _trend(pick: Callable[[RowTrend], int | None]) -> Callable[[RowFacts], str]:
    return lambda facts: signed(pick(facts.trend))


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column("stars", "Stars", "---:", _repo(lambda d: humanise(d.stars))),
        Column("downloads", "Downloads", "---:", _hub(lambda d: humanise(d.downloads))),
        Column("published", "Published", ":---:", _published),
        Column("citations", "Citations", "---:", _scholar(lambda d: humanise(d.citations))),
        Column("likes", "Likes", "---:", _hub(lambda d: humanise(d.likes))),
        Column("license", "License", ":---:", _repo(lambda d: d.license_spdx or "")),
        Column("pushed", "Last push", ":---:", _repo(lambda d: _day(d.pushed_at))),
        Column("bib", "BibTeX", "---", lambda facts: ", ".join(facts.bib)),
        Column("stars_trend", "Stars (30 days)", "---:", _trend(lambda t: t.stars)),
        Column("downloads_trend", "Downloads (30 days)", "---:", _trend(lambda t: t.downloads)),
        Column("citations_trend", "Citations (30 days)", "---:", _trend(lambda t: t.citations)),
        Column("status", "Status", ":---:", lambda facts: ", ".join(facts.trend.status)),
    )
}


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
