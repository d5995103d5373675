"""`enrich.resolve`: links found in cells, classified, checked; rows given stable ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enrich.extract import extract_links
from enrich.ids import row_identity, slug
from enrich.models import Kind, Link, RowRecord, Severity
from enrich.parse import parse
from enrich.resolve import Resolved, resolve
from enrich.roles import column_role
from enrich.rows import record_name_cell

SEED = Path(__file__).parents[1] / "seeds" / "slm-survey.md"
HEADER = "| Method | Year | Paper | Code | Model Card |\n|---|---|---|---|---|\n"


def run(text: str, path: str = "x.md") -> Resolved:
    return resolve(parse(text, path))


def one_row(text: str) -> RowRecord:
    records = run(text).records
    assert len(records) == 1, records
    return records[0]


def links_of_cell(cell: str) -> list[Link]:
    return one_row(f"| Links |\n|---|\n| {cell} |\n").links


def diagnostics(text: str) -> list[tuple[str, str, int]]:
    return [(d.code, d.severity.value, d.line) for d in run(text).diagnostics]


# --------------------------------------------------------------------------- finding links


@pytest.mark.parametrize(
    ("cell", "urls"),
    [
        ("[Link](https://arxiv.org/abs/2306.07629)", ["https://arxiv.org/abs/2306.07629"]),
        ("<https://github.com/a/b>", ["https://github.com/a/b"]),
        ("see https://github.com/a/b.", ["https://github.com/a/b"]),
        ("see https://github.com/a/b, then", ["https://github.com/a/b"]),
        ("www.github.com/a/b", ["https://www.github.com/a/b"]),
        ('<a href="https://github.com/a/b">code</a>', ["https://github.com/a/b"]),
        ("<A HREF='https://github.com/a/b'>code</A>", ["https://github.com/a/b"]),
        (
            "[Paper](https://arxiv.org/abs/2508.03680) | [Code](https://github.com/microsoft/x)",
            ["https://arxiv.org/abs/2508.03680", "https://github.com/microsoft/x"],
        ),
        (
            "[Paper](https://arxiv.org/abs/2306.07629), [Blog](https://crfm.stanford.edu/x.html)",
            ["https://arxiv.org/abs/2306.07629", "https://crfm.stanford.edu/x.html"],
        ),
        ("[[pdf]](https://arxiv.org/pdf/2306.07629)", ["https://arxiv.org/pdf/2306.07629"]),
        ("[[Paper](https://arxiv.org/abs/2306.07629)]", ["https://arxiv.org/abs/2306.07629"]),
        ("**[Name](https://arxiv.org/abs/2306.07629)**", ["https://arxiv.org/abs/2306.07629"]),
        ("[x](https://arxiv.org/abs/2309.14717 )", ["https://arxiv.org/abs/2309.14717"]),
        ('[x](https://arxiv.org/abs/2306.07629 "title")', ["https://arxiv.org/abs/2306.07629"]),
        ("plain text, no link", []),
        ("", []),
    ],
)
def test_extract_links(cell: str, urls: list[str]) -> None:
    assert [found.url for found in extract_links(cell)] == urls


def test_link_text_is_the_visible_text() -> None:
    found = extract_links("[**Attention** is all](https://arxiv.org/abs/1706.03762)")
    assert [f.text for f in found] == ["Attention is all"]


def test_reference_link_defined_later_in_the_document() -> None:
    text = (
        HEADER
        + "| X | 2024 | [paper][ref] | [code][] |  |\n\n"
        + "[REF]: https://arxiv.org/abs/2306.07629\n"
        + "[code]: https://github.com/SqueezeAILab/SqueezeLLM\n"
    )
    row = one_row(text)
    assert [(link.column, link.id.ref, link.text) for link in row.links] == [
        ("Paper", "arxiv:2306.07629", "paper"),
        ("Code", "github_repo:squeezeailab/squeezellm", "code"),
    ]


def test_undefined_reference_is_not_a_link() -> None:
    assert links_of_cell("[paper][nowhere]") == []


def test_autolink() -> None:
    [link] = links_of_cell("<https://huggingface.co/google/flan-ul2>")
    assert (link.kind, link.key, link.text) == (
        Kind.HF_MODEL,
        "google/flan-ul2",
        "https://huggingface.co/google/flan-ul2",
    )


def test_bare_url() -> None:
    [link] = links_of_cell("code at https://github.com/mit-han-lab/llm-awq.")
    assert (link.url, link.kind, link.key) == (
        "https://github.com/mit-han-lab/llm-awq",
        Kind.GITHUB_REPO,
        "mit-han-lab/llm-awq",
    )


def test_html_anchor() -> None:
    cell = (
        '<a href="https://colab.research.google.com/drive/1?usp=sharing">'
        '<img src="img/colab.svg" alt="Open In Colab"></a>'
    )
    [link] = links_of_cell(cell)
    assert (link.kind, link.url) == (
        Kind.URL,
        "https://colab.research.google.com/drive/1?usp=sharing",
    )


def test_bare_url_as_the_text_of_an_html_anchor_is_not_a_second_link() -> None:
    """Regression: `_walk` took the text between `<a href=...>` and `</a>` for prose, so an
    anchor whose text is its URL gave the same link twice."""
    cell = '<a href="https://github.com/a/b">https://github.com/a/b</a> and https://github.com/c/d'
    assert [f.url for f in extract_links(cell)] == [
        "https://github.com/a/b",
        "https://github.com/c/d",
    ]


def test_html_anchor_href_entities_are_decoded() -> None:
    """Regression: the `href` attribute was used raw, so `&amp;` stayed in the URL and its key
    differed from the same URL written as a markdown link."""
    [found] = extract_links('<a href="https://x.org/p?a=1&amp;b=2">x</a>')
    assert found.url == "https://x.org/p?a=1&b=2"
    [markdown] = extract_links("[x](https://x.org/p?a=1&amp;b=2)")
    assert markdown.url == found.url


def test_badge_image_inside_a_link_gives_one_link() -> None:
    [link] = links_of_cell(
        "[![stars](https://img.shields.io/github/stars/a/b?style=social)](https://github.com/a/b)"
    )
    assert (link.kind, link.key, link.text) == (Kind.GITHUB_REPO, "a/b", "stars")


@pytest.mark.parametrize(
    "cell",
    [
        "![Star](https://img.shields.io/github/stars/a/b.svg?style=social)",
        '<img src="https://arxiv.org/html/2412.14468v1/extracted/6/sparseatt.png">',
        '<img width="522" alt="image" src="figures/sparsegpt.png">',
    ],
)
def test_images_alone_are_not_links(cell: str) -> None:
    assert links_of_cell(cell) == []
    assert run(f"| Links |\n|---|\n| {cell} |\n").diagnostics == ()


def test_star_badge_after_a_code_link() -> None:
    cell = "[[repo]](https://github.com/a/b) ![](https://img.shields.io/github/stars/a/b.svg)"
    assert [link.id.ref for link in links_of_cell(cell)] == ["github_repo:a/b"]


# --------------------------------------------------------------------------- link problems


@pytest.mark.parametrize("text", ["Code", "paper", "link"])
def test_empty_link_target(text: str) -> None:
    result = run(HEADER + f"| X | 2024 | [{text}]() |  |  |\n")
    assert result.records[0].links == []
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.severity, diagnostic.line) == (
        "empty-link",
        Severity.WARNING,
        3,
    )
    assert text in diagnostic.message
    assert "Paper" in diagnostic.message


@pytest.mark.parametrize(
    ("target", "code", "severity"),
    [
        ("data:text/html,x", "unsupported-scheme", Severity.ERROR),
        ("mailto:a@b.org", "unsupported-scheme", Severity.WARNING),
        ("ftp://ftp.x.org/p.pdf", "unsupported-scheme", Severity.WARNING),
        ("URL", "unparseable-link", Severity.WARNING),
        ("figures/x.png", "unparseable-link", Severity.WARNING),
        ("../#anchor", "unparseable-link", Severity.WARNING),
    ],
)
def test_unusable_link_targets(target: str, code: str, severity: Severity) -> None:
    result = run(f"| Paper |\n|---|\n| [x]({target}) |\n")
    assert [(d.code, d.severity) for d in result.diagnostics] == [(code, severity)]
    assert result.records[0].links == []


@pytest.mark.parametrize("target", ["http://", "https:///path", "http:/github.com/a/b"])
def test_http_link_without_a_host_is_unparseable_not_an_unsupported_scheme(target: str) -> None:
    """Regression: the code was chosen by looking for `:` before the first `/`, so `http://`
    (a supported scheme, but no host) was reported as `unsupported-scheme`."""
    result = run(f"| Paper |\n|---|\n| [x]({target}) |\n")
    assert [(d.code, d.severity) for d in result.diagnostics] == [
        ("unparseable-link", Severity.WARNING)
    ]
    assert "no host" in result.diagnostics[0].message


def test_awq_row_of_the_seed_has_both_links_misplaced() -> None:
    awq = (
        "| AWQ       | 2024     |       | [Link](https://arxiv.org/abs/2306.00978)     "
        "| [Link](https://github.com/mit-han-lab/llm-awq)           |\n"
    )
    result = run("#### Memory Efficiency Optimization\n" + HEADER + awq)
    [row] = result.records
    assert [(link.column, link.kind, link.key, link.misplaced) for link in row.links] == [
        ("Code", Kind.ARXIV, "2306.00978", True),
        ("Model Card", Kind.GITHUB_REPO, "mit-han-lab/llm-awq", True),
    ]
    found = [(d.code, d.severity, d.line) for d in result.diagnostics]
    assert found == [("misplaced-link", Severity.WARNING, 4)] * 2
    assert "Paper column" in result.diagnostics[0].hint
    assert "Code column" in result.diagnostics[1].hint
    assert row.id == "arxiv:2306.00978"


@pytest.mark.parametrize(
    ("column", "url", "misplaced"),
    [
        ("Paper", "https://arxiv.org/abs/2306.07629", False),
        ("Paper", "https://github.com/a/b", True),
        ("Code", "https://github.com/a/b", False),
        ("Code", "https://huggingface.co/a/b", True),  # BradyFU: HF models in Code
        ("Model Card", "https://huggingface.co/a/b", False),
        ("Model Card", "https://huggingface.co/papers/2402.14905", True),
        ("Paper", "https://huggingface.co/papers/2402.14905", False),
        ("Paper", "https://crfm.stanford.edu/2023/03/13/alpaca.html", False),
        ("Paper", "https://huggingface.co/blog/open-r1", False),  # a docs page fits anywhere
        ("Code", "https://huggingface.co/docs/peft/index", False),
        ("Model Card", "https://huggingface.co/transformers/model_doc/bert.html", False),
        ("Paper/Blog", "https://github.com/a/b", False),
        ("Title & Authors", "https://github.com/a/b", False),
        ("Model", "https://arxiv.org/abs/2306.07629", False),
        ("Links", "https://arxiv.org/abs/2306.07629", False),
    ],
)
def test_misplaced_depends_on_the_column_the_kind_on_the_url(
    column: str, url: str, misplaced: bool
) -> None:
    [link] = one_row(f"| {column} |\n|---|\n| [x]({url}) |\n").links
    assert link.misplaced is misplaced
    assert link.column == column


@pytest.mark.parametrize(
    ("column", "role"),
    [
        ("Paper", "paper"),
        ("  PAPER ", "paper"),
        ("Paper Link", "paper"),
        ("Code", "code"),
        ("Github", "code"),
        ("GitHub", "code"),
        ("Repo", "code"),
        ("Repository", "code"),
        ("Repository Link", "code"),
        ("**Code**", "code"),
        ("Source code", "code"),
        ("Model Card", "model"),
        ("HF Model", "model"),
        ("Checkpoints", "model"),
        ("Model", None),
        ("Paper/Blog", None),
        ("Title & Authors & Link", None),
        ("Notes", None),
    ],
)
def test_column_role(column: str, role: str | None) -> None:
    assert column_role(column) == role


@pytest.mark.parametrize(
    ("year", "flagged"),
    [
        ("2024", False),
        ("1999", False),
        ("", False),
        ("2024.4", False),
        ("2024.05", False),
        ("2023-10", False),
        ("2023-10-17", False),
        ("2024/09/16", False),
        ("03/2026", False),
        ("07/21/2026", False),
        ("May 2024", False),
        ("Sept. 2024", False),
        ("September 17, 2024", False),
        ("17 May 2024", False),
        ("2024 (ICML)", False),
        ("2023/03<!--13-->", False),
        ("TBD", False),
        ("-", False),
        ("24", True),
        ("2024–2025", True),
        ("2024.13", True),
        ("recently", True),
        ("ICML 2024", True),
    ],
)
def test_year_not_a_year(year: str, flagged: bool) -> None:
    found = diagnostics(f"| Method | Year |\n|---|---|\n| X | {year} |\n")
    assert found == ([("year-not-a-year", "warning", 3)] if flagged else [])


@pytest.mark.parametrize(
    "column", ["Date", "Time", "Published", "**Date**", "Release Date", "YEAR"]
)
@pytest.mark.parametrize(
    ("value", "flagged"), [("2024.05", False), ("May 2024", False), ("24", True)]
)
def test_every_date_column_is_checked(column: str, value: str, flagged: bool) -> None:
    found = diagnostics(f"| Method | {column} |\n|---|---|\n| X | {value} |\n")
    assert found == ([("year-not-a-year", "warning", 3)] if flagged else [])
    if flagged:
        assert (
            column
            in run(f"| Method | {column} |\n|---|---|\n| X | {value} |\n").diagnostics[0].message
        )


@pytest.mark.parametrize("column", ["Venue", "Title & Date", "Notes"])
def test_date_check_ignores_other_columns(column: str) -> None:
    assert diagnostics(f"| Method | {column} |\n|---|---|\n| X | 24 |\n") == []


# --------------------------------------------------------------------------- records


@pytest.mark.parametrize(
    ("url", "also"),
    [
        (
            "https://huggingface.co/papers/2305.14314",
            ["arxiv:2305.14314", "scholar:arxiv:2305.14314"],
        ),
        ("https://doi.org/10.5555/3666122.3666563", ["scholar:doi:10.5555/3666122.3666563"]),
        (
            "https://aclanthology.org/2023.findings-emnlp.1033/",
            ["scholar:acl:2023.findings-emnlp.1033"],
        ),
        ("https://github.com/artidoro/qlora", []),
        ("https://huggingface.co/timdettmers", []),
    ],
)
def test_paper_links_name_their_scholar_record(url: str, also: list[str]) -> None:
    [link] = one_row(f"| Paper |\n|---|\n| [Link]({url}) |\n").links
    assert link.also == also


def test_link_fields() -> None:
    [link] = one_row("| Paper |\n|---|\n| [Link](https://arxiv.org/abs/2306.17256v4) |\n").links
    assert link.model_dump() == {
        "url": "https://arxiv.org/abs/2306.17256v4",
        "text": "Link",
        "column": "Paper",
        "kind": Kind.ARXIV,
        "key": "2306.17256",
        "version": "v4",
        "subpath": None,
        "also": ["scholar:arxiv:2306.17256"],
        "misplaced": False,
    }


def test_hf_paper_link_also_names_the_arxiv_paper() -> None:
    [link] = links_of_cell("[Link](https://huggingface.co/papers/2402.14905)")
    assert (link.kind, link.key, link.also) == (
        Kind.HF_PAPER,
        "2402.14905",
        ["arxiv:2402.14905", "scholar:arxiv:2402.14905"],
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/abs/2306.07629",
        "https://github.com/a/b",
        "https://huggingface.co/a/b",
        "https://doi.org/10.1145/3649217.3653554",
    ],
)
def test_other_links_name_no_other_entity_but_a_scholar_record(url: str) -> None:
    also = links_of_cell(f"[x]({url})")[0].also
    assert [ref for ref in also if not ref.startswith("scholar:")] == []


def test_record_fields() -> None:
    text = (
        "# S\n\n## Sub\n\n"
        + HEADER
        + "| SqueezeLLM | 2023 | [Link](https://arxiv.org/abs/2306.07629) |  |  |\n"
    )
    row = one_row(text)
    assert (row.file, row.line, row.section, row.table) == ("x.md", 7, ["S", "Sub"], 0)
    assert row.cells == {
        "Method": "SqueezeLLM",
        "Year": "2023",
        "Paper": "[Link](https://arxiv.org/abs/2306.07629)",
        "Code": "",
        "Model Card": "",
    }


def test_cells_by_column_name_with_duplicate_header_names_made_unique() -> None:
    text = "| Notebook | Description | Notebook |\n|---|---|---|\n| A | B | C |\n"
    assert one_row(text).cells == {"Notebook": "A", "Description": "B", "Notebook 2": "C"}


def test_missing_cells_are_empty_and_extra_cells_are_kept() -> None:
    text = "| a | b | c |\n|---|---|---|\n| 1 |\n| 1 | 2 | 3 | 4 | 5 |\n"
    first, second = run(text).records
    assert first.cells == {"a": "1", "b": "", "c": ""}
    assert second.cells == {"a": "1", "b": "2", "c": "3", "(extra 1)": "4", "(extra 2)": "5"}


def test_links_in_an_extra_cell_are_found() -> None:
    text = "| a |\n|---|\n| x | [y](https://github.com/a/b) |\n"
    [link] = one_row(text).links
    assert (link.column, link.id.ref) == ("(extra 1)", "github_repo:a/b")


def test_empty_header_cell_gets_a_column_name() -> None:
    text = "|  | LLM |\n|:--|:-:|\n| Speed | ✅ |\n"
    assert one_row(text).cells == {"Column 1": "Speed", "LLM": "✅"}


def test_escaped_pipe_separates_two_links_in_one_cell() -> None:
    text = (
        "| Title | Links |\n|---|---|\n"
        "| Agent Lightning | [Paper](https://arxiv.org/abs/2508.03680) \\| "
        "[Code](https://github.com/microsoft/agent-lightning) |\n"
    )
    row = one_row(text)
    assert [link.id.ref for link in row.links] == [
        "arxiv:2508.03680",
        "github_repo:microsoft/agent-lightning",
    ]
    assert row.cells["Links"].count("|") == 1


def test_rows_of_every_table_are_records_in_order() -> None:
    text = "# A\n\n| x |\n|---|\n| 1 |\n| 2 |\n\n# B\n\n| y |\n|---|\n| 3 |\n"
    records = run(text).records
    assert [(r.table, r.line, r.section) for r in records] == [
        (0, 5, ["A"]),
        (0, 6, ["A"]),
        (1, 12, ["B"]),
    ]


# --------------------------------------------------------------------------- row ids


def row_ids(text: str) -> dict[str, str]:
    """Row id by the row's first cell."""
    return {r.cells[next(iter(r.cells))]: r.id for r in run(text).records}


