"""The generated columns: what each shows for a row, humanised numbers, stale marks, selection."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.columns import (
    COLUMNS,
    STALE_MARK,
    Facts,
    Roles,
    RowFacts,
    humanise,
    row_facts,
    select,
)
from enrich.config import Settings
from enrich.errors import InputError
from enrich.metadata import PageMeta, PaperMeta, RepoMeta
from enrich.models import Entities, Kind, RowRecord, Status
from tests.builders import ident, link, record, repo, result

MOMENT = datetime(2023, 5, 29, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (None, ""),
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1_000, "1k"),
        (1_049, "1k"),
        (1_234, "1.2k"),
        (12_345, "12.3k"),
        (999_949, "999.9k"),
        (1_234_567, "1.2M"),
        (3_400_000_000, "3.4B"),
        (-1_500, "-1.5k"),
    ],
)
def test_humanise(number: int | None, text: str) -> None:
    assert humanise(number) == text


@pytest.mark.parametrize(
    ("number", "text"),
    [(999_950, "1M"), (999_999, "1M"), (999_950_000, "1B"), (-999_999, "-1M")],
)
def test_humanise_rounding_up_to_the_next_unit(number: int, text: str) -> None:
    """Regression: a number that rounds up to 1000 of its unit showed as `1000k` (999,950)
    or `1000M`, not as one of the next unit."""
    assert humanise(number) == text


@settings(max_examples=300, database=None)
@given(st.integers(min_value=0, max_value=10**13))
def test_humanised_numbers_are_short_and_close(number: int) -> None:
    text = humanise(number)
    match = re.fullmatch(r"(\d{1,3}(?:\.\d)?)([kMB]?)", text) or re.fullmatch(
        r"(\d+(?:\.\d)?)(B)", text
    )
    assert match, text
    value = float(match[1]) * {"": 1, "k": 1e3, "M": 1e6, "B": 1e9}[match[2]]
    assert abs(value - number) <= max(0.05 * number, 0.5)
    assert not text.endswith(".0")


# ------------------------------------------------------------------------------ selection


def test_select_keeps_the_order_and_overrides_headers() -> None:
    columns = select(["published", "stars"], {"stars": "★", "unused": "x"})
    assert [(c.name, c.header, c.align) for c in columns] == [
        ("published", "Published", ":---:"),
        ("stars", "★", "---:"),
    ]


def test_default_columns_are_stars_downloads_and_published() -> None:
    assert [c.header for c in select(Settings().columns)] == ["Stars", "Downloads", "Published"]


def test_unknown_columns_are_named_with_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        select(["stars", "forks", "Stars"])
    message = str(caught.value)
    assert "forks, Stars" in message
    assert "known: " + ", ".join(COLUMNS) in message


# ------------------------------------------------------------------------------ values


PAPER = PaperMeta(
    arxiv_id="2305.18290",
    title="DPO",
    authors=[],
    abstract="",
    published=MOMENT,
    updated=MOMENT,
).model_dump()
ARXIV = link(
    "https://arxiv.org/abs/2305.18290", Kind.ARXIV, "2305.18290", also=["scholar:arxiv:2305.18290"]
)
DOI = link(
    "https://doi.org/10.5555/3666122.3666563",
    Kind.DOI,
    "10.5555/3666122.3666563",
    also=["scholar:doi:10.5555/3666122.3666563"],
)
SCHOLAR = {"type": "scholar", "paper_id": "p", "citations": 12_345, "arxiv_id": "2305.18290"}
REPO = link("https://github.com/a/b", Kind.GITHUB_REPO, "a/b")
MODEL = link("https://huggingface.co/o/m", Kind.HF_MODEL, "o/m")


BLANK_TRENDS = dict.fromkeys(("stars_trend", "downloads_trend", "citations_trend", "status"), "")


def values(row: RowRecord, entities: Entities, keys: tuple[str, ...] = ()) -> dict[str, str]:
    """Every column's cell for `row`, whose papers have the `references.bib` `keys`."""
    facts = Facts(entities, {row.id: keys}).of(row)
    return {name: column.value(facts) for name, column in COLUMNS.items()}


