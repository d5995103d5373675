"""Stage 1: markdown text -> `Document` (prose blocks and tables, with 1-based lines). Pure.

markdown-it-py decides *where* the tables are (its table tokens carry source line maps, and it
knows what a table inside `<details>`, a list or a code fence is). The text of every line is
then taken from the source itself, never from the tokens, so an untouched document renders
back byte for byte: CRLF, trailing spaces, tabs, a missing final newline and all.

Cells are split the way markdown-it (and GFM) split them: on every pipe not escaped with a
backslash, pipes inside inline code included (`pipes`, the one rule). Each table line is
split once, here, into its cells' spans (`TableLine.spans`), by which render and `suggest
--apply` cut and edit it (the table rule, finding where a table ends, counts a line's
cells with the same `pipes` beforehand). Rows with fewer or more cells than the header are
kept as they are; `diagnose` reports them. A byte order mark stays the text's first character, but
markdown is read after it, as GitHub reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from markdown_it import MarkdownIt
from markdown_it.token import Token

from enrich.document import GENERATED_MARK, Document, Prose, Table, TableLine, split_lines
from enrich.models import Diagnostic, Severity
from enrich.tablerule import extent_rule
from enrich.text import one_line

# A line a regenerated document gained (the timeline figure): an image (markdown or HTML)
# followed by the generated mark, alone on its line.
_GENERATED_LINE = re.compile(
    r"(?:!\[[^\]\r\n]*\]\([^)\r\n]*\)|<img\b[^>\r\n]*>)[ \t]*"
    + re.escape(GENERATED_MARK)
    + r"[ \t]*(?:\r\n|\r|\n)?"
)
BOM = "\ufeff"
"""A byte order mark: kept as the first character of the text (and of the first line), but
markdown is read after it, as GitHub reads it."""
# What stands before a table row inside a container: indentation and blockquote markers.
_CONTAINER = re.compile(r"^\ufeff?[ \t]*(?:>[ \t]?)*[ \t]*")
# The same, plus list markers: what stands before a table that starts on a list item's line.
_ITEM_START = re.compile(r"^\ufeff?[ \t]*(?:(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]*)+")
MAX_NESTING = 100
"""Block nesting markdown-it follows (its `maxNesting`; GitHub has none): a list 50 levels
deep, or 100 blockquotes. Its commonmark preset stops at 20, a list 10 levels deep, and reads
nothing after it; deeper than this, the parser cannot follow and says where (`too-deep`)."""


def markdown() -> MarkdownIt:
    """The one markdown-it configuration of the project: CommonMark plus GFM tables.

    `validateLink` accepts everything, so that a `javascript:` link reaches the resolver and is
    reported there instead of silently turning into text.
    """
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING}).enable("table")
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def pipes(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Offsets of the unescaped pipes of `text[start:end]`: the one rule of where a table line
    splits (markdown-it's `escapedSplit`, GFM's): a pipe is escaped when the character before
    it is a backslash, whatever precedes that, and inline code does not protect it."""
    end = len(text) if end is None else end
    if "\\" not in text:  # no escapes: every pipe counts (the pattern is slow to search)
        found, at = [], start - 1
        for part in text[start:end].split("|")[:-1]:
            at += len(part) + 1
            found.append(at)
        return found
    return [m.start() for m in _UNESCAPED_PIPE.finditer(text, start, end)]


def _row_width(text: str) -> int:
    """The cells markdown-it's `escapedSplit` finds in a trimmed row, outer empty ones dropped."""
    found = pipes(text)
    width = len(found) + 1 - text.startswith("|")
    return width - 1 if width and found and found[-1] == len(text) - 1 else width


# Finding blocks needs no inline parsing (heading text is set by the block rules), and the
# inline pass is most of markdown-it's time on a large list; nor a token per table cell
# (`tablerule`).
_MD = markdown().disable(["inline", "text_join"])
_MD.block.ruler.at("table", extent_rule(_row_width), {"alt": ["paragraph", "reference"]})
_INLINE = markdown()
# A cell with none of these is plain text already: no markdown parse needed.
_MARKUP = re.compile(r"[\[\]*_`<>&\\!~]")


