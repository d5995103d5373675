"""Stage 5: the regenerated document, rendered offline from a fixture dataset.

The fixture (`tests/data/golden/previous.json` and `enriched.json`) is what two runs of the
pipeline against the loopback API produce: a first run on the seed without its last row,
then a `--refresh` after upstream changed (stars, downloads, a new arXiv version, a repository
archived, one renamed, one gone, a Hub model failing). Its `fetched_at` times are pinned.
The rendered document, `report.md` and `CHANGES.md` are compared with golden files; after an
intended change, regenerate every golden file with

    ENRICH_UPDATE_GOLDEN=1 python -m pytest tests/test_render.py tests/test_report.py
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import html
import json
import os
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich import pipeline
from enrich.columns import COLUMNS, Column, humanise, select
from enrich.config import Endpoints, Settings
from enrich.document import Document, Table
from enrich.errors import InputError
from enrich.jsonout import render_json
from enrich.metadata import HubMeta, RepoMeta
from enrich.models import Change, Dataset, Entities, Link, Result, RowRecord, Scalar, Status, by_ref
from enrich.parse import markdown, parse
from enrich.pipeline import TIMELINE_NAME
from enrich.render import escape_cell, render_document
from enrich.resolve import resolve
from enrich.text import one_line
from enrich.titles import TITLE_LIMIT, earlier_titles, escape_title
from tests import builders as build
from tests.conftest import SEED
from tests.fakeapi import FakeAPI

GOLDEN = Path(__file__).parent / "data" / "golden"
UPDATE_ENV = "ENRICH_UPDATE_GOLDEN"
SEED_PATH = "seeds/slm-survey.md"  # as the fixture's records name it
FIRST_RUN = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
SECOND_RUN = datetime(2026, 2, 5, 6, 0, tzinfo=UTC)
NASTY_TITLE = (
    'SqueezeLLM: "Dense-and-Sparse" | <b>Quant</b>\n[x](http://evil.example) `code` \\ & AT&amp;T'
    " www.evil.example"
)
LAST_ROW = "| LinguaLinked "
FIGURE_LINE = 42  # the seed's own timeline figure
MD = markdown()


# ------------------------------------------------------------------------------ fixture


def update_golden() -> bool:
    return os.environ.get(UPDATE_ENV) == "1"


def assert_golden(name: str, text: str) -> None:
    """`text` is the golden file `name`; with ENRICH_UPDATE_GOLDEN=1 it becomes it."""
    path = GOLDEN / name
    if update_golden():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.is_file(), f"golden file {path} is missing: run the tests with {UPDATE_ENV}=1"
    expected = path.read_bytes().decode("utf-8")
    if text != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"{name} (golden)",
                    tofile=f"{name} (rendered now)",
                )
            )[:60]
        )
        pytest.fail(
            f"{path} differs from what the code produces now. If the change is intended, "
            f"regenerate the golden files with {UPDATE_ENV}=1 and review their diff.\n{diff}",
            pytrace=False,
        )


def _pin(dataset: Dataset, keep: datetime | None, moment: datetime) -> Dataset:
    """Every `fetched_at` but `keep` set to `moment`, every ETag to one value: they depend on
    when the fixture was made and on the fake's port (in the URLs of GitHub's bodies)."""
    entities = {}
    for ref, result in dataset.entities.items():
        at, etag = result.provenance.fetched_at, result.provenance.etag
        pinned = {
            "fetched_at": moment if at is not None and at != keep else at,
            "etag": 'W/"fixture"' if etag else None,
        }
        provenance = result.provenance.model_copy(update=pinned)
        entities[ref] = result.model_copy(update={"provenance": provenance})
    return dataset.model_copy(update={"entities": entities})


def _upstream(api: FakeAPI) -> None:
    """The world of the first run: a title full of markup, numbers to humanise."""
    api.set_rate_limit(5000)
    api.add_paper("2306.07629", title=NASTY_TITLE, version=2)
    api.add_repo("mit-han-lab/llm-awq", stars=12_345)
    api.add_repo("mit-han-lab/smoothquant", stars=999)
    api.add_repo("artidoro/qlora", archived=False)
    api.add_model("TinyLlama/TinyLlama-1.1B-Chat-v1.0", downloads=1_234_567)
    # Discovery: OneBit's rows have empty Code and Model Card cells.
    api.add_paper_page("2402.11295", github_repo="https://github.com/xuyuzhuang11/OneBit")
    api.add_model("onebit/OneBit-7B", arxiv_ids=["2402.11295"], downloads=1_200)
    api.add_model("community/onebit-gguf", arxiv_ids=["2402.11295"], downloads=15_000)


def _upstream_changes(api: FakeAPI) -> None:
    """What changed upstream before the second run."""
    api.add_paper("2306.07629", title=NASTY_TITLE, version=3)
    api.add_repo("mit-han-lab/llm-awq", stars=15_000)
    api.add_model("TinyLlama/TinyLlama-1.1B-Chat-v1.0", downloads=2_500_000)
    api.add_repo("artidoro/qlora", archived=True)
    api.rename_repo("jongwooko/distillm", "jongwooko/distillm-2")
    api.fault("github", "404", path_contains="nyu-dl/dl4marco-bert")
    api.fault("hub", "500", path_contains="codegemma")
    with api.editing():  # DPO is cited more, and now in a journal (Semantic Scholar)
        dpo = api.scholar.papers["ARXIV:2305.18290"]
        dpo.citations += 1_234


def make_fixture(folder: Path) -> tuple[Dataset, Dataset]:
    """(first run's dataset, second run's dataset), made in `folder` against a FakeAPI."""
    seed_text = SEED.read_text(encoding="utf-8")
    seed = folder / SEED_PATH
    seed.parent.mkdir(parents=True, exist_ok=True)
    kept = (ln for ln in seed_text.splitlines(keepends=True) if LAST_ROW not in ln)
    seed.write_text("".join(kept), encoding="utf-8")
    with FakeAPI() as api, contextlib.chdir(folder):
        api.populate_from_markdown(seed_text)
        _upstream(api)
        base = api.base_url
        endpoints = Endpoints(f"{base}/api/query", base, base, base, pmlr=base, openreview=base)
        config = Settings(
            seeds=Path(SEED_PATH),
            out=Path("output"),
            cache=Path("cache"),
            endpoints=endpoints,
            retry_wait=False,
            arxiv_delay=0,
            s2_delay=0,
            landing_delay=0,
        )
        first = _pin(pipeline.run(config).dataset, None, FIRST_RUN)
        Path("output/enriched.json").write_text(render_json(first), encoding="utf-8")
        seed.write_text(seed_text, encoding="utf-8")
        _upstream_changes(api)
        second = pipeline.run(replace(config, refresh=True)).dataset
    return first, _pin(second, FIRST_RUN, SECOND_RUN)


@functools.cache
def fixture() -> tuple[Dataset, Dataset]:
    """The fixture datasets (made anew first with ENRICH_UPDATE_GOLDEN=1)."""
    if update_golden():
        with tempfile.TemporaryDirectory() as folder:
            first, second = make_fixture(Path(folder))
        assert_golden("previous.json", render_json(first))
        assert_golden("enriched.json", render_json(second))
    return (
        Dataset.model_validate_json((GOLDEN / "previous.json").read_bytes()),
        Dataset.model_validate_json((GOLDEN / "enriched.json").read_bytes()),
    )


def dataset() -> Dataset:
    return fixture()[1]


def seed_document() -> Document:
    return parse(SEED.read_text(encoding="utf-8"), SEED_PATH)


@functools.cache
def rendered() -> str:
    """The seed rendered as `run` renders it into output/, beside seeds/: with the timeline
    figure's line after the seed's figure (line 42), so rows sit a line lower than in the
    seed (`at` gives their lines there)."""
    data = dataset()
    records = [r for r in data.records if r.file == SEED_PATH]
    columns = select(Settings().columns)
    return render_document(
        seed_document(), records, data.results, columns, "../seeds", TIMELINE_NAME
    )


def at(seed_line: int) -> int:
    """The line in `rendered()` of the seed's line `seed_line`."""
    return seed_line + 1 if seed_line > FIGURE_LINE else seed_line


