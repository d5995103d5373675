"""Curated text is never lost or changed by the tool: link titles, in-page anchors, a BOM,
and tables after deep nesting. Each case is a small list, run as `run` runs it: a regenerated
document read back as the seed of the next run, with the previous run's dataset."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrich import pipeline
from enrich.columns import select
from enrich.config import Settings
from enrich.jsonout import json_bytes
from enrich.models import Dataset, Entities, Identifier, Kind, Result, Severity, by_ref
from enrich.parse import diagnose, parse
from enrich.render import render_document
from enrich.resolve import resolve
from enrich.titles import earlier_titles, strip_titles
from tests.builders import by_id, paper

URL = "https://arxiv.org/abs/2305.14320"
OTHER = "https://arxiv.org/abs/2306.07629"
MOMENT = datetime(2024, 2, 3, tzinfo=UTC)


def facts(first: str = "Fetched title", second: str = "Other title") -> Entities:
    papers = (paper(url.rsplit("/", 1)[1], title) for url, title in ((URL, first), (OTHER, second)))
    return by_id(*papers)


def run_once(text: str, entities: Entities, previous: Dataset | None) -> tuple[str, Dataset]:
    """One run on `text` (offline, with `entities`): the regenerated document and dataset."""
    document = parse(text, "list.md", earlier_titles(previous))
    records = resolve(document).records
    out = render_document(document, records, entities, select(("stars",)))
    named = by_ref(entities)
    dataset = Dataset(seeds=["list.md"], records=list(records), entities=named, diagnostics=[])
    return out, dataset


def runs(text: str, count: int = 3, entities: Entities | None = None) -> list[str]:
    """The rows of the regenerated documents of `count` runs, each on the previous output."""
    rows, previous = [], None
    for _ in range(count):
        text, previous = run_once(text, entities or facts(), previous)
        rows.append(text.splitlines()[2])
    return rows


def table(cell: str) -> str:
    return f"| Method | Paper |\n|---|---|\n| A | {cell} |\n"


# ------------------------------------------------------------------------ link titles


@pytest.mark.parametrize(
    "cell",
    [
        f"[p]({URL} (accepted at ICML))",
        f'[p]({URL} "accepted at ICML")',
        f"[p]({URL} 'accepted at ICML')",
        f"[p]({URL} (accepted \\(oral\\) at ICML))",
        f'[p]({URL} "a (b) \\"c\\"")',
        f"[p]({URL} 'it\\'s (really) good')",
        f"[p](<{URL}> (in angle brackets))",
    ],
)
def test_a_curators_title_survives_every_run(cell: str) -> None:
    rows = runs(table(cell))
    assert all(f"| A | {cell} |" in row for row in rows), rows


@pytest.mark.parametrize("runs_count", [2, 4])
def test_a_generated_title_is_replaced_not_kept_nor_doubled(runs_count: int) -> None:
    rows = runs(table(f"[p]({URL})"), runs_count)
    assert all(f"[p]({URL} (Fetched title))" in row for row in rows), rows
    assert all(row.count("Fetched title") == 1 for row in rows)


def test_a_generated_title_follows_the_paper_when_its_title_changes() -> None:
    first, previous = run_once(table(f"[p]({URL})"), facts("Old title"), None)
    second, _ = run_once(first, facts("New title"), previous)
    assert f"[p]({URL} (New title))" in second
    assert "Old title" not in second


def test_a_curator_title_equal_to_the_fetched_one_stays_when_the_paper_is_renamed() -> None:
    text = table(f"[p]({URL} (Old title))")
    first, previous = run_once(text, facts("Old title"), None)
    second, previous = run_once(first, facts("Old title"), previous)
    third, _ = run_once(second, facts("New title"), previous)
    assert f"[p]({URL} (Old title))" in third
    assert "New title" not in third


def test_several_links_in_a_cell_each_keep_what_is_theirs() -> None:
    cell = f'[a]({URL} "mine") and [b]({OTHER}) and [c]({OTHER} (my note))'
    first, previous = run_once(table(cell), facts(), None)
    assert f'[a]({URL} "mine") and [b]({OTHER} (Other title)) and [c]({OTHER} (my note))' in first
    second, previous = run_once(first, facts(second="Renamed"), previous)
    assert f'[a]({URL} "mine") and [b]({OTHER} (Renamed)) and [c]({OTHER} (my note))' in second


def test_the_rows_cells_read_back_as_the_seeds_in_every_run() -> None:
    text = table(f'[p]({URL}) [q]({OTHER} "curated")')
    seed_cells = [r.cells for r in resolve(parse(text)).records]
    previous = None
    for _ in range(3):
        text, previous = run_once(text, facts(), previous)
        assert [r.cells for r in previous.records] == seed_cells


def test_without_a_previous_dataset_every_title_is_kept_as_written() -> None:
    """Nothing tells the tool's titles apart then: kept, never lost (and none is added twice)."""
    regenerated, _ = run_once(table(f"[p]({URL})"), facts(), None)
    again, _ = run_once(regenerated, facts("New title"), None)
    assert f"[p]({URL} (Fetched title))" in again


