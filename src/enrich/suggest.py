"""Discovery: links for empty Code and Model Card cells, as reviewed suggestions. Pure.

A row *has a gap* when it has an arXiv paper (its first arXiv or Hub paper-page link) and its
Code cell, or its Model Card cell, is empty (columns found by `roles.column_role`). For
such a row the fetch stage asks the Hub (`fetch.discovery`), and only for what is missing:

- an empty Code cell: the paper's Hub page (`hf_paper:<id>`), whose `github_repo` is the
  repository its authors linked;
- an empty Model Card cell: the models tagged `arxiv:<id>` (`hf_paper_models:<id>`), most
  downloaded first.

`suggestions` turns those facts into `Suggestion`s — never into curated cells: they are listed
in `report.md` and by `python -m enrich suggest`, and `suggest --apply` writes the chosen ones
into the seed (`fill`) as a normal diff for review. A candidate already linked in the row is
left out, org and user pages are never candidates, and a row gets at most `PER_ROW`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from enrich.columns import humanise
from enrich.document import Document, Prose, TableLine
from enrich.errors import InputError
from enrich.gaps import gap
from enrich.metadata import HubMeta, TaggedModels
from enrich.models import Entities, Identifier, Kind, RowRecord, Status
from enrich.roles import is_blank
from enrich.rows import Place, name_or_id, row_records

PER_ROW = 3
"""Suggestions per row at most."""
DEFAULT_TEXT = "Link"
"""A new link's text when the table has no link text to copy."""

_PLAIN_TEXT = re.compile(r"\w[\w .-]{0,39}")  # "Link", "Code", "HF": not a URL, no markup
_REPO_URL = re.compile(r"https://github\.com/([A-Za-z0-9][\w-]*)/([\w.-]+)")
_MODEL_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,200}")
_USABLE = frozenset({Status.OK, Status.STALE})
D = TypeVar("D", HubMeta, TaggedModels)


@dataclass(frozen=True)
class Suggestion:
    """A candidate link for an empty cell: where, which row, what, and why."""

    file: str
    line: int
    row: str
    """The row's id (`RowRecord.id`): how `suggest --apply` finds the row again."""
    name: str
    """The row's name as a reader sees it, else its id (`rows.name_or_id`), to show."""
    column: str
    url: str
    reason: str
    score: int = 0
    """Rank among the candidates of one cell, higher first: a model's downloads (last 30
    days), the paper page's upvotes for its repository."""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def cell(self) -> tuple[str, str, str]:
        """(file, row id, column): the cell it would fill."""
        return (self.file, self.row, self.column)


def suggestions(
    records: Iterable[RowRecord], entities: Entities, per_row: int = PER_ROW
) -> list[Suggestion]:
    """Every suggestion the fetched `entities` give for the rows, in row order; per row:
    column order, then best first. `records` are a dataset's, or (for `suggest`) the seeds'
    as they are now, so that filled cells and moved rows are seen."""
    found: list[Suggestion] = []
    for record in records:
        found.extend(row_suggestions(record, entities, per_row))
    return found


