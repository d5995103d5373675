"""Papers the list may be missing, per section, from Semantic Scholar's recommendations. Pure.

For each section (`rows.sections`) with a paper Semantic Scholar can look up, the fetch
stage asks the papers it recommends for the section's papers (`plan.recommendation`,
`sources/recommend.py`). `to_consider` turns those facts into each section's candidates:

- none already in the list: a paper is left out when any of its identities (Semantic
  Scholar id, arXiv id, DOI, ACL id) is one of a listed paper's, in any section: the ids
  its links name, and those its Semantic Scholar record gives (`listed`);
- at most `PER_SECTION`, newest first: by year (unknown last), then by citations (most
  first, unknown last), then by title (case-folded) and paper id, so the order is total;
- why: the recommendations API says which papers it was given, not which of them led to a
  candidate, so a candidate is "related to the section's papers" as a whole (`seeds`).

They are listed in `report.md` and by `python -m enrich suggest --papers`; nothing is ever
written into a seed: a maintainer adds a row by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from enrich.metadata import Recommendations, RecommendedPaper, ScholarMeta
from enrich.models import Kind, Result, RowRecord, Status
from enrich.plan import companions, recommendation, scholar_keys
from enrich.rows import name_or_id, sections
from enrich.urls import ARXIV_ID, SAFE_DOI

PER_SECTION = 10
"""Papers to consider per section at most."""
_USABLE = frozenset({Status.OK, Status.STALE})
_ARXIV_DOI = "10.48550/arxiv."  # arXiv's own DOIs name the arXiv paper
_PAPER_KINDS = {Kind.ARXIV: "arxiv", Kind.HF_PAPER: "arxiv", Kind.DOI: "doi", Kind.ACL: "acl"}


@dataclass(frozen=True)
class SectionPapers:
    """A section's papers to consider, best first, and the listed papers they relate to."""

    section: str
    seeds: tuple[str, ...]
    """The names of the section's rows with a paper (`rows.name_or_id`), in row order."""
    papers: tuple[RecommendedPaper, ...]


def to_consider(
    records: Sequence[RowRecord], entities: Mapping[str, Result], per_section: int = PER_SECTION
) -> list[SectionPapers]:
    """Each section's papers to consider, sections in list order; a section without any
    (none fetched, or every one listed already) is left out."""
    known = listed(records, entities)
    found: list[SectionPapers] = []
    for label, rows in sections(records).items():
        ident = recommendation(rows)
        answer = entities.get(ident.ref) if ident is not None else None
        if answer is None or answer.status not in _USABLE:
            continue
        if not isinstance(answer.data, Recommendations):  # a dataset written by another program
            continue
        fresh = [p for p in answer.data.papers if known.isdisjoint(identities(p))]
        if fresh:
            names = tuple(name_or_id(r) for r in rows if _has_paper(r))
            found.append(SectionPapers(label, names, tuple(sorted(fresh, key=order)[:per_section])))
    return found


def order(paper: RecommendedPaper) -> tuple[int, int, int, int, str, str]:
    """Newest first (by year, unknown last), then most cited (unknown last), then by
    title and paper id: a total order, so the same answer lists the same way."""
    year, cited = paper.year, paper.citations
    return (
        year is None,
        -(year or 0),
        cited is None,
        -(cited or 0),
        (paper.title or "").casefold(),
        paper.paper_id,
    )


def listed(records: Iterable[RowRecord], entities: Mapping[str, Result]) -> frozenset[str]:
    """Every identity of every paper the list links (`identities`' form): the ids its links
    name, and those of their Semantic Scholar records."""
    found: set[str] = set()
    for record in records:
        for link in record.links:
            ident = link.id
            prefix = _PAPER_KINDS.get(ident.kind)
            if prefix is not None:
                found.add(f"{prefix}:{ident.key.lower()}")
            for other in companions(ident):
                known = entities.get(other.ref)
                if known is not None and isinstance(known.data, ScholarMeta):
                    found.update(identities(known.data))
    return frozenset(found)


def identities(paper: RecommendedPaper | ScholarMeta) -> Iterator[str]:
    """A paper's identities: `s2:<paper id>`, `arxiv:<id>`, `doi:<doi>`, `acl:<id>` (ids
    lower-cased; arXiv's own DOI names its arXiv paper)."""
    yield f"s2:{paper.paper_id.lower()}"
    for prefix, value in (("arxiv", paper.arxiv_id), ("doi", paper.doi), ("acl", paper.acl_id)):
        if value:
            yield f"{prefix}:{value.lower()}"
    if paper.doi and paper.doi.lower().startswith(_ARXIV_DOI):
        yield f"arxiv:{paper.doi[len(_ARXIV_DOI) :].lower()}"


def paper_url(paper: RecommendedPaper) -> str:
    """Where to read the paper: its arXiv page, else its DOI, else its Semantic Scholar
    page. Ids are checked before they become a link (they come from an API)."""
    if paper.arxiv_id and ARXIV_ID.fullmatch(paper.arxiv_id):
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    if paper.doi and SAFE_DOI.fullmatch(paper.doi):
        return f"https://doi.org/{paper.doi}"
    return f"https://www.semanticscholar.org/paper/{_s2_id(paper.paper_id)}"


def _s2_id(paper_id: str) -> str:
    return "".join(c for c in paper_id if c.isalnum())


def _has_paper(record: RowRecord) -> bool:
    return next(scholar_keys(record), None) is not None
