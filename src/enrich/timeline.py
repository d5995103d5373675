"""Stage 5: a living timeline of the dataset's papers, as a standalone SVG. Pure.

`render_timeline(dataset)` draws every dated paper once, at its first-published month, and
is rewritten by every run (`output/timeline.svg`), unlike a survey's hand-made figure.

- **Dates.** A row's date is its arXiv paper's `published` (the paper it links, or the one
  its Semantic Scholar record names, as `RowFacts.paper` finds it); failing that, Semantic
  Scholar's `publication_date`, else the date of the paper's PMLR or OpenReview landing
  page, or the `year` alone of either (placed in January, drawn hollow):
  `RowFacts.published`. A paper listed in several rows is drawn once, for its first
  row in seed order.
- **Groups.** Marks are coloured by section: the first heading below the headings every
  row shares (for a survey, `# Title > ## Paper list > ### <section>` gives its sections).
  Colours follow the order in which sections first appear among all rows, dated or not, so
  a section keeps its colour while its papers get dated; past ten sections, the rest share
  one grey "Other sections".
- **Layout.** The x axis runs month by month from the earliest to the latest month, with a
  gridline and a label per year. Each paper is a dot with its name (the row's `Method`,
  `Name`, `Model` or `Title` cell, else its paper's title) to its right, or to its left near
  the right edge. Marks are packed into lanes stacked upward from the axis, in order of
  month: a mark takes the lowest lane its label fits in, so papers of one month stack in a
  column and no two labels overlap (text widths are estimated, not measured). The width is
  fixed, the height grows with the lanes. The full name, month and section are each mark's
  tooltip.
- **Untrusted text.** Names and headings come from the seed and fetched data: characters
  XML forbids are dropped, the text is put on one line, truncated and XML-escaped.
- **Deterministic bytes.** Records are taken in seed order (seed file, then line), not in
  the order given; entities are looked up by name; coordinates have one decimal; the palette
  is fixed; there is no timestamp. The same dataset gives the same bytes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from enrich import rows
from enrich.columns import Facts
from enrich.models import Dataset, Identifier, RowRecord
from enrich.text import one_line

WIDTH = 960.0
MARGIN = 20.0
LANE = 15.0
"""Height of one lane of marks."""
FONT = 11.0
CHAR = 0.62 * FONT
"""Estimated advance of one character (twice that for a wide one): a little generous."""
DOT = 3.5
GAP = 4.0
LABEL_LIMIT = 28
NAME_LIMIT = 300  # a name in full, as the tooltip shows it
TOOLTIP_LIMIT = 200
LEGEND_LIMIT = 60
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#17becf",
)
OTHER = "#8c8c8c"
OTHER_NAME = "Other sections"
TEXT, MUTED, GRID = "#24292f", "#57606a", "#d0d7de"
TITLE = "Papers by first-published month"

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Mark:
    """One dated paper: its month (`year * 12 + month - 1`), whether the month is known or
    only the year, its name, its group (an index into the legend) and its section."""

    month: int
    exact: bool
    name: str
    group: int
    section: tuple[str, ...]


@dataclass(frozen=True)
class Placed:
    mark: Mark
    x: float
    lane: int
    left: bool
    """The label stands left of the dot (near the right edge)."""


@dataclass(frozen=True)
class Groups:
    names: list[str]
    of: dict[tuple[str, ...], int]
    """Group index by section path."""
    folded: bool
    """The last group is "Other sections", the sections past the palette's colours."""

    def colour(self, group: int) -> str:
        return OTHER if self.folded and group == len(self.names) - 1 else PALETTE[group]


def render_timeline(dataset: Dataset, facts: Facts | None = None) -> str:
    """The dataset's dated papers by first-published month, as a standalone SVG document
    (`facts`: the rows' facts, when worked out already)."""
    facts = facts or Facts(dataset.results)
    records = ordered(dataset)
    found = groups(records)
    dates = [date_of(r, facts) for r in records]
    marks = dated_marks(records, dates, facts, found.of)
    undated = dates.count(None)
    if not marks:
        return _empty(len(records))
    return _chart(marks, found, undated)


def ordered(dataset: Dataset) -> list[RowRecord]:
    """The records in seed order (seed file as listed, then line), whatever order given."""
    seeds = {path: i for i, path in enumerate(dataset.seeds)}
    return sorted(dataset.records, key=lambda r: (seeds.get(r.file, len(seeds)), r.file, r.line))


