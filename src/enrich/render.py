"""Stage 5: records + `Document` -> markdown and JSON text. Pure: it never fetches or writes.

The regenerated document is the seed with its tables regenerated: prose is kept byte for
byte (relative links and images are re-pointed so they resolve from the output folder), every
table keeps its curated columns and cells as written and gains the generated columns
(`columns.py`), and a paper's title shows on hover as its link's title attribute.

Rows are rebuilt from the source text, not from parsed values: the curated part of a row is
cut from its raw line after the pipe that closes its last curated cell, so spacing, escapes
and HTML stay as the curator wrote them. A row with fewer cells is padded, a row with more
keeps its extra cells after the generated ones (where GitHub hides them, as before).

Everything fetched is untrusted: it is escaped for a table cell or a link title (pipes,
newlines, HTML, brackets, backticks, quotes) and truncated. A document rendered with no
columns and nothing to re-point is exactly its source.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from enrich.columns import GENERATED_MARK, Column, Entities, paper
from enrich.models import Dataset, Document, PaperMeta, Prose, RowRecord, Table, TableLine
from enrich.parse import container_prefix, strip_link_titles

TITLE_LIMIT = 200
_EOL = re.compile(r"(\r\n|\r|\n)$")
_RELATIVE = re.compile(
    r"(?P<pre>\]\(\s*<?|\b(?:src|href)\s*=\s*[\"']|^\s{0,3}\[[^\]]+\]:\s*<?)"
    r"(?P<target>(?![a-zA-Z][a-zA-Z0-9+.\-]*:|#|/)[^\s)\"'<>]+)",
    re.MULTILINE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def render_document(
    document: Document,
    records: Mapping[int, RowRecord] | None = None,
    entities: Entities | None = None,
    columns: Sequence[Column] = (),
    link_base: str = ".",
) -> str:
    """The document as markdown. With no columns and `link_base` ".", exactly its source.

    `records` maps a row's 1-based line to its record; `link_base` is the seed's folder seen
    from the output folder (e.g. "../seeds").
    """
    parts: list[str] = []
    for block in document.blocks:
        if isinstance(block, Prose) or (not columns and block.generated == 0):
            parts.append(repoint(block.raw, link_base))
        else:
            parts.append(_table(block, records or {}, entities or {}, columns, link_base))
    return "".join(parts)


def repoint(text: str, link_base: str) -> str:
    """Relative link and image targets re-pointed below `link_base`."""
    if link_base in ("", "."):
        return text
    return _RELATIVE.sub(
        lambda m: m["pre"] + posixpath.normpath(posixpath.join(link_base, m["target"])), text
    )


def _table(
    table: Table,
    records: Mapping[int, RowRecord],
    entities: Entities,
    columns: Sequence[Column],
    link_base: str,
) -> str:
    curated = len(table.header.cells) - table.generated
    header = [f" {escape_cell(c.header)}{GENERATED_MARK} " for c in columns]
    lines = [
        _line(table.header, curated, table.generated, header),
        _line(table.delimiter, curated, table.generated, [f" {c.align} " for c in columns]),
    ]
    for row in table.rows:
        record = records.get(row.line)
        values = [f" {escape_cell(c.value(record, entities))} " if record else " " for c in columns]
        text = _line(row, curated, table.generated, values)
        if record is not None:
            text = add_titles(text, record, entities, table.generated > 0)
        lines.append(repoint(text, link_base))
    return "".join(lines)


def _line(line: TableLine, curated: int, old_generated: int, new: list[str]) -> str:
    """The curated part of `line`, the new generated cells, then any extra cells."""
    eol_match = _EOL.search(line.raw)
    eol = eol_match.group(1) if eol_match else ""
    content = line.raw[: len(line.raw) - len(eol)]
    head, _ = split_after(content, curated)
    _, rest = split_after(content, curated + old_generated)
    if not new:
        return head + rest + eol if old_generated else line.raw
    return head + "|".join(new) + "|" + rest + eol


def split_after(content: str, cells: int) -> tuple[str, str]:
    """(text up to and including the pipe closing cell `cells`, the text after it).

    Rows without that pipe are completed: a closing pipe is added, missing cells padded.
    """
    prefix = container_prefix(content)
    body = content[len(prefix) :]
    pipes = _pipes(body)
    leading = body.lstrip().startswith("|")
    index = cells if leading else cells - 1
    if cells == 0 and not leading:
        return prefix + "|", body
    if index < len(pipes):
        end = len(prefix) + pipes[index] + 1
        return content[:end], content[end:]
    present = len(pipes) - (1 if leading else 0) + (0 if body.rstrip().endswith("|") else 1)
    text = content.rstrip()
    if not body.rstrip().endswith("|") or not pipes:
        text += " |"
    return text + "  |" * max(0, cells - present), ""


def _pipes(body: str) -> list[int]:
    """Positions of the unescaped pipes of a table line (markdown-it's `escapedSplit`)."""
    positions = []
    escaped = False
    for pos, ch in enumerate(body):
        if ch == "|" and not escaped:
            positions.append(pos)
        escaped = ch == "\\"
    return positions


def add_titles(text: str, record: RowRecord, entities: Entities, replace: bool) -> str:
    """Paper links carry the paper's title as their title attribute (shown on hover)."""
    if replace:
        text = strip_link_titles(text)
    found = paper(record, entities)
    if found is None or not isinstance(found.data, PaperMeta):
        return text
    title = escape_title(found.data.title)
    for link in record.links:
        if f"arxiv:{found.data.arxiv_id}" in (link.ref, *link.also):
            target = re.escape(link.url)
            pattern = re.compile(rf"(\]\(\s*<?{target}>?)\s*\)")
            text = pattern.sub(lambda m: f'{m.group(1)} "{title}")', text)
    return text


def clean(text: str, limit: int) -> str:
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape_cell(text: str, limit: int = TITLE_LIMIT) -> str:
    """Untrusted text made inert in a table cell: no pipes, newlines, HTML or links."""
    text = clean(text, limit).replace("\\", "\\\\")
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    for char in "|[]`*_":
        text = text.replace(char, "\\" + char)
    return text


def escape_title(text: str) -> str:
    """Untrusted text made inert inside a link title `"..."` inside a table cell."""
    text = clean(text, TITLE_LIMIT).replace("\\", "\\\\")
    for char in '"|':
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def render_json(value: BaseModel | dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, `indent=2`, UTF-8 text, trailing newline."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dataset_schema() -> dict[str, Any]:
    """The JSON Schema of `output/enriched.json`, generated from the record types."""
    schema = Dataset.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