_BACKTICKS = re.compile(r"(?<![`\\])`+(?!`)")


def code_spans(text: str) -> list[tuple[int, int]]:
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


def item_prefix(line: str) -> str:
    """What stands before a table header that is also a list item's first line: `- `, `1. `."""
    match = _ITEM_START.match(line)
    return match.group(0) if match else ""


def container_prefix(line: str) -> str:
    """What stands before a table line inside a container: indentation, `>` markers."""
    match = _CONTAINER.match(line)
    return match.group(0) if match else ""


def cell_spans(line: str, start: int | None = None) -> tuple[tuple[int, int], ...]:
    """Where each cell of a table line lies in `line`: (start, end) offsets between its pipes,
    whitespace included. `start` is where the cells begin (default: after the container
    prefix); the text before a leading pipe and after a trailing pipe is not a cell when it
    is blank. The line's one scan: `TableLine.spans` holds it, and the cells, the rows
    `render` regenerates and the cells `suggest --apply` fills are all cut by it."""
    end = len(line.rstrip("\r\n"))
    if start is None:
        start = len(container_prefix(line[:end]))
    bounds = [start - 1, *pipes(line, start, end), end]
    spans = [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]
    if len(spans) > 1 and not line[slice(*spans[0])].strip():
        del spans[0]
    if len(spans) > 1 and not line[slice(*spans[-1])].strip():
        del spans[-1]
    return tuple(spans)


def split_cells(line: str) -> tuple[str, ...]:
    """The raw cells of a table line, as markdown-it's `escapedSplit` finds them."""
    return tuple(line[begin:end] for begin, end in cell_spans(line))


def table_line(number: int, raw: str, start: int | None = None) -> TableLine:
    """Line `number` (1-based) of a table, scanned: see `cell_spans`."""
    return TableLine(line=number, raw=raw, spans=cell_spans(raw, start))


def parse(text: str, path: str = "<string>", titles: Mapping[str, str] | None = None) -> Document:
    """Parse `text` into a `Document` whose blocks concatenate back to `text`. `titles` are
    the link titles an earlier run wrote (`titles.earlier_titles`), kept on the document."""
    env: dict[str, object] = {}
    tokens = _MD.parse(text.removeprefix(BOM), env)  # the lines (and their numbers) stay
    lines = split_lines(text)
    blocks: list[Prose | Table] = []
    cursor = 0
    for index, (heading_path, start, end, in_item) in enumerate(_table_spans(tokens)):
        if start > cursor:
            blocks.append(Prose(line=cursor + 1, raw="".join(lines[cursor:start])))
        blocks.append(_table(index, heading_path, lines, (start, end), in_item))
        cursor = end
    if cursor < len(lines):
        blocks.append(Prose(line=cursor + 1, raw="".join(lines[cursor:])))
    refs = env.get("references", {})
    references = {k: v["href"] for k, v in refs.items()} if isinstance(refs, dict) else {}
    code = frozenset(
        line
        for t in tokens
        if t.type in ("fence", "code_block") and t.map
        for line in range(t.map[0] + 1, t.map[1] + 1)
    )
    generated = frozenset(
        n
        for block in blocks
        if isinstance(block, Prose)
        for n, text in block.numbered()
        if n not in code and _GENERATED_LINE.fullmatch(text.removeprefix(BOM))
    )
    return Document(
        path=path,
        blocks=tuple(blocks),
        references=references,
        code_lines=code,
        generated_lines=generated,
        titles=dict(titles or {}),
        too_deep=tuple(
            t.map[0] + 1
            for t in tokens
            if t.type in _NESTING and t.level + 1 >= MAX_NESTING and t.map is not None
        ),
    )


# The tokens whose content markdown-it parses one level deeper (a nested block tokenize).
_NESTING = frozenset({"blockquote_open", "list_item_open"})