def groups(records: Sequence[RowRecord]) -> Groups:
    """The first heading below the headings every record shares (`rows.shared_headings`),
    in order of first appearance; past ten, the rest folded into one "Other sections"."""
    paths = [tuple(r.section) for r in records]
    shared = rows.shared_headings(paths)
    key = {p: p[shared] if p else "(no section)" for p in paths}
    distinct = list(dict.fromkeys(key[p] for p in paths))
    folded = len(distinct) > len(PALETTE)
    if folded:
        distinct = [*distinct[: len(PALETTE) - 1], OTHER_NAME]
    index = {name: i for i, name in enumerate(distinct[: len(distinct) - folded])}
    return Groups(distinct, {p: index.get(key[p], len(distinct) - 1) for p in paths}, folded)


def date_of(record: RowRecord, facts: Facts) -> tuple[Identifier, int, bool] | None:
    """(the dated entity, month index, whether the month is known) of a row's paper."""
    found = facts.of(record).published
    if found is None:
        return None
    if found.day is None:
        return found.id, found.year * 12, False
    return found.id, found.year * 12 + found.day.month - 1, True


def dated_marks(
    records: Sequence[RowRecord],
    dates: Sequence[tuple[Identifier, int, bool] | None],
    facts: Facts,
    group_of: Mapping[tuple[str, ...], int],
) -> list[Mark]:
    """A mark per dated paper (its first row; `dates` are the rows' `date_of`), in order of
    month, then of seed."""
    seen: set[Identifier] = set()
    marks: list[Mark] = []
    for record, dated in zip(records, dates, strict=True):
        if dated is None or dated[0] in seen:
            continue
        seen.add(dated[0])
        section = tuple(record.section)
        name = row_name(record, facts)
        marks.append(Mark(dated[1], dated[2], name, group_of[section], section))
    return sorted(marks, key=lambda m: m.month)  # stable: seed order within a month


def row_name(record: RowRecord, facts: Facts) -> str:
    """What the row calls its paper: its name cell (`rows.row_name`) as a reader sees
    it (link text kept, markup dropped), else the paper's title, else the row's id."""
    text = rows.row_name(record, NAME_LIMIT)
    if text:
        return text
    titled = facts.of(record).title
    return (titled[1].title or record.id) if titled is not None else record.id


# ------------------------------------------------------------------------------ drawing


def _chart(marks: list[Mark], found: Groups, undated: int) -> str:
    lo, hi = marks[0].month, marks[-1].month
    column = (WIDTH - 2 * MARGIN) / (hi - lo + 1)
    placed, lanes = pack(marks, lambda m: MARGIN + (m - lo + 0.5) * column)
    legend, legend_bottom = _legend(found, [m.group for m in marks], 64.0)
    top = legend_bottom + 10
    axis = top + lanes * LANE + 6
    height = axis + 30
    subtitle = f"{len(marks)} papers, coloured by section"
    if any(not m.exact for m in marks):
        subtitle += "; hollow: only the year is known"
    if undated:
        subtitle += f"; {undated} rows have no known date"
    return _document(
        height,
        f"{TITLE}, {_month_text(lo, True)} to {_month_text(hi, True)}",
        subtitle,
        [
            *_grid(lo, hi, column, top, axis),
            *legend,
            *(_mark(p, axis - 6 - (p.lane + 0.5) * LANE, found) for p in placed),
        ],
    )


def pack(marks: Sequence[Mark], x_of: Callable[[int], float]) -> tuple[list[Placed], int]:
    """Marks (in order of month) in lanes: each takes the lowest lane where its dot and
    label fit after what the lane holds. Returns the placed marks and the number of lanes."""
    right = WIDTH - MARGIN
    ends: list[float] = []  # where what each lane holds ends
    placed: list[Placed] = []
    for mark in marks:
        x = x_of(mark.month)
        width = text_width(_label(mark.name))
        left = x + DOT + GAP + width > right
        start, end = (x - DOT - GAP - width, x + DOT) if left else (x - DOT, x + DOT + GAP + width)
        lane = next((i for i, e in enumerate(ends) if e + GAP <= start), len(ends))
        if lane == len(ends):
            ends.append(end)
        ends[lane] = end
        placed.append(Placed(mark, x, lane, left))
    return placed, len(ends)


def text_width(text: str, size: float = FONT) -> float:
    """An estimate of `text`'s width at font size `size` (wide characters count twice)."""
    units = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return units * CHAR * size / FONT


def _legend(found: Groups, marked: list[int], y: float) -> tuple[list[str], float]:
    """Swatch, name and count of every group with marks, flowing in rows; and where the
    legend ends."""
    parts: list[str] = []
    x = MARGIN
    for group, name in enumerate(found.names):
        count = marked.count(group)
        if not count:
            continue
        label = f"{one_line(xml_safe(name), LEGEND_LIMIT)} ({count})"
        width = 14 + text_width(label) + 16
        if x > MARGIN and x + width > WIDTH - MARGIN:
            x, y = MARGIN, y + 18
        parts.append(
            f'<rect x="{num(x)}" y="{num(y - 5)}" width="10" height="10" rx="2" '
            f'fill="{found.colour(group)}"/>'
            f'<text x="{num(x + 14)}" y="{num(y + 4)}">{escape(label)}</text>'
        )
        x += width
    return parts, y + 8


