"""`output/references.bib`: one BibTeX entry per distinct paper the list links. Pure.

The papers are the rows' paper links (arXiv, DOI, ACL, PMLR, OpenReview, Hub paper pages) in
list order; links that name the same paper are one entry. Two links name the same paper when
they share an identity the dataset knows: the link's own, its companions' (`plan.companions`:
a Hub paper page's arXiv paper), the arXiv id and DOI Semantic Scholar or arXiv names, the
ACL id Semantic Scholar names. Each paper's facts are those of its links
(`columns.Facts.of_links`, the rule every output uses).

An entry is the published version when one is known (`venues`: Semantic Scholar's venue or
journal, else the landing page's venue): `@inproceedings` with `booktitle`, or `@article` with
`journal`, and `doi`; else `@misc`. Every entry with an arXiv id carries `eprint`,
`archivePrefix = {arXiv}` and `primaryClass`. Authors, title, year, month and url come from
the same facts; what the dataset does not know is left out.

Keys (`dettmers2023qlora`: the first author's family name, the year, the title's first
significant word, folded to ASCII letters and digits; a collision gets `a`, `b`, ...) never
change once published: `published_keys` reads the previous file back, and a paper found in
it (by its `eprint`, `doi` or `url`) keeps its key. Text is escaped for BibTeX and LaTeX
(`latex.py`): the same dataset and previous keys give the same bytes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from enrich.columns import Facts, RowFacts
from enrich.latex import WORD, braced, escape, person, title, url
from enrich.metadata import Author, PageMeta, PaperMeta, ScholarMeta
from enrich.models import PAPER_KINDS, Identifier, Kind, Link, RowRecord
from enrich.page import safe_url
from enrich.plan import companions
from enrich.urls import ARXIV_ID, SAFE_DOI, identify
from enrich.venues import is_publication, published_doi

D = TypeVar("D")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
"""BibTeX's month macros."""
_KEY = re.compile(r"[A-Za-z0-9_:.+/-]+")
"""A key read back from a previous file (what `_base_key` writes, and a little more)."""
_ENTRY = re.compile(r"^@\s*(\w+)\s*\{([^,\n]*)", re.MULTILINE)
_FIELD = re.compile(r"\b(eprint|doi|url)\s*=\s*\{([^{}\n]*)\}", re.IGNORECASE)
_CLASS = re.compile(r"[A-Za-z]+(?:[.-][A-Za-z]+)*")
_STOP = frozenset(
    "a an the on of in for to with and or by from at as is are be via towards toward "
    "we our do does can how what when why which".split()
)


@dataclass(frozen=True)
class Entry:
    """One paper's entry: its key, type, fields (written as they will be) and identities."""

    key: str
    type: str
    fields: tuple[tuple[str, str], ...]
    ids: frozenset[Identifier]

    def text(self) -> str:
        body = ",\n".join(f"  {name} = {value}" for name, value in self.fields)
        return f"@{self.type}{{{self.key},\n{body}\n}}\n"


@dataclass(frozen=True)
class Bibliography:
    """The entries in list order, and each row's keys (by row id) in link order."""

    entries: tuple[Entry, ...]
    rows: Mapping[str, tuple[str, ...]]

    def text(self) -> str:
        """The file's text: the entries, a blank line between two."""
        return "\n".join(entry.text() for entry in self.entries)

    def texts(self) -> dict[str, str]:
        """Each entry's text by key (the page's "copy BibTeX")."""
        return {entry.key: entry.text() for entry in self.entries}


@dataclass
class _Paper:
    """A paper being gathered: where it was first linked, its links in list order, every
    identity known of it, the rows that link it, and the paper it was found to be (a link
    naming two papers found apart makes them one)."""

    first: int
    links: list[Link]
    ids: set[Identifier]
    rows: list[str]
    joined: _Paper | None = None


def bibliography(
    records: Sequence[RowRecord], facts: Facts, published: Mapping[Identifier, str]
) -> Bibliography:
    """The entries of the papers `records` link, keyed as `published` (`published_keys` of
    the previous file) says where it knows the paper, else anew."""
    papers = _papers(records, facts)
    known = [facts.of_links(paper.links) for paper in papers]
    keys = _keys(papers, known, published)
    entries = tuple(
        _entry(key, paper, row) for key, paper, row in zip(keys, papers, known, strict=True)
    )
    rows: dict[str, tuple[str, ...]] = {}
    for key, paper in zip(keys, papers, strict=True):
        for row in paper.rows:
            rows[row] = (*rows.get(row, ()), key)
    return Bibliography(entries, rows)