def row_at(text: str, line: int) -> str:
    """The row at the seed's `line` (in `rendered()`)."""
    return text.splitlines()[at(line) - 1]


def tables_by_line(document: Document) -> dict[int, Table]:
    return {row.line: table for table in document.tables for row in table.rows}


def cell(text: str, line: int, column: str) -> str:
    """The value of `column` (curated or generated header text) in the row at the seed's
    `line` (in `rendered()`)."""
    table = tables_by_line(parse(text))[at(line)]
    headers = [h.replace("<!-- enrich -->", "").strip() for h in table.header.values]
    [row] = [r for r in table.rows if r.line == at(line)]
    return row.values[headers.index(column)]


# ------------------------------------------------------------------------------ golden


def test_fixture_is_what_two_runs_against_the_fake_api_produce(tmp_path: Path) -> None:
    first, second = make_fixture(tmp_path)
    assert_golden("previous.json", render_json(first))
    assert_golden("enriched.json", render_json(second))
    statuses = {r.status for r in second.entities.values()}
    assert {Status.OK, Status.STALE, Status.MOVED, Status.NOT_FOUND} <= statuses


def test_dataset_json_has_sorted_keys_two_space_indents_and_a_final_newline() -> None:
    text = render_json(dataset())

    def sorted_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in pairs]
        assert keys == sorted(keys)
        return dict(pairs)

    assert json.loads(text, object_pairs_hook=sorted_keys)
    assert text.startswith('{\n  "diagnostics": [\n    {\n')
    assert text.endswith("}\n")
    assert render_json(Dataset.model_validate_json(text)) == text


