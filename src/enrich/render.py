"""Stage 5: records + `Document` -> markdown and JSON text. Pure: it never fetches or writes.

The regenerated document is the seed with its tables regenerated: prose is kept byte for
byte (relative links and images are re-pointed so they resolve from the output folder; code
blocks are left alone), every table keeps its curated columns and cells as written and gains
the generated columns (`columns.py`), and each paper link shows its paper's title on hover
as its title attribute.

Rows are rebuilt from the source text, not from parsed values: the curated part of a row is
cut from its raw line after the pipe that closes its last curated cell, so spacing, escapes
and HTML stay as the curator wrote them. A row with fewer cells is padded, a row with more
keeps its extra cells after the generated ones (where GitHub hides them, as before).

Everything fetched is untrusted: it is escaped for a table cell or a link title (pipes,
newlines, HTML, brackets, backticks, quotes, bare URLs) and truncated. A document rendered
with no columns and nothing to re-point is exactly its source, and a regenerated document
renders exactly as the seed it came from.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, SchemaSerializer, core_schema

from enrich.columns import GENERATED_MARK, Column, Entities
from enrich.document import Document, Prose, Table, TableLine
from enrich.models import Dataset, Link, PaperMeta, RowRecord
from enrich.parse import (
    container_prefix,
    item_prefix,
    split_cells,
    split_lines,
    strip_link_titles,
)
from enrich.text import one_line

TITLE_LIMIT = 200
_EOL = re.compile(r"(\r\n|\r|\n)$")
_RELATIVE = re.compile(
    r"(?P<pre>\]\(\s*<?|\b(?:src|href)\s*=\s*[\"']|^\s{0,3}\[(?!\^)[^\]]+\]:\s*<?)"
    r"(?P<target>(?![a-zA-Z][a-zA-Z0-9+.\-]*:|#|/)[^\s()\"'<>\[\]]+)",
    re.MULTILINE,
)
_INLINE_RELATIVE = re.compile(r"\]\(\s*<?(?![a-zA-Z][a-zA-Z0-9+.\-]*:|#|/)[^\s()\"'<>\[\]]")
_BACKTICKS = re.compile(r"(?<![`\\])`+(?!`)")
_PIPE = re.compile(r"(?<!\\)\|")
# `[^\s<>]+?` (stop at the first `)` after one character), written without a lazy quantifier:
# the same matches, without trying the rest of the pattern at every character of a URL.
_TITLELESS = re.compile(r"(\]\(\s*<?([^\s<>][^\s<>)]*)>?)\s*\)")
# Where GitHub (GFM autolinks, also applied to text after escapes) and the resolver find a
# bare link: `scheme://`, `www.`, `user@host`. A word joiner (invisible) goes there.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)")
_WORD_JOINER = "\u2060"
# Text that `escape_cell` leaves as it is (short enough, and no `www.`): nothing in it is
# unsafe, white space, markup, or the start of an autolink.
_INERT = re.compile(r"[0-9A-Za-z.\-\u2020]*")


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
    code = document.code_lines
    parts: list[str] = []
    for block in document.blocks:
        if isinstance(block, Prose) or (not columns and block.generated == 0):
            first = block.line if isinstance(block, Prose) else block.header.line
            parts.append(_repoint_lines(block.raw, first, link_base, code))
        else:
            parts.append(_table(block, records or {}, entities or {}, columns, link_base))
    return "".join(parts)


def repoint(text: str, link_base: str) -> str:
    """Relative link and image targets re-pointed below `link_base`, but not in code spans
    nor in footnotes (`[^1]: text`)."""
    if link_base in ("", ".") or not _may_be_relative(text):
        return text
    code = _code_spans(text)

    def target(m: re.Match[str]) -> str:
        if any(start <= m.start() < end for start, end in code):
            return m[0]
        return m["pre"] + join_below(link_base, m["target"])

    return _RELATIVE.sub(target, text)


def _may_be_relative(text: str) -> bool:
    """False only when `_RELATIVE` cannot match `text`: no `](` before a relative target, no
    `src`/`href`, no `]:`. Cheap checks (the pattern, an alternation of anchors and
    lookaheads, is tried at every position of every row, where this one jumps to `](`)."""
    return (
        _INLINE_RELATIVE.search(text) is not None or "src" in text or "href" in text or "]:" in text
    )


def _code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the code spans of `text`: a backtick run up to the next run as long."""
    runs = list(_BACKTICKS.finditer(text))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        opener = runs[i]
        closer = next((r for r in runs[i + 1 :] if r[0] == opener[0]), None)
        if closer is None:
            i += 1
            continue
        spans.append((opener.start(), closer.end()))
        i = runs.index(closer) + 1
    return spans


