"""Stage 2: a row's id, unique across a run and stable under edits of the seeds. Pure.

A row's id is derived from what the row is: its first paper (a Hub paper page counts as its
arXiv paper), else its first repository, else its first Hub entity (not a documentation
page), else its first other link, else the slug of its name (`rows.name_cell`):
`row:<slug>`. So it survives reordering and edits of the seed. Only when two rows would get
the same id is it qualified, each time by as little as tells them apart:

1. by the section, within a seed file: `arxiv:2402.04291@quantization` (`@top` for a table
   under no heading);
2. by a counter, within a section: `arxiv:2306.07629@s~2` for the second row of `s`;
3. by the seed file, across the seed files of a run (`unique_across_files`):
   `arxiv:2305.14314@awesome-llm.md` (the file's name; its shortest trailing path that tells
   it from the others when two seed files share a name: `a/README.md`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from enrich.document import Table
from enrich.models import Identifier, Kind, Link, RowRecord
from enrich.roles import ROLES
from enrich.rows import name_cell

_Row = tuple[Table, Sequence[Link], dict[str, str]]
"""A row's table, links and cells, as `resolve` finds them."""


def row_identity(links: Sequence[Link], cells: dict[str, str], columns: Sequence[str] = ()) -> str:
    """What a row is: its first paper, repository or entity, else its name's slug."""
    for kinds in ROLES.values():  # papers, then repositories, then Hub entities
        for link in links:
            ident = link.id
            if ident.kind in kinds:  # a Hub paper page is its arXiv paper
                paper = ident.kind is Kind.HF_PAPER
                return Identifier(Kind.ARXIV, ident.key).ref if paper else ident.ref
    if links:
        return links[0].id.ref
    return f"row:{slug(name_cell(cells, columns)) or 'empty'}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def row_ids(rows: Sequence[_Row]) -> list[str]:
    """The ids of a seed file's rows, in order: unique within the file."""
    bases = [
        # The cells only matter for a row without links.
        row_identity(links, {}) if links else row_identity((), cells, table.columns)
        for table, links, cells in rows
    ]
    counts = Counter(bases)
    ids: list[str] = []
    used: dict[str, int] = {}
    sections: dict[int, str] = {}  # table index -> its heading's slug
    for base, (table, _, _) in zip(bases, rows, strict=True):
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


def unique_across_files(files: Sequence[Sequence[RowRecord]]) -> list[tuple[RowRecord, ...]]:
    """The records of a run's seed files (each unique within its file), with every id that
    two files share qualified by its file (`@<file>`); the records of the other ids as
    given."""
    owners: dict[str, set[str]] = {}
    for records in files:
        for record in records:
            owners.setdefault(record.id, set()).add(record.file)
    shared = {row_id for row_id, paths in owners.items() if len(paths) > 1}
    if not shared:
        return [tuple(records) for records in files]
    names = file_tags([r.file for records in files for r in records[:1]])
    taken = set(owners)
    result: list[tuple[RowRecord, ...]] = []
    for records in files:
        result.append(
            tuple(_qualified(r, names[r.file], taken) if r.id in shared else r for r in records)
        )
    return result


def _qualified(record: RowRecord, tag: str, taken: set[str]) -> RowRecord:
    """`record` with its id qualified by its file's `tag`, unlike every id in `taken`."""
    candidate = base = f"{record.id}@{tag}"
    count = 1
    while candidate in taken:
        count += 1
        candidate = f"{base}~{count}"
    taken.add(candidate)
    return record.model_copy(update={"id": candidate})


def file_tags(paths: Sequence[str]) -> dict[str, str]:
    """Each seed file's tag: its name, or its shortest trailing path that no other of
    `paths` ends in (`a/README.md`, `b/README.md`); the whole path when none is shorter."""
    split = {path: path.replace("\\", "/").split("/") for path in dict.fromkeys(paths)}
    tags: dict[str, str] = {}
    for path, parts in split.items():
        others = [p for q, p in split.items() if q != path]
        for size in range(1, len(parts) + 1):
            tail = parts[-size:]
            if all(other[-size:] != tail for other in others):
                break
        tags[path] = "/".join(tail)
    return tags
