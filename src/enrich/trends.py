"""What the history says about where things are going: 30-day changes, the top movers, each
row's status flags and its sparkline. Pure: derived from the history (`history.py`) and the
dataset only, so the same inputs give the same bytes.

Time is the history's: "now" (`Trends.as_of`) is the last day the history holds, the day of
the latest fact a refresh learned, never the clock of the run, so a run that learns nothing
moves no trend and rewrites no byte. A value on a day is the value of the entity's last line
on or before it. The rules, documented in docs/outputs.md:

- a **trend** (`stars_trend`, `downloads_trend`, `citations_trend`) is the value now minus
  the value `WINDOW` (30) days before now; none when the history does not reach that far;
- **dead**: the row's repository is archived, or a repository or Hub model, dataset or space
  it links has vanished (`not_found`) or moved away (`moved`);
- **inactive**: the row's repository had no push for `QUIET` (183) days before now;
- **new**: the row's paper was first published, or one of its links first seen (a line
  later than the history's first day), less than `NEW` (183) days before now;
- **no license**: the row's repository declares none.

A row shows at most one of dead, inactive and new (in that order), and no license besides.

Entities are named by their `Identifier`, as the history's points name them; their `ref`
text is only the order of movers (`models.REF`) and what the charts write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import NamedTuple, TypeVar

from enrich.history import History, Point
from enrich.metadata import RepoMeta
from enrich.models import CODE_KINDS, REF, Identifier, Kind, Result, Status

WINDOW = timedelta(days=30)
QUIET = timedelta(days=183)
NEW = timedelta(days=183)
SPAN = timedelta(days=365)
"""How far back a sparkline reaches."""
MOVING = ("stars", "downloads", "citations")
"""The fields whose trends are shown, and the top movers chosen among."""
PROJECT_KINDS = CODE_KINDS | {Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE}
"""The links whose disappearance makes a row dead (a paper does not die)."""
GONE = frozenset({Status.NOT_FOUND, Status.MOVED})
FLAGS = ("dead", "inactive", "new", "no license")
"""Every status flag, in the order a row shows them."""
SPARK_WIDTH, SPARK_HEIGHT = 80, 16
Series = tuple[Identifier, str]
"""What a series is of: an entity's field."""
T = TypeVar("T")


@dataclass(frozen=True)
class Trends:
    """A history's series by (entity, field), its first and last days, and, worked out once
    for every series of a `MOVING` field, its 30-day change and its sparkline (every row's
    facts ask them, for each output)."""

    series: Mapping[Series, tuple[Point, ...]] = field(default_factory=dict)
    first_seen: Mapping[Identifier, date] = field(default_factory=dict)
    start: date | None = None
    as_of: date | None = None
    deltas: Mapping[Series, int] = field(default_factory=dict)
    sparks: Mapping[Series, str] = field(default_factory=dict)

    @classmethod
    def of(cls, history: History) -> Trends:
        series: dict[Series, list[Point]] = {}
        first: dict[Identifier, date] = {}
        for point in history.points:  # an entity's first line starts one of its series
            key = (point.id, point.field)
            found = series.get(key)
            if found is None:
                found = series[key] = []
                first.setdefault(point.id, point.day)
            found.append(point)
        points = history.points
        base = cls(
            {key: tuple(found) for key, found in series.items()},
            first,
            points[0].day if points else None,
            history.last_day,
        )
        moving = [key for key in base.series if key[1] in MOVING]
        deltas = {key: d for key in moving if (d := base.change(*key)) is not None}
        sparks = {key: line for key in moving if (line := spark(base, *key))}
        return replace(base, deltas=deltas, sparks=sparks)

    def at(self, ident: Identifier, name: str, day: date) -> int | None:
        """`ident`'s `name` on `day`: its last line's on or before it."""
        found = None
        for point in self.series.get((ident, name), ()):
            if point.day > day:
                break
            found = point
        return found.number if found is not None else None

    def delta(self, ident: Identifier, name: str) -> int | None:
        """The change of `ident`'s `name` (a `MOVING` field) over the last `WINDOW` days
        (None: too little history)."""
        return self.deltas.get((ident, name))

    def change(self, ident: Identifier, name: str) -> int | None:
        """The change of `ident`'s `name` over the last `WINDOW` days, worked out."""
        if self.as_of is None:
            return None
        before = self.at(ident, name, self.as_of - WINDOW)
        now = self.at(ident, name, self.as_of)
        return None if before is None or now is None else now - before


class Mover(NamedTuple):
    """An entity's field that moved over the last `WINDOW` days: its value now, by how much."""

    id: Identifier
    field: str
    now: int
    change: int
    before: int

    @property
    def relative(self) -> float | None:
        return self.change / self.before if self.before > 0 else None


def movers(trends: Trends, entities: Iterable[Identifier]) -> list[Mover]:
    """The `entities` that moved over the last `WINDOW` days, biggest change first (then in
    order of ref, then of field)."""
    found = []
    for ident in entities:
        for name in MOVING:
            change = trends.delta(ident, name)
            if change:
                now = trends.at(ident, name, trends.as_of) if trends.as_of else None
                if now is not None:
                    found.append(Mover(ident, name, now, change, now - change))
    return sorted(found, key=lambda m: (-abs(m.change), REF(m.id), m.field))


