"""Stage 2: parsed tables -> `RowRecord`s with resolved links, plus diagnostics. Pure.

Every link in every cell is found (inline and reference links, autolinks, `<a href>`, bare
URLs; badge images are pictures, not links) and classified by `urls.identify`. The link's
URL decides its kind; the column only decides whether it is *misplaced*.

A row's id is derived from what the row is — its first paper, else its first repository,
else its first other entity, else its first cell's text — so that it survives reordering
and edits of the seed. The same entity listed in two sections gives two rows whose ids are
told apart by the section, and one entity to fetch.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from enrich import collector
from enrich.document import Document, Table, TableLine
from enrich.models import (
    CODE_KINDS,
    HUB_KINDS,
    PAPER_KINDS,
    Diagnostic,
    Identifier,
    Kind,
    Link,
    RowRecord,
    Severity,
)
from enrich.parse import markdown
from enrich.titles import strip_titles
from enrich.urls import Named, UnsupportedURL, identify

_INLINE = markdown()
_BARE_URL = re.compile(r"(?<![\w/\"'=(])(?:https?://|www\.)[^\s<>\"'|)\]]+", re.IGNORECASE)
_HREF = re.compile(r"<a\s[^>]*?href\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
_A_OPEN = re.compile(r"<a[\s>]", re.IGNORECASE)
_A_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
# A cell of plain links only, `[text](url)` separated by spaces or commas, the shape of most
# rows of a curated list: the links markdown-it would find, found without running it. The
# text and the URL are limited to characters that no inline rule of markdown-it reads
# (escapes, code, emphasis, entities, HTML, images, nested brackets) and that its URL
# normalisation keeps as they are; anything else takes the markdown-it path.
_PLAIN_TEXT = r"[^\\`*_&<>!\[\]()\r\n]*"
_PLAIN_URL = r"https?://[A-Za-z0-9.-]+(?:[/?#][A-Za-z0-9\-._~/?#:@$+,;=]*)?"
_PLAIN_LINK = re.compile(rf"\[({_PLAIN_TEXT})\]\(({_PLAIN_URL})\)")
# The first link's text and URL, then the others (most cells have none).
_PLAIN_CELL = re.compile(
    rf"\[({_PLAIN_TEXT})\]\(({_PLAIN_URL})\)((?:[ ,]+\[{_PLAIN_TEXT}\]\({_PLAIN_URL}\))*)"
)
_DANGEROUS = ("javascript:", "data:", "vbscript:")

ROLES: dict[str, frozenset[Kind]] = {
    "paper": PAPER_KINDS,
    "code": CODE_KINDS,
    "model": HUB_KINDS,
}
# Column names whose content has an expected kind. Matched on the whole name: compound
# columns ("Title & Authors", "Paper/Blog") and bare "Model" (often a name) have no role.
_ROLE_NAMES = (
    ("paper", frozenset({"paper", "papers", "arxiv", "publication", "paper link", "pdf"})),
    (
        "code",
        frozenset(
            {
                "code",
                "github",
                "repo",
                "repository",
                "implementation",
                "source code",
                "official code",
            }
        ),
    ),
    (
        "model",
        frozenset(
            {
                "model card",
                "model cards",
                "hf model",
                "hugging face",
                "huggingface",
                "checkpoint",
                "checkpoints",
                "weights",
                "hf",
            }
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Resolved:
    records: tuple[RowRecord, ...]
    diagnostics: tuple[Diagnostic, ...]


class _Found(NamedTuple):
    """A link target as written, before classification. (A tuple: a cell's links are found
    50,000 times in a 10,000-row list, and a frozen dataclass is slower to make.)"""

    url: str
    text: str


@lru_cache(maxsize=1024)
def column_role(column: str) -> str | None:
    """`paper`, `code` or `model` for the columns whose content has an expected kind."""
    name = " ".join(re.sub(r"[^\w/&]+", " ", column.lower()).split())
    return next((role for role, names in _ROLE_NAMES if name in names), None)


@lru_cache(maxsize=64)
def role_of_kind(kind: Kind) -> str | None:
    return next((role for role, kinds in ROLES.items() if kind in kinds), None)


_Row = tuple[Table, TableLine, dict[str, str], list[Link]]


@dataclass(slots=True)
class _Memo:
    """What one `resolve` call has worked out already: a URL's identifier (or why it has
    none), and the `Link` made for a (URL, text, column); a list links many things twice."""

    identifiers: dict[str, Named | UnsupportedURL]
    links: dict[tuple[str, str, str], Link]


@collector.paused
def resolve(document: Document) -> Resolved:
    """All rows of all tables of `document`, with links and the problems found on the way."""
    references = {k: {"href": v, "title": ""} for k, v in document.references.items()}
    rows: list[_Row] = []
    diagnostics: list[Diagnostic] = []
    memo = _Memo({}, {})
    for table in document.tables:
        columns, generated = table.columns, table.generated
        years = _year_columns(columns)
        for line in table.rows:
            cells = _cells(line, columns, generated, document.titles)
            links = _row_links(document.path, line.line, cells, references, diagnostics, memo)
            rows.append((table, line, cells, links))
            diagnostics.extend(_row_checks(document.path, table, line, cells, links, years))
    ids = _row_ids(rows)
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
    diagnostics.extend(_duplicates(records))
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
                link = _resolve_link(path, line, column, found, diagnostics, memo.identifiers)
                if link is None:
                    continue
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


def extract_links(text: str, references: dict[str, dict[str, str]] | None = None) -> list[_Found]:
    """Every link target in a cell's text, in order of appearance."""
    if "[" not in text and "<" not in text and "http" not in text and "www." not in text:
        return []
    plain = _plain_links(text)
    if plain is not None:
        return plain
    env = {"references": references or {}}
    found: list[_Found] = []
    for token in _INLINE.parseInline(text, env):
        found.extend(_walk(token.children or []))
    return found