def test_each_column_shows_its_fact() -> None:
    entities = {
        ident("arxiv:2305.18290"): result("arxiv:2305.18290", PAPER),
        ident("github_repo:a/b"): repo("a/b", 12_345, license_spdx="Apache-2.0", pushed_at=MOMENT),
        ident("hf_model:o/m"): result(
            "hf_model:o/m",
            {"type": "hub", "hub_kind": "model", "id": "o/m", "downloads": 2_500_000, "likes": 42},
        ),
        ident("scholar:arxiv:2305.18290"): result("scholar:arxiv:2305.18290", SCHOLAR),
    }
    assert values(record(ARXIV, REPO, MODEL), entities, ("rafailov2023direct",)) == {
        "stars": "12.3k",
        "downloads": "2.5M",
        "published": "2023-05",
        "citations": "12.3k",
        "likes": "42",
        "license": "Apache-2.0",
        "pushed": "2023-05-29",
        "bib": "rafailov2023direct",
        **BLANK_TRENDS,  # without a history (`Facts(..., trends)`: tests/test_trends.py)
    }
    two = values(record(ARXIV, DOI), entities, ("a2023x", "b2024y"))
    assert two["bib"] == "a2023x, b2024y"


def test_a_paper_linked_by_doi_shows_the_arxiv_paper_semantic_scholar_names() -> None:
    """QLoRA is linked by its ACM DOI only; its Semantic Scholar record names arXiv
    2305.14314 (here 2305.18290), whose first-published month the row then shows."""
    entities = {
        ident("arxiv:2305.18290"): result("arxiv:2305.18290", PAPER),
        ident("scholar:doi:10.5555/3666122.3666563"): result(
            "scholar:doi:10.5555/3666122.3666563", SCHOLAR
        ),
    }
    shown = values(record(DOI), entities)
    assert (shown["published"], shown["citations"]) == ("2023-05", "12.3k")
    del entities[ident("arxiv:2305.18290")]
    assert values(record(DOI), entities)["published"] == ""


def test_row_facts_name_the_entity_of_each_role() -> None:
    """`RowFacts.ids`: the entity each role's result is, as the row found it (a paper named
    by its Semantic Scholar record too); `Published.id`: the one that dates the paper."""
    doi_record = ident("scholar:doi:10.5555/3666122.3666563")
    entities = {
        ident("arxiv:2305.18290"): result("arxiv:2305.18290", PAPER),
        doi_record: result(doi_record, SCHOLAR),
        ident("github_repo:a/b"): repo("a/b", 5),
    }
    facts = row_facts(record(DOI, REPO, MODEL), entities)
    assert facts.ids == Roles(
        paper=ident("arxiv:2305.18290"), scholar=doi_record, repo=ident("github_repo:a/b")
    )
    assert facts.published is not None
    assert facts.published.id == ident("arxiv:2305.18290")
    del entities[ident("arxiv:2305.18290")]
    alone = row_facts(record(REPO, DOI), entities)
    assert alone.ids == Roles(scholar=doi_record, repo=ident("github_repo:a/b"))
    assert alone.published is None  # Semantic Scholar's record here has no date
    assert row_facts(record(MODEL), entities).ids == Roles()


PMLR = link("https://proceedings.mlr.press/v235/guo24g.html", Kind.PMLR, "v235/guo24g")
PAGE = {
    "type": "page",
    "title": "JSQ",
    "year": 2024,
    "publication_date": "2024-07-08",
    "url": "https://proceedings.mlr.press/v235/guo24g.html",
}


def test_a_paper_without_arxiv_is_dated_by_semantic_scholar_else_its_landing_page() -> None:
    """arXiv first, then Semantic Scholar's date (or year), then the landing page's."""
    page = {ident("pmlr:v235/guo24g"): result("pmlr:v235/guo24g", PAGE, Status.STALE)}
    assert values(record(PMLR), page)["published"] == f"2024-07{STALE_MARK}"
    assert row_facts(record(PMLR), page).title == (
        page[ident("pmlr:v235/guo24g")],
        PageMeta(**PAGE),
    )
    year_only = {
        ident("pmlr:v235/guo24g"): result("pmlr:v235/guo24g", {**PAGE, "publication_date": None})
    }
    assert values(record(PMLR), year_only)["published"] == "2024"
    dated = {**SCHOLAR, "publication_date": "2023-10-20"}
    known = {ident("scholar:doi:10.5555/3666122.3666563"): result("scholar:doi:x", dated)}
    found = row_facts(record(DOI, PMLR), {**known, **page}).published
    assert found is not None
    assert (found.year, found.day) == (2023, date(2023, 10, 20))