def join_below(base: str, target: str) -> str:
    """`target` seen from `base`: leading `./` and `../` resolved, the rest kept as written
    (no slash dropped or collapsed)."""
    parts = [p for p in base.split("/") if p not in ("", ".")]
    while True:
        if target.startswith("./"):
            target = target[2:]
        elif target.startswith("../") and parts and parts[-1] != "..":
            parts.pop()
            target = target[3:]
        else:
            return "/".join([*parts, target])


def _repoint_lines(raw: str, first: int, link_base: str, code: frozenset[int]) -> str:
    if link_base in ("", "."):
        return raw
    lines = split_lines(raw)
    return "".join(
        text if first + i in code else repoint(text, link_base) for i, text in enumerate(lines)
    )


def _table(
    table: Table,
    records: Mapping[int, RowRecord],
    entities: Entities,
    columns: Sequence[Column],
    link_base: str,
) -> str:
    generated = table.generated
    curated = len(table.header.cells) - generated
    header = [f" {escape_cell(c.header)}{GENERATED_MARK} " for c in columns]
    marker = _item_marker(table.header)
    lines = [
        _line(_source(table.header, link_base), curated, generated, header, marker),
        _line(table.delimiter, curated, generated, [f" {c.align} " for c in columns]),
    ]
    for row in table.rows:
        record = records.get(row.line)
        values = [f" {escape_cell(c.value(record, entities))} " if record else " " for c in columns]
        text = _line(_source(row, link_base), curated, generated, values)
        if generated:
            text = strip_link_titles(text)
        if record is not None and columns:
            text = add_titles(text, record, entities)
        lines.append(text)
    return "".join(lines)


def _source(line: TableLine, link_base: str) -> TableLine:
    """`line` with its relative links re-pointed, before anything fetched is added to it."""
    raw = repoint(line.raw, link_base)
    return line if raw == line.raw else replace(line, raw=raw)


def _item_marker(line: TableLine) -> str | None:
    """The list marker a header line starts with when the table opens a list item."""
    if split_cells(line.raw) == line.cells:
        return None
    return item_prefix(line.raw) or None


def _line(
    line: TableLine, curated: int, old_generated: int, new: list[str], prefix: str | None = None
) -> str:
    """The curated part of `line`, the new generated cells, then any extra cells."""
    if not new and not old_generated:
        return line.raw
    eol_match = _EOL.search(line.raw)
    eol = eol_match.group(1) if eol_match else ""
    content = line.raw[: len(line.raw) - len(eol)]
    head, rest = split_after(content, curated, prefix)
    if old_generated:
        _, rest = split_after(content, curated + old_generated, prefix)
    if not new:
        return head + rest + eol
    return head + "|".join(new) + "|" + rest + eol