def test_a_title_in_a_table_without_generated_columns_is_the_curators() -> None:
    """Only a regenerated table holds the tool's titles: a seed's own table keeps its title
    even when it equals what the previous run wrote."""
    previous = run_once(table(f"[p]({URL})"), facts(), None)[1]
    seed = table(f"[p]({URL} (Fetched title))")
    document = parse(seed, "list.md", earlier_titles(previous))
    [record] = resolve(document).records
    assert record.cells["Paper"] == f"[p]({URL} (Fetched title))"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"[p]({URL} (T))", f"[p]({URL})"),  # the tool's form and title
        (f"[p]({URL}  (T))", f"[p]({URL}  (T))"),  # two spaces: not the tool's form
        (f"[p]({URL} (T) )", f"[p]({URL} (T) )"),
        (f'[p]({URL} "T")', f'[p]({URL} "T")'),
        (f"[p]({URL} (U))", f"[p]({URL} (U))"),  # another title
        (f"[p]({OTHER} (T))", f"[p]({OTHER} (T))"),  # another link
    ],
)
def test_strip_titles_takes_off_only_the_tools_form_and_title(text: str, kept: str) -> None:
    assert strip_titles(text, {URL: "T"}) == kept


# ------------------------------------------------------------------------ the pipeline


class Arxiv:
    """A source of arXiv papers that an offline run never asks."""

    name = "arxiv"
    kinds = frozenset({Kind.ARXIV})

    async def fetch(self, requests: object, ctx: object) -> dict[Identifier, Result]:
        raise AssertionError("offline must not fetch")


def test_run_on_its_own_regenerated_document_keeps_the_curators_title(tmp_path: Path) -> None:
    """`run`, then `run` again with the regenerated document as the seed (the documented way
    to keep a list in place), offline, with the previous dataset's facts."""
    seeds, out = tmp_path / "seeds", tmp_path / "out"
    seeds.mkdir()
    seed = seeds / "list.md"
    seed.write_text(table(f"[p]({URL} (accepted at ICML)) [q]({OTHER})"), encoding="utf-8")
    previous = Dataset(seeds=[], records=[], entities=by_ref(facts()), diagnostics=[])
    out.mkdir()
    (out / "enriched.json").write_bytes(json_bytes(previous))
    settings = Settings(seeds=seed, out=out, cache=tmp_path / "cache", offline=True)
    first = pipeline.run(settings, sources=(Arxiv(),))
    for _ in range(2):
        seed.write_bytes((out / "list.md").read_bytes())
        again = pipeline.run(settings, sources=(Arxiv(),))
        assert [r.cells for r in again.dataset.records] == [r.cells for r in first.dataset.records]
    written = (out / "list.md").read_text(encoding="utf-8")
    assert f"| A | [p]({URL} (accepted at ICML)) [q]({OTHER} (Other title)) |" in written


def test_a_regenerated_document_run_into_another_folder_keeps_the_curators_title(
    tmp_path: Path,
) -> None:
    """`run --seeds output/list.md --out again`: the titles the document's own run wrote are
    known from the dataset beside it."""
    seeds, out, again = tmp_path / "seeds", tmp_path / "output", tmp_path / "again"
    seeds.mkdir()
    (seeds / "list.md").write_text(table(f"[p]({URL} 'mine') [q]({OTHER})"), encoding="utf-8")
    out.mkdir()
    previous = Dataset(seeds=[], records=[], entities=by_ref(facts()), diagnostics=[])
    (out / "enriched.json").write_bytes(json_bytes(previous))
    cache = tmp_path / "cache"
    first = pipeline.run(
        Settings(seeds=seeds / "list.md", out=out, cache=cache, offline=True), sources=(Arxiv(),)
    )
    second = pipeline.run(
        Settings(seeds=out / "list.md", out=again, cache=cache, offline=True), sources=(Arxiv(),)
    )
    assert [r.cells for r in second.dataset.records] == [r.cells for r in first.dataset.records]
    assert f"[p]({URL} 'mine')" in (again / "list.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------ byte order mark

BOM = "\ufeff"
TABLE = f"| Method | Paper |\n|---|---|\n| A | [p]({URL}) |\n"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (BOM + TABLE, ()),
        (BOM + "# Title\n\n" + TABLE, ("Title",)),
        (BOM + "Title\n=====\n\n" + TABLE, ("Title",)),
        (BOM + "> " + TABLE.replace("\n|", "\n> |"), ()),
        (BOM + "- " + TABLE.replace("\n|", "\n  |"), ()),
        ((BOM + "# Title\r\n\r\n" + TABLE).replace("\n", "\r\n").replace("\r\r", "\r"), ("Title",)),
    ],
)
def test_a_bom_before_the_first_line_hides_no_table_nor_heading(
    text: str, path: tuple[str, ...]
) -> None:
    document = parse(text)
    [found] = document.tables
    assert found.heading_path == path
    assert found.columns == ("Method", "Paper")
    assert document.text == text
    [record] = resolve(document).records
    assert record.cells["Method"] == "A"