def _papers(records: Sequence[RowRecord], facts: Facts) -> list[_Paper]:
    """The distinct papers linked, in list order: a link sharing an identity with papers
    found before joins them (into the earliest)."""
    papers: list[_Paper] = []
    owner: dict[Identifier, _Paper] = {}
    known: dict[Identifier, frozenset[Identifier]] = {}  # a paper in several rows: once
    for record in records:
        for link in record.links:
            if link.kind not in PAPER_KINDS:
                continue
            ids = known.get(link.id)
            if ids is None:
                ids = known[link.id] = _identities(link, facts.of_links((link,)))
            found = {p.first: p for p in (_joined(owner[i]) for i in ids if i in owner)}
            if not found:
                papers.append(paper := _Paper(len(papers), [], set(), []))
            else:
                paper = found.pop(min(found))
            for other in found.values():
                other.joined = paper
                paper.links.extend(other.links)
                paper.ids |= other.ids
                paper.rows.extend(r for r in other.rows if r not in paper.rows)
            paper.links.append(link)
            paper.ids |= ids
            if record.id not in paper.rows:
                paper.rows.append(record.id)
            owner.update(dict.fromkeys(ids, paper))
    return [paper for paper in papers if paper.joined is None]


def _joined(paper: _Paper) -> _Paper:
    """The paper `paper` was found to be."""
    while paper.joined is not None:
        paper = paper.joined
    return paper


def _identities(link: Link, known: RowFacts) -> frozenset[Identifier]:
    """Every identity of the paper `link` names that the dataset knows (an `Identifier` is
    equal to another of its kind and key whatever its version or subpath)."""
    ident = link.id
    found = {ident, *companions(ident)}
    arxiv, scholar = _data(known.paper, PaperMeta), _data(known.scholar, ScholarMeta)
    for value in (arxiv.arxiv_id if arxiv else None, scholar.arxiv_id if scholar else None):
        if (eprint := _eprint(value)) is not None:
            found.add(Identifier(Kind.ARXIV, eprint))
    for doi in (arxiv.doi if arxiv else None, scholar.doi if scholar else None):
        if doi:
            found.add(Identifier(Kind.DOI, doi.lower()))
    if scholar is not None and scholar.acl_id:
        found.add(Identifier(Kind.ACL, scholar.acl_id))
    return frozenset(i for i in found if i.kind is not Kind.SCHOLAR)


def _data(found: object, kind: type[D]) -> D | None:
    """The data of `found` (a `Result` or None) when it is a `kind`."""
    data = getattr(found, "data", None)
    return data if isinstance(data, kind) else None


def _eprint(value: str | None) -> str | None:
    match = ARXIV_ID.fullmatch(value) if value else None
    return match.group("id") if match else None


# --------------------------------------------------------------------------- the keys


def published_keys(text: str) -> dict[Identifier, str]:
    """The key of every paper a previous `references.bib` names, by each of its identities
    (its `eprint`, `doi`, and the paper its `url` links). Anything else in the text is
    ignored: a hand-edited or foreign file gives what it can."""
    keys: dict[Identifier, str] = {}
    heads = list(_ENTRY.finditer(text))
    ends = [head.start() for head in heads[1:]] + [len(text)] if heads else []
    for head, end in zip(heads, ends, strict=True):
        key = head.group(2).strip()
        if not _KEY.fullmatch(key):
            continue
        body = text[head.end() : end]
        for name, value in _FIELD.findall(body):
            for ident in _read_identity(name.lower(), value.strip()):
                keys.setdefault(ident, key)
    return keys


def _read_identity(name: str, value: str) -> Iterator[Identifier]:
    if name == "eprint" and (eprint := _eprint(value)) is not None:
        yield Identifier(Kind.ARXIV, eprint)
    elif name == "doi" and value:
        yield Identifier(Kind.DOI, value.lower())
    elif name == "url" and value:
        ident = identify(value)
        if ident.kind in PAPER_KINDS:
            yield Identifier(ident.kind, ident.key)
            yield from companions(ident)


def _keys(
    papers: Sequence[_Paper], known: Sequence[RowFacts], published: Mapping[Identifier, str]
) -> list[str]:
    """Each paper's key: its published one (the first paper that claims a key keeps it),
    else a new one, made unique with `a`, `b`, ... against every key taken."""
    kept: list[str | None] = []
    taken: set[str] = set()
    for paper in papers:
        key = next((published[i] for i in sorted(paper.ids, key=_order) if i in published), None)
        kept.append(key if key is not None and key not in taken else None)
        taken.update(k for k in kept[-1:] if k is not None)
    keys: list[str] = []
    for key, paper, row in zip(kept, papers, known, strict=True):
        if key is None:
            key = _unique(_base_key(paper, row), taken)
            taken.add(key)
        keys.append(key)
    return keys


def _order(ident: Identifier) -> tuple[str, str]:
    return (ident.kind.value, ident.key)


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    for n in range(1, 1 << 20):
        suffix = ""
        while n:
            n, digit = divmod(n - 1, 26)
            suffix = chr(ord("a") + digit) + suffix
        if base + suffix not in taken:
            return base + suffix
    raise AssertionError("unreachable: a million keys alike")


