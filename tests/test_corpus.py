"""The real READMEs in `../shared/corpus`: byte-for-byte round trip and the documented counts.

`SOURCES.md` in that folder lists every file with its number of tables and table rows; its
summary table is read with `enrich.parse` itself. Skipped when the corpus is not checked out
next to this repository.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from enrich.document import Document, split_lines
from enrich.models import Kind
from enrich.parse import diagnose, markdown, parse
from enrich.resolve import resolve

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"

if not (CORPUS / "SOURCES.md").is_file():
    pytest.skip(
        f"corpus folder {CORPUS} (with SOURCES.md) not found; it sits next to the repository",
        allow_module_level=True,
    )

FILES = sorted(p.name for p in CORPUS.glob("*.md") if p.name != "SOURCES.md")


def read(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


@functools.cache
def document(name: str) -> Document:
    """The corpus file parsed, once a session (a `Document` is frozen; several tests read it)."""
    return parse(read(name), name)


def summary() -> dict[str, tuple[int, int]]:
    """`file -> (tables, rows)` from the tables of SOURCES.md that list files with their
    counts (the first batch's summary and each later batch's)."""
    sources = parse(read("SOURCES.md"), "SOURCES.md")
    counts: dict[str, tuple[int, int]] = {}
    for table in sources.tables:
        if not {"file", "tables", "rows"} <= set(table.columns):
            continue
        for row in table.rows:
            cells = dict(zip(table.columns, row.values, strict=True))
            counts[cells["file"]] = (int(cells["tables"]), int(cells["rows"]))
    return counts


SUMMARY = summary()


def test_summary_lists_every_corpus_file() -> None:
    assert sorted(SUMMARY) == FILES
    assert len(FILES) >= 20


def test_summary_totals_match_the_text_of_sources() -> None:
    tables = sum(t for t, _ in SUMMARY.values())
    rows = sum(r for _, r in SUMMARY.values())
    assert f"{len(FILES)} files, {tables} tables and {rows:,} rows" in read("SOURCES.md")


@pytest.mark.parametrize("name", FILES)
def test_round_trip_byte_for_byte(name: str) -> None:
    raw = (CORPUS / name).read_bytes()
    assert parse(raw.decode("utf-8"), name).text.encode("utf-8") == raw


@pytest.mark.parametrize("name", FILES)
def test_table_and_row_counts_match_sources(name: str) -> None:
    tables = document(name).tables
    assert (len(tables), sum(len(t.rows) for t in tables)) == SUMMARY[name]


@pytest.mark.parametrize("name", FILES)
def test_every_table_line_is_the_source_line_at_its_number(name: str) -> None:
    lines = split_lines(read(name))
    for table in document(name).tables:
        for line in (table.header, table.delimiter, *table.rows):
            assert lines[line.line - 1] == line.raw


@pytest.mark.parametrize("name", FILES)
def test_header_widths_agree_with_markdown_it(name: str) -> None:
    widths: list[int] = []
    for token in markdown().parse(read(name)):
        if token.type == "thead_open":
            widths.append(0)
        elif token.type == "th_open":
            widths[-1] += 1
    assert [len(t.header.cells) for t in document(name).tables] == widths


@pytest.mark.parametrize("name", FILES)
def test_resolve_classifies_every_link_and_ids_are_unique(name: str) -> None:
    result = resolve(document(name))
    assert all(isinstance(link.kind, Kind) for r in result.records for link in r.links)
    ids = [r.id for r in result.records]
    assert len(ids) == len(set(ids))


# --------------------------------------------------------------------------- documented quirks


@pytest.mark.parametrize(
    ("name", "spans"),
    [
        ("FairyFali__SLMs-Survey__README.md", [(80, 127)]),
        ("FairyFali__SLMs-Survey__README-2c59831.md", [(49, 90)]),
        ("Hannibal046__Awesome-LLM__README.md", [(41, 104)]),  # inside <details>
        ("pprp__Awesome-LLM-Quantization__README.md", [(17, 107)]),
        ("AIoT-MLSys-Lab__Efficient-LLMs-Survey__README.md", [(639, 657)]),  # after a <div>
        ("NexaAI__Awesome-LLMs-on-device__README.md", [(107, 120), (207, 216)]),
        ("HuangOwen__Awesome-LLM-Compression__README.md", []),
    ],
)
def test_table_spans_documented_in_sources(name: str, spans: list[tuple[int, int]]) -> None:
    found = [(t.header.line, t.rows[-1].line) for t in document(name).tables]
    assert found == spans


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("FairyFali__SLMs-Survey__README-045ca36.md", [61]),  # QLoRA, 7 of 8 cells
        ("FairyFali__SLMs-Survey__README-2c59831.md", [88]),
        ("eugeneyan__open-llms__README.md", [25, 39, 60, 84, 85]),
        ("BradyFU__Awesome-Multimodal-Large-Language-Models__README.md", [588, 710]),
        ("FairyFali__SLMs-Survey__README.md", []),
    ],
)
def test_cell_count_diagnostics_documented_in_sources(name: str, lines: list[int]) -> None:
    found = [d.line for d in diagnose(document(name)) if d.code == "cell-count"]
    assert found == lines


def test_horseee_rows_have_a_fourth_cell_after_the_last_pipe() -> None:
    name = "horseee__Awesome-Efficient-LLM__README.md"
    found = [d for d in diagnose(document(name)) if d.code == "cell-count"]
    assert len(found) == 214
    assert found[0].line == 57


@pytest.mark.parametrize(
    "name",
    [
        "FairyFali__SLMs-Survey__README.md",
        "FairyFali__SLMs-Survey__README-045ca36.md",
        "FairyFali__SLMs-Survey__README-eb610d8.md",
        "FairyFali__SLMs-Survey__README-2c59831.md",
    ],
)
def test_crlf_files_keep_crlf_on_every_table_line(name: str) -> None:
    for table in document(name).tables:
        for line in (table.header, table.delimiter, *table.rows):
            assert line.raw.endswith("\r\n")
            assert not any("\r" in value for value in line.values)


def test_mlabonne_duplicate_column_name_is_made_unique() -> None:
    tables = document("mlabonne__llm-course__README.md").tables
    assert tables[0].columns == ("Notebook", "Description", "Notebook 2")


def test_fairyfali_comment_block_hides_its_headings() -> None:
    [table] = document("FairyFali__SLMs-Survey__README.md").tables
    assert table.heading_path[-1] != "Table of Contents"


def test_eb610d8_is_the_seed_format() -> None:
    result = resolve(document("FairyFali__SLMs-Survey__README-eb610d8.md"))
    assert len(result.records) == 75
    [awq] = [r for r in result.records if r.cells.get("Method") == "AWQ"]
    assert awq.line == 169
    assert [link.misplaced for link in awq.links] == [True, True]
