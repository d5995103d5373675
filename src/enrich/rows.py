"""What a row is called and where it sits: the one home of both rules. Pure.

- **Name.** A row is named by its `Method` cell (else `Name`, `Model`, `Title`: the first
  column of each name, any case); a table without such a column names its rows by their
  first non-empty cell in table order (`RowRecord.columns`, not the order of `cells`, which a
  dataset read back from JSON has sorted). A table that has a name column and leaves it empty
  gives the row no name, and where a name is shown the row's id stands in for it. `resolve`
  derives the id of a row without links from the same cell, `suggest`, `report`, `page` and
  `timeline` show it.
- **Sections.** The headings every row of a run shares (`shared_headings`, e.g. a list's
  `# Title`) say nothing about a row; a row's section is what its heading path adds to them
  (`section_label`). The page's section filter, the timeline's colour groups and the
  papers to consider per section (`sections`) are all cut by this one rule, so that a
  section has one label in each.
- **Place.** A row's record is found by where the row sits in its document, (table index,
  0-based row index), never by its line: `resolve` gives one record per table row, in
  document order, so a document's rows and its records pair up in order (`row_records`).
  Render and `suggest --apply` find each row's record, and each record's row, this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from enrich.models import column_named
from enrich.parse import plain

if TYPE_CHECKING:
    from enrich.document import Document
    from enrich.models import RowRecord

Place = tuple[int, int]
"""Where a row sits in its document: (its table's index, its 0-based index in the table)."""

NAME_COLUMNS = ("method", "name", "model", "title")
"""Columns that name a row, in order of preference (lower case)."""
SECTION_SEPARATOR = " › "
"""Between the headings of a section's label."""


def name_cell(cells: Mapping[str, str], columns: Sequence[str] = ()) -> str:
    """The raw text of the cell that names a row with these `cells` (in table order
    `columns`, else the order of `cells`): its name column's cell, empty if the table has
    one and it is empty, else its first non-empty cell."""
    order = tuple(columns or cells)
    named = _name_columns(order) or order
    return next((t for c in named if (t := cells.get(c, "")).strip()), "")


def record_name_cell(record: RowRecord) -> str:
    """`name_cell` of a record."""
    return name_cell(record.cells, record.columns)


def row_name(record: RowRecord, limit: int = 300) -> str:
    """The row's name as a reader sees it (link texts kept, markup dropped, on one line of at
    most `limit` characters), else empty."""
    return plain(record_name_cell(record), limit)


def name_or_id(record: RowRecord, limit: int = 300) -> str:
    """The row's name as a reader sees it, else its id."""
    return row_name(record, limit) or record.id


@lru_cache(maxsize=1024)  # a list has a few tables' worth of column orders
def _name_columns(order: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of `order` that name a row, most preferred first (the first column of
    each name, whatever its case); empty for a table without any."""
    found = (column_named(order, name) for name in NAME_COLUMNS)
    return tuple(c for c in found if c is not None)


def shared_headings(paths: Sequence[Sequence[str]]) -> int:
    """How many leading headings every one of `paths` shares, keeping at least one heading
    of each path: the headings that say nothing about where a row sits."""
    if not paths:
        return 0
    shortest = min(len(p) for p in paths)
    shared = 0
    while shared < shortest - 1 and len({p[shared] for p in paths}) == 1:
        shared += 1
    return shared


def section_label(path: Sequence[str], shared: int) -> str:
    """The section of a row under heading `path`, below the `shared` headings."""
    return SECTION_SEPARATOR.join(path[shared:])


def sections(records: Sequence[RowRecord]) -> dict[str, list[RowRecord]]:
    """The rows of each section (`section_label` below the headings all `records` share),
    sections in order of their first row, rows in order."""
    shared = shared_headings([r.section for r in records])
    found: dict[str, list[RowRecord]] = {}
    for record in records:
        found.setdefault(section_label(record.section, shared), []).append(record)
    return found


def row_records(document: Document, records: Sequence[RowRecord]) -> dict[Place, RowRecord]:
    """Each table row of `document`, by its place, with its record: `records` are those
    `resolve` gave for `document` (one per row, in document order), or none (no row has a
    record). A `ValueError` when they are not: a record of another file or table, or too few
    or too many records."""
    if not records:
        return {}
    places = [(table.index, row) for table in document.tables for row in range(len(table.rows))]
    if len(places) != len(records) or any(
        (record.file, record.table) != (document.path, table)
        for (table, _), record in zip(places, records, strict=True)
    ):
        raise ValueError(f"{document.path}: these records are not those of its table rows")
    return dict(zip(places, records, strict=True))