@pytest.mark.parametrize(
    ("cells", "identity"),
    [
        (
            "| A | [p](https://arxiv.org/abs/2306.07629v2) | [c](https://github.com/a/b) |",
            "arxiv:2306.07629",
        ),
        ("| A | | [c](https://github.com/Owner/Repo) |", "github_repo:owner/repo"),
        ("| A | [p](https://huggingface.co/papers/2402.14905) | |", "arxiv:2402.14905"),
        ("| A | [p](https://doi.org/10.1145/3649217.3653554) | |", "doi:10.1145/3649217.3653554"),
        ("| A | | [m](https://huggingface.co/a/b) |", "hf_model:a/b"),
        (
            "| A | [b](https://crfm.stanford.edu/x.html) | [c](https://github.com/a/b) |",
            "github_repo:a/b",
        ),
        ("| A | [b](https://crfm.stanford.edu/x.html) | |", "url:https://crfm.stanford.edu/x.html"),
        (
            "| A | [b](https://huggingface.co/blog/x) | [d](https://huggingface.co/datasets/a/b) |",
            "hf_dataset:a/b",  # a documentation page is not what the row is
        ),
        ("| A | [b](https://huggingface.co/docs/peft) | |", "hf_docs:peft"),
        ("| Stable Beluga 7B | | |", "row:stable-beluga-7b"),
        ("| | | |", "row:empty"),
    ],
)
def test_row_identity(cells: str, identity: str) -> None:
    assert one_row(f"| Name | Paper | Code |\n|---|---|---|\n{cells}\n").id == identity


