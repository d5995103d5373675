"""`tablerule`: the parser's fast table rule finds exactly the tables markdown-it's own rule
finds, with the same line maps. A markdown-it upgrade that changes its rule fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich import parse

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
OWN_RULE = parse.markdown().disable(["inline", "text_join"])  # markdown-it's table rule


def tables(md: object, text: str) -> list[tuple[int, int, int]]:
    tokens = md.parse(text)  # type: ignore[attr-defined]
    return [(t.map[0], t.map[1], t.level) for t in tokens if t.type == "table_open"]


CASES = {
    "plain": "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n",
    "no body": "| a | b |\n|---|---|\n\ntext\n",
    "ended by a blockquote": "| a | b |\n|---|---|\n| 1 | 2 |\n> quote\n",
    "ended by a blank line": "| a |\n|---|\n| 1 |\n\n| 2 |\n",
    "ended by a heading": "| a |\n|---|\n| 1 |\n# h\n",
    "ended by a fence": "| a |\n|---|\n| 1 |\n```\ncode\n```\n",
    "escaped pipes": "| a \\| b | c |\n|---|---|\n| 1 \\| 2 | 3 |\n",
    "code span pipes": "| a | b |\n|---|---|\n| `x|y` | 2 |\n",
    "without outer pipes": "a | b\n--|--\n1 | 2\n3\n",
    # markdown-it stops a table whose rows lack more than 65,536 cells in all
    "rows short of cells": "|" + " a |" * 100 + "\n|" + "-|" * 100 + "\n" + "| 1 |\n" * 700,
    "in a list": "- | a | b |\n  |---|---|\n  | 1 | 2 |\n- next\n",
    "in a blockquote": "> | a | b |\n> |---|---|\n> | 1 | 2 |\n\nafter\n",
    "indented code after": "| a |\n|---|\n| 1 |\n      | 2 |\n",
    "not a table": "| a | b |\n|---|\n| 1 | 2 |\n",
    "two tables": "| a |\n|---|\n| 1 |\n\n| b | c |\n|:-|-:|\n| 2 | 3 |\n",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_the_fast_rule_finds_what_markdown_its_rule_finds(text: str) -> None:
    assert tables(parse._MD, text) == tables(OWN_RULE, text)


def test_the_cases_find_tables_and_end_them_early() -> None:
    """The cases are not vacuous: they find tables, and some end before the text does."""
    found = {name: tables(OWN_RULE, text) for name, text in CASES.items()}
    assert found["not a table"] == []
    assert found["two tables"] == [(0, 3, 0), (4, 7, 0)]
    assert found["rows short of cells"][0][1] < len(CASES["rows short of cells"].splitlines())
    assert found["ended by a blockquote"] == [(0, 3, 0)]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not here")
def test_the_fast_rule_finds_what_markdown_its_rule_finds_in_the_corpus() -> None:
    files = sorted(CORPUS.glob("*.md"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8").removeprefix(parse.BOM)
        assert tables(parse._MD, text) == tables(OWN_RULE, text), path.name
