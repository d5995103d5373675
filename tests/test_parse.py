"""`enrich.parse`: tables found where markdown-it finds them, every byte kept.

Each case is a small inline document; the corpus files are exercised in test_corpus.py.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.document import Document, Prose, Table, split_lines
from enrich.models import Diagnostic
from enrich.parse import diagnose, markdown, parse, split_cells

SIMPLE = "| a | b |\n|---|---|\n| 1 | 2 |\n"


def only_table(text: str) -> Table:
    tables = parse(text).tables
    assert len(tables) == 1, tables
    return tables[0]


def codes(document: Document) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in diagnose(document)]


def markdown_it_header_width(text: str) -> list[int]:
    """The number of `th` cells markdown-it itself finds in each table of `text`."""
    widths: list[int] = []
    for token in markdown().parse(text):
        if token.type == "thead_open":
            widths.append(0)
        elif token.type == "th_open":
            widths[-1] += 1
    return widths


# --------------------------------------------------------------------------- round trip

ROUND_TRIP = {
    "simple": SIMPLE,
    "no outer pipes": "a | b\n--|--\n1 | 2\n",
    "space after last pipe": "| a | b | \n|---|---| \n| 1 | 2 |  \n",
    "fewer cells": "| a | b | c |\n|---|---|---|\n| 1 | 2 |\n",
    "more cells": "| a | b |\n|---|---|\n| 1 | 2 | 3 | 4 |\n",
    "escaped pipe": "| a | b |\n|---|---|\n| x \\| y | 2 |\n",
    "pipe in code": "| a | b |\n|---|---|\n| `x|y` | 2 |\n",
    "inline html": (
        '| a | b |\n|---|---|\n| <a href="https://x.org/">x</a><br/> | <img src="i.png" > |\n'
    ),
    "badge": (
        "| a |\n|---|\n"
        "| [![Star](https://img.shields.io/github/stars/a/b.svg)](https://github.com/a/b) |\n"
    ),
    "alignments": "| l | c | r | n |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |\n",
    "details": "<details>\n<summary>x</summary>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n</details>\n",
    "blockquote": "> | a | b |\n> |---|---|\n> | 1 | 2 |\n",
    "list item": "- | a | b |\n  |---|---|\n  | 1 | 2 |\n",
    "crlf": "# T\r\n\r\n| a | b |\r\n|---|---|\r\n| 1 | 2 |\r\n\r\nend\r\n",
    "lone cr": "# T\r\r| a | b |\r|---|---|\r| 1 | 2 |\rend",
    "mixed endings": "| a | b |\r\n|---|---|\n| 1 | 2 |\r| 3 | 4 |",
    "non-ascii": "# Überblick\n\n| Modèle | ⭐️ |\n|---|---|\n| β-DPO 🔥 | 中文 |\n",
    "nbsp and tab": "| a | b |\n|---|---|\n| \tApache 2.0 | x\u00a0y\u00a0 |\n",
    "no final newline": "| a | b |\n|---|---|\n| 1 | 2 |",
    "empty": "",
    "whitespace only": "  \n\t\n",
    "no body rows": "| a | b |\n|---|---|\n",
    "fenced code": "```\n| a | b |\n|---|---|\n| 1 | 2 |\n```\n",
    "html comment": "<!--\n## Hidden\n| a | b |\n|---|---|\n-->\n" + SIMPLE,
    "bom": "\ufeff# T\n\n" + SIMPLE,
    "two tables": SIMPLE + "\n" + SIMPLE,
}


@pytest.mark.parametrize("text", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_round_trip_byte_for_byte(text: str) -> None:
    document = parse(text)
    assert document.text == text
    assert document.text.encode("utf-8") == text.encode("utf-8")


@pytest.mark.parametrize("text", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_blocks_cover_consecutive_lines(text: str) -> None:
    line = 1
    for block in parse(text).blocks:
        first = block.line if isinstance(block, Prose) else block.header.line
        assert first == line
        line += len(split_lines(block.raw))
    assert line == len(split_lines(text)) + 1


@pytest.mark.parametrize("text", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_header_width_agrees_with_markdown_it(text: str) -> None:
    assert [len(t.header.cells) for t in parse(text).tables] == markdown_it_header_width(text)


def test_path_is_kept() -> None:
    assert parse(SIMPLE, "seeds/x.md").path == "seeds/x.md"


# --------------------------------------------------------------------------- split_lines


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("a", ["a"]),
        ("a\n", ["a\n"]),
        ("a\nb", ["a\n", "b"]),
        ("a\r\nb\r\n", ["a\r\n", "b\r\n"]),
        ("a\rb\r", ["a\r", "b\r"]),
        ("a\r\r\nb", ["a\r", "\r\n", "b"]),
        ("\n\n", ["\n", "\n"]),
        ("a\u2028b\x0cc\x85d", ["a\u2028b\x0cc\x85d"]),  # not markdown line endings
    ],
)
def test_split_lines(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines
    assert "".join(lines) == text


# --------------------------------------------------------------------------- split_cells


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ("| a | b |\n", (" a ", " b ")),
        ("| a | b |", (" a ", " b ")),
        ("a | b\n", ("a ", " b")),
        ("| a | b\r\n", (" a ", " b")),
        ("a | b |  \n", ("a ", " b ")),
        ("|a|b|", ("a", "b")),
        ("| a |  | c |", (" a ", "  ", " c ")),
        ("| a | b ||", (" a ", " b ", "")),
        ("| x \\| y | z |", (" x \\| y ", " z ")),
        ("| `x|y` | z |", (" `x", "y` ", " z ")),
        ("> | a | b |", (" a ", " b ")),
        (">| a | b |", (" a ", " b ")),
        ("  > > | a |", (" a ",)),
        ("    | a |", (" a ",)),
        ("| \tApache 2.0 |", (" \tApache 2.0 ",)),
        ("|---|:-:|", ("---", ":-:")),
        ("no pipe at all", ("no pipe at all",)),
    ],
)
def test_split_cells(line: str, cells: tuple[str, ...]) -> None:
    assert split_cells(line) == cells


# --------------------------------------------------------------------------- cells and values


def test_no_leading_or_trailing_pipe() -> None:
    table = only_table("a | b\n--|--\n1 | 2\n")
    assert table.columns == ("a", "b")
    assert table.rows[0].values == ("1", "2")


def test_spaces_after_the_last_pipe_are_not_a_cell() -> None:
    table = only_table("| a | b | \n|---|---| \n| 1 | 2 |   \n")
    assert table.columns == ("a", "b")
    assert table.rows[0].values == ("1", "2")
    assert table.rows[0].raw == "| 1 | 2 |   \n"
    assert codes(parse("| a | b | \n|---|---| \n| 1 | 2 |   \n")) == []


@pytest.mark.parametrize(
    ("row", "count"),
    [
        ("| 1 | 2 |", 2),
        ("| 1 | 2 | 3 | 4 |", 4),
        ("| 1 |", 1),
        ("1 | 2 | 3 | 4", 4),
    ],
)
def test_rows_keep_their_own_cell_count(row: str, count: int) -> None:
    table = only_table(f"| a | b | c |\n|---|---|---|\n{row}\n")
    assert len(table.rows[0].cells) == count
    assert table.raw.endswith(row + "\n")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "| a | b | c |\n|---|---|---|\n| 1 | 2 | 3 |\n| 1 | 2 |\n",
            4,
            "2 cells, the header has 3",
        ),
        ("# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 1 | 2 | 3 |\n", 6, "3 cells, the header has 2"),
        ("| a | b |\r\n|---|---|\r\n| 1 |\r\n", 3, "1 cells, the header has 2"),
    ],
)
def test_cell_count_diagnostic_has_the_rows_line(text: str, line: int, fragment: str) -> None:
    found = diagnose(parse(text, "x.md"))
    assert [(d.code, d.line, d.severity.value) for d in found] == [("cell-count", line, "warning")]
    assert fragment in found[0].message
    assert str(found[0]).startswith(f"x.md:{line}: warning: ")


def test_cell_count_hint_differs_for_missing_and_extra_cells() -> None:
    fewer = diagnose(parse("| a | b |\n|---|---|\n| 1 |\n"))[0]
    more = diagnose(parse("| a | b |\n|---|---|\n| 1 | 2 | 3 |\n"))[0]
    assert "shifts" in fewer.hint
    assert "\\|" in more.hint


def test_escaped_pipe_is_one_cell_and_its_value_is_unescaped() -> None:
    table = only_table("| a | b |\n|---|---|\n| [P](https://x.org) \\| [C](https://y.org) | 2 |\n")
    row = table.rows[0]
    assert len(row.cells) == 2
    assert row.cells[0] == " [P](https://x.org) \\| [C](https://y.org) "
    assert row.values[0] == "[P](https://x.org) | [C](https://y.org)"
    assert diagnose(parse(table.raw)) == []


def test_pipe_inside_inline_code_splits_the_cell_as_in_markdown_it() -> None:
    text = "| a | b |\n|---|---|\n| `x|y` | 2 |\n"
    table = only_table(text)
    assert table.rows[0].values == ("`x", "y`", "2")
    assert markdown_it_header_width("| `x|y` | b |\n|---|---|---|\n") == [3]


def test_escaped_pipe_inside_inline_code_is_one_cell() -> None:
    table = only_table("| a | b |\n|---|---|\n| `x\\|y` | 2 |\n")
    assert table.rows[0].values == ("`x|y`", "2")


def test_inline_html_and_badges_stay_in_their_cell() -> None:
    text = (
        "| Title | Code |\n|:--|:-:|\n"
        "| ![Star](https://img.shields.io/github/stars/a/b.svg) <br> "
        "[**T**](https://arxiv.org/pdf/2306.07629.pdf) <br> "
        '| <a href="https://github.com/a/b"><img src="img/colab.svg" alt="x"></a> |\n'
    )
    row = only_table(text).rows[0]
    assert len(row.cells) == 2
    assert row.values[0].startswith("![Star](")
    assert row.values[0].endswith("<br>")
    assert row.values[1].startswith('<a href="https://github.com/a/b">')


def test_alignment_row_with_uneven_spacing() -> None:
    text = "| A | B | C |\n|:--|  :----: | :---:|\n| 1 | 2 | 3 |\n"
    table = only_table(text)
    assert (table.columns, table.raw) == (("A", "B", "C"), text)


def test_table_inside_details_after_a_blank_line() -> None:
    text = (
        "<details>\n<summary> milestone papers </summary>\n  \n"
        "| a | b |\n|:-:|:-:|\n| 1 | 2 |\n</details>\n"
    )
    table = only_table(text)
    assert (table.header.line, table.rows[0].line) == (4, 6)
    assert table.rows[0].values == ("1", "2")


def test_table_right_after_details_without_a_blank_line_is_html() -> None:
    """markdown-it: an HTML block runs to the next blank line, so this is no table."""
    text = "<details>\n<summary>x</summary>\n| a | b |\n|---|---|\n| 1 | 2 |\n</details>\n"
    assert parse(text).tables == ()
    assert markdown_it_header_width(text) == []


def test_table_in_a_blockquote() -> None:
    table = only_table("Intro\n\n> | a | b |\n> |---|---|\n> | 1 | 2 |\n>| 3 | 4 |\n")
    assert table.prefix == "> "
    assert table.columns == ("a", "b")
    assert [r.values for r in table.rows] == [("1", "2"), ("3", "4")]
    assert [r.line for r in table.rows] == [5, 6]


@pytest.mark.parametrize(
    "text",
    [
        "- | a | b |\n  |---|---|\n  | 1 | 2 |\n",
        "1. | a | b |\n   |---|---|\n   | 1 | 2 |\n",
        "* > | a | b |\n  > |---|---|\n  > | 1 | 2 |\n",
    ],
)
def test_table_on_a_list_items_first_line(text: str) -> None:
    """Regression: the header line of a table that opens a list item (`- | a | b |`) was split
    with its list marker, giving the header a phantom first column `- ` and every row a
    `cell-count` warning."""
    table = only_table(text)
    assert table.columns == ("a", "b")
    assert table.header.raw == split_lines(text)[0]
    assert diagnose(parse(text)) == []
    assert [len(table.header.cells)] == markdown_it_header_width(text)


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("para\n- a | b |\n--|--\n1 | 2\n", ("- a", "b")),
        ("para\n2024) | x |\n|---|---|\n| 1 | 2 |\n", ("2024)", "x")),
    ],
)
def test_list_marker_text_is_a_cell_when_the_table_is_not_in_a_list(
    text: str, columns: tuple[str, ...]
) -> None:
    assert only_table(text).columns == columns
    assert markdown_it_header_width(text) == [len(columns)]


def test_table_in_a_list_item_after_text() -> None:
    table = only_table("- item\n\n  | a | b |\n  |---|---|\n  | 1 | 2 |\n")
    assert (table.prefix, table.columns, table.rows[0].line) == ("  ", ("a", "b"), 5)


def test_crlf_lines_keep_their_endings_and_numbers() -> None:
    text = "# T\r\n\r\n| a | b |\r\n|---|---|\r\n| 1 | 2 |\r\n| 3 | 4 |\r\n\r\nend\r\n"
    table = only_table(text)
    assert table.header.raw == "| a | b |\r\n"
    assert [(r.line, r.raw, r.values) for r in table.rows] == [
        (5, "| 1 | 2 |\r\n", ("1", "2")),
        (6, "| 3 | 4 |\r\n", ("3", "4")),
    ]
    assert table.heading_path == ("T",)
    assert all("\r" not in v for r in table.rows for v in r.values)


def test_lone_cr_is_a_line_ending() -> None:
    text = "# T\r\r| a | b |\r|---|---|\r| 1 | 2 |\r"
    table = only_table(text)
    assert (table.header.line, table.rows[0].line) == (3, 5)
    assert table.rows[0].raw == "| 1 | 2 |\r"
    assert table.rows[0].values == ("1", "2")


def test_non_ascii_and_emoji_with_variation_selector() -> None:
    table = only_table("| 🌟 Stars | Name |\n|---|---|\n| ⭐️⭐️ | β-DPO 🔥 |\n")
    assert table.columns == ("🌟 Stars", "Name")
    assert table.rows[0].values == ("⭐️⭐️", "β-DPO 🔥")
    assert "\ufe0f" in table.rows[0].values[0]


def test_nbsp_and_tab_in_cells() -> None:
    """Values are stripped like markdown-it strips cells: TAB and NBSP at the edges go."""
    table = only_table("| a | b |\n|---|---|\n| \tApache 2.0 | Can\u00a0Run\u00a0 |\n")
    assert table.rows[0].values == ("Apache 2.0", "Can\u00a0Run")
    assert table.rows[0].cells == (" \tApache 2.0 ", " Can\u00a0Run\u00a0 ")


def test_file_without_final_newline() -> None:
    text = "| a | b |\n|---|---|\n| 1 | 2 |"
    table = only_table(text)
    assert table.rows[0].raw == "| 1 | 2 |"
    assert table.rows[0].values == ("1", "2")
    assert parse(text).text == text


@pytest.mark.parametrize("text", ["", "\n", "  \r\n\t\n"])
def test_empty_file(text: str) -> None:
    document = parse(text, "e.md")
    assert document.tables == ()
    assert codes(document) == [("empty-file", 0)]
    assert str(diagnose(document)[0]).startswith("e.md: warning:")


def test_a_file_with_prose_only_is_not_empty() -> None:
    assert diagnose(parse("# Title\n\nSome text.\n")) == []


def test_table_without_body_rows() -> None:
    document = parse("# T\n\n| a | b |\n|---|---|\n\ntext\n")
    assert document.tables[0].rows == ()
    assert codes(document) == [("no-body-rows", 3)]


@pytest.mark.parametrize(
    "text",
    ["| a | b |\n|---|---|\n", "| a | b |\n|---|---|\n\ntext\n", "| a |\r\n|---|\r\n# H\r\n"],
)
def test_table_without_body_rows_round_trips(text: str) -> None:
    """Regression: `_table_end` took the end of the table's last `tr`, which is the header's
    when there are no body rows, so the delimiter line was also emitted as prose (twice)."""
    document = parse(text)
    assert document.text == text
    table = document.tables[0]
    assert table.raw == "".join(split_lines(text)[:2])
    assert document.blocks[1:] == tuple(
        [Prose(line=3, raw="".join(split_lines(text)[2:]))] if split_lines(text)[2:] else []
    )


def test_a_clean_table_has_no_diagnostics() -> None:
    assert diagnose(parse(SIMPLE)) == []


def test_ten_megabyte_single_line() -> None:
    text = "| [x](https://arxiv.org/abs/2306.07629) " * 250_000
    assert len(text) >= 10_000_000
    started = time.perf_counter()
    document = parse(text)
    elapsed = time.perf_counter() - started
    assert document.text == text
    assert document.tables == ()
    assert elapsed < 10


def test_wide_table_row() -> None:
    row = "| " + " | ".join(str(i) for i in range(20_000)) + " |\n"
    table = only_table("| a | b |\n|---|---|\n" + row)
    assert len(table.rows[0].cells) == 20_000
    assert table.rows[0].raw == row


def test_fenced_code_block_holds_no_table() -> None:
    text = "# T\n\n```markdown\n| a | b |\n|---|---|\n| 1 | 2 |\n```\n\n~~~\n| c |\n|---|\n~~~\n"
    document = parse(text)
    assert document.tables == ()
    assert document.blocks == (Prose(line=1, raw=text),)


def test_html_comment_block_holds_no_table_and_no_heading() -> None:
    """markdown-it reads `<!--` ... `-->` as one HTML block, blank lines and all."""
    text = "# Top\n\n<!--\n## Hidden\n\n| a | b |\n|---|---|\n| 1 | 2 |\n-->\n\n" + SIMPLE
    document = parse(text)
    assert len(document.tables) == 1
    table = document.tables[0]
    assert table.header.line == 11
    assert table.heading_path == ("Top",)


def test_indented_code_holds_no_table() -> None:
    assert parse("text\n\n    | a | b |\n    |---|---|\n    | 1 | 2 |\n").tables == ()


def test_a_non_pipe_line_after_the_table_is_a_row_until_a_blank_line() -> None:
    table = only_table("| a | b |\n|---|---|\n| 1 | 2 |\nfoo\n\nbar\n")
    assert [(r.line, r.values) for r in table.rows] == [(3, ("1", "2")), (4, ("foo",))]


@pytest.mark.parametrize(
    "after",
    ["# Next\n", "> quote\n", "```\ncode\n```\n", "- item\n", "<div>\n", "***\n"],
)
def test_a_block_start_ends_the_table(after: str) -> None:
    document = parse(SIMPLE + after)
    assert len(document.tables[0].rows) == 1
    assert document.text == SIMPLE + after


def test_delimiter_width_must_match_the_header() -> None:
    assert parse("| a | b |\n|---|\n| 1 | 2 |\n").tables == ()


# --------------------------------------------------------------------------- headings and lines


def test_heading_paths_nest_and_pop() -> None:
    text = (
        "# Survey\n\n"
        "## Papers\n\n"
        "### Quantization\n\n"
        "#### PTQ\n\n" + SIMPLE + "\n"
        "### Distillation\n\n" + SIMPLE + "\n"
        "## Models ##\n\n" + SIMPLE + "\n"
        "#### Deep\n\n" + SIMPLE
    )
    paths = [t.heading_path for t in parse(text).tables]
    assert paths == [
        ("Survey", "Papers", "Quantization", "PTQ"),
        ("Survey", "Papers", "Distillation"),
        ("Survey", "Models"),
        ("Survey", "Models", "Deep"),
    ]


def test_setext_headings() -> None:
    text = "Survey\n======\n\nPapers\n------\n\n" + SIMPLE
    assert only_table(text).heading_path == ("Survey", "Papers")


def test_table_before_any_heading_has_an_empty_path() -> None:
    assert only_table(SIMPLE + "\n# Later\n").heading_path == ()


def test_heading_text_is_the_raw_markdown_of_the_heading() -> None:
    assert only_table("## [Survey](#survey) 🔥\n\n" + SIMPLE).heading_path == (
        "[Survey](#survey) 🔥",
    )


def test_table_indexes_count_from_zero() -> None:
    document = parse("# A\n\n" + SIMPLE + "\n# B\n\n" + SIMPLE)
    assert [t.index for t in document.tables] == [0, 1]


def test_every_row_has_its_one_based_line() -> None:
    text = "# T\n\nSome text.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n| 5 | 6 |\n\nend\n"
    table = only_table(text)
    assert (table.header.line, table.delimiter.line) == (5, 6)
    assert [r.line for r in table.rows] == [7, 8, 9]
    lines = split_lines(text)
    assert all(lines[r.line - 1] == r.raw for r in table.rows)


def test_blocks_alternate_prose_and_tables() -> None:
    text = "intro\n\n" + SIMPLE + "\nmiddle\n\n" + SIMPLE
    kinds = [type(b).__name__ for b in parse(text).blocks]
    assert kinds == ["Prose", "Table", "Prose", "Table"]


def test_reference_definitions_are_collected() -> None:
    document = parse(SIMPLE + "\n[Ref One]: https://arxiv.org/abs/2306.07629\n")
    assert document.references == {"REF ONE": "https://arxiv.org/abs/2306.07629"}


def test_diagnostics_are_records() -> None:
    found = diagnose(parse("| a | b |\n|---|---|\n| 1 |\n", "f.md"))
    assert all(isinstance(d, Diagnostic) and d.file == "f.md" for d in found)


# --------------------------------------------------------------------------- properties

_PIECES = st.sampled_from(
    [
        *("|", "\\", "`", "-", ":", " ", "\t", "\n", "\r", "\r\n", ">", "- ", "1. ", "#"),
        *("<!--", "-->", "```", "a", "é", "⭐️", "\u00a0", "|---|", "| a |", "<details>"),
        "[x](https://a.b)",
    ]
)


@settings(deadline=None, max_examples=400, database=None)
@given(st.text(alphabet=st.sampled_from("|\r\n\\`-: >a\t*1.#<!")))
def test_property_round_trip_of_arbitrary_text(text: str) -> None:
    document = parse(text)
    assert document.text == text
    diagnose(document)


@settings(deadline=None, max_examples=400, database=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_property_round_trip_of_table_like_text(text: str) -> None:
    document = parse(text)
    assert document.text == text
    for table in document.tables:
        lines = [table.header, table.delimiter, *table.rows]
        first = table.header.line
        assert [t.line for t in lines] == list(range(first, first + len(lines)))
    assert [len(t.header.cells) for t in document.tables] == markdown_it_header_width(text)


@settings(deadline=None, max_examples=200, database=None)
@given(st.text())
def test_property_round_trip_of_any_unicode(text: str) -> None:
    assert parse(text).text == text