def test_row_without_links_is_named_by_the_slug_of_its_first_cell() -> None:
    text = "| Method | Year |\n|---|---|\n| LLaMa-2-7B as an Encoder | 2024 |\n"
    assert one_row(text).id == "row:llama-2-7b-as-an-encoder"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", "hello-world"),
        ("  β-DPO 🔥 ", "dpo"),
        ("a" * 80, "a" * 60),
        ("***", ""),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_row_identity_falls_back_to_the_first_non_empty_cell() -> None:
    assert row_identity([], {"a": "", "b": "Second"}) == "row:second"


ROW_X = "| X | [p](https://arxiv.org/abs/2306.07629) |\n"
ROW_Y = "| Y | [p](https://arxiv.org/abs/2402.14905) |\n"
ROW_Z = "| Z | |\n"
TWO = "| Name | Paper |\n|---|---|\n"


def test_row_id_survives_reordering() -> None:
    before = row_ids("## S\n\n" + TWO + ROW_X + ROW_Y + ROW_Z)
    after = row_ids("## S\n\n" + TWO + ROW_Z + ROW_Y + ROW_X)
    assert before == after
    assert before == {"X": "arxiv:2306.07629", "Y": "arxiv:2402.14905", "Z": "row:z"}


def test_row_id_survives_a_move_to_another_table_in_the_same_section() -> None:
    before = row_ids("## S\n\n" + TWO + ROW_X + ROW_Y + "\ntext\n\n" + TWO + ROW_Z)
    after = row_ids("## S\n\n" + TWO + ROW_Y + "\ntext\n\n" + TWO + ROW_Z + ROW_X)
    assert before == after


