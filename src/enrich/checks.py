"""Stage 2: the problems `resolve` finds in a seed's rows, as `Diagnostic`s. Pure.

A link that cannot be followed (no target, a scheme other than http(s), no host), a URL of a
paper host whose id is malformed (`urls.malformed`), a link of a kind that does not fit its
column (`roles.fits`), a date cell that holds no date, and an entity listed in several rows.
An in-page anchor (`#x`, `./#x`) and a placeholder cell (`roles.is_placeholder`) are not
problems.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from enrich.document import Table
from enrich.models import Diagnostic, Identifier, Kind, Link, RowRecord, Severity
from enrich.plan import companions
from enrich.roles import column_role, is_blank, is_date, role_of_kind

_DANGEROUS = ("javascript:", "data:", "vbscript:")


def warning(path: str, line: int, code: str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(
        file=path, line=line, severity=Severity.WARNING, code=code, message=message, hint=hint
    )


def empty_link(path: str, line: int, column: str, text: str) -> Diagnostic:
    return warning(
        path,
        line,
        "empty-link",
        f"link '{text}' in {column} has no target",
        "put the URL between the parentheses or remove the link",
    )


def unusable_link(path: str, line: int, column: str, url: str, why: str) -> Diagnostic:
    """A link that is not an absolute http(s) URL: an error for a script, else a warning."""
    target = url.strip()
    scheme = urlsplit(target).scheme.lower()
    code = "unparseable-link" if scheme in ("", "http", "https") else "unsupported-scheme"
    dangerous = target.lower().startswith(_DANGEROUS)
    return Diagnostic(
        file=path,
        line=line,
        severity=Severity.ERROR if dangerous else Severity.WARNING,
        code=code,
        message=f"{why} ({column})",
        hint="write the full https:// URL of the paper, repository or model",
    )


def malformed_link(path: str, line: int, column: str, why: str) -> Diagnostic:
    return warning(
        path,
        line,
        "malformed-id",
        f"{why} ({column})",
        "check the link: it is kept as a plain web page until its id is corrected",
    )


def row_checks(
    path: str,
    table: Table,
    line: int,
    cells: dict[str, str],
    links: Sequence[Link],
    dates: tuple[str, ...],
) -> Iterator[Diagnostic]:
    """A row's misplaced links and date cells that hold no date (`dates`: the columns)."""
    for link in links:
        if link.misplaced:
            home = next(
                c
                for c in (*table.columns, "")
                if column_role(c) == role_of_kind(link.kind) or c == ""
            )
            where = f"the {home} column" if home else "a column of its kind"
            yield warning(
                path,
                line,
                "misplaced-link",
                f"{link.kind.value} link {link.url} sits in the {link.column} column",
                f"move it to {where}; it is enriched by its kind all the same",
            )
    for column in dates:
        value = cells[column]
        if not is_blank(value) and not is_date(value):
            yield warning(
                path,
                line,
                "year-not-a-year",
                f"{column} cell '{value[:40]}' is not a year or a date",
                "write the date of first publication, e.g. 2024, 2024-05 or May 2024",
            )


def duplicates(records: Sequence[RowRecord]) -> Iterator[Diagnostic]:
    """An entity in several rows is fetched once; a later row is told where it came first."""
    first: dict[Identifier, RowRecord] = {}
    for record in records:
        earlier: dict[int, list[str]] = {}
        for ident in _listed(record.links):
            seen = first.setdefault(ident, record)
            if seen is not record:
                earlier.setdefault(seen.line, []).append(ident.ref)  # the message's text
        for line, refs in sorted(earlier.items()):
            yield Diagnostic(
                file=record.file,
                line=record.line,
                severity=Severity.INFO,
                code="duplicate-entity",
                message=f"{', '.join(refs)} also listed at {record.file}:{line}",
                hint="fine when the entity belongs in both sections; it is fetched once",
            )


def _listed(links: Sequence[Link]) -> dict[Identifier, None]:
    """The entities `links` name, each once, in order; not the Semantic Scholar records,
    which every paper names (its paper is listed already)."""
    named: dict[Identifier, None] = {}
    for link in links:
        for ident in (link.id, *companions(link.id)):
            if ident.kind is not Kind.SCHOLAR:
                named[ident] = None
    return named
