"""The history of the facts (`output/history/<year>.csv`): its CSV contract, read, validate,
append. Pure but for `read_history`, which `pipeline` calls at the run's edge.

Each line is one value an entity's field took, from the day upstream said so (the fact's
`fetched_at` date): `date,ref,field,value`, under that header, one file per year, sorted by
(date, ref, field). The `ref` column is the entity's `kind:key` text (`Identifier.ref`), read
into its `Identifier` on reading and written from it: in memory a `Point` names its entity by
`Identifier`. A line is appended only when the value differs from the entity's last
line for that field, so a refresh that learns nothing appends nothing and rewrites no byte.
What is kept (`FIELDS`): stars, forks, archived and license of a repository; 30-day downloads
and likes of a Hub entity; citations and influential citations of a paper (Semantic
Scholar); an arXiv paper's latest version; and of any entity its status when it is a fact
(`moved`, `not_found`; no line means `ok`) and `moved_to`. A failed fetch (`stale`,
`error`) or one not made (`skipped`) is no fact and appends nothing. An entity that leaves
the list keeps its lines. The first run that has no history seeds it from the previous
dataset's values and their `fetched_at` (`seeded`), so a list does not start from nothing.

A history that does not follow the contract is refused with `file:line` and what is wrong
(`InputError`): never guessed at, never silently dropped. Trends are derived in `trends.py`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

from enrich.errors import InputError
from enrich.metadata import HubMeta, PaperMeta, RepoMeta, ScholarMeta
from enrich.models import REF, Entities, Identifier, Result, Status

HISTORY_DIR = "history"
HEADER = ("date", "ref", "field", "value")
NUMBERS = frozenset({"stars", "forks", "downloads", "likes", "citations", "influential_citations"})
FLAGS = frozenset({"archived"})
FIELDS: dict[type, tuple[str, ...]] = {
    RepoMeta: ("stars", "forks", "archived", "license_spdx"),
    HubMeta: ("downloads", "likes"),
    ScholarMeta: ("citations", "influential_citations"),
    PaperMeta: ("latest_version",),
}
"""The fields kept per kind of data; besides them, every entity's `status` and `moved_to`."""
KNOWN = frozenset({f for fields in FIELDS.values() for f in fields} | {"status", "moved_to"})
FACTS = frozenset({Status.OK, Status.MOVED, Status.NOT_FOUND})
"""The statuses that are facts (what upstream said); any other appends nothing."""
_STATUSES = frozenset(s.value for s in FACTS)
_NAME = re.compile(r"[0-9]{4}\.csv")
_INTEGER = re.compile(r"-?[0-9]+")


class Point(NamedTuple):  # a tuple: a year of a 10,000-row list is half a million of them
    """One line: `id`'s `field` was `value` (as written: `""` for none) from `day` on."""

    day: date
    id: Identifier
    field: str
    value: str

    @property
    def number(self) -> int | None:
        """The value of a numeric field as an int (None for another field or no value)."""
        return int(self.value) if self.field in NUMBERS and self.value else None


@dataclass(frozen=True)
class History:
    """Every line, in (date, ref, field) order (the ref: `models.REF`)."""

    points: tuple[Point, ...] = ()

    @property
    def last_day(self) -> date | None:
        """The day of the latest fact the history holds."""
        return self.points[-1].day if self.points else None

    def files(self) -> dict[str, bytes]:
        """Each year's file name (`2026.csv`) and bytes."""
        years: dict[int, list[Point]] = {}
        for point in self.points:
            years.setdefault(point.day.year, []).append(point)
        return {f"{year}.csv": _csv(points) for year, points in sorted(years.items())}


def values(result: Result) -> Iterator[tuple[str, str | None]]:
    """The kept fields of `result` and their text (None: unknown), when its status is a
    fact; nothing otherwise."""
    if result.status not in FACTS:
        return
    yield "status", result.status.value
    yield "moved_to", result.moved_to
    data = result.data
    for name in FIELDS.get(type(data), ()):
        value = getattr(data, name, None)
        yield name, _text(value)