def test_row_id_survives_edits_of_other_cells() -> None:
    head = "| Name | Paper | Year |\n|---|---|---|\n"
    before = row_ids(head + "| X | [p](https://arxiv.org/abs/2306.07629) | 2023 |\n")
    after = row_ids(head + "| X2 | [Paper](https://arxiv.org/pdf/2306.07629v3.pdf) | 2024 |\n")
    assert list(before.values()) == list(after.values()) == ["arxiv:2306.07629"]


def test_same_entity_in_two_sections() -> None:
    text = (
        "## Training from scratch\n\n" + TWO + ROW_X + ROW_Y + "\n"
        "## Memory Efficiency Optimization\n\n" + TWO + ROW_X
    )
    result = run(text)
    first, _, second = result.records
    assert first.id != second.id
    assert first.id.startswith("arxiv:2306.07629")
    assert second.id.startswith("arxiv:2306.07629")
    assert (first.id, second.id) == (
        "arxiv:2306.07629@training-from-scratch",
        "arxiv:2306.07629@memory-efficiency-optimization",
    )
    [duplicate] = result.diagnostics
    assert (duplicate.code, duplicate.severity, duplicate.line) == (
        "duplicate-entity",
        Severity.INFO,
        second.line,
    )
    assert f"x.md:{first.line}" in duplicate.message
    assert "arxiv:2306.07629" in duplicate.message


