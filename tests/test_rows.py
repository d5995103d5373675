"""`enrich.rows`: one rule for a row's name and one for the headings every row shares, the
same wherever they are used (resolve's ids, suggestions, report, page, timeline)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from enrich.columns import Facts
from enrich.metadata import TaggedModel
from enrich.models import Dataset, Kind, Result, RowRecord
from enrich.page import _Sections
from enrich.parse import parse
from enrich.resolve import resolve
from enrich.rows import (
    name_cell,
    name_or_id,
    record_name_cell,
    row_records,
    section_label,
    shared_headings,
)
from enrich.suggest import row_suggestions
from enrich.timeline import groups
from enrich.timeline import row_name as timeline_name
from tests.builders import hub, ident


def rows_of(text: str) -> tuple[RowRecord, ...]:
    return resolve(parse(text, "x.md")).records


def read_back(record: RowRecord) -> RowRecord:
    """`record` as `enriched.json` gives it back: cells sorted by column name."""
    data = json.dumps(record.model_dump(mode="json"), sort_keys=True)
    return RowRecord.model_validate_json(data)


@pytest.mark.parametrize(
    ("cells", "columns", "name"),
    [
        ({"Code": "[Link](u)", "Method": "TinyLlama"}, ("Method", "Code"), "TinyLlama"),
        ({"A": "", "Title": "T", "Name": "N"}, ("A", "Title", "Name"), "N"),  # Name before Title
        ({"method": "m", "Method": "M"}, ("method", "Method"), "m"),  # the first of a name
        ({"Year": "2024", "Model": " "}, ("Year", "Model"), ""),  # its name cell is empty
        ({"Zeta": "", "Alpha": "a"}, ("Zeta", "Alpha"), "a"),  # no name column: first cell
        ({"Alpha": "a", "Zeta": "z"}, (), "a"),  # no order given: the cells' order
    ],
)
def test_name_cell(cells: dict[str, str], columns: tuple[str, ...], name: str) -> None:
    assert name_cell(cells, columns) == name


@pytest.mark.parametrize(
    ("method", "shown"),
    [
        ("TinyLlama", "TinyLlama"),
        ("**TinyLlama**", "TinyLlama"),
        ("[TinyLlama](https://x.org/t)", "TinyLlama"),
        ("", "arxiv:2401.02385"),  # no name: the id stands in
    ],
)
def test_every_consumer_names_a_row_read_back_from_json_alike(method: str, shown: str) -> None:
    """Regression: `Suggestion.name` took the first non-empty cell in `cells` order, which a
    record read back from `enriched.json` has sorted: `[Link](…)` of the Code cell, where
    the name cell says `TinyLlama`."""
    text = (
        "| Method | Paper | Code | Model Card |\n|---|---|---|---|\n"
        f"| {method} | [p](https://arxiv.org/abs/2401.02385) "
        "| [Link](https://github.com/jzhang38/TinyLlama) |  |\n"
    )
    [record] = rows_of(text)
    again = read_back(record)
    assert next(iter(again.cells)) == "Code"  # sorted: the Code cell comes first
    page = {ident("hf_paper_models:2401.02385"): _tagged_models()}
    for one in (record, again):
        assert name_or_id(one) == shown
        assert record_name_cell(one) == method
        [suggestion, *_] = row_suggestions(one, page)
        assert suggestion.name == shown
        assert timeline_name(one, Facts({})) == shown


def _tagged_models() -> Result:
    return hub(f"{Kind.HF_PAPER_MODELS.value}:2401.02385", models=[TaggedModel(id="a/b")])


def test_a_row_without_links_is_identified_by_its_name_cell() -> None:
    """The id of a row without links is the slug of the same cell that names it, not of
    its first cell (a date, a number)."""
    text = "| # | Date | Method |\n|---|---|---|\n| 1 | 2024-05 | Stable Beluga 7B |\n"
    [record] = rows_of(text)
    assert record.id == "row:stable-beluga-7b"
    assert name_or_id(record) == "Stable Beluga 7B"


# --------------------------------------------------------------------------- sections


@pytest.mark.parametrize(
    ("paths", "shared"),
    [
        ([], 0),
        ([("T", "A"), ("T", "B")], 1),
        ([("T", "A"), ("T", "A")], 1),  # one section: its heading is kept
        ([("T", "P", "A"), ("T", "P", "B"), ("T", "P")], 1),
        ([("T",), ("T", "A")], 0),
        ([("T", "A"), ("U", "A")], 0),
        ([(), ("T",)], 0),
    ],
)
def test_shared_headings(paths: list[tuple[str, ...]], shared: int) -> None:
    assert shared_headings(paths) == shared
    for path in paths:
        if path:
            assert section_label(path, shared)  # every row keeps a section


@pytest.mark.parametrize(
    "headings",
    [
        "# T\n\n## A\n\n{t}\n## B\n\n{t}",
        "# T\n\n## P\n\n### A\n\n{t}\n### B\n\n{t}",
        "# T\n\n{t}\n## A\n\n{t}",
        "## A\n\n{t}\n## B\n\n{t}\n## A\n\n{t}",
        "{t}\n# A\n\n{t}",
    ],
)
def test_the_page_and_the_timeline_cut_sections_alike(headings: str) -> None:
    """Regression: the page dropped the shared headings keeping one of each row's, the
    timeline dropped every shared heading: a run's sections had two sets of labels."""
    table = "| Name | Paper |\n|---|---|\n| X | [p](https://arxiv.org/abs/2401.02385) |\n"
    records = list(rows_of(headings.format(t=table)))
    page = _Sections(records)
    timeline = groups(records)
    for record in records:
        group = timeline.names[timeline.of[tuple(record.section)]]
        if not record.section:  # no heading: no filter choice, no named group
            assert (page.of(record), group) == ([], "(no section)")
            continue
        first = page.labels[page.of(record)[0]]  # the top choice of the row's filter
        assert first.split(" › ")[0] == group


