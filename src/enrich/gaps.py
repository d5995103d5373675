"""Stage 2, for discovery: what a curated row lacks. Pure.

A row *has a gap* when it has an arXiv paper (its first arXiv or Hub paper-page link) and its
Code cell, or its Model Card cell, is empty (columns found by `roles.column_role`). The
fetch stage asks the Hub about gaps only (`fetch.discovery`); `suggest` turns the answers
into suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from enrich.models import Identifier, Kind, RowRecord
from enrich.roles import column_role, is_blank


@dataclass(frozen=True)
class Gap:
    """What a row lacks: the arXiv id to ask about, and the empty columns to fill."""

    arxiv_id: str
    code: str | None = None
    """The empty Code column's name, when the row has no code link."""
    model: str | None = None
    """The empty Model Card column's name, when the row has no model link."""

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """What discovery asks about the paper for this row: one kind per missing cell."""
        kinds = ((Kind.HF_PAPER, self.code), (Kind.HF_PAPER_MODELS, self.model))
        return tuple(kind for kind, missing in kinds if missing)

    @property
    def identifiers(self) -> tuple[Identifier, ...]:
        """The entities discovery fetches for this row: one per missing cell."""
        return tuple(Identifier(kind=kind, key=self.arxiv_id) for kind in self.kinds)


def gap(record: RowRecord) -> Gap | None:
    """The row's gap, or None when it has no arXiv paper or no empty Code/Model Card cell.

    A role counts as missing when every column of that role is empty (spaces only, or a
    placeholder such as `-` or `TBD`: `roles.is_blank`); the first such column is the one
    to fill.
    """
    link = record.arxiv_link()
    if link is None:
        return None
    empty: dict[str, str | None] = {}
    for role, columns in _role_columns(tuple(record.cells)):
        if columns and all(is_blank(record.cells[c]) for c in columns):
            empty[role] = columns[0]
    if not empty:
        return None
    return Gap(link.key, empty.get("code"), empty.get("model"))


@lru_cache(maxsize=256)
def _role_columns(columns: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The Code columns and the Model Card columns among `columns`: asked for every row,
    worked out once for the rows of a table."""
    return tuple(
        (role, tuple(c for c in columns if column_role(c) == role)) for role in ("code", "model")
    )