def _one_dump(value: Dataset) -> str:
    dumped = value.model_dump(mode="json")
    return json.dumps(dumped, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _dataset_with(cells: dict[str, str], change: Scalar) -> Dataset:
    changes = [Change(field="stars", old=change, new=None)]
    found = build.result("arxiv:2306.07629", source="arxiv", changes=changes)
    record = build.record(id="row:x", file="s.md", section=["B", "A"], cells=cells)
    return build.dataset([record], found, seeds=["s.md"])


@pytest.mark.parametrize(
    "change",
    [
        1.5,
        0.1,
        -0.0,
        1e15,
        1e16,
        1.5e300,
        1e-5,
        5e-324,
        float("inf"),
        float("nan"),
        7,
        True,
        "1e16",
    ],
)
def test_dataset_json_spells_numbers_as_json_dumps(change: Scalar) -> None:
    """pydantic-core writes the dataset; a float it spells differently from `json.dumps`
    (an exponent, a non-finite value) sends the dataset to the exact, slower path."""
    value = _dataset_with({"b": "1", "a": "2"}, change)
    assert render_json(value) == _one_dump(value)


@given(
    st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=6),
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
)
@settings(max_examples=200, deadline=None)
def test_dataset_json_is_one_sorted_dump_for_any_text(
    cells: dict[str, str], change: Scalar
) -> None:
    """Keys sorted at every level, excluded fields left out, escapes, non-ASCII, controls,
    line separators: the bytes of one `json.dumps` of the whole dump."""
    value = _dataset_with(cells, change)
    assert render_json(value) == _one_dump(value)


def test_seed_renders_as_the_golden_document() -> None:
    assert_golden("slm-survey.md", rendered())


def test_prose_is_the_seed_byte_for_byte_but_relative_images_point_to_the_seed_folder() -> None:
    seed = SEED.read_text(encoding="utf-8").splitlines(keepends=True)
    out = rendered().splitlines(keepends=True)
    figure = out.pop(FIGURE_LINE)  # the one line added: the living timeline, after the seed's
    assert figure.startswith('<img src="timeline.svg" alt="Timeline of the listed papers')
    assert figure.endswith("> <!-- enrich -->\n")
    assert len(out) == len(seed)
    table_lines = {
        n for t in seed_document().tables for n in range(t.header.line, t.rows[-1].line + 1)
    }
    changed = {n for n, (a, b) in enumerate(zip(seed, out, strict=True), 1) if a != b}
    assert changed - table_lines == {39, 42}
    for n in (39, 42):
        assert out[n - 1] == seed[n - 1].replace("](images/", "](../seeds/images/")


def test_every_row_has_as_many_cells_as_its_header() -> None:
    document = parse(rendered())
    assert len(document.tables) == len(seed_document().tables) == 14
    for table in document.tables:
        assert table.generated == 3
        assert [h.strip() for h in table.header.values[-3:]] == [
            "Stars<!-- enrich -->",
            "Downloads<!-- enrich -->",
            "Published<!-- enrich -->",
        ]
        for row in table.rows:
            assert len(row.cells) == len(table.header.cells), row.raw


def test_row_without_a_trailing_pipe_is_closed_before_the_generated_cells() -> None:
    qlora = row_at(rendered(), 61)
    stars = humanise(repo("artidoro/qlora").stars)
    # QLoRA is linked by DOI only: its month comes from the arXiv id Semantic Scholar names.
    assert qlora.endswith(f"[Link](https://huggingface.co/timdettmers) | {stars} |  | 2023-05 |")
    assert cell(rendered(), 61, "Model Card") == "[Link](https://huggingface.co/timdettmers)"
    codellama = row_at(rendered(), 131)
    assert codellama.endswith("[Link](https://huggingface.co/codellama) |  |  | 2023-08 |")


def test_curated_cells_are_kept_as_written() -> None:
    seed = SEED.read_text(encoding="utf-8").splitlines()
    squeeze = row_at(rendered(), 50)
    assert squeeze.startswith(
        "| SqueezeLLM    | 3-bit         | PTQ   | Ultra-low bit quantization"
    )
    # The curated part of a row is its source text, spacing included, up to the paper link.
    for n in (69, 98, 169):
        head = seed[n - 1].split("[Link](")[0]
        assert row_at(rendered(), n).startswith(head)


# ------------------------------------------------------------------------------ values


def entity(ref: str) -> Result:
    return dataset().entities[ref]


def repo(name: str) -> RepoMeta:
    data = entity(f"github_repo:{name}").data
    assert isinstance(data, RepoMeta)
    return data


