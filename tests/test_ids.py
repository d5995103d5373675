"""`enrich.ids`: row ids unique across the seed files of a run, and stable under edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.ids import unique_across_files
from enrich.parse import parse
from enrich.resolve import resolve
from tests.test_resolve import ROW_X, ROW_Y, ROW_Z, TWO

# --------------------------------------------------------------------------- ids across seed files

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
PAPER = "| Name | Paper |\n|---|---|\n| X | [p](https://arxiv.org/abs/2306.07629) |\n"


def ids_across(files: dict[str, str]) -> dict[str, list[str]]:
    resolved = [resolve(parse(text, path)).records for path, text in files.items()]
    return {records[0].file: [r.id for r in records] for records in unique_across_files(resolved)}


def test_an_id_two_files_share_is_qualified_by_each_file() -> None:
    found = ids_across({"seeds/a.md": PAPER, "seeds/b.md": PAPER + ROW_Y})
    assert found == {
        "seeds/a.md": ["arxiv:2306.07629@a.md"],
        "seeds/b.md": ["arxiv:2306.07629@b.md", "arxiv:2402.14905"],
    }


def test_ids_no_other_file_has_are_left_as_they_are() -> None:
    alone = {"a.md": PAPER, "b.md": TWO + ROW_Y, "c.md": "## S\n\n" + TWO + ROW_X + ROW_X}
    found = ids_across(alone)
    assert found == {
        "a.md": ["arxiv:2306.07629"],
        "b.md": ["arxiv:2402.14905"],
        "c.md": ["arxiv:2306.07629@s", "arxiv:2306.07629@s~2"],
    }


def test_files_of_one_name_are_told_apart_by_their_folder() -> None:
    found = ids_across({"lists/a/README.md": PAPER, "lists/b/README.md": PAPER, "x.md": PAPER})
    assert found == {
        "lists/a/README.md": ["arxiv:2306.07629@a/README.md"],
        "lists/b/README.md": ["arxiv:2306.07629@b/README.md"],
        "x.md": ["arxiv:2306.07629@x.md"],
    }


def test_a_section_qualified_id_shared_by_two_files_gets_both() -> None:
    text = "## S\n\n" + TWO + ROW_X + "\n## T\n\n" + TWO + ROW_X
    found = ids_across({"a.md": text, "b.md": text})
    assert found["a.md"] == ["arxiv:2306.07629@s@a.md", "arxiv:2306.07629@t@a.md"]
    assert found["b.md"] == ["arxiv:2306.07629@s@b.md", "arxiv:2306.07629@t@b.md"]


def test_a_qualified_id_never_takes_an_id_in_use() -> None:
    """`b.md`'s own section `a-md` gives an id the qualified one would repeat."""
    b = "## a.md\n\n" + TWO + ROW_X + "\n## T\n\n" + TWO + ROW_X
    found = ids_across({"a.md": "## a.md\n\n" + TWO + ROW_X + ROW_X, "b.md": b})
    every = [i for ids in found.values() for i in ids]
    assert len(every) == len(set(every)) == 4


def test_ids_across_files_are_stable_under_edits() -> None:
    """Rows added, moved or removed elsewhere leave an id as it was."""
    before = ids_across({"a.md": PAPER, "b.md": PAPER})
    edited = "# New title\n\n" + TWO + ROW_Z + ROW_Y + ROW_X
    after = ids_across({"a.md": PAPER, "b.md": edited})
    assert after["a.md"] == before["a.md"]
    assert before["b.md"][0] in after["b.md"]


def test_a_run_over_a_folder_gives_every_row_one_id(tmp_path: Path) -> None:
    from enrich.pipeline import load_seeds

    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "list.md").write_text(PAPER, encoding="utf-8")
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "list.md").write_text(PAPER + ROW_Y, encoding="utf-8")
    seeds = load_seeds([tmp_path / "one" / "list.md", tmp_path / "two" / "list.md"])
    ids = [r.id for seed in seeds for r in seed.records]
    assert ids == [
        "arxiv:2306.07629@one/list.md",
        "arxiv:2306.07629@two/list.md",
        "arxiv:2402.14905",
    ]


@pytest.mark.skipif(not (CORPUS / "SOURCES.md").is_file(), reason="no ../shared/corpus")
def test_the_whole_corpus_as_one_run_has_no_duplicate_id() -> None:
    files = sorted(p for p in CORPUS.glob("*.md") if p.name != "SOURCES.md")
    texts = {p.name: p.read_bytes().decode("utf-8") for p in files}
    resolved = [resolve(parse(text, name)).records for name, text in texts.items()]
    per_file = [r.id for records in resolved for r in records]
    assert len(per_file) > len(set(per_file))  # the corpus lists papers twice across files
    ids = [r.id for records in unique_across_files(resolved) for r in records]
    assert len(ids) == len(per_file) > 3000
    assert len(set(ids)) == len(ids)