def test_same_entity_twice_in_one_section_gets_a_counter() -> None:
    ids = [r.id for r in run("## S\n\n" + TWO + ROW_X + ROW_X + ROW_X).records]
    assert ids == ["arxiv:2306.07629@s", "arxiv:2306.07629@s~2", "arxiv:2306.07629@s~3"]
    assert len(set(ids)) == 3


def test_duplicate_through_a_hub_paper_page() -> None:
    text = TWO + ROW_X + "| X again | [p](https://huggingface.co/papers/2306.07629) |\n"
    result = run(text)
    assert [d.code for d in result.diagnostics] == ["duplicate-entity"]
    assert result.diagnostics[0].line == 4
    assert len({r.id for r in result.records}) == 2


def test_ids_are_unique_without_headings() -> None:
    ids = [r.id for r in run(TWO + ROW_X + ROW_X).records]
    assert ids == ["arxiv:2306.07629@top", "arxiv:2306.07629@top~2"]


# --------------------------------------------------------------------------- the seed


@pytest.fixture(scope="module")
def seed() -> Resolved:
    return resolve(parse(SEED.read_text(encoding="utf-8"), "seeds/slm-survey.md"))


def test_seed_counts(seed: Resolved) -> None:
    links = [link for record in seed.records for link in record.links]
    assert len(seed.records) == 75
    assert len(links) == 122


