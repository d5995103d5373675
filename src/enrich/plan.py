"""What a run fetches, planned from its rows: the entities they link, and discovery's lookups.

Pure: rows in, `Entity`s out (each with its subpaths), ordered by ref. The fetch stage
(`fetch.py`) asks the sources for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from enrich.gaps import gap
from enrich.models import Identifier, RowRecord


@dataclass(frozen=True)
class Entity:
    """A unique entity of the run and the subpaths linked for it."""

    identifier: Identifier
    subpaths: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return self.identifier.ref


def entities(records: Iterable[RowRecord]) -> dict[str, Entity]:
    """The unique entities linked from `records`, each with every subpath linked for it."""
    found: dict[str, Entity] = {}
    for record in records:
        for link in record.links:
            ref = link.ref  # an entity's identifier is that of the first link naming it
            entity = found.get(ref)
            if entity is None:
                ident = Identifier(kind=link.kind, key=link.key, version=link.version)
                entity = found[ref] = Entity(ident)
            if link.subpath and link.subpath not in entity.subpaths:
                found[ref] = Entity(entity.identifier, (*entity.subpaths, link.subpath))
            for also in link.also:
                if also not in found:
                    kind, key = also.split(":", 1)  # the kind is validated from its value
                    found[also] = Entity(Identifier(kind=kind, key=key))
    return _by_ref(found)


def discovery(records: Iterable[RowRecord]) -> dict[str, Entity]:
    """What discovery asks the Hub about, beyond what is linked: for each row with an arXiv
    paper and an empty Code cell, the paper's Hub page (its linked repository); with an empty
    Model Card cell, the models tagged with the paper. Rows with both cells filled cost
    nothing. See `gaps.gap`."""
    found: dict[str, Entity] = {}
    for record in records:
        missing = gap(record)
        if missing is None:
            continue
        for kind in missing.kinds:
            ref = f"{kind.value}:{missing.arxiv_id}"
            if ref not in found:  # a paper in several rows: its identifier is made once
                found[ref] = Entity(Identifier(kind=kind, key=missing.arxiv_id))
    return _by_ref(found)


def _by_ref(found: dict[str, Entity]) -> dict[str, Entity]:
    """`found` in order of ref. The refs alone are sorted: a sort of strings compares them
    directly, twice as fast as a sort of (ref, entity) pairs."""
    return {ref: found[ref] for ref in sorted(found)}