def _grid(lo: int, hi: int, column: float, top: float, axis: float) -> list[str]:
    """Year gridlines, year labels where they do not collide, month ticks, the axis."""
    parts: list[str] = []
    last_label = -1e9
    for year in range(lo // 12, hi // 12 + 1):
        x = MARGIN + (max(year * 12, lo) - lo) * column
        parts.append(
            f'<line x1="{num(x)}" y1="{num(top)}" x2="{num(x)}" y2="{num(axis)}" stroke="{GRID}"/>'
        )
        if x - last_label >= text_width("0000") + 8:
            parts.append(
                f'<text x="{num(x + 2)}" y="{num(axis + 16)}" fill="{MUTED}">{year}</text>'
            )
            last_label = x
    if column >= 3:
        ticks = "".join(f"M{num(MARGIN + i * column)} {num(axis)}v3" for i in range(hi - lo + 2))
        parts.append(f'<path d="{ticks}" stroke="{MUTED}"/>')
    right = WIDTH - MARGIN
    parts.append(
        f'<line x1="{num(MARGIN)}" y1="{num(axis)}" x2="{num(right)}" y2="{num(axis)}" '
        f'stroke="{MUTED}"/>'
    )
    return parts


def _mark(placed: Placed, y: float, found: Groups) -> str:
    mark = placed.mark
    colour = found.colour(mark.group)
    fill = f'fill="{colour}"' if mark.exact else f'fill="#ffffff" stroke="{colour}"'
    section = rows.SECTION_SEPARATOR.join(mark.section)
    tooltip = one_line(
        xml_safe(f"{mark.name} · {_month_text(mark.month, mark.exact)} · {section}"),
        TOOLTIP_LIMIT,
    )
    tx = placed.x - DOT - GAP if placed.left else placed.x + DOT + GAP
    anchor = ' text-anchor="end"' if placed.left else ""
    return (
        f"<g><title>{escape(tooltip)}</title>"
        f'<circle cx="{num(placed.x)}" cy="{num(y)}" r="{num(DOT)}" {fill}/>'
        f'<text x="{num(tx)}" y="{num(y + 3.5)}"{anchor}>{escape(_label(mark.name))}</text></g>'
    )


def _empty(rows: int) -> str:
    """The chart of a dataset with no dated paper: a title that says so, and why."""
    detail = (
        f"{rows} row{'' if rows == 1 else 's'}, none with a known first-published date yet: "
        "a run that fetches the papers fills this in"
        if rows
        else "The dataset has no rows."
    )
    return _document(60.0, f"{TITLE}: no dated papers yet", detail, [])


def _document(height: float, title: str, subtitle: str, body: list[str]) -> str:
    return svg_document("timeline", height, title, subtitle, body)


def svg_document(name: str, height: float, title: str, subtitle: str, body: list[str]) -> str:
    """A standalone SVG document (`name` prefixes the ids of its title and description): a
    white background, a visible title and subtitle, then `body`. The trends chart's too."""
    title, subtitle = escape(title), escape(subtitle)
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {num(WIDTH)} {num(height)}" '
            f'width="{num(WIDTH)}" height="{num(height)}" role="img" '
            f'aria-labelledby="{name}-title {name}-desc" '
            f'font-family="Helvetica, Arial, sans-serif" font-size="{num(FONT)}" fill="{TEXT}">',
            f'<title id="{name}-title">{title}</title>',
            f'<desc id="{name}-desc">{subtitle}</desc>',
            f'<rect width="{num(WIDTH)}" height="{num(height)}" fill="#ffffff"/>',
            f'<text x="{num(MARGIN)}" y="{num(26)}" font-size="15" font-weight="bold">'
            f"{title}</text>",
            f'<text x="{num(MARGIN)}" y="{num(44)}" fill="{MUTED}">{subtitle}</text>',
            *body,
            "</svg>",
            "",
        ]
    )


def _label(name: str) -> str:
    return one_line(xml_safe(name), LABEL_LIMIT)


def _month_text(month: int, exact: bool) -> str:
    year, index = divmod(month, 12)
    return f"{year:04d}-{index + 1:02d}" if exact else f"{year:04d}"


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (controls, lone surrogates...)."""
    return _XML_INVALID.sub("", text)


def escape(text: str) -> str:
    """Text made inert in XML content and in a double-quoted attribute."""
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.replace(char, escaped)
    return text


def num(value: float) -> str:
    """A coordinate, always with one decimal: the same number, the same bytes."""
    return f"{value:.1f}"