def split_after(content: str, cells: int, prefix: str | None = None) -> tuple[str, str]:
    """(text up to and including the pipe closing cell `cells`, the text after it).

    `prefix` is what stands before the first cell (default: the container prefix). Rows
    without that pipe are completed: a closing pipe is added, missing cells padded.
    """
    prefix = container_prefix(content) if prefix is None else prefix
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
    """Positions of the unescaped pipes of a table line (markdown-it's `escapedSplit`: a pipe
    is escaped when the character before it is a backslash, whatever precedes that)."""
    if "\\|" in body:
        return [m.start() for m in _PIPE.finditer(body)]
    positions, at = [], -1
    for cell in body.split("|")[:-1]:
        at += len(cell) + 1
        positions.append(at)
    return positions


def add_titles(text: str, record: RowRecord, entities: Entities) -> str:
    """Each paper link carries its paper's title as its title attribute (shown on hover).

    A link that already has a title keeps it: the pattern wants `)` right after the URL.
    A URL linked twice takes the title of its first link that has one.
    """
    titles: dict[str, str] = {}
    for link in record.links:
        title = _paper_title(link, entities)
        if title is not None:
            titles.setdefault(link.url, title)
    return _with_titles(text, titles) if titles else text


def _with_titles(text: str, titles: Mapping[str, str]) -> str:
    """Links in `text` to a URL of `titles` that have no title given its title (already
    escaped). A title cannot form a new untitled link: its parentheses are escaped.

    One precompiled pattern for every row (a pattern per URL overflows `re`'s cache on a
    large list), the URL looked up in the callback."""

    def titled(match: re.Match[str]) -> str:
        title = titles.get(match.group(2))
        return match.group(0) if title is None else f"{match.group(1)} ({title}))"

    return _TITLELESS.sub(titled, text)


def _paper_title(link: Link, entities: Entities) -> str | None:
    """The escaped title of the arXiv paper `link` names (itself, or via a Hub paper page)."""
    for ref in (link.ref, *link.also):
        if not ref.startswith("arxiv:"):
            continue
        found = entities.get(ref)
        if found is not None and isinstance(found.data, PaperMeta):
            return escape_title(found.data.title) or None
    return None


def escape_cell(text: str, limit: int = TITLE_LIMIT, *, autolinks: bool = False) -> str:
    """Untrusted text made inert in a table cell: no pipes, newlines, HTML or links.

    Markup is backslash-escaped or written as entities, so it reads as written. A bare URL
    (`https://`, `www.`, an e-mail address) would still become a link, on GitHub and for the
    resolver, whatever the escapes: it gets an invisible word joiner, unless `autolinks`
    (for the report, where a URL may stay a link; never for a table).
    """
    if _INERT.fullmatch(text) and len(text) <= limit and "www." not in text.lower():
        return text  # what most generated cells hold: `12.3k`, `2024-05`, `apache-2.0`
    text = one_line(text, limit).replace("\\", "\\\\")
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    for char in "|[]`*_":
        text = text.replace(char, "\\" + char)
    return text if autolinks else _AUTOLINK.sub(_WORD_JOINER, text)


def escape_title(text: str) -> str:
    """Untrusted text made inert inside a link title `(...)` inside a table cell.

    Entities are decoded in a title, so `&`, `<` and `>` are written as entities; a backtick
    too, so that it cannot close a code span opened before the link.
    """
    text = one_line(text, TITLE_LIMIT).replace("\\", "\\\\")
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("`", "&#96;")):
        text = text.replace(char, escaped)
    for char in "()|":
        text = text.replace(char, "\\" + char)
    return text