def test_numbers_are_humanised() -> None:
    out = rendered()
    assert cell(out, 169, "Stars") == "15k"  # mit-han-lab/llm-awq
    assert cell(out, 130, "Downloads") == "2.5M"  # TinyLlama
    assert cell(out, 98, "Stars") == "999"  # mit-han-lab/smoothquant
    assert cell(out, 130, "Stars") == humanise(repo("jzhang38/tinyllama").stars)


def test_published_is_the_arxiv_first_published_month() -> None:
    assert cell(rendered(), 79, "Published") == "2023-05"  # DPO, listed as 2024
    assert cell(rendered(), 169, "Published") == "2023-06"  # AWQ's paper sits in Code


def test_stale_values_are_marked_and_current_ones_are_not() -> None:
    assert entity("hf_model:google/codegemma-7b-it").status is Status.STALE
    assert cell(rendered(), 132, "Downloads").endswith("†")
    assert "†" not in cell(rendered(), 130, "Downloads")


def test_missing_values_are_blank() -> None:
    out = rendered()
    assert cell(out, 150, "Stars") == ""  # nyu-dl/dl4marco-bert is gone (404)
    assert cell(out, 53, "Stars") == ""  # no code link
    assert cell(out, 51, "Published") == "2024-07"  # a PMLR paper: its page's date
    assert cell(out, 77, "Published") == ""  # a blog post: no paper to date
    assert cell(out, 61, "Downloads") == ""  # an org page has no downloads


def test_a_moved_repository_shows_the_facts_under_its_new_name() -> None:
    moved = entity("github_repo:jongwooko/distillm")
    assert moved.status is Status.MOVED
    assert isinstance(moved.data, RepoMeta)
    assert cell(rendered(), 92, "Stars") == humanise(moved.data.stars)


def link_titles(text: str) -> dict[str, str | None]:
    """href -> title of every link in `text`, as markdown-it reads them."""
    found: dict[str, str | None] = {}
    for token in MD.parseInline(text):
        for child in token.children or []:
            if child.type == "link_open":
                title = child.attrGet("title")
                found[str(child.attrGet("href"))] = None if title is None else str(title)
    return found


def test_paper_links_carry_the_paper_title_and_other_links_none() -> None:
    out = rendered()
    titles = link_titles(row_at(out, 71))
    paper_title = "Paper title for 2402.14905"
    assert titles["https://arxiv.org/abs/2402.14905"] == paper_title
    assert titles["https://huggingface.co/papers/2402.14905"] == paper_title  # names the paper
    assert titles["https://github.com/facebookresearch/MobileLLM"] is None
    assert link_titles(row_at(out, 169))["https://arxiv.org/abs/2306.00978"] is not None
    assert link_titles(row_at(out, 51))["https://proceedings.mlr.press/v235/guo24g.html"] == (
        "Compressing Large Language Models by Joint Sparsification and Quantization"
    )  # from its landing page
    assert link_titles(row_at(out, 77))["https://crfm.stanford.edu/2023/03/13/alpaca.html"] is None


def test_fetched_title_is_escaped_and_reads_back_exactly() -> None:
    out = rendered()
    row = row_at(out, 50)
    assert "<b>" not in row
    assert "\n" not in row
    assert len(parse(out).tables[0].rows[0].cells) == 11  # no pipe of the title splits the row
    paper = cell(out, 50, "Paper")
    assert link_titles(paper) == {"https://arxiv.org/abs/2306.07629": one_line(NASTY_TITLE, 200)}
    table = MD.render("\n".join(out.splitlines()[at(48) - 1 : at(50)]))
    assert table.count("<a ") == 2
    assert "<b>" not in table


# ------------------------------------------------------------------------------ idempotency


def comparable(records: tuple[RowRecord, ...]) -> list[tuple[str, dict[str, str], list[Link]]]:
    return [(r.id, r.cells, r.links) for r in records]


def titles_of(document: Document, entities: Entities) -> dict[str, str]:
    """The titles a run on `document` with `entities` writes: what reading its regenerated
    document back takes off (`earlier_titles` of that run's dataset)."""
    records = list(resolve(document).records)
    named = by_ref(entities)
    previous = Dataset(seeds=[document.path], records=records, entities=named, diagnostics=[])
    return earlier_titles(previous)


def test_regenerated_document_reads_back_as_the_seed_rows() -> None:
    seed = resolve(seed_document())
    again = resolve(parse(rendered(), SEED_PATH, earlier_titles(dataset())))
    assert comparable(again.records) == comparable(seed.records)
    assert [r.line for r in again.records] == [at(r.line) for r in seed.records]
    # The same problems, a line lower after the timeline figure's line.
    assert [(d.line, d.code, d.hint) for d in again.diagnostics] == [
        (at(d.line), d.code, d.hint) for d in seed.diagnostics
    ]


def test_regenerated_document_renders_to_itself() -> None:
    data = dataset()
    document = parse(rendered(), "output/slm-survey.md")
    records = resolve(document).records
    columns = select(Settings().columns)
    again = render_document(document, records, data.results, columns, ".", TIMELINE_NAME)
    assert again == rendered()