def test_seed_every_link_has_a_kind_and_only_two_hosts_are_generic(seed: Resolved) -> None:
    links = [link for record in seed.records for link in record.links]
    assert all(isinstance(link.kind, Kind) for link in links)
    generic = {link.url.split("/")[2] for link in links if link.kind is Kind.URL}
    assert generic == {"crfm.stanford.edu", "anonymous.4open.science"}


def test_seed_unique_papers_and_repositories(seed: Resolved) -> None:
    links = [link for record in seed.records for link in record.links]
    arxiv = {link.key for link in links if link.kind is Kind.ARXIV}
    arxiv |= {
        ref.removeprefix("arxiv:")
        for link in links
        for ref in link.also
        if ref.startswith("arxiv:")
    }
    repos = {link.key for link in links if link.kind is Kind.GITHUB_REPO}
    assert len(arxiv) == 60
    assert len(repos) == 28


def test_seed_ids_are_unique(seed: Resolved) -> None:
    ids = [record.id for record in seed.records]
    assert len(ids) == len(set(ids))


def test_seed_diagnostics(seed: Resolved) -> None:
    found = {(d.code, d.line) for d in seed.diagnostics}
    assert ("misplaced-link", 169) in found  # AWQ
    assert ("duplicate-entity", 171) in found  # MobileLLM again
    assert ("duplicate-entity", 181) in found  # EdgeMoE again
    assert not any(d.severity is Severity.ERROR for d in seed.diagnostics)
    assert {d.code for d in seed.diagnostics} == {"misplaced-link", "duplicate-entity"}


