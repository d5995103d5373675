"""What a run fetches, planned from its rows: the entities they link, the companions each
link names (`companions`: a paper's Semantic Scholar record, a Hub paper page's arXiv paper),
discovery's lookups (the Hub's for empty cells, Semantic Scholar's recommendations for each
section: `recommendation`), and the phases a fetch runs in (`PAPERS`: Semantic Scholar names the
arXiv papers of the papers linked by DOI, so it goes first).

Pure: rows in, `sources.Request`s out (each with its subpaths), ordered by ref: the one
record of an entity to fetch, from the plan to the source. The fetch stage (`fetch.py`)
attaches each one's last known result (`Request.knowing`) and asks the sources for them.
`companions` is the one rule of what else a link names: resolve writes it into the link's
JSON form (`Link.also`), and every stage that reads a link's companions asks it here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

from enrich.config import S2_BATCH_SIZE, S2_RECOMMEND_SEEDS
from enrich.gaps import gap
from enrich.metadata import ScholarMeta
from enrich.models import Identifier, Kind, Result, RowRecord
from enrich.rows import sections
from enrich.sources import Request
from enrich.urls import ARXIV_ID

SCHOLAR_KINDS = frozenset({Kind.ARXIV, Kind.DOI, Kind.ACL})
"""Paper kinds with a Semantic Scholar record (`scholar:<kind>:<key>`) named as a companion:
the ones its API can look up (it has no lookup by PMLR or OpenReview id)."""


@lru_cache(maxsize=4096)  # a list links a few thousand entities, many of them twice
def companions(ident: Identifier) -> tuple[Identifier, ...]:
    """The other entities a link to `ident` names, fetched with it: a Hub paper page names
    its arXiv paper; every paper Semantic Scholar can look up names its record there."""
    if ident.kind is Kind.HF_PAPER:
        paper = Identifier(Kind.ARXIV, ident.key)
        return (paper, Identifier(Kind.SCHOLAR, paper.ref))
    if ident.kind in SCHOLAR_KINDS:
        return (Identifier(Kind.SCHOLAR, ident.ref),)
    return ()


def entities(records: Iterable[RowRecord]) -> dict[str, Request]:
    """The unique entities linked from `records` and their companions, each with every
    subpath linked for it."""
    found: dict[str, Request] = {}
    for record in records:
        for link in record.links:
            ident = link.id
            entity = found.get(ident.ref)
            if entity is None:  # an entity's identifier is that of the first link naming it
                entity = found[ident.ref] = Request(
                    Identifier(ident.kind, ident.key, ident.version)
                )
            if ident.subpath and ident.subpath not in entity.subpaths:
                found[ident.ref] = replace(entity, subpaths=(*entity.subpaths, ident.subpath))
            for other in companions(ident):
                if other.ref not in found:
                    found[other.ref] = Request(other)
    return _by_ref(found)


def discovery(records: Iterable[RowRecord]) -> dict[str, Request]:
    """What discovery asks the Hub about, beyond what is linked: for each row with an arXiv
    paper and an empty Code cell, the paper's Hub page (its linked repository); with an empty
    Model Card cell, the models tagged with the paper. Rows with both cells filled cost
    nothing. See `gaps.gap`."""
    found: dict[str, Request] = {}
    for record in records:
        missing = gap(record)
        if missing is None:
            continue
        for ident in missing.identifiers:
            if ident.ref not in found:  # a paper in several rows: asked once
                found[ident.ref] = Request(ident)
    return _by_ref(found)


def recommendations(records: Iterable[RowRecord]) -> dict[str, Request]:
    """What discovery asks Semantic Scholar about: for each section (`rows.sections`) with at
    least one paper it can look up, the papers it recommends for them (`recommendation`)."""
    found: dict[str, Request] = {}
    for rows in sections(list(records)).values():
        ident = recommendation(rows)
        if ident is not None:
            found[ident.ref] = Request(ident)
    return _by_ref(found)


def recommendation(rows: Iterable[RowRecord]) -> Identifier | None:
    """The recommendations lookup for a section's `rows`: its papers' Semantic Scholar keys
    (their `companions`; the first `S2_RECOMMEND_SEEDS` in row order), sorted and joined
    by spaces, so that the same papers in another order ask the same lookup. None without a
    paper Semantic Scholar can look up."""
    keys = dict.fromkeys(key for record in rows for key in scholar_keys(record))
    chosen = sorted(list(keys)[:S2_RECOMMEND_SEEDS])
    return Identifier(Kind.RECOMMENDED, " ".join(chosen)) if chosen else None


def scholar_keys(record: RowRecord) -> Iterator[str]:
    """The keys of the Semantic Scholar records the row's papers name (`companions`)."""
    for link in record.links:
        for other in companions(link.id):
            if other.kind is Kind.SCHOLAR:
                yield other.key


def _by_ref(found: dict[str, Request]) -> dict[str, Request]:
    """`found` in order of ref. The refs alone are sorted: a sort of strings compares them
    directly, twice as fast as a sort of (ref, entity) pairs."""
    return {ref: found[ref] for ref in sorted(found)}


@dataclass(frozen=True)
class Lead:
    """A phase declared as data: the `leader`'s answers name entities the `follower` fetches.

    The leader's entities that may name new ones (`may_name`) are asked first, in whole
    batches of `batch`; the follower starts when they are answered, or at the leader's
    first failed attempt (then what they name later gets a call of its own). The rest of
    the leader's entities are asked after the follower's first request. The sources of the
    `trailing` kinds start with the follower: they share the leader's pace, and must not
    take its first turn.
    """

    leader: Kind
    follower: Kind
    batch: int
    may_name: Callable[[Identifier], bool]
    names: Callable[[Result], Identifier | None]
    trailing: frozenset[Kind] = frozenset()


def named_on_arxiv(result: Result) -> Identifier | None:
    data = result.data
    if isinstance(data, ScholarMeta) and data.arxiv_id and ARXIV_ID.fullmatch(data.arxiv_id):
        return Identifier(Kind.ARXIV, data.arxiv_id)
    return None


PAPERS = Lead(
    leader=Kind.SCHOLAR,
    follower=Kind.ARXIV,
    batch=S2_BATCH_SIZE,
    may_name=lambda ident: not ident.key.startswith(f"{Kind.ARXIV.value}:"),
    names=named_on_arxiv,
    trailing=frozenset({Kind.RECOMMENDED}),
)
"""The papers first: Semantic Scholar, then arXiv with the papers it found (a paper linked
by its DOI whose record names an arXiv id is fetched from arXiv in the same run). arXiv,
paced 3 s a request, is the run's critical path: its first request goes out before the other
sources' cache lookups and client imports. The seed costs one request of each. Semantic
Scholar's recommendations (discovery, one request a second on the batch endpoint's pace)
trail: they start with arXiv, never before the batch that arXiv waits for."""