def quiet_from(data: RepoMeta) -> date | None:
    """The day a repository counts as inactive: `QUIET` after its last push."""
    return data.pushed_at.date() + QUIET if data.pushed_at is not None else None


def went_quiet(result: Result, since: date | None, as_of: date | None) -> date | None:
    """The last push of a repository (not archived) that became inactive after `since`, on
    or before `as_of`; None for any other entity."""
    data = result.data
    if since is None or as_of is None or not isinstance(data, RepoMeta) or data.archived:
        return None
    quiet = quiet_from(data)
    if quiet is None or not since < quiet <= as_of:
        return None
    return quiet - QUIET


class RowTrend(NamedTuple):
    """What the history says about a row: its trends, its status flags, its sparkline."""

    stars: int | None = None
    downloads: int | None = None
    citations: int | None = None
    status: tuple[str, ...] = ()
    spark: str = ""
    """The sparkline's `points` (SVG polyline, `SPARK_WIDTH` x `SPARK_HEIGHT`), or blank."""


class Held(NamedTuple):
    """The row's entities the trends read: its repository's result, the identifiers of its
    repository, Hub entity and paper's Semantic Scholar record (as `columns.RowFacts` found
    them), its links' entities and results, its paper's first-published day."""

    repo: Result | None
    ids: tuple[Identifier | None, Identifier | None, Identifier | None]
    """(repository, Hub entity, Semantic Scholar record), None where the row has none."""
    links: Sequence[tuple[Identifier, Result]]
    published: date | None


def row_trend(trends: Trends, held: Held) -> RowTrend:
    """The row's trends (its repository's stars, Hub entity's downloads, paper's citations),
    flags and sparkline (stars, else citations, else downloads)."""
    repo, hub, scholar = held.ids
    stars, downloads, citations = (
        _of(trends.deltas, repo, "stars"),
        _of(trends.deltas, hub, "downloads"),
        _of(trends.deltas, scholar, "citations"),
    )
    sparks = trends.sparks
    line = (
        _of(sparks, repo, "stars")
        or _of(sparks, scholar, "citations")
        or _of(sparks, hub, "downloads")
        or ""
    )
    return RowTrend(stars, downloads, citations, status(trends, held), line)


def _of(table: Mapping[Series, T], ident: Identifier | None, name: str) -> T | None:
    """What `table` holds for `ident`'s `name`; None for no entity."""
    return table.get((ident, name)) if ident is not None else None


def status(trends: Trends, held: Held) -> tuple[str, ...]:
    """The row's flags (the module's rules)."""
    repo = held.repo.data if held.repo is not None else None
    flags: list[str] = []
    if (isinstance(repo, RepoMeta) and repo.archived) or any(
        ident.kind in PROJECT_KINDS and found.status in GONE for ident, found in held.links
    ):
        flags.append("dead")
    elif trends.as_of is not None and _inactive(repo, trends.as_of):
        flags.append("inactive")
    elif trends.as_of is not None and _new(trends, held, trends.as_of - NEW):
        flags.append("new")
    if isinstance(repo, RepoMeta) and repo.license_spdx is None:
        flags.append("no license")
    return tuple(flags)


def _inactive(repo: object, as_of: date) -> bool:
    quiet = quiet_from(repo) if isinstance(repo, RepoMeta) else None
    return quiet is not None and quiet <= as_of


def _new(trends: Trends, held: Held, since: date) -> bool:
    if held.published is not None and held.published >= since:
        return True
    seen = [trends.first_seen.get(ident) for ident, _ in held.links]
    first = min((day for day in seen if day is not None), default=None)
    return first is not None and first != trends.start and first >= since


def recent(trends: Trends, ident: Identifier, name: str) -> list[tuple[date, int]]:
    """`ident`'s `name` over the last `SPAN` days: its value when they start, every line
    since, and its value now (as of `Trends.as_of`); empty without a history."""
    if trends.as_of is None:
        return []
    start = trends.as_of - SPAN
    opening = trends.at(ident, name, start)
    series = [(start, opening)] if opening is not None else []
    for point in trends.series.get((ident, name), ()):
        if point.day > start and point.number is not None:
            series.append((point.day, point.number))
    if series:
        series.append((trends.as_of, series[-1][1]))
    return series


def spark(trends: Trends, ident: Identifier, name: str) -> str:
    """`ident`'s `name` over the last `SPAN` days as SVG polyline points; blank with fewer
    than two values."""
    series = recent(trends, ident, name)
    return polyline(series, (0.0, 0.0, SPARK_WIDTH, SPARK_HEIGHT)) if len(series) > 2 else ""


def polyline(series: Sequence[tuple[date, int]], box: tuple[float, float, float, float]) -> str:
    """`series` (in day order) scaled into `box` (left, top, width, height), one unit of
    margin above and below; one decimal per coordinate."""
    left, top, width, height = box
    first, last = series[0][0], series[-1][0]
    low, high = min(n for _, n in series), max(n for _, n in series)
    days = max((last - first).days, 1)
    out = []
    for day, n in series:
        x = left + (day - first).days * width / days
        y = height / 2 if high == low else 1 + (high - n) * (height - 2) / (high - low)
        out.append(f"{x:.1f},{top + y:.1f}")
    return " ".join(out)