def _plain_links(text: str) -> list[_Found] | None:
    """The links of a cell of plain links only (`_PLAIN_CELL`), else None."""
    match = _PLAIN_CELL.fullmatch(text)
    if match is None:
        return None
    label, url, more = match.groups()
    found = [_Found(url, label.strip())]
    if more:  # a second link or more: found again by the one-link pattern
        found += (_Found(u, t.strip()) for t, u in _PLAIN_LINK.findall(more))
    return found


def _walk(children: list) -> Iterator[_Found]:  # type: ignore[type-arg]
    depth = 0
    for i, child in enumerate(children):
        if child.type == "link_open":
            depth += 1
            yield _Found(url=str(child.attrGet("href") or ""), text=_link_text(children, i))
        elif child.type == "link_close":
            depth -= 1
        elif child.type == "html_inline":
            hrefs = _HREF.findall(child.content)
            yield from (_Found(url=html.unescape(m), text="") for m in hrefs)
            depth = max(0, depth + _anchor_step(child.content))
        elif child.type == "text" and depth == 0:
            for match in _BARE_URL.findall(child.content):
                url = match if "://" in match else f"https://{match}"
                yield _Found(url=url.rstrip(".,;:"), text=match)


def _anchor_step(tag: str) -> int:
    """+1 for an `<a ...>` tag, -1 for `</a>`: a bare URL inside an HTML link is its text."""
    if _A_OPEN.match(tag):
        return 1
    return -1 if _A_CLOSE.match(tag) else 0


def _link_text(children: list, start: int) -> str:  # type: ignore[type-arg]
    parts = []
    for child in children[start + 1 :]:
        if child.type == "link_close":
            break
        parts.append(child.content)
    return "".join(parts).strip()


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
    path: str,
    line: int,
    column: str,
    found: _Found,
    diagnostics: list[Diagnostic],
    known: dict[str, Named | UnsupportedURL],
) -> Link | None:
    def report(severity: Severity, code: str, message: str, hint: str) -> None:
        diagnostics.append(
            Diagnostic(
                file=path, line=line, severity=severity, code=code, message=message, hint=hint
            )
        )

    if not found.url.strip():
        report(
            Severity.WARNING,
            "empty-link",
            f"link '{found.text}' in {column} has no target",
            "put the URL between the parentheses or remove the link",
        )
        return None
    try:
        named = _identify(found.url, known)
    except UnsupportedURL as exc:
        dangerous = found.url.strip().lower().startswith(_DANGEROUS)
        scheme = urlsplit(found.url.strip()).scheme.lower()
        supported = scheme in ("", "http", "https")
        code = "unparseable-link" if supported else "unsupported-scheme"
        report(
            Severity.ERROR if dangerous else Severity.WARNING,
            code,
            f"{exc} ({column})",
            "write the full https:// URL of the paper, repository or model",
        )
        return None
    role = column_role(column)
    kind_role = role_of_kind(named.kind)
    return Link(
        url=found.url,
        text=found.text,
        column=column,
        kind=named.kind,
        key=named.key,
        version=named.version,
        subpath=named.subpath,
        also=scholar_also(named),
        misplaced=role is not None and kind_role is not None and kind_role != role,
    )