def test_seed_awq_row(seed: Resolved) -> None:
    [awq] = [r for r in seed.records if r.cells["Method"] == "AWQ"]
    assert awq.line == 169
    assert [(link.kind, link.misplaced) for link in awq.links] == [
        (Kind.ARXIV, True),
        (Kind.GITHUB_REPO, True),
    ]


@pytest.mark.parametrize(
    ("table", "name"),
    [
        ("| Year | Method | Paper |\n|---|---|---|\n| 2024 | [**X**](u) | p |\n", "[**X**](u)"),
        ("| Year | Model | Paper |\n|---|---|---|\n| 2024 |  | p |\n", ""),
        ("| Year | Paper |\n|---|---|\n| 2024 | p |\n", "2024"),
        ("| Zeta | Alpha |\n|---|---|\n|  | a |\n", "a"),
    ],
)
def test_the_name_cell_survives_the_json_round_trip(table: str, name: str) -> None:
    """`enriched.json` sorts cells by column name; `columns` keeps the table's order."""
    record = one_row(table)
    again = RowRecord.model_validate_json(
        json.dumps(record.model_dump(mode="json"), sort_keys=True)
    )
    assert list(again.cells) == sorted(record.cells)
    assert record_name_cell(record) == record_name_cell(again) == name


# --------------------------------------------------------------------------- bare URLs (GFM)


@pytest.mark.parametrize(
    ("cell", "urls"),
    [
        ("(https://arxiv.org/abs/2301.00002)", ["https://arxiv.org/abs/2301.00002"]),
        ("paper (https://arxiv.org/abs/2301.00002).", ["https://arxiv.org/abs/2301.00002"]),
        ("see https://en.wikipedia.org/wiki/A_(b)", ["https://en.wikipedia.org/wiki/A_(b)"]),
        ("(see https://en.wikipedia.org/wiki/A_(b))", ["https://en.wikipedia.org/wiki/A_(b)"]),
        ("*https://github.com/a/b*", ["https://github.com/a/b"]),
        ("~www.github.com/a/b~", ["https://www.github.com/a/b"]),
        ("https://github.com/a/b?!", ["https://github.com/a/b"]),
        ("https://x.org/a&hl; then", ["https://x.org/a"]),
        ("https://x.org/a; then", ["https://x.org/a"]),
        ("[see https://x.org/a]", ["https://x.org/a"]),
        ("[https://x.org/a] b", ["https://x.org/a"]),
        ("'https://x.org/q'", []),  # GitHub links a bare URL only after a space, *, _, ~ or (
        ("code:https://github.com/a/b", []),
        ("xhttps://github.com/a/b", []),
        ("https:// and www. alone", []),
    ],
)
def test_bare_urls_are_found_as_github_renders_them(cell: str, urls: list[str]) -> None:
    assert [found.url for found in extract_links(cell)] == urls


def test_a_bare_url_in_parentheses_is_a_link_of_its_kind() -> None:
    [link] = one_row(
        "| Method | Paper |\n|---|---|\n| X | (https://arxiv.org/abs/2301.00002) |\n"
    ).links
    assert (link.kind, link.key, link.text) == (
        Kind.ARXIV,
        "2301.00002",
        "https://arxiv.org/abs/2301.00002",
    )


# --------------------------------------------------------------------------- typed links