def _base_key(paper: _Paper, known: RowFacts) -> str:
    """`dettmers2023qlora`; the parts not known left out; the first link's identity when
    none is known."""
    authors, named = _authors(known), _title(known)
    family = _ascii(authors[0].name.split()[-1]) if authors and authors[0].name.split() else ""
    year = _when(known, published=_published(known) is not None)[0]  # the entry's year
    words = (_ascii(w) for w in WORD.findall(named or ""))
    word = next((w for w in words if w and w not in _STOP), "")
    key = f"{family}{year or ''}{word}"
    if family or word:
        return key
    arxiv = next((i for i in sorted(paper.ids, key=_order) if i.kind is Kind.ARXIV), None)
    ident = arxiv or paper.links[0].id
    return _ascii(f"{ident.kind.value}{ident.key}") + key


def _ascii(text: str) -> str:
    """`text` in lower-case ASCII letters and digits: accents dropped, the rest left out."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


# --------------------------------------------------------------------------- the entries


def _published(known: RowFacts) -> tuple[str, tuple[str, str]] | None:
    """The published version's entry type and venue field (`_venue`), when one is known."""
    return _venue(_data(known.scholar, ScholarMeta), _data(known.landing, PageMeta))


def _entry(key: str, paper: _Paper, known: RowFacts) -> Entry:
    arxiv, scholar = _data(known.paper, PaperMeta), _data(known.scholar, ScholarMeta)
    venue = _published(known)
    kind, where = venue if venue is not None else ("misc", None)
    year, month = _when(known, published=venue is not None)
    eprint = _eprint(arxiv.arxiv_id if arxiv else None) or next(
        (i.key for i in sorted(paper.ids, key=_order) if i.kind is Kind.ARXIV), None
    )
    category = arxiv.primary_category if arxiv else None
    authors = [name for name in (person(a.name) for a in _authors(known)) if name]
    fields = [
        ("author", braced(" and ".join(authors)) if authors else None),
        ("title", braced(title(_title(known) or "")) if _title(known) else None),
        *([where] if where else []),
        ("year", braced(str(year)) if year else None),
        ("month", MONTHS[month - 1] if month else None),
        ("doi", braced(doi) if (doi := _doi(paper, arxiv, scholar, venue)) else None),
        ("eprint", braced(eprint) if eprint else None),
        ("archivePrefix", "{arXiv}" if eprint else None),
        (
            "primaryClass",
            braced(category) if eprint and category and _CLASS.fullmatch(category) else None,
        ),
        ("url", braced(found) if (found := _url(paper.links)) else None),
    ]
    written = tuple((name, value) for name, value in fields if value is not None)
    return Entry(key, kind, written, frozenset(paper.ids))


def _venue(
    scholar: ScholarMeta | None, landing: PageMeta | None
) -> tuple[str, tuple[str, str]] | None:
    """The published version's entry type and its venue field, when one is known: a
    journal (not a preprint server's) of a paper not typed a conference paper makes an
    article; any other venue proceedings (Semantic Scholar types many conference papers
    `JournalArticle` too, with arXiv as their journal)."""
    if scholar is not None:
        venue = scholar.venue if is_publication(scholar.venue) else None
        journal = scholar.journal if is_publication(scholar.journal) else None
        if journal and "Conference" not in scholar.publication_types:
            return "article", ("journal", braced(escape(venue or journal)))
        if venue or journal:
            return "inproceedings", ("booktitle", braced(escape(venue or journal or "")))
    if landing is not None and landing.venue and is_publication(landing.venue):
        return "inproceedings", ("booktitle", braced(escape(landing.venue)))
    return None


def _when(known: RowFacts, *, published: bool = False) -> tuple[int | None, int | None]:
    """The entry's year and month: the published version's (its venue's record), else when
    the paper was first published (`RowFacts.published`)."""
    if published:
        for record in (_data(known.scholar, ScholarMeta), _data(known.landing, PageMeta)):
            if record is not None and record.year:
                day = record.publication_date
                return record.year, day.month if day and day.year == record.year else None
    first = known.published
    if first is None:
        return None, None
    return first.year, first.day.month if first.day else None


def _doi(
    paper: _Paper, arxiv: PaperMeta | None, scholar: ScholarMeta | None, venue: object
) -> str | None:
    """The published version's DOI (`venues.published_doi`), or the DOI the list links."""
    if venue is not None and (doi := published_doi(arxiv, scholar)) is not None:
        return doi
    linked = next((link.key for link in paper.links if link.kind is Kind.DOI), None)
    return linked if linked and SAFE_DOI.fullmatch(linked) else None


def _url(links: Iterable[Link]) -> str | None:
    """The first link's URL, as the list writes it, when it is a plain http(s) URL."""
    return next((url(link.url) for link in links if safe_url(link.url)), None)


def _authors(known: RowFacts) -> list[Author]:
    """The authors of the first description of the paper that names any (arXiv, Semantic
    Scholar, the landing page)."""
    for found in (known.paper, known.scholar, known.landing):
        data = getattr(found, "data", None)
        authors = getattr(data, "authors", None)
        if isinstance(authors, list) and authors:
            return [a for a in authors if isinstance(a, Author) and a.name.strip()]
    return []


def _title(known: RowFacts) -> str | None:
    return known.title[1].title if known.title is not None else None
