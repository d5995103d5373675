"""`enrich.roles`: placeholder cells, date columns and the year they say."""

from __future__ import annotations

import json

import pytest

from enrich.models import RowRecord
from tests import builders as build
from tests.test_resolve import one_row, run

# --------------------------------------------------------------------------- placeholders


@pytest.mark.parametrize(
    "cell",
    ["[Coming soon]()", "-", "–", "—", "N/A", "n/a", "TBD", "No", "**TBD**", "[TBA]( )", "❌"],
)
def test_a_placeholder_is_an_empty_cell(cell: str) -> None:
    from enrich.gaps import gap

    text = (
        "| Method | Year | Paper | Code | Model Card |\n|---|---|---|---|---|\n"
        f"| X | {cell} | [p](https://arxiv.org/abs/2306.00001) | {cell} | {cell} |\n"
    )
    result = run(text)
    assert result.diagnostics == ()
    [record] = result.records
    assert [link.column for link in record.links] == ["Paper"]
    found = gap(record)
    assert found is not None
    assert (found.code, found.model) == ("Code", "Model Card")


@pytest.mark.parametrize("cell", ["No code", "X", "[Code]()", "0"])
def test_a_cell_with_words_is_not_a_placeholder(cell: str) -> None:
    from enrich.gaps import gap

    text = (
        "| Method | Paper | Code |\n|---|---|---|\n"
        f"| X | [p](https://arxiv.org/abs/2306.00001) | {cell} |\n"
    )
    assert gap(one_row(text)) is None


# --------------------------------------------------------------------------- the year check


@pytest.mark.parametrize(
    ("cells", "said"),
    [
        ({"Method": "X", "Year": "2024"}, ("Year", "2024", 2024)),
        ({"Method": "X", "Date": "2024.05"}, ("Date", "2024.05", 2024)),
        ({"Method": "X", "Time": "2023-10-17"}, ("Time", "2023-10-17", 2023)),
        ({"Method": "X", "Published": "May 2024"}, ("Published", "May 2024", 2024)),
        ({"Method": "X", "Release Date": "2023/06<!--18-->"}, ("Release Date", "2023/06", 2023)),
        ({"Method": "X", "Date": "05/19/2023"}, ("Date", "05/19/2023", 2023)),
        ({"Method": "X", "Year": "-", "Date": "2022.11"}, ("Date", "2022.11", 2022)),
        ({"Method": "X", "Year": "2024–2025"}, None),
        ({"Method": "X", "Venue": "ICML 2024"}, None),
    ],
)
def test_row_year_reads_the_first_date_column_with_a_date(
    cells: dict[str, str], said: tuple[str, str, int] | None
) -> None:
    from enrich.roles import row_year

    record = build.record(id="x", file="x.md", cells=cells)
    assert row_year(record) == said
    again = read_back(record.model_copy(update={"columns": list(cells)}))
    assert row_year(again) == said


def read_back(record: RowRecord) -> RowRecord:
    return RowRecord.model_validate_json(json.dumps(record.model_dump(mode="json"), sort_keys=True))


@pytest.mark.parametrize(
    ("column", "value", "flagged"),
    [
        ("Year", "2024", True),
        ("Date", "2024.05", True),
        ("Time", "2024-05", True),
        ("Published", "May 2024", True),
        ("Date", "2023.05", False),
        ("Date", "May 2023", False),
        ("Venue", "2024", False),
    ],
)
def test_the_report_checks_the_year_of_any_date_column(
    column: str, value: str, flagged: bool
) -> None:
    """DPO (arXiv 2305.18290, first published 2023-05) is listed as 2024 in the seed."""
    from enrich.report import problems
    from tests.test_render import fixture

    dataset = fixture()[1]
    [dpo] = [r for r in dataset.records if r.line == 79]
    cells = {
        (column if c == "Year" else c): (value if c == "Year" else v) for c, v in dpo.cells.items()
    }
    edited = dpo.model_copy(update={"cells": cells, "columns": list(cells)})
    records = [edited if r is dpo else r for r in dataset.records]
    found = [
        p
        for p in problems(dataset.model_copy(update={"records": records}))
        if (p.code, p.line) == ("year-mismatch", 79)
    ]
    assert [p.message.split(", but")[0] for p in found] == (
        [f"{column} cell says {value}"] if flagged else []
    )


@pytest.mark.parametrize(
    ("column", "flagged"),
    [("Model Card", True), ("HF Model", True), ("Checkpoints", True), ("Model", False)],
)
def test_not_a_model_is_reported_in_the_model_card_columns_gaps_fill(
    column: str, flagged: bool
) -> None:
    """One rule for which column is the Model Card column: `roles.column_role`. (`Model`
    names the row; a link there is not a model card.)"""
    from enrich.columns import Facts
    from enrich.report import problems

    text = (
        f"| Method | Paper | {column} |\n|---|---|---|\n"
        "| X | [p](https://arxiv.org/abs/2401.00001) | [d](https://huggingface.co/docs/peft) |\n"
    )
    dataset = build.dataset(run(text).records, seeds=("x.md",))
    codes = [p.code for p in problems(dataset, Facts({}))]
    assert codes.count("not-a-model") == (1 if flagged else 0)