def _table_spans(tokens: list[Token]) -> Iterator[tuple[tuple[str, ...], int, int, bool]]:
    """(heading path, first line, end line, starts a list item) of every table.

    Lines are 0-based and end-exclusive. The flag says the table's first line is also the
    first line of a list item (`- | a | b |`), so that line carries a list marker.
    """
    headings: list[tuple[int, str]] = []
    item_lines: set[int] = set()
    for i, token in enumerate(tokens):
        if token.type == "list_item_open" and token.map:
            item_lines.add(token.map[0])
        elif token.type == "heading_open":
            level = int(token.tag[1:])
            title = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            headings = [h for h in headings if h[0] < level] + [(level, title)]
        elif token.type == "table_open" and token.map:
            start = token.map[0]
            yield tuple(t for _, t in headings), start, _table_end(tokens, i), start in item_lines


def _table_end(tokens: list[Token], start: int) -> int:
    """The end line of the table opened at `tokens[start]`: after its last body row, or after
    its delimiter line when it has none (markdown-it sets the table's map that way)."""
    opened = tokens[start].map
    return opened[1] if opened else 0


def _table(
    index: int,
    heading_path: tuple[str, ...],
    lines: list[str],
    span: tuple[int, int],
    in_item: bool,
) -> Table:
    def line(n: int) -> TableLine:
        return table_line(n + 1, lines[n])

    start, end = span
    header = _item_header(start, lines[start]) if in_item else line(start)
    prefix = container_prefix(lines[start + 1])
    return Table(
        index=index,
        heading_path=heading_path,
        header=header,
        delimiter=line(start + 1),
        rows=tuple(line(n) for n in range(start + 2, end)),
        prefix=prefix,
    )


def _item_header(n: int, raw: str) -> TableLine:
    """The header line of a table that starts a list item: the list marker is not a cell."""
    marker = len(item_prefix(raw))
    marker += len(container_prefix(raw[marker:]))
    return table_line(n + 1, raw, marker)


def diagnose(document: Document) -> list[Diagnostic]:
    """Structural problems of the document's tables (links are the resolver's concern)."""
    found: list[Diagnostic] = []
    if not document.text.strip():
        found.append(
            Diagnostic(
                file=document.path,
                line=0,
                severity=Severity.WARNING,
                code="empty-file",
                message="the file is empty",
                hint="add a markdown table with a header row and a delimiter row",
            )
        )
    for line in document.too_deep:
        found.append(
            Diagnostic(
                file=document.path,
                line=line,
                severity=Severity.ERROR,
                code="too-deep",
                message=f"lists or quotes nested over {MAX_NESTING} levels deep from here: the "
                "rest of this block is not read, and tables in it or after it are missed",
                hint="flatten the nesting; GitHub shows what follows, enrich cannot read it",
            )
        )
    for table in document.tables:
        found.extend(_diagnose_table(document.path, table))
    return found


def _diagnose_table(path: str, table: Table) -> Iterator[Diagnostic]:
    width = len(table.header.cells)
    if not table.rows:
        yield Diagnostic(
            file=path,
            line=table.header.line,
            severity=Severity.WARNING,
            code="no-body-rows",
            message="table has a header but no body rows",
            hint="add rows below the delimiter line or remove the table",
        )
    for row in table.rows:
        if len(row.cells) != width:
            yield Diagnostic(
                file=path,
                line=row.line,
                severity=Severity.WARNING,
                code="cell-count",
                message=f"row has {len(row.cells)} cells, the header has {width}",
                hint="a missing cell shifts the columns after it; an extra one is not shown"
                if len(row.cells) < width
                else "GitHub drops cells beyond the header's; escape a literal pipe as \\|",
            )


def plain(text: str, limit: int = 300) -> str:
    """A curated markdown cell as a reader sees it, on one line: link texts, code and image
    descriptions kept, markup and HTML tags dropped, escapes resolved."""
    if not _MARKUP.search(text):
        return one_line(text, limit)
    parts: list[str] = []
    for token in _INLINE.parseInline(text):
        for child in token.children or []:
            if child.type in ("text", "code_inline", "image"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
    return one_line("".join(parts), limit)