def render_json(value: BaseModel | dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, `indent=2`, UTF-8 text, trailing newline."""
    return json_bytes(value).decode("utf-8")


def json_bytes(value: BaseModel | dict[str, Any]) -> bytes:
    """`render_json`'s text, encoded: the same bytes as `json.dumps(value.model_dump(
    mode="json"), indent=2, sort_keys=True, ensure_ascii=False)` and a newline.

    A model is written by pydantic-core, in one pass and without a Python copy of its data,
    through a serializer that sorts every object's keys (`_sorted_serializer`): at 10,000
    rows, 0.4 s and 26 MB where the standard library's indenting encoder needs the whole
    dataset as plain Python data first (seconds, and memory as large again).
    """
    if isinstance(value, BaseModel):
        serializer = _sorted_serializer(type(value))
        if serializer is not None:
            try:
                return serializer.to_json(value, indent=2, warnings="error") + b"\n"
            except PydanticSerializationError:
                pass  # a float json.dumps spells differently (1e+16, NaN), or anything
                # pydantic-core would warn about: the exact path
        value = value.model_dump(mode="json")
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


class _Unsupported(Exception):
    """A schema construct `_sorted_schema` does not rewrite: such a model is dumped exactly."""


class _FloatSpelling(ValueError):
    """A float that pydantic-core and `json.dumps` write differently."""


@functools.cache
def _sorted_serializer(model: type[BaseModel]) -> SchemaSerializer | None:
    """A serializer of `model` that writes what `json.dumps(..., sort_keys=True)` writes.

    pydantic-core writes a model's fields in declaration order and a dict in insertion order.
    Here every model becomes a function that lists its fields in sorted order, serialized as
    a typed dict of the same field schemas (excluded fields stay excluded), and every dict a
    function that sorts it. None when the schema holds something this does not rewrite
    (aliases, computed fields, custom serializers): those models take the exact, slow path.
    """
    try:
        return SchemaSerializer(_sorted_schema(model.__pydantic_core_schema__))
    except _Unsupported:
        return None


_OPAQUE = frozenset({"cls", "config", "default", "default_factory", "expected", "members"})


def _sorted_schema(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_sorted_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "model":
        return _sorted_model(schema)
    if "serialization" in schema or kind in ("dataclass", "typed-dict", "model-fields"):
        raise _Unsupported(kind)
    found = {k: v if k in _OPAQUE else _sorted_schema(v) for k, v in schema.items()}
    if kind == "dict":
        found["serialization"] = core_schema.plain_serializer_function_ser_schema(
            _sorted_dict, return_schema=dict(found)
        )
    elif kind == "float":
        found["serialization"] = core_schema.plain_serializer_function_ser_schema(_float)
    return found


def _sorted_model(schema: dict[str, Any]) -> core_schema.CoreSchema:
    inner = schema["schema"]
    if (
        "serialization" in schema
        or inner.get("type") != "model-fields"
        or inner.get("computed_fields")
        or schema.get("root_model")
    ):
        raise _Unsupported(schema.get("cls"))
    fields: dict[str, Any] = {}
    for name in sorted(inner["fields"]):
        field = inner["fields"][name]
        if field.get("serialization_exclude"):
            continue
        if set(field) - {"type", "schema", "metadata"}:
            raise _Unsupported(f"{schema.get('cls')}.{name}")  # an alias, an exclude_if...
        fields[name] = core_schema.typed_dict_field(_sorted_schema(field["schema"]))
    as_dict = core_schema.plain_serializer_function_ser_schema(
        _members(tuple(fields)), return_schema=core_schema.typed_dict_schema(fields)
    )
    return core_schema.any_schema(ref=schema.get("ref"), serialization=as_dict)


def _members(names: tuple[str, ...]) -> Callable[[BaseModel], dict[str, Any]]:
    def members(model: BaseModel) -> dict[str, Any]:
        values = model.__dict__
        return {name: values[name] for name in names}

    return members


def _sorted_dict(value: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(value.items()))


def _float(value: Any) -> Any:
    """Floats are written by `repr` in json.dumps (`1e+16`, `1e-05`, `Infinity`) and by a
    shortest-digits writer in pydantic-core (`1e16`, `0.00001`): alike but for exponents
    and non-finite values, which send the whole value to the exact path."""
    if isinstance(value, float) and (not math.isfinite(value) or "e" in repr(value)):
        raise _FloatSpelling(repr(value))
    return value


def dataset_schema() -> dict[str, Any]:
    """The JSON Schema of `output/enriched.json`, generated from the record types."""
    schema = Dataset.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