@pytest.mark.parametrize(
    "columns", [("likes", "license", "pushed"), ("published",), Settings().columns]
)
def test_regenerated_document_renders_as_its_seed_whatever_the_columns(
    columns: tuple[str, ...],
) -> None:
    regenerated = parse(render_all(seed_document(), Settings().columns), SEED_PATH)
    assert render_all(regenerated, columns) == render_all(seed_document(), columns)


def test_regenerated_document_rendered_without_columns_is_its_seed_again() -> None:
    """Regression: rendered with no columns, a regenerated document kept the paper titles the
    first rendering had added (titles were re-added whenever a table had generated columns,
    though a seed rendered with no columns gets none)."""
    titles = earlier_titles(dataset())
    regenerated = parse(render_all(seed_document(), Settings().columns), SEED_PATH, titles)
    plain = render_all(regenerated, ())
    assert "<!-- enrich -->" not in plain
    assert ' "Paper title for' not in plain
    assert comparable(resolve(parse(plain)).records) == comparable(resolve(seed_document()).records)
    # Only rows the first rendering had to close (QLoRA, CodeLlama) differ from the seed.
    seed = SEED.read_text(encoding="utf-8").splitlines()
    changed = [
        n for n, (a, b) in enumerate(zip(seed, plain.splitlines(), strict=True), 1) if a != b
    ]
    assert changed == [61, 131]


def render_all(document: Document, columns: tuple[str, ...]) -> str:
    """`document` rendered with the fixture's facts, re-pointing nothing."""
    records = resolve(document).records
    return render_document(document, records, dataset().results, select(columns), ".")


def test_no_columns_and_no_re_pointing_give_back_the_source() -> None:
    data = dataset()
    records = data.records
    seed = SEED.read_text(encoding="utf-8")
    assert render_document(seed_document(), records, data.results, (), ".") == seed


# ------------------------------------------------------------------------------ shapes


def render_text(text: str, columns: tuple[str, ...] = ("stars",), base: str = ".") -> str:
    document = parse(text, "x.md")
    records = resolve(document).records
    return render_document(document, records, ENTITIES, select(columns), base)


ENTITIES = build.by_id(
    build.paper("2306.07629", "First paper"),
    build.paper("2401.00001", "Second paper"),
    build.repo("a/b", 1234, license_spdx="MIT"),
)
PAPER = "[p](https://arxiv.org/abs/2306.07629)"


def test_rows_with_fewer_or_more_cells_and_without_outer_pipes() -> None:
    text = (
        "| A | B | C |\n"
        "|---|---|---|\n"
        f"| {PAPER} | two |\n"  # one cell short
        f"| {PAPER} | two | three | four |\n"  # one cell too many
        "[c](https://github.com/a/b) | two | three\n"  # no outer pipes
        f"| {PAPER} | `a\\|b` | three"  # no trailing pipe, no final newline
    )
    out = render_text(text)
    document = parse(out, "x.md", titles_of(parse(text, "x.md"), ENTITIES))
    [table] = document.tables
    assert table.generated == 1
    widths = [len(row.cells) for row in table.rows]
    assert widths == [4, 5, 4, 4]
    assert table.rows[1].values[-1] == "four"  # the extra cell follows the generated one
    assert table.rows[2].values[-1] == "1.2k"
    assert not out.endswith("\n")
    assert comparable(resolve(document).records) == comparable(resolve(parse(text)).records)


def test_table_in_a_list_item_gets_its_columns_at_the_end() -> None:
    """Regression: a header on a list item's first line (`- | A | B |`) was cut after its
    first cell, because the list marker was taken for the text before a leading pipe; the
    generated header landed between curated ones and was not recognised as generated."""
    text = f"- | A | B |\n  |---|---|\n  | x | {PAPER} |\n"
    out = render_text(text)
    assert out.splitlines()[0] == "- | A | B | Stars<!-- enrich --> |"
    [table] = parse(out).tables
    assert table.generated == 1
    assert table.columns == ("A", "B")
    assert render_text(out) == out


def test_table_in_a_blockquote() -> None:
    text = f"> | A | B |\n> |---|---|\n> | x | {PAPER} |\n"
    out = render_text(text)
    assert out.splitlines()[2] == f"> | x | {PAPER[:-1]} (First paper)) |  |"
    assert render_text(out) == out


def test_each_paper_link_of_a_row_carries_its_own_title() -> None:
    """Regression: only the row's first paper was looked up, so a second arXiv link in the
    same row had no title (or could get the first paper's)."""
    text = f"| A |\n|---|\n| {PAPER}, [q](https://arxiv.org/abs/2401.00001) |\n"
    titles = link_titles(render_text(text).splitlines()[2])
    assert titles == {
        "https://arxiv.org/abs/2306.07629": "First paper",
        "https://arxiv.org/abs/2401.00001": "Second paper",
    }