def test_the_same_dataset_gives_the_same_section_labels_read_back() -> None:
    text = "# T\n\n## A\n\n| Name |\n|---|\n| X |\n\n## B\n\n| Name |\n|---|\n| Y |\n"
    records = list(rows_of(text))
    again = Dataset.model_validate_json(
        Dataset(seeds=["x.md"], records=records, diagnostics=[]).model_dump_json()
    )
    assert _Sections(records).labels == _Sections(again.records).labels == ["A", "B"]


@pytest.mark.parametrize("placeholder", ["N/A", "-", "[Coming soon]()", "TBD"])
def test_suggest_apply_replaces_a_placeholder(placeholder: str) -> None:
    from enrich.suggest import Suggestion, fill

    text = (
        "| Method | Paper | Code |\n|---|---|---|\n"
        f"| X | [Link](https://arxiv.org/abs/2401.02385) | {placeholder} |\n"
    )
    document = parse(text, "x.md")
    [record] = resolve(document).records
    url = "https://github.com/jzhang38/TinyLlama"
    chosen = Suggestion("x.md", 3, record.id, "X", "Code", url, "why")
    done = fill(document, [record], [chosen])
    assert done.applied == (chosen,)
    assert (
        done.text.splitlines()[2]
        == f"| X | [Link](https://arxiv.org/abs/2401.02385) | [Link]({url}) |"
    )


# ------------------------------------------------------------------------------- place

PLACED = (
    "# L\n\n| Method | Code |\n|---|---|\n| A | |\n| B | |\n\n"
    "- item\n\n  > | Method | Code |\n  > |---|---|\n  > | C | |\n\ntext\n\n"
    "| Method | Code |\n|---|---|\n| D | |\n"
)


@pytest.mark.parametrize(
    ("text", "places"),
    [
        (PLACED, [(0, 0), (0, 1), (1, 0), (2, 0)]),
        ("| Method |\n|---|\n| A |\n| B |\n| C |\n", [(0, 0), (0, 1), (0, 2)]),
        ("no table\n", []),
    ],
)
def test_a_rows_record_is_found_by_its_place_not_its_line(
    text: str, places: list[tuple[int, int]]
) -> None:
    document = parse(text, "x.md")
    records = resolve(document).records
    # lines that say nothing (as a record read back from an older run may carry)
    moved = [r.model_copy(update={"line": 1}) for r in records]
    found = row_records(document, moved)
    assert list(found) == places
    assert [found[p].id for p in places] == [r.id for r in records]
    assert row_records(document, ()) == {}


@pytest.mark.parametrize(
    "change",
    [
        lambda rs: rs[:-1],  # too few
        lambda rs: [*rs, rs[0]],  # too many
        lambda rs: [rs[0].model_copy(update={"file": "y.md"}), *rs[1:]],  # another file's
        lambda rs: [rs[0].model_copy(update={"table": 1}), *rs[1:]],  # another table's
    ],
)
def test_records_that_are_not_the_documents_rows_are_refused(
    change: Callable[[list[RowRecord]], list[RowRecord]],
) -> None:
    document = parse(PLACED, "x.md")
    with pytest.raises(ValueError, match=r"x\.md: these records are not those of its table rows"):
        row_records(document, change(list(resolve(document).records)))


@pytest.mark.parametrize("line", [1, 3, 1000])
def test_render_and_fill_find_rows_by_place_whatever_the_records_lines(line: int) -> None:
    from enrich.columns import select
    from enrich.render import render_document
    from enrich.suggest import Suggestion, fill

    document = parse(PLACED, "x.md")
    records = resolve(document).records
    moved = [r.model_copy(update={"line": line}) for r in records]
    columns = select(["stars"])
    rendered = render_document(document, moved, {}, columns)
    assert rendered == render_document(document, records, {}, columns)
    assert rendered != render_document(document, (), {}, columns)  # the records were used
    url = "https://github.com/a/b"
    chosen = [Suggestion("x.md", 0, r.id, r.cells["Method"], "Code", url, "") for r in records]
    done = fill(document, moved, chosen)
    assert done.applied == tuple(chosen)
    assert done.text == (
        PLACED.replace("| A | |", f"| A | [Link]({url}) |")
        .replace("| B | |", f"| B | [Link]({url}) |")
        .replace("| C | |", f"| C | [Link]({url}) |")
        .replace("| D | |", f"| D | [Link]({url}) |")
    )