def _text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def appended(history: History, entities: Entities) -> History:
    """`history` with a line for every kept value of `entities` that differs from its
    entity's last line (its `fetched_at` date; a second value on a line's own day replaces
    it)."""
    last = {(p.id, p.field): p for p in history.points}
    added: dict[tuple[Identifier, str], Point] = {}
    for ident, result in entities.items():
        moment = result.provenance.fetched_at
        if moment is None:
            continue
        for name, text in values(result):
            before = last.get((ident, name))
            now = text or ""
            if before is None and (text is None or (name == "status" and now == "ok")):
                continue  # nothing known yet, or the status every entity starts with
            if before is not None and before.value == now:
                continue
            day = max(moment.date(), before.day) if before is not None else moment.date()
            added[(ident, name)] = Point(day, ident, name, now)
    if not added:
        return history
    new = sorted(added.values(), key=_key)
    points = history.points
    if not points or _key(points[-1]) < _key(new[0]):
        return History(points + tuple(new))  # the usual refresh: all after the last line
    kept = [
        p for p in points if not ((q := added.get((p.id, p.field))) is not None and q.day == p.day)
    ]
    return History(tuple(sorted([*kept, *new], key=_key)))


def seeded(history: History, previous: Entities | None) -> History:
    """`history`, or, when it has no line yet, the values of `previous` (the last dataset's
    entities) with their `fetched_at`: the backfill of a list's first run with history."""
    if history.points or not previous:
        return history
    return appended(history, previous)


# ----------------------------------------------------------------------------- reading


def read_history(out: Path) -> History:
    """The history in `out/history/`, validated; empty when there is none. Raises
    `InputError` naming the file and line of the first line that breaks the contract."""
    folder = out / HISTORY_DIR
    if not folder.is_dir():
        return History()
    points: list[Point] = []
    for path in sorted(folder.iterdir()):
        if path.suffix != ".csv":
            continue
        if not _NAME.fullmatch(path.name):
            raise InputError(f"{path}: not a history file (they are named YEAR.csv)")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the history: {exc}") from None
        points.extend(parse_year(text, path, int(path.stem)))
    return History(tuple(points))


def parse_year(text: str, path: Path | str, year: int) -> list[Point]:
    """The lines of one year's file, validated (`InputError` with `path:line`)."""
    if not text:
        raise InputError(f"{path}:1: malformed history: empty file, no header")
    points: list[Point] = []
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    check = _Checker(year)
    try:
        if tuple(next(rows)) != HEADER:
            raise ValueError(f"the header must be {','.join(HEADER)}")
        before = ("", "", "")
        days, refs = check.days, check.refs  # each text checked once (a year of a long list)
        for row in rows:
            if len(row) != len(HEADER):
                raise ValueError(f"{len(row)} values, not {len(HEADER)}")
            day_text, ref, field, value = row
            day = days.get(day_text) or check.day(day_text)
            ident = refs.get(ref) or check.ref(ref)
            if not (field in NUMBERS and value.isdigit() and value.isascii()):
                check.value(field, value)  # a count is the usual line, and is right
            key = (day_text, ref, field)
            if key <= before:  # ISO dates sort as their text does
                raise ValueError("lines must be sorted by date, ref and field, each once")
            before = key
            points.append(Point(day, ident, field, value))
    except (ValueError, csv.Error) as exc:
        raise InputError(f"{path}:{rows.line_num}: malformed history line: {exc}") from None
    return points


class _Checker:
    """The checks of one file's values, each text checked once (a ref is on many lines, and
    is read into one `Identifier` for all of them)."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.days: dict[str, date] = {}
        self.refs: dict[str, Identifier] = {}

    def day(self, text: str) -> date:
        found = self.days.get(text)
        if found is None:
            found = date.fromisoformat(text) if len(text) == 10 else None
            if found is None or found.year != self.year:
                raise ValueError(f"date {text!r} is not a day of {self.year} (YYYY-MM-DD)")
            self.days[text] = found
        return found

    def ref(self, text: str) -> Identifier:
        found = self.refs.get(text)
        if found is None:
            found = Identifier.of_ref(text)  # ValueError for an unknown kind
            if not found.key:
                raise ValueError(f"ref {text!r} has no key")
            self.refs[text] = found
        return found

    @staticmethod
    def value(field: str, value: str) -> str:
        if field not in KNOWN:
            raise ValueError(f"unknown field {field!r}")
        _check_value(field, value)
        return value


def _key(point: Point) -> tuple[date, str, str]:
    return point.day, REF(point.id), point.field


def _check_value(field: str, value: str) -> None:
    if (
        field in NUMBERS
        and value
        and not ((value.isascii() and value.isdigit()) or _INTEGER.fullmatch(value))
    ):
        raise ValueError(f"{field} must be an integer, not {value!r}")
    if field in FLAGS and value not in ("true", "false", ""):
        raise ValueError(f"{field} must be true or false, not {value!r}")
    if field == "status" and value not in _STATUSES:
        raise ValueError(f"status must be one of {', '.join(sorted(_STATUSES))}, not {value!r}")


def _csv(points: list[Point]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows((p.day.isoformat(), p.id.ref, p.field, p.value) for p in points)
    return buffer.getvalue().encode()
