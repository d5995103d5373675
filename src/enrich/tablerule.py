"""markdown-it's GFM table rule, finding the same tables with the same line maps without a
token per row and cell: only `table_open` (with its map) and `table_close` are pushed.

Kept for a target: with markdown-it's own rule, which makes a token for every row and cell,
parse + render of a 10,000-row list missed its limit (docs/performance.md; `python -m
bench.tricks`). It leans on markdown-it's internals (`StateBlock`, the rule's `getLine` and
`MAX_AUTOCOMPLETED_CELLS`), so it lives here, alone, and `tests/test_tablerule.py` checks
that it finds what markdown-it's own rule finds.
"""

from __future__ import annotations

from collections.abc import Callable

from markdown_it.common.utils import mdTrim
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS, getLine
from markdown_it.rules_block.table import table as gfm_table

Rule = Callable[[StateBlock, int, int, bool], bool]


def extent_rule(width: Callable[[str], int]) -> Rule:
    """The table rule, `width` counting the cells of a trimmed row as markdown-it's
    `escapedSplit` does (outer empty ones dropped): the parser's rule of where a line splits.

    Where a table starts and whether it is one is decided by markdown-it's own rule (run
    silently); where it ends follows that rule's body loop line for line.
    """

    def table_extent(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if not gfm_table(state, start, end, True):
            return False
        if silent:
            return True
        header = width(mdTrim(getLine(state, start)))
        old_parent, state.parentType = state.parentType, "table"
        terminators = state.md.block.ruler.getRules("blockquote")
        opened = state.push("table_open", "table", 1)
        autocompleted = 0
        line = start + 2
        while line < end and state.sCount[line] >= state.blkIndent:
            if any(rule(state, line, end, True) for rule in terminators):
                break
            text = mdTrim(getLine(state, line))
            if not text or state.is_code_block(line):
                break
            autocompleted += header - width(text)
            if autocompleted > MAX_AUTOCOMPLETED_CELLS:
                break
            line += 1
        opened.map = [start, line]
        state.push("table_close", "table", -1)
        state.parentType = old_parent
        state.line = line
        return True

    return table_extent