@pytest.mark.parametrize("text", [BOM + TABLE, BOM + "# Title\n\n" + TABLE, BOM + "intro\n"])
def test_a_bom_stays_first_through_every_run(text: str) -> None:
    previous = None
    for _ in range(3):
        document = parse(text, "list.md", earlier_titles(previous))
        records = resolve(document).records
        out = render_document(document, records, facts(), select(("stars",)), ".", "t.svg")
        assert out.startswith(BOM)
        assert out.count(BOM) == 1
        assert out.count('<img src="t.svg"') == 1
        named = by_ref(facts())
        previous = Dataset(seeds=[], records=list(records), entities=named, diagnostics=[])
        text = out
    assert [t.columns for t in parse(text).tables] == [("Method", "Paper")] * ("|" in text)


def test_a_bom_document_renders_unchanged_without_columns() -> None:
    text = BOM + "# Title\n\n" + TABLE
    assert render_document(parse(text)) == text


def test_the_timeline_figure_goes_after_a_heading_behind_a_bom() -> None:
    document = parse(BOM + "# Title\n\n" + TABLE)
    out = render_document(document, (), {}, (), ".", "t.svg")
    assert out.splitlines()[:2] == [BOM + "# Title", out.splitlines()[1]]
    assert out.splitlines()[1].startswith('<img src="t.svg"')


# ------------------------------------------------------------------------ deep nesting


def nested(depth: int, marker: str = "list") -> str:
    if marker == "list":
        return "".join("  " * i + "- item\n" for i in range(depth))
    return ">" * depth + " quote\n"


@pytest.mark.parametrize(
    ("depth", "marker"), [(10, "list"), (12, "list"), (40, "list"), (60, "quote")]
)
def test_tables_after_a_deeply_nested_block_are_found(depth: int, marker: str) -> None:
    text = "# L\n\n" + nested(depth, marker) + "\n## After\n\n" + TABLE + "\n" + TABLE
    document = parse(text)
    assert [t.heading_path for t in document.tables] == [("L", "After")] * 2
    assert document.too_deep == ()
    assert not [d for d in diagnose(document) if d.code == "too-deep"]


@pytest.mark.parametrize(("depth", "marker", "line"), [(60, "list", 52), (150, "quote", 3)])
def test_nesting_deeper_than_the_parser_follows_is_an_error_with_its_line(
    depth: int, marker: str, line: int
) -> None:
    text = "# L\n\n" + nested(depth, marker) + "\n" + TABLE
    document = parse(text)
    [problem] = [d for d in diagnose(document) if d.code == "too-deep"]
    assert problem.severity is Severity.ERROR
    assert problem.line == line
    assert document.text == text


def test_lint_fails_on_a_list_too_deep_to_read(tmp_path: Path) -> None:
    from enrich.cli import main

    seed = tmp_path / "deep.md"
    seed.write_text(nested(60) + "\n" + TABLE, encoding="utf-8")
    assert main(["lint", str(seed)]) == 1


# ------------------------------------------------------------------------ in-page anchors


@pytest.mark.parametrize(
    "text",
    [
        "- [Intro](#intro)\n- [Links](./#links)\n",
        "See [x](././#deep-section).\n",
        '<a href="./#links">links</a> and <a href="#top">top</a>\n',
        "[toc]: ./#contents\n",
        "| A | B |\n|---|---|\n| [a](#links) | [b](./#links) |\n",
        "| A | B |\n|---|---|\n| [a]( ./#links ) | <a href='./#b'>b</a> |\n",
    ],
)
def test_an_in_page_anchor_is_left_exactly_as_written(text: str) -> None:
    document = parse(text, "list.md")
    records = resolve(document).records
    assert render_document(document, records, {}, (), "../seeds") == text
    out = render_document(document, records, facts(), select(("stars",)), "../seeds")
    assert "../seeds" not in out


@pytest.mark.parametrize(
    ("written", "repointed"),
    [
        ("[d](./docs/#links)", "[d](../seeds/docs/#links)"),
        ("[d](docs.md#links)", "[d](../seeds/docs.md#links)"),
        ("[d](../#links)", "[d](../#links)"),  # the seeds' parent: output/'s too
        ("[d](./)", "[d](../seeds/)"),
    ],
)
def test_a_relative_link_with_a_fragment_is_still_re_pointed(written: str, repointed: str) -> None:
    document = parse(f"{written}\n", "list.md")
    assert render_document(document, (), {}, (), "../seeds") == f"{repointed}\n"