@pytest.mark.parametrize(
    "cell",
    [
        "SigLIP2-so400m/14](https://arxiv.org/abs/2306.07629)",  # a stray `]` (a real list)
        "x] (see](https://arxiv.org/abs/2306.07629))",
        "\\[q](https://arxiv.org/abs/2306.07629)",  # an escaped `[`: no link text
        "[a\\](https://arxiv.org/abs/2306.07629)",  # an escaped `]`: no link text closed
        f"`[q](https://arxiv.org/abs/2306.07629)` {PAPER}",  # in a code span: text
        f"``a ` [q](https://arxiv.org/abs/2306.07629)`` {PAPER}",
        f"`[q`](https://arxiv.org/abs/2306.07629) {PAPER}",  # its `[` in a code span
    ],
)
def test_a_paper_url_that_is_no_inline_link_is_not_given_a_title(cell: str) -> None:
    """Regression (golden run over the corpus, since bare URLs after `(` are links): a
    paper URL GitHub autolinks after a stray `]` got ` (title)` written into the curated
    text (shown as text on GitHub); so did the same URL in a code span beside a real link.
    Only a `](url)` that closes a link text is an inline link, and only one gets a title."""
    row = render_text(f"| A |\n|---|\n| {cell} |\n").splitlines()[2]
    curated = row.rsplit("|", 2)[0]
    untitled = cell.replace(PAPER, f"{PAPER[:-1]} (First paper))")
    assert curated == f"| {untitled} "
    assert curated.count("(First paper)") == cell.count(PAPER)


@pytest.mark.parametrize(
    "cell",
    [
        "[a [b] c](https://arxiv.org/abs/2306.07629)",  # nested brackets
        "[a \\] c](https://arxiv.org/abs/2306.07629)",  # an escaped `]` inside the text
        "\\\\[q](https://arxiv.org/abs/2306.07629)",  # an escaped backslash, then a link
        "`code` [q](https://arxiv.org/abs/2306.07629)",  # a code span before the link
        "[`q`](https://arxiv.org/abs/2306.07629)",  # a code span inside the link text
    ],
)
def test_an_inline_paper_link_is_titled_however_its_text_is_written(cell: str) -> None:
    row = render_text(f"| A |\n|---|\n| {cell} |\n").splitlines()[2]
    assert link_titles(row) == {"https://arxiv.org/abs/2306.07629": "First paper"}
    assert row.startswith(f"| {cell[:-1]} (First paper)) |")


CURATED_TITLE = '| A |\n|---|\n| [p](https://arxiv.org/abs/2306.07629 "mine") |\n'


def test_a_curated_link_title_is_kept() -> None:
    row = render_text(CURATED_TITLE).splitlines()[2]
    assert link_titles(row) == {"https://arxiv.org/abs/2306.07629": "mine"}


def test_a_curated_link_title_survives_a_regenerated_document_used_as_seed() -> None:
    regenerated = render_text(CURATED_TITLE)
    again = resolve(parse(regenerated)).records
    assert comparable(again) == comparable(resolve(parse(CURATED_TITLE)).records)
    assert render_text(regenerated) == regenerated


def test_relative_links_re_pointed_in_prose_tables_and_headers_not_in_code() -> None:
    """Regression: relative links inside fenced code were re-pointed (code is text, not a
    link), and a relative image in a table's header was not."""
    text = (
        "![a](img/a.png) [doc](./docs/x.md) [abs](/root) [web](https://x.org/y) [top](#top)\n"
        "<img src='img/b.png'>\n"
        "\n"
        "```\n"
        "![c](img/c.png)\n"
        "```\n"
        "\n"
        "    [d](img/d.png)\n"
        "\n"
        "| ![h](img/h.png) | B |\n"
        "|---|---|\n"
        f"| ![r](img/r.png) | {PAPER} |\n"
        "\n"
        "[ref]: img/ref.png\n"
    )
    out = render_text(text, base="../seeds").splitlines()
    assert out[0] == (
        "![a](../seeds/img/a.png) [doc](../seeds/docs/x.md) [abs](/root) "
        "[web](https://x.org/y) [top](#top)"
    )
    assert out[1] == "<img src='../seeds/img/b.png'>"
    assert out[4] == "![c](img/c.png)"
    assert out[7] == "    [d](img/d.png)"
    assert out[9] == "| ![h](../seeds/img/h.png) | B | Stars<!-- enrich --> |"
    assert out[11].startswith("| ![r](../seeds/img/r.png) | ")
    assert out[13] == "[ref]: ../seeds/img/ref.png"