def _year_columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    """A table's Year columns (any case), whose cells are checked: found once a table, not
    once a cell."""
    return tuple(c for c in dict.fromkeys(columns) if c.strip().lower() == "year")


def _row_checks(
    path: str,
    table: Table,
    line: TableLine,
    cells: dict[str, str],
    links: list[Link],
    years: tuple[str, ...],
) -> Iterator[Diagnostic]:
    for link in links:
        if link.misplaced:
            home = next(
                c
                for c in (*table.columns, "")
                if column_role(c) == role_of_kind(link.kind) or c == ""
            )
            where = f"the {home} column" if home else "a column of its kind"
            yield Diagnostic(
                file=path,
                line=line.line,
                severity=Severity.WARNING,
                code="misplaced-link",
                message=f"{link.kind.value} link {link.url} sits in the {link.column} column",
                hint=f"move it to {where}; it is enriched by its kind all the same",
            )
    for column in years:
        value = cells[column]
        if value and not _YEAR.match(value):
            yield Diagnostic(
                file=path,
                line=line.line,
                severity=Severity.WARNING,
                code="year-not-a-year",
                message=f"Year cell '{value[:40]}' is not a four-digit year",
                hint="write the year of first publication, e.g. 2024",
            )


def row_identity(links: list[Link], cells: dict[str, str]) -> str:
    """What a row is: its first paper, repository or entity, else its first cell's text."""
    for kinds in (PAPER_KINDS, CODE_KINDS, HUB_KINDS):
        for link in links:
            if link.kind in kinds:
                kind = Kind.ARXIV if link.kind is Kind.HF_PAPER else link.kind
                return f"{kind.value}:{link.key}"
    if links:
        return links[0].ref
    first = next((v for v in cells.values() if v), "")
    return f"row:{slug(first) or 'empty'}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _row_ids(rows: list[_Row]) -> list[str]:
    bases = [
        # The cells only matter for a row without links.
        row_identity(links, {} if links else dict(zip(t.columns, ln.values, strict=False)))
        for t, ln, _, links in rows
    ]
    counts = Counter(bases)
    ids: list[str] = []
    used: dict[str, int] = {}
    sections: dict[int, str] = {}  # table index -> its heading's slug
    for base, (table, _, _, _) in zip(bases, rows, strict=True):
        candidate = base
        if counts[base] > 1:
            if table.index not in sections:
                sections[table.index] = (
                    slug(table.heading_path[-1]) if table.heading_path else "top"
                )
            candidate = f"{base}@{sections[table.index]}"
        seen = used[candidate] = used.get(candidate, 0) + 1
        ids.append(candidate if seen == 1 else f"{candidate}~{seen}")
    return ids


SCHOLAR_PREFIX = f"{Kind.SCHOLAR.value}:"
SCHOLAR_KINDS = frozenset({Kind.ARXIV, Kind.DOI, Kind.ACL})
"""Paper kinds with a Semantic Scholar record (`scholar:<kind>:<key>`) named in `also`: the
ones its API can look up (it has no lookup by PMLR or OpenReview id)."""


def scholar_also(named: Identifier | Named) -> list[str]:
    """The other entities a link to `named` names: a Hub paper page names its arXiv paper;
    every paper names its Semantic Scholar record."""
    if named.kind is Kind.HF_PAPER:
        paper = f"{Kind.ARXIV.value}:{named.key}"
        return [paper, f"{SCHOLAR_PREFIX}{paper}"]
    return [f"{SCHOLAR_PREFIX}{named.ref}"] if named.kind in SCHOLAR_KINDS else []


def _duplicates(records: tuple[RowRecord, ...]) -> Iterator[Diagnostic]:
    """An entity in several rows is fetched once; a later row is told where it came first."""
    first: dict[str, RowRecord] = {}
    for record in records:
        earlier: dict[int, list[str]] = {}
        for ref in _listed(record.links):
            seen = first.setdefault(ref, record)
            if seen is not record:
                earlier.setdefault(seen.line, []).append(ref)
        for line, refs in sorted(earlier.items()):
            yield Diagnostic(
                file=record.file,
                line=record.line,
                severity=Severity.INFO,
                code="duplicate-entity",
                message=f"{', '.join(refs)} also listed at {record.file}:{line}",
                hint="fine when the entity belongs in both sections; it is fetched once",
            )


def _listed(links: list[Link]) -> dict[str, None]:
    """The entities `links` name, each once, in order; not the Semantic Scholar records,
    which every paper names (its paper is listed already)."""
    named: dict[str, None] = {}
    for link in links:
        for ref in (link.ref, *link.also):
            if not ref.startswith(SCHOLAR_PREFIX):
                named[ref] = None
    return named
