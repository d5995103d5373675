"""One scan per table line: `TableLine.spans`, made by the parser, cut and edited by render
and `suggest --apply` without finding the pipes again."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.document import TableLine
from enrich.parse import parse, split_cells, table_line
from enrich.render import render_document
from enrich.resolve import resolve
from tests.test_render import render_text

LINES = [
    "| a | b |\n",
    "a | b\r\n",
    "| x \\| y | z |",
    "| `x|y` | z |\n",
    "  > > | a |  \n",
    "| a |  | c ||\n",
    "no pipe at all\n",
    "| a \\|\n",
    "|\n",
    "\\\\| a |\n",
]


@pytest.mark.parametrize("raw", LINES)
def test_spans_are_the_cells_offsets_in_the_raw_line(raw: str) -> None:
    line = table_line(1, raw)
    assert line.cells == split_cells(raw)
    assert all(0 <= b <= e <= len(line.content) for b, e in line.spans)
    assert [line.raw[b:e] for b, e in line.spans] == list(line.cells)


def test_every_parsed_row_carries_its_spans() -> None:
    text = "> | A | B |\n> |---|---|\n> | 1 | `x\\|y` |\n"
    [table] = parse(text).tables
    row = table.rows[0]
    assert row.spans == ((3, 6), (7, 15))
    assert row.values == ("1", "`x|y`")


def test_a_header_on_a_list_items_line_starts_after_the_marker() -> None:
    [table] = parse("- | A | B |\n  |---|---|\n  | 1 | 2 |\n").tables
    assert table.header.spans[0][0] == len("- |")
    assert table.header.split(0) == ("- |", " A | B |")


@pytest.mark.parametrize(
    ("raw", "cells", "head", "rest"),
    [
        ("| a | b | c |\n", 2, "| a | b |", " c |"),
        ("a | b | c\n", 1, "a |", " b | c"),
        ("| a | b |\n", 0, "|", " a | b |"),
        ("a | b |\n", 0, "|", "a | b |"),
        ("| a |\n", 3, "| a |  |  |", ""),  # padded
        ("| a\n", 2, "| a |  |", ""),  # closed, then padded
        ("| a \\|\n", 2, "| a \\| |  |", ""),  # an escaped pipe closes nothing
        ("|\n", 2, "| |  |", ""),  # a lone pipe opens one empty cell
    ],
)
def test_split_cuts_after_the_pipe_closing_a_cell(
    raw: str, cells: int, head: str, rest: str
) -> None:
    assert table_line(1, raw).split(cells) == (head, rest)


def test_replace_cells_keeps_every_other_byte_and_moves_the_spans() -> None:
    line = table_line(7, ">  |  a | b\\| |  c  |\r\n")
    edited = line.replace_cells(lambda i, cell: " longer text " if i == 0 else cell.upper())
    assert edited.raw == ">  | longer text | B\\| |  C  |\r\n"
    assert edited.line == 7
    assert edited.cells == (" longer text ", " B\\| ", "  C  ")
    assert edited.spans == table_line(7, edited.raw).spans


def test_replace_cells_that_changes_nothing_is_the_same_line() -> None:
    line = table_line(1, "| a | b |\n")
    assert line.replace_cells(lambda i, cell: cell) is line


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="|\\ ab`>\t", min_size=1, max_size=14).filter(lambda s: s.strip()),
    st.integers(min_value=0, max_value=4),
)
def test_split_never_loses_a_byte_of_the_curated_cells(content: str, cells: int) -> None:
    line = table_line(1, content + "\n")
    head, rest = line.split(cells)
    if cells == 0:  # a leading pipe added where there is none
        assert line.content in (head + rest, head[:-1] + rest)
    elif rest:
        assert head + rest == line.content
    else:
        assert head.startswith(line.content.rstrip())
    assert head.endswith("|")


def test_a_row_ending_in_an_escaped_pipe_gets_its_closing_pipe() -> None:
    """Regression: a short row whose last character is an escaped pipe (`| a \\|`) was taken
    for a closed row, so its generated cell shifted into a curated column."""
    text = "| A | B |\n|---|---|\n| [p](https://arxiv.org/abs/2306.07629) \\|\n"
    out = render_text(text)
    [table] = parse(out).tables
    assert len(table.rows[0].cells) == len(table.header.cells) == 3
    assert table.rows[0].values[:2] == ("[p](https://arxiv.org/abs/2306.07629 (First paper)) |", "")


@pytest.mark.parametrize("row", ["[a]: docs/x.md | b |", "| [a]: docs/x.md | b |"])
def test_a_cell_that_looks_like_a_reference_definition_is_text(row: str) -> None:
    """A table row holds no reference definition (GFM), so nothing in it is re-pointed as one;
    an inline link in the same row is."""
    text = f"| A | B |\n|---|---|\n{row} [c](docs/c.md) |\n".replace("| b |", "| b")
    document = parse(text)
    records = resolve(document).records
    out = render_document(document, records, {}, (), "../seeds")
    assert "[a]: docs/x.md" in out
    assert "[c](../seeds/docs/c.md)" in out


def test_a_row_edited_twice_keeps_both_edits() -> None:
    """`suggest --apply` filling two cells of one row edits the spans of the first edit."""
    line = table_line(3, "| X |  | |\n")
    once = line.replace_cells(lambda i, c: " [Code](https://github.com/a/b) " if i == 1 else c)
    twice = once.replace_cells(lambda i, c: " [HF](https://huggingface.co/a/b) " if i == 2 else c)
    assert (
        twice.raw == "| X | [Code](https://github.com/a/b) | [HF](https://huggingface.co/a/b) |\n"
    )
    assert isinstance(twice, TableLine)
