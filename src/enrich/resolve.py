"""Stage 2: parsed tables -> `RowRecord`s with resolved links, plus diagnostics. Pure.

Every link in every cell is found (`extract`) and classified by `urls.identify`. The link's
URL decides its kind; the column only decides whether it is *misplaced* (`roles.fits`).
A cell that says there is nothing yet (`roles.is_placeholder`) has no links and no
problems; an in-page anchor is left as written. What cannot be resolved, and what else is
wrong with a row, is a diagnostic (`checks`); the rows' ids are `ids.row_ids`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from enrich import checks
from enrich.document import Document, Table, TableLine
from enrich.extract import Found, extract_links
from enrich.ids import row_ids
from enrich.models import Diagnostic, Kind, Link, RowRecord
from enrich.roles import column_role, date_columns, fits, is_placeholder
from enrich.titles import strip_titles
from enrich.urls import Named, UnsupportedURL, identify, in_page, malformed, scholar_also


@dataclass(frozen=True, slots=True)
class Resolved:
    records: tuple[RowRecord, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(slots=True)
class _Memo:
    """What one `resolve` call has worked out already: a URL's identifier (or why it has
    none), and the `Link` made for a (URL, text, column); a list links many things twice."""

    identifiers: dict[str, Named | UnsupportedURL]
    links: dict[tuple[str, str, str], Link]


@dataclass(frozen=True, slots=True)
class _Where:
    """Where the links being resolved are written: a seed file's line, a column."""

    path: str
    line: int
    column: str


def resolve(document: Document) -> Resolved:
    """All rows of all tables of `document`, with links and the problems found on the way."""
    references = {k: {"href": v, "title": ""} for k, v in document.references.items()}
    rows: list[tuple[Table, TableLine, dict[str, str], list[Link]]] = []
    diagnostics: list[Diagnostic] = []
    memo = _Memo({}, {})
    for table in document.tables:
        columns, generated = table.columns, table.generated
        dates = date_columns(columns)
        for line in table.rows:
            cells = _cells(line, columns, generated, document.titles)
            links = _row_links(document.path, line.line, cells, references, diagnostics, memo)
            rows.append((table, line, cells, links))
            diagnostics.extend(
                checks.row_checks(document.path, table, line.line, cells, links, dates)
            )
    ids = row_ids([(table, links, cells) for table, _, cells, links in rows])
    records = tuple(
        RowRecord(
            id=row_id,
            file=document.path,
            line=line.line,
            section=list(table.heading_path),
            table=table.index,
            cells=cells,
            columns=list(cells),
            links=links,
        )
        for row_id, (table, line, cells, links) in zip(ids, rows, strict=True)
    )
    diagnostics.extend(checks.duplicates(records))
    return Resolved(records=records, diagnostics=tuple(diagnostics))


def _row_links(
    path: str,
    line: int,
    cells: dict[str, str],
    references: dict[str, dict[str, str]],
    diagnostics: list[Diagnostic],
    memo: _Memo,
) -> list[Link]:
    """The resolved links of a row's cells; what cannot be resolved is a diagnostic."""
    links = []
    for column, value in cells.items():
        for found in extract_links(value, references):
            link = memo.links.get((found.url, found.text, column))
            if link is None:
                reported = len(diagnostics)
                where = _Where(path, line, column)
                link = _resolve_link(where, value, found, diagnostics, memo.identifiers)
                if link is None:
                    continue
                if len(diagnostics) == reported:  # a link with a problem is told each time
                    memo.links[found.url, found.text, column] = link
            links.append(link)
    return links


def _cells(
    line: TableLine, columns: tuple[str, ...], generated: int, titles: Mapping[str, str]
) -> dict[str, str]:
    """Curated cells by column name. In a regenerated table (`generated` trailing columns),
    generated cells and the link titles `enrich` added (`titles`) are left out, so that it
    reads back as the seed it came from. A short row's missing cells are empty."""
    values = line.values
    if generated:
        values = tuple(strip_titles(v, titles) for v in values)
        values = values[: len(columns)] + values[len(columns) + generated :]
    cells = dict(zip(columns, values, strict=False))
    if len(values) < len(columns):
        cells.update(dict.fromkeys(columns[len(values) :], ""))
    for extra, value in enumerate(values[len(columns) :], start=1):
        cells[f"(extra {extra})"] = value
    return cells


def _identify(url: str, known: dict[str, Named | UnsupportedURL]) -> Named:
    """`identify(url)`, remembered in `known` (an unsupported URL too)."""
    found = known.get(url)
    if found is None:
        try:
            found = identify(url)
        except UnsupportedURL as exc:
            found = exc
        known[url] = found
    if isinstance(found, UnsupportedURL):
        raise found
    return found


def _resolve_link(
    where: _Where,
    cell: str,
    found: Found,
    diagnostics: list[Diagnostic],
    known: dict[str, Named | UnsupportedURL],
) -> Link | None:
    """The link `found` in `cell`, or None (with a diagnostic when it is a problem)."""
    path, line, column = where.path, where.line, where.column
    if not found.url.strip():
        if not is_placeholder(cell):  # `[Coming soon]()` is an empty cell
            diagnostics.append(checks.empty_link(path, line, column, found.text))
        return None
    if in_page(found.url):
        return None
    try:
        named = _identify(found.url, known)
    except UnsupportedURL as exc:
        diagnostics.append(checks.unusable_link(path, line, column, found.url, str(exc)))
        return None
    if named.kind is Kind.URL and (why := malformed(found.url)) is not None:
        diagnostics.append(checks.malformed_link(path, line, column, why))
    return Link(
        url=found.url,
        text=found.text,
        column=column,
        kind=named.kind,
        key=named.key,
        version=named.version,
        subpath=named.subpath,
        also=scholar_also(named),
        misplaced=not fits(column_role(column), named.kind, named.subpath),
    )