def row_suggestions(
    record: RowRecord, entities: Entities, per_row: int = PER_ROW
) -> list[Suggestion]:
    """At most `per_row` suggestions for the row's empty cells, none already linked."""
    missing = gap(record)
    if missing is None:
        return []
    linked = {(link.kind, link.key.lower()) for link in record.links}
    name = name_or_id(record)
    found: list[Suggestion] = []

    def add(column: str, url: str, reason: str, score: int) -> None:
        found.append(
            Suggestion(record.file, record.line, record.id, name, column, url, reason, score)
        )

    paper_id = missing.arxiv_id
    if missing.code is not None:
        page = _usable(entities, Identifier(Kind.HF_PAPER, paper_id), HubMeta)
        match = _REPO_URL.fullmatch(page.github_repo or "") if page else None
        repo = f"{match[1]}/{match[2]}".lower() if match else ""
        if page is not None and match and (Kind.GITHUB_REPO, repo) not in linked:
            reason = f"the paper's Hugging Face page (huggingface.co/papers/{paper_id}) links it"
            add(missing.code, match[0], reason, page.upvotes or 0)
    if missing.model is not None:
        listed = _usable(entities, Identifier(Kind.HF_PAPER_MODELS, paper_id), TaggedModels)
        models = listed.models if listed else []
        ranked = sorted(models, key=lambda m: (-(m.downloads or 0), m.id.lower()))
        for rank, model in enumerate(ranked, start=1):
            if not _MODEL_ID.fullmatch(model.id) or (Kind.HF_MODEL, model.id.lower()) in linked:
                continue
            downloads = humanise(model.downloads) or "no"
            reason = (
                f"tagged arxiv:{paper_id} on the Hub; {downloads} downloads in the last 30 days "
                f"(#{rank} of {len(ranked)} by downloads)"
            )
            add(missing.model, f"https://huggingface.co/{model.id}", reason, model.downloads or 0)
    unique = {s.url.lower(): s for s in reversed(found)}  # one each, the first kept
    return sorted(unique.values(), key=found.index)[:per_row]


def _usable(entities: Entities, ident: Identifier, of: type[D]) -> D | None:
    """The data of `ident`, when it is of type `of` and usable (current or last known)."""
    found = entities.get(ident)
    if found is None or found.status not in _USABLE or not isinstance(found.data, of):
        return None
    return found.data


# ------------------------------------------------------------------------- choosing


def choose(found: Sequence[Suggestion], picks: Iterable[str] = ()) -> list[Suggestion]:
    """What `suggest --apply` writes: one suggestion per cell. `picks` names the candidate
    URLs to take (and nothing else is taken); without picks, the best of each cell."""
    urls = {u.rstrip("/").lower() for u in picks}
    chosen: dict[tuple[str, str, str], Suggestion] = {}
    for suggestion in found:
        if not urls or suggestion.url.lower() in urls:
            chosen.setdefault(suggestion.cell, suggestion)  # the best comes first
    return list(chosen.values())


def narrow(
    found: Sequence[Suggestion], rows: Collection[str], only: Sequence[str], picks: Sequence[str]
) -> tuple[list[Suggestion], list[Suggestion]]:
    """The suggestions of the rows `only` names (ids or `file:line`, all rows without it),
    and among them what `suggest --apply` writes (`choose`). An `InputError` names the first
    row that is not in `rows` or pick that is not a candidate."""
    unknown = [row for row in only if row not in rows]
    if unknown:
        raise InputError(f"--only {unknown[0]}: no such row in the seeds")
    shown = [s for s in found if s.row in only or s.where in only] if only else list(found)
    urls = {s.url.lower() for s in shown}
    missing = [url for url in picks if url.rstrip("/").lower() not in urls]
    if missing:
        raise InputError(f"--pick {missing[0]}: not a candidate of the rows listed")
    return shown, choose(shown, picks=picks)


# --------------------------------------------------------------------------- filling


class Cell(Enum):
    """What `suggest --apply` finds in the cell a suggestion would fill. The value of each
    state but `EMPTY` and `LINKED` is why the suggestion is skipped (`why`)."""

    EMPTY = "the cell is still empty: the suggestion can be written"
    LINKED = "the cell holds the suggested link already: nothing to do"
    NO_ROW = "the row is no longer in the seed; run `python -m enrich run` again"
    NO_COLUMN = "the row has no {column} column any more"
    FILLED = "its {column} cell is no longer empty"
    TAKEN = "another suggestion fills that cell"
    SHORT_ROW = "the row has fewer cells than the header"

    def why(self, column: str) -> str:
        return self.value.format(column=column)