def test_re_pointing_keeps_what_is_not_a_relative_target() -> None:
    """Regression: a target starting with `[` (a malformed link, as in a corpus README) was
    taken for a relative path, and normalising it collapsed `https://` to `https:/`; a
    folder link lost its trailing slash."""
    malformed = "[Code]([https://ai.example/d/](https://github.com/o/r))"
    text = (
        f"{malformed} [dir](docs/) [up](../a/b.md) [img](img/x(1).png)\n\n"
        f"| A | B |\n|---|---|\n| {malformed} | {PAPER} |\n"
    )
    out = render_text(text, base="../seeds").splitlines()
    assert out[0] == (
        f"{malformed} [dir](../seeds/docs/) [up](../a/b.md) [img](../seeds/img/x(1).png)"
    )
    assert out[4].startswith(f"| {malformed} | ")


def test_code_spans_and_footnotes_are_not_re_pointed() -> None:
    """Regression: a relative link written inside a code span (`` `[Link](url)` ``, as in
    the corpus's SOURCES.md) was re-pointed, and so was the text of a footnote
    (`[^1]: This is ...` became `[^1]: ../seeds/This is ...`)."""
    text = (
        "Cells like `[Link](url)` or ``[a](b) ` c`` and [real](doc.md).\n"
        "\n"
        "[^1]: This is not legal advice.\n"
        "[ref]: ./doc.md\n"
    )
    assert render_text(text, base="../seeds").splitlines() == [
        "Cells like `[Link](url)` or ``[a](b) ` c`` and [real](../seeds/doc.md).",
        "",
        "[^1]: This is not legal advice.",
        "[ref]: ../seeds/doc.md",
    ]


def test_a_fetched_title_is_not_re_pointed() -> None:
    """Regression: titles were added before relative links were re-pointed, so a title
    holding `](img/x)` was rewritten as if it were a link of the seed."""
    entities = {**ENTITIES, **build.by_id(build.paper("2306.07629", "see ](img/x) 'src='a'"))}
    document = parse(f"| A |\n|---|\n| {PAPER} |\n")
    records = resolve(document).records
    out = render_document(document, records, entities, select(["stars"]), "../seeds")
    row = out.splitlines()[2]
    assert link_titles(row)["https://arxiv.org/abs/2306.07629"] == "see ](img/x) 'src='a'"


# ------------------------------------------------------------------------------ columns


def test_columns_order_and_headers_as_configured(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.enrich]\ncolumns = ["published", "stars", "license"]\n'
        '[tool.enrich.headers]\nstars = "GitHub ★"\n',
        encoding="utf-8",
    )
    config = Settings().with_project_config(tmp_path)
    columns = select(config.columns, config.headers)
    document = parse(f"| A |\n|---|\n| {PAPER} [c](https://github.com/a/b) |\n")
    records = resolve(document).records
    out = render_document(document, records, ENTITIES, columns, ".").splitlines()
    assert out[0] == (
        "| A | Published<!-- enrich --> | GitHub ★<!-- enrich --> | License<!-- enrich --> |"
    )
    assert out[1] == "|---| :---: | ---: | :---: |"
    assert out[2].endswith("| 2024-02 | 1.2k | MIT |")


def test_an_unknown_column_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "enrich.toml").write_text('columns = ["stars", "forks"]\n', encoding="utf-8")
    config = Settings().with_project_config(tmp_path)
    with pytest.raises(InputError, match=r"forks.*known: stars, downloads"):
        select(config.columns, config.headers)


def test_a_header_override_is_escaped() -> None:
    columns = select(["stars"], {"stars": "a|b <i>"})
    out = render_with(f"| A |\n|---|\n| {PAPER} |\n", columns)
    [table] = parse(out).tables
    assert len(table.header.cells) == 2
    assert table.generated == 1
    assert "<i>" not in out


def render_with(text: str, columns: tuple[Column, ...]) -> str:
    document = parse(text)
    records = resolve(document).records
    return render_document(document, records, ENTITIES, columns, ".")


# ------------------------------------------------------------------------------ escaping


def test_escape_cell_makes_markup_inert_and_reads_back() -> None:
    text = "a|b\nc <script>x</script> [l](x.md) `c` *e* _u_ \\ & &lt; ![i](y.png)"
    escaped = escape_cell(text)
    assert "\n" not in escaped
    assert "<" not in escaped
    assert inline_text(escaped) == one_line(text, TITLE_LIMIT)
    assert resolve(parse(f"| A |\n|---|\n| {escaped} |\n")).records[0].links == []


def test_escape_cell_breaks_bare_urls() -> None:
    """Regression: a bare URL, `www.` or e-mail address in fetched text was left as is, and
    GitHub (GFM autolinks, applied after escapes too) and the resolver make it a link."""
    for text in ("https://evil.example/x", "WWW.evil.example", "see http://e.io.", "m@e.io"):
        escaped = escape_cell(text)
        assert resolve(parse(f"| A |\n|---|\n| {escaped} |\n")).records[0].links == []
        assert inline_text(escaped).replace("\u2060", "") == text  # an invisible word joiner
        assert escape_cell(text, autolinks=True) == text