def test_missing_facts_are_blank() -> None:
    entities = {
        ident("github_repo:a/b"): repo("a/b", 5),
        ident("hf_model:o/m"): result("hf_model:o/m", None, Status.NOT_FOUND),
    }
    shown = values(record(REPO, MODEL), entities)
    assert shown == {
        "stars": "5",
        "downloads": "",
        "published": "",
        "citations": "",
        "likes": "",
        "license": "",
        "pushed": "",
        "bib": "",
        **BLANK_TRENDS,
    }
    assert values(record(), entities) == dict.fromkeys(COLUMNS, "")


HUB = {"type": "hub", "hub_kind": "model", "id": "o/m", "downloads": 7, "likes": 9}
REPO_DATA = RepoMeta(full_name="a/b", stars=3, license_spdx="MIT", pushed_at=MOMENT).model_dump()


@pytest.mark.parametrize(
    "facts",
    [
        RowFacts(repo=result("hf_model:o/m", HUB)),
        RowFacts(hub=result("github_repo:a/b", REPO_DATA)),
        RowFacts(scholar=result("arxiv:2305.18290", PAPER)),
        RowFacts(repo=result("scholar:x", SCHOLAR), hub=result("pmlr:x", PAGE, Status.STALE)),
    ],
    ids=["hub-as-repo", "repo-as-hub", "paper-as-scholar", "others"],
)
def test_a_column_shows_only_data_of_its_own_type(facts: RowFacts) -> None:
    """Each column reads its role's data through its type: facts of another type in the
    role (never made by `row_facts`) show blank, and a column cannot read a field its type
    lacks (mypy checks the columns' accessors)."""
    assert {name: column.value(facts) for name, column in COLUMNS.items()} == dict.fromkeys(
        COLUMNS, ""
    )


def test_stale_values_are_marked_blank_ones_are_not() -> None:
    entities = {ident("github_repo:a/b"): repo("a/b", 1_500, Status.STALE)}
    shown = values(record(REPO), entities)
    assert shown["stars"] == f"1.5k{STALE_MARK}"
    assert shown["license"] == ""  # nothing known: no mark on nothing
    assert shown["pushed"] == ""


def test_a_moved_repository_shows_its_new_facts_unmarked() -> None:
    entities = {ident("github_repo:a/b"): repo("a/c", 77, Status.MOVED)}
    entities[ident("github_repo:a/b")] = entities[ident("github_repo:a/b")].model_copy(
        update={"ref": "github_repo:a/b", "moved_to": "github_repo:a/c"}
    )
    assert values(record(REPO), entities)["stars"] == "77"


def test_the_first_linked_entity_with_facts_counts() -> None:
    gone = link("https://github.com/x/gone", Kind.GITHUB_REPO, "x/gone")
    entities = {
        ident("github_repo:x/gone"): result("github_repo:x/gone", None, Status.NOT_FOUND),
        ident("github_repo:a/b"): repo("a/b", 9),
        ident("github_repo:c/d"): repo("c/d", 1_000_000),
    }
    other = link("https://github.com/c/d", Kind.GITHUB_REPO, "c/d")
    assert values(record(gone, REPO, other), entities)["stars"] == "9"


def test_a_hub_paper_page_counts_as_its_arxiv_paper_but_not_as_a_model() -> None:
    page = link(
        "https://huggingface.co/papers/2305.18290",
        Kind.HF_PAPER,
        "2305.18290",
        also=["arxiv:2305.18290"],
    )
    entities = {
        ident("arxiv:2305.18290"): result("arxiv:2305.18290", PAPER),
        ident("hf_paper:2305.18290"): result(
            "hf_paper:2305.18290",
            {"type": "hub", "hub_kind": "paper", "id": "2305.18290", "upvotes": 3},
        ),
    }
    shown = values(record(page), entities)
    assert shown["published"] == "2023-05"
    assert shown["downloads"] == ""


def test_org_and_collection_pages_have_no_downloads() -> None:
    org = link("https://huggingface.co/codellama", Kind.HF_ORG, "codellama")
    entities = {
        ident("hf_org:codellama"): result(
            "hf_org:codellama", {"type": "hub", "hub_kind": "org", "id": "codellama", "models": 30}
        )
    }
    assert values(record(org), entities)["downloads"] == ""