@pytest.mark.parametrize(
    ("url", "kind", "key"),
    [
        ("https://arxiv.org/abs//2306.08707", Kind.ARXIV, "2306.08707"),
        ("https://arxiv.org//pdf//2306.08707v2", Kind.ARXIV, "2306.08707"),
        ("https://github.com//org//repo", Kind.GITHUB_REPO, "org/repo"),
        ("https://huggingface.co/datasets/squad/viewer", Kind.HF_DATASET, "squad"),
        (
            "https://huggingface.co/datasets/org/name/viewer/default/train",
            Kind.HF_DATASET,
            "org/name",
        ),
        ("https://github.com/user-attachments/assets/0f4a-9b", Kind.URL, None),
        ("https://huggingface.co/transformers/model_doc/bert.html", Kind.HF_DOCS, None),
        ("https://huggingface.co/blog/smollm", Kind.HF_DOCS, None),
    ],
)
def test_a_cell_link_is_typed_by_what_it_is(url: str, kind: Kind, key: str | None) -> None:
    [link] = links_of_cell(f"[x]({url})")
    assert link.kind is kind
    if key is not None:
        assert link.key == key
    assert run(f"| Links |\n|---|\n| [x]({url}) |\n").diagnostics == ()


@pytest.mark.parametrize(
    ("url", "bad"),
    [
        ("https://arxiv.org/abs/203.05527", "203.05527"),
        ("https://arxiv.org/pdf/2306.0870.pdf", None),  # a valid 4-digit id
        ("https://arxiv.org/pdf/23060.08707", "23060.08707"),
        ("https://arxiv.org/abs/2306", "2306"),
        ("http://www.arxiv.org/html/abc", "abc"),
    ],
)
def test_a_malformed_arxiv_id_is_a_warning_with_its_line(url: str, bad: str | None) -> None:
    text = "# T\n\n| Method | Paper |\n|---|---|\n| A | [p](https://arxiv.org/abs/2306.00001) |\n"
    result = run(text + f"| X | [p]({url}) |\n")
    if bad is None:
        assert result.diagnostics == ()
        return
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.severity, diagnostic.line) == (
        "malformed-id",
        Severity.WARNING,
        6,
    )
    assert f"malformed arXiv id '{bad}'" in diagnostic.message
    assert [link.kind for link in result.records[1].links] == [Kind.URL]  # kept, not fetched


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/org/repo/blob/main/paper.pdf",
        "https://github.com/Org/Repo/raw/v1/docs/Report.PDF",
        "https://huggingface.co/org/model/blob/main/tech-report.pdf",
    ],
)
def test_a_paper_pdf_in_a_repository_fits_the_paper_column(url: str) -> None:
    result = run(f"| Method | Paper | Code |\n|---|---|---|\n| X | [pdf]({url}) | |\n")
    [link] = result.records[0].links
    assert not link.misplaced
    assert link.kind in (Kind.GITHUB_REPO, Kind.HF_MODEL)  # the repository is still enriched
    assert result.diagnostics == ()


@pytest.mark.parametrize(
    ("column", "url"),
    [
        ("Paper", "https://github.com/org/repo/blob/main/README.md"),
        ("Paper", "https://github.com/org/repo"),
        ("Model Card", "https://github.com/org/repo/blob/main/paper.pdf"),
    ],
)
def test_other_repository_links_stay_misplaced(column: str, url: str) -> None:
    [link] = one_row(f"| {column} |\n|---|\n| [x]({url}) |\n").links
    assert link.misplaced


@pytest.mark.parametrize("anchor", ["#links", "./#links", "#", "./#a-b_c"])
def test_an_in_page_anchor_is_no_link_and_no_problem(anchor: str) -> None:
    result = run(f"| Method | Links |\n|---|---|\n| X | [a]({anchor}) |\n")
    assert result.records[0].links == []
    assert result.diagnostics == ()
    assert result.records[0].cells["Links"] == f"[a]({anchor})"  # left as written


def test_a_malformed_link_is_reported_on_every_line_it_is_on() -> None:
    row = "| X | [p](https://arxiv.org/abs/203.05527) |\n"
    result = run("| Method | Paper |\n|---|---|\n" + row + row + row)
    assert [(d.code, d.line) for d in result.diagnostics if d.code != "duplicate-entity"] == [
        ("malformed-id", 3),
        ("malformed-id", 4),
        ("malformed-id", 5),
    ]