def test_escape_title_survives_a_code_span_opened_before_the_link() -> None:
    """Regression: a backtick in a title closed a code span the curated text opened before
    the link (`` `x [p](url "a`b") ``), and the curated link disappeared."""
    title = escape_title("a`b")
    row = f'| `x {PAPER[:-1]} "{title}") |'
    text = f"| A |\n|---|\n{row}\n"
    [record] = resolve(parse(text)).records
    assert [link.url for link in record.links] == ["https://arxiv.org/abs/2306.07629"]
    assert link_titles(f'{PAPER[:-1]} "{title}")') == {"https://arxiv.org/abs/2306.07629": "a`b"}


def test_escape_title_keeps_ampersands_literal() -> None:
    """Regression: `&` was not escaped in titles, where entities are decoded, so a title
    holding `&amp;` or `&lt;` showed `&` or `<`."""
    title = escape_title("AT&amp;T &lt;b&gt; & co")
    assert link_titles(f'[p](https://x.io "{title}")') == {
        "https://x.io": "AT&amp;T &lt;b&gt; & co"
    }


def test_long_fetched_text_is_truncated() -> None:
    escaped = escape_title("word " * 100)
    assert len(html.unescape(escaped)) <= TITLE_LIMIT
    assert escaped.endswith("…")
    assert escape_cell("x" * 500, 80) == "x" * 79 + "…"


def inline_text(markdown_text: str) -> str:
    """The text a reader sees of one line of inline markdown (no links, no HTML allowed)."""
    if not markdown_text:
        return ""
    [paragraph] = MD.parseInline(markdown_text)
    children = paragraph.children or []
    assert {c.type for c in children} <= {"text"}, children
    return "".join(c.content for c in children)


# ------------------------------------------------------------------------------ property

DANGEROUS = st.sampled_from(
    [
        "|",
        "\\|",
        "\n",
        "\r",
        "\r\n",
        "\u2028",
        "\x00",
        "<script>alert(1)</script>",
        "<a href='http://evil'>",
        "[x](http://evil)",
        "![i](http://evil/i.png)",
        "[ref]",
        "`",
        "``",
        "\\",
        '"',
        "'",
        ")",
        "http://evil.example",
        "www.evil.example",
        "m@evil.example",
        "&lt;",
        "&#124;",
        "<!-- enrich -->",
        "*",
        "_",
    ]
)
FETCHED = st.lists(st.one_of(st.text(max_size=20), DANGEROUS), max_size=8).map("".join)
ROW = (
    "| Method | Year | Paper | Code | Model Card |\n"
    "|---|---|---|---|---|\n"
    "| x | 2023 | `x [Link](https://arxiv.org/abs/2306.07629) | [Link](https://github.com/a/b) "
    "| [Link](https://huggingface.co/o/m) |\n"
)


def _fetched_entities(title: str, license_: str, description: str, hub: str) -> Entities:
    paper = build.paper("2306.07629", title)
    repository = build.repo(
        "a/b", 12_345, license_spdx=license_, description=description, homepage=description
    )
    data = HubMeta(hub_kind="model", id="o/m", title=hub, license=hub, downloads=7, likes=9)
    model = build.result(
        "hf_model:o/m", data, Status.STALE, source="huggingface", error=description
    )
    return build.by_id(paper, repository, model)


@settings(max_examples=150, deadline=None, database=None)
@given(title=FETCHED, license_=FETCHED, description=FETCHED, hub=FETCHED)
def test_fetched_text_never_changes_the_cell_count_nor_injects_html_or_links(
    title: str, license_: str, description: str, hub: str
) -> None:
    entities = _fetched_entities(title, license_, description, hub)
    document = parse(ROW, "p.md")
    records = resolve(document).records
    out = render_document(document, records, entities, select(list(COLUMNS)), ".")
    again = parse(out, "p.md", titles_of(document, entities))
    [table] = again.tables
    [row] = table.rows
    assert len(row.cells) == len(table.header.cells) == 5 + len(COLUMNS)
    assert table.generated == len(COLUMNS)
    assert "<" not in row.raw
    [before] = resolve(document).records
    [after] = resolve(again).records
    assert after.links == before.links
    assert after.cells == before.cells
    html_row = MD.render(out)
    assert html_row.count("<a ") == 3
    assert "<script" not in html_row
    assert "<img" not in html_row
    shown = dict(zip(table.header.values, row.values, strict=True))
    license_shown = inline_text(shown["License<!-- enrich -->"]).replace("\u2060", "")
    assert license_shown == one_line(license_, TITLE_LIMIT).replace("\u2060", "")
    assert inline_text(shown["Downloads<!-- enrich -->"]) == "7†"
    assert link_titles(shown["Paper"]) == {
        "https://arxiv.org/abs/2306.07629": one_line(title, TITLE_LIMIT) or None
    }
