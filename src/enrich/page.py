"""`output/index.html`: the dataset as one browsable page. Pure: dataset in, HTML out (as
text, or as bytes in pieces for writing a row at a time: `page_pieces`).

The page is self-contained and static: its rows travel inline as JSON in a
`<script type="application/json">` block, next to a small vanilla script and style sheet, so
viewing it makes no request at all (its Content-Security-Policy, `default-src 'none'` with
the hashes of its own script and style, forbids any). The script builds the table once, with
`textContent` and validated `href`s only, never `innerHTML`, then filters (free text over
method, title, section and authors; a section, with its subsections; a kind of link; a
status flag) and sorts (stars, downloads, citations, their 30-day changes, first-published
date; missing values last) by hiding and reordering the rows it built. Each row with a paper
has a "copy BibTeX" button that copies its papers' entries of `references.bib`, carried in
the page's data (no request). Each row's sparkline (its stars, else citations, else
downloads over the last year, `trends.spark`) is an inline SVG the script draws from the
row's points: no image to load. The template, script and style sheet are plain files in
`enrich/assets/` (`page.html`, `page.js`, `page.css`), filled in by name.

What a row shows is decided here, in Python, with the pickers of `columns` (`paper_title`,
`first_published`, `repo`, `hub`, `scholar`), so the page and the regenerated document
agree; a stale value carries the same dagger. Everything fetched or curated is untrusted: it
is flattened to one line (`text.one_line`), links are kept only when they are absolute
http(s) URLs, and the JSON escapes `<`, `>`, `&`, U+2028 and U+2029, so no string can close
the script block or open a comment. The output is deterministic: rows in seed order, keys
sorted, no timestamp but the dataset's own `fetched_at`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from enrich.columns import Facts, RowFacts, humanise, mark_stale, signed
from enrich.jsonout import batched
from enrich.metadata import HubMeta, RepoMeta
from enrich.models import (
    CODE_KINDS,
    PAPER_KINDS,
    Dataset,
    Entities,
    Kind,
    Link,
    Result,
    RowRecord,
    utc,
)
from enrich.parse import plain
from enrich.rows import name_or_id, section_label, shared_headings
from enrich.text import one_line
from enrich.trends import FLAGS, RowTrend

TEXT_LIMIT = 300
AUTHORS_LIMIT = 500
# What links a row has, for the kind filter: a name and the link kinds that count as it.
KIND_GROUPS: tuple[tuple[str, frozenset[Kind]], ...] = (
    ("paper", PAPER_KINDS),
    ("code", CODE_KINDS),
    ("model", frozenset({Kind.HF_MODEL, Kind.HF_COLLECTION})),
    ("dataset", frozenset({Kind.HF_DATASET})),
    ("demo", frozenset({Kind.HF_SPACE})),
    ("other", frozenset({Kind.HF_ORG, Kind.HF_DOCS, Kind.URL})),
)
# The code and model links: the row's first of the first group that has one. (A frozenset is
# never iterated here: its order changes with the hash seed, and the page must not.)
CODE_LINKS = (frozenset({Kind.GITHUB_REPO}), frozenset({Kind.GITHUB_USER}))
MODEL_LINKS = (
    frozenset({Kind.HF_MODEL, Kind.HF_COLLECTION, Kind.HF_DATASET, Kind.HF_SPACE}),
    frozenset({Kind.HF_ORG, Kind.HF_DOCS}),
)
# In JSON text these characters only occur inside strings, where their escapes mean the same.
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_TABLE = str.maketrans(_JSON_ESCAPES)
_URL_UNSAFE = re.compile(r"[\s\x00-\x1f]")


def render_page(
    dataset: Dataset, facts: Facts | None = None, bib: Mapping[str, str] | None = None
) -> str:
    """The page for `dataset` (its rows' `facts`, when worked out already), with the
    `references.bib` entries `bib` gives by key for each row's "copy BibTeX" button: the same
    dataset always gives the same text."""
    return b"".join(page_pieces(dataset, facts, bib)).decode("utf-8")


def page_pieces(
    dataset: Dataset, facts: Facts | None = None, bib: Mapping[str, str] | None = None
) -> Iterator[bytes]:
    """`render_page`'s UTF-8 bytes in pieces, for writing to a file: the rows' data is made
    and written a row at a time, so neither the rows nor the page (17 MiB of text at
    10,000 rows) is ever held whole."""
    style, script = asset("page.css"), asset("page.js")
    parts = {
        "CSP": _policy(script, style),
        "STYLE": style,
        "SCRIPT": script,
        "SUMMARY": html.escape(_summary(dataset)),
    }
    head, tail = _filled(asset("page.html"), parts, "DATA")
    yield head.encode()
    yield from batched(_data(dataset, facts or Facts(dataset.results), bib))
    yield tail.encode()


def _data(dataset: Dataset, facts: Facts, bib: Mapping[str, str] | None) -> Iterator[bytes]:
    """The page's data, `json_for_script` of {"kinds", "rows", "sections", "statuses"}
    (the keys in sorted order), written a row at a time."""
    sections = _Sections(dataset.records)
    present = {kind for record in dataset.records for kind in link_kinds(record)}
    kinds = [name for name, _ in KIND_GROUPS if name in present]
    yield b'{"kinds":' + _script_json(kinds) + b',"rows":['
    flagged: set[str] = set()
    for position, record in enumerate(dataset.records):
        where = sections.of(record)
        label = sections.labels[where[-1]] if where else ""
        row = {**row_data(record, facts, bib), "in": where, "section": label}
        flagged.update(row["status"])
        yield (b"," if position else b"") + _script_json(row)
    yield b'],"sections":' + _script_json(sections.labels)
    yield b',"statuses":' + _script_json([f for f in FLAGS if f in flagged]) + b"}"


def _script_json(value: object) -> bytes:
    return json_for_script(value).encode()


def json_for_script(value: object) -> str:
    """`value` as JSON that is safe inside a `<script>` element of an HTML page."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.translate(_JSON_TABLE)


@functools.lru_cache(maxsize=1 << 16)  # a list links most entities from several rows
def safe_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL with a host, else None."""
    if not url or _URL_UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def row_data(
    record: RowRecord, facts: Facts, bib: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What the page shows and searches for one row (`section`: the whole heading path;
    `bib`: the text of the row's papers' entries in `references.bib`, by key)."""
    paper_link = _first_link(record, (PAPER_KINDS,))
    code_link, model_link = _first_link(record, CODE_LINKS), _first_link(record, MODEL_LINKS)
    known, entities = facts.of(record), facts.entities
    title, authors = _title_and_authors(known)
    return {
        "id": record.id,
        "name": name_or_id(record),
        "title": title or (paper_link.id.ref if paper_link else ""),
        "paper": safe_url(paper_link.url) if paper_link else None,
        "authors": authors,
        "year": plain(record.cell("year"), 20),
        "published": _published(known),
        "stars": _metric(known.repo, "stars"),
        "downloads": _metric(known.hub, "downloads"),
        "citations": _metric(known.scholar, "citations"),
        "code": _link(code_link, entities, "full_name"),
        "model": _link(model_link, entities, "id"),
        "kinds": link_kinds(record),
        "bib": "\n".join(bib[key] for key in known.bib if key in bib) if bib else "",
        **_trends(known.trend),
    }


def _trends(trend: RowTrend) -> dict[str, Any]:
    """The row's 30-day changes (number and text, for sorting), status flags and sparkline
    points (`trends.row_trend`)."""
    changes = {"stars": trend.stars, "downloads": trend.downloads, "citations": trend.citations}
    return {
        **{
            f"{name}_trend": None if n is None else {"n": n, "text": signed(n)}
            for name, n in changes.items()
        },
        "status": list(trend.status),
        "spark": trend.spark,
    }


def link_kinds(record: RowRecord) -> list[str]:
    """What links the row has (`paper`, `code`, `model`, ...), in `KIND_GROUPS` order."""
    present = {link.kind for link in record.links}
    return [name for name, kinds in KIND_GROUPS if not kinds.isdisjoint(present)]


def _first_link(record: RowRecord, groups: Iterable[frozenset[Kind]]) -> Link | None:
    """The row's first http(s) link of a kind of the first of `groups` that has one."""
    for kinds in groups:
        for link in record.links:
            if link.kind in kinds and safe_url(link.url):
                return link
    return None


def _title_and_authors(known: RowFacts) -> tuple[str, str]:
    """The paper's title and authors, from arXiv, else from Semantic Scholar, else from its
    landing page (`RowFacts.title`)."""
    titled = known.title
    if titled is None:
        return "", ""
    data = titled[1]
    names = ", ".join(a.name for a in data.authors)
    return one_line(data.title or "", TEXT_LIMIT), one_line(names, AUTHORS_LIMIT)


def _published(known: RowFacts) -> dict[str, str] | None:
    """The first-published date, as sort key and text (`2023-06-13`, dagger when stale):
    arXiv's first version, else Semantic Scholar's date (or year), else the landing page's
    (`RowFacts.published`)."""
    found = known.published
    if found is None:
        return None
    day = found.day.isoformat() if found.day else str(found.year)
    return {"sort": day, "text": mark_stale(found.found, day)}


def _metric(result: Result | None, field: str) -> dict[str, Any] | None:
    """A count, as number (for sorting) and humanised text (dagger when stale)."""
    number = getattr(result.data, field, None) if result is not None else None
    if result is None or not isinstance(number, int):
        return None
    return {"n": number, "text": mark_stale(result, humanise(number))}


def _link(link: Link | None, entities: Entities, field: str) -> dict[str, str] | None:
    """A code or model link: its URL and the entity's own name for it."""
    if link is None or (url := safe_url(link.url)) is None:
        return None
    result = entities.get(link.id)
    data = result.data if result else None
    name = getattr(data, field, None) if isinstance(data, RepoMeta | HubMeta) else None
    return {"url": url, "text": one_line(name if isinstance(name, str) else link.key, 120)}


class _Sections:
    """The section filter's choices: every heading path (and its parents) below the headings
    all rows share, in seed order; `of(record)` is the choices a row belongs to."""

    def __init__(self, records: list[RowRecord]) -> None:
        paths = [tuple(one_line(s, TEXT_LIMIT) for s in r.section) for r in records]
        self._skip = shared_headings(paths)
        self._index: dict[tuple[str, ...], int] = {}
        for path in paths:
            for prefix in self._prefixes(path):
                self._index.setdefault(prefix, len(self._index))
        self.labels = [section_label(p, self._skip) for p in self._index]

    def _prefixes(self, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        start = min(self._skip + 1, len(path))
        return [path[:end] for end in range(start, len(path) + 1) if end]

    def of(self, record: RowRecord) -> list[int]:
        path = tuple(one_line(s, TEXT_LIMIT) for s in record.section)
        return [self._index[p] for p in self._prefixes(path)]


def _summary(dataset: Dataset) -> str:
    rows, seeds = len(dataset.records), ", ".join(one_line(s, 200) for s in dataset.seeds)
    fetched = [r.provenance.fetched_at for r in dataset.entities.values()]
    latest = max((f for f in fetched if f is not None), default=None)
    facts = f"; facts fetched up to {utc(latest).date().isoformat()}" if latest else ""
    return f"{rows} rows from {seeds or 'no seed'}{facts}."


@cache
def asset(name: str) -> str:
    """A file of `enrich/assets/`: the page's template, style sheet and script."""
    return (files("enrich") / "assets" / name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _policy(script: str, style: str) -> str:
    """Nothing may load but this page's own script and style (and no favicon request)."""
    return (
        f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _filled(template: str, parts: Mapping[str, str], gap: str) -> list[str]:
    """`template` with each `{{NAME}}` of `parts` replaced, in one pass (a part never gets
    filled), split where `{{gap}}` is, which is left for the caller to fill."""
    pieces = template.split("{{")
    out = [[pieces[0]]]
    for piece in pieces[1:]:
        name, _, rest = piece.partition("}}")
        if name == gap:
            out.append([])
        else:
            out[-1].append(parts[name])
        out[-1].append(rest)
    return ["".join(texts) for texts in out]