def _state(record: RowRecord | None, suggestion: Suggestion) -> Cell:
    if record is None:
        return Cell.NO_ROW
    if suggestion.column not in record.cells:
        return Cell.NO_COLUMN
    url = suggestion.url.lower()
    if any(
        link.column == suggestion.column and link.url.rstrip("/").lower() == url
        for link in record.links
    ):
        return Cell.LINKED
    if not is_blank(record.cells[suggestion.column]):  # a placeholder is replaced
        return Cell.FILLED
    return Cell.EMPTY


@dataclass(frozen=True)
class Filled:
    """A seed's text with suggestions written in, and what happened to each."""

    text: str
    applied: tuple[Suggestion, ...] = ()
    done: tuple[Suggestion, ...] = ()
    """Already in the seed (the cell holds that link): nothing to do."""
    skipped: tuple[tuple[Suggestion, str], ...] = ()
    """Not applicable any more, with why: the row changed or is gone since the run."""


def fill(document: Document, records: Sequence[RowRecord], chosen: Sequence[Suggestion]) -> Filled:
    """`document`'s text with each chosen suggestion (one per cell) written into its cell;
    `records` are the document's rows as resolved now.

    Rows are found by id, where they are now (the record's place in the document,
    `rows.row_records`); a cell is written only while it is empty, as
    `[text](url)` with the link text most used in that column of the table (else in the
    table, else `Link`), padded to the cell's old width when it fits. Every other byte of the
    text stays as it was.
    """
    placed = row_records(document, records)
    where = {record.id: place for place, record in placed.items()}
    edited: dict[Place, TableLine] = {}
    applied: list[Suggestion] = []
    done: list[Suggestion] = []
    skipped: list[tuple[Suggestion, str]] = []
    filled: set[tuple[str, str, str]] = set()
    for suggestion in chosen:
        if suggestion.file != document.path:
            continue
        place = where.get(suggestion.row)
        record = placed[place] if place is not None else None
        state = _state(record, suggestion)
        if state is Cell.EMPTY and suggestion.cell in filled:
            state = Cell.TAKEN
        if state is Cell.LINKED:
            done.append(suggestion)
            continue
        if place is None or record is None or state is not Cell.EMPTY:
            skipped.append((suggestion, state.why(suggestion.column)))
            continue
        table = document.tables[place[0]]
        row = edited.get(place, table.rows[place[1]])
        index = table.columns.index(suggestion.column)
        if index >= len(row.spans):
            skipped.append((suggestion, Cell.SHORT_ROW.why(suggestion.column)))
            continue
        text = _link_text(records, record, suggestion.column)
        edited[place] = _write_cell(row, index, f"[{text}]({suggestion.url})")
        filled.add(suggestion.cell)
        applied.append(suggestion)
    return Filled(_text(document, edited), tuple(applied), tuple(done), tuple(skipped))


def _text(document: Document, edited: Mapping[Place, TableLine]) -> str:
    """`document`'s text with the rows at the places of `edited` replaced."""
    parts: list[str] = []
    for block in document.blocks:
        if isinstance(block, Prose):
            parts.append(block.raw)
            continue
        rows = (edited.get((block.index, i), row) for i, row in enumerate(block.rows))
        parts.extend(line.raw for line in (block.header, block.delimiter, *rows))
    return "".join(parts)


def _link_text(records: Sequence[RowRecord], record: RowRecord, column: str) -> str:
    """The link text most used in `column` of the row's table, then in the whole table."""
    same = [r for r in records if r.file == record.file and r.table == record.table]
    links = [link for r in same for link in r.links if _PLAIN_TEXT.fullmatch(link.text)]
    in_column = Counter(link.text for link in links if link.column == column)
    in_table = Counter(link.text for link in links)
    ranked = sorted(in_table, key=lambda text: (-in_column[text], -in_table[text], text))
    return ranked[0] if ranked else DEFAULT_TEXT


def _write_cell(row: TableLine, index: int, link: str) -> TableLine:
    """`row` with cell `index` (0-based, one of its spans) holding `link`, padded to the
    cell's old width when it fits."""
    return row.replace_cells(lambda at, cell: f" {link} ".ljust(len(cell)) if at == index else cell)
