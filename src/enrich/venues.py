"""Where a paper was published, as the dataset knows it: one rule for the report's venue
upgrades (`report.py`) and the published versions of `references.bib` (`bib.py`). Pure.

A venue or journal whose name starts with a preprint server's (`arXiv.org`, `CoRR`,
`bioRxiv`, ...) is no publication; arXiv's own DOIs (`10.48550/arXiv.*`) are not the DOI
of a published version.
"""

from __future__ import annotations

from enrich.metadata import PaperMeta, ScholarMeta
from enrich.urls import SAFE_DOI

PREPRINTS = ("arxiv", "corr", "biorxiv", "medrxiv", "ssrn")
"""How the names of venues and journals that are not one begin (any case)."""


def is_publication(name: str | None) -> bool:
    """`name` names a venue or journal, not a preprint server."""
    return bool(name) and not (name or "").strip().lower().startswith(PREPRINTS)


def published_venue(arxiv: PaperMeta | None, record: ScholarMeta | None) -> str | None:
    """Where the paper was published, from Semantic Scholar's venue or journal, else
    arXiv's journal reference; None for a preprint."""
    if record is not None:
        for name in (record.venue, record.journal):
            if name and is_publication(name):
                year = f" {record.year}" if record.year and str(record.year) not in name else ""
                return f"{name}{year}"  # raw: each output escapes it as it writes it
    if arxiv is not None and arxiv.journal_ref:
        return arxiv.journal_ref
    return None


def published_doi(arxiv: PaperMeta | None, record: ScholarMeta | None) -> str | None:
    """The published version's DOI (arXiv's own DOIs, 10.48550/arXiv.*, are not one), if
    it is made of the characters DOIs use in practice (`SAFE_DOI`)."""
    for doi in (arxiv.doi if arxiv else None, record.doi if record else None):
        if doi and not doi.startswith("10.48550/") and SAFE_DOI.fullmatch(doi):
            return doi
    return None
