"""Discovery (`enrich.suggest`): which rows cost requests, what is suggested, how it is
written into a seed. Pure: records from small seeds, entities built in the test."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from enrich import pipeline
from enrich.config import Settings
from enrich.document import split_lines
from enrich.errors import InputError
from enrich.fetch import discovery
from enrich.gaps import Gap, gap
from enrich.metadata import TaggedModel
from enrich.models import Kind, RowRecord, Status
from enrich.parse import parse, split_cells
from enrich.render import render_document
from enrich.resolve import resolve
from enrich.suggest import (
    DEFAULT_TEXT,
    PER_ROW,
    Suggestion,
    choose,
    fill,
    row_suggestions,
    suggestions,
)
from tests.builders import by_id, hub, ident

ARXIV, GITHUB, HF = "https://arxiv.org/abs/", "https://github.com/", "https://huggingface.co/"
WIDE = " " * 45
SEED = f"""\
# Small models

Some prose | with a pipe, kept as it is.

| Method | Year | Paper | Code | Model Card |
|---|---|---|---|---|
| Alpha | 2024 | [Link]({ARXIV}2401.00001v2) |  |{WIDE}|
| Beta | 2024 | [Link]({ARXIV}2401.00002) | [Link]({GITHUB}beta/beta) |   |
| Gamma | 2024 | [Link]({ARXIV}2401.00003) | [Link]({GITHUB}g/g) | [Link]({HF}g/g) |
| Delta | 2024 | [Link](https://doi.org/10.1000/xyz) |  |  |
| Eps \\| two | 2024 | [P]({HF}papers/2401.00005) | | [HF]({HF}e/old) |
| Theta | 2024 | [Link]({ARXIV}2401.00006) [c]({GITHUB}t/t) [m]({HF}t/w) | private |  |
"""


def records(text: str = SEED, path: str = "list.md") -> tuple[RowRecord, ...]:
    return resolve(parse(text, path)).records


def row(name: str, text: str = SEED) -> RowRecord:
    [found] = [r for r in records(text) if r.cells["Method"].startswith(name)]
    return found


def tagged(*models: tuple[str, int | None]) -> list[TaggedModel]:
    return [TaggedModel(id=name, downloads=downloads) for name, downloads in models]


ENTITIES = by_id(
    hub("hf_paper:2401.00001", github_repo="https://github.com/alpha/alpha", upvotes=4),
    hub(
        "hf_paper_models:2401.00001",
        models=tagged(("a/small", 10), ("a/big", 1_000), ("a/mid", 100), ("a/z", None)),
    ),
    hub("hf_paper:2401.00002", github_repo="https://github.com/other/repo"),
    hub("hf_paper_models:2401.00002", models=tagged(("beta/beta-7b", 5))),
    hub("hf_paper:2401.00005", github_repo="https://github.com/eps/eps"),
    hub("hf_paper:2401.00006", github_repo="https://github.com/T/t"),
    hub("hf_paper_models:2401.00006", models=tagged(("t/w", 9), ("T/x", 1))),
)


# ------------------------------------------------------------------------------ gaps


def test_gap_is_an_arxiv_paper_and_an_empty_code_or_model_card_cell() -> None:
    assert gap(row("Alpha")) == Gap("2401.00001", code="Code", model="Model Card")
    assert gap(row("Beta")) == Gap("2401.00002", model="Model Card")
    assert gap(row("Gamma")) is None  # both cells filled
    assert gap(row("Delta")) is None  # no arXiv paper
    assert gap(row("Eps")) == Gap("2401.00005", code="Code")  # the paper page names it
    assert gap(row("Theta")) == Gap("2401.00006", model="Model Card")  # curated: not a placeholder


def test_tables_without_the_columns_have_no_gap() -> None:
    text = "| Name | Paper |\n|---|---|\n| A | [x](https://arxiv.org/abs/2401.00001) |\n"
    assert [gap(r) for r in records(text)] == [None]


def test_discovery_asks_only_for_what_rows_lack() -> None:
    found = discovery(records())
    assert [i.ref for i in found] == [
        "hf_paper:2401.00001",
        "hf_paper:2401.00005",
        "hf_paper_models:2401.00001",
        "hf_paper_models:2401.00002",
        "hf_paper_models:2401.00006",
    ]
    assert found[ident("hf_paper_models:2401.00001")].identifier.kind is Kind.HF_PAPER_MODELS
    assert found[ident("hf_paper_models:2401.00001")].identifier.key == "2401.00001"
    assert discovery([]) == {}


# ----------------------------------------------------------------------- suggestions


def test_a_row_gets_the_paper_pages_repository_then_models_by_downloads() -> None:
    found = row_suggestions(row("Alpha"), ENTITIES)
    assert [(s.column, s.url, s.score) for s in found] == [
        ("Code", "https://github.com/alpha/alpha", 4),
        ("Model Card", "https://huggingface.co/a/big", 1_000),
        ("Model Card", "https://huggingface.co/a/mid", 100),
    ]  # at most PER_ROW
    assert len(found) == PER_ROW
    first = found[0]
    assert (first.file, first.line, first.row, first.name) == (
        "list.md",
        7,
        "arxiv:2401.00001",
        "Alpha",
    )
    assert first.where == "list.md:7"
    assert "huggingface.co/papers/2401.00001" in first.reason
    assert "1k downloads" in found[1].reason
    assert "#1 of 4" in found[1].reason
    everything = row_suggestions(row("Alpha"), ENTITIES, per_row=10)
    assert [s.url.rsplit("/", 1)[-1] for s in everything] == ["alpha", "big", "mid", "small", "z"]


def test_only_empty_cells_are_suggested_for() -> None:
    # Beta has code: its paper page's repository is not suggested; its models are.
    assert [s.url for s in row_suggestions(row("Beta"), ENTITIES)] == [
        "https://huggingface.co/beta/beta-7b"
    ]
    assert row_suggestions(row("Gamma"), ENTITIES) == []
    assert [s.url for s in row_suggestions(row("Eps"), ENTITIES)] == ["https://github.com/eps/eps"]


def test_what_the_row_links_already_is_never_suggested_again() -> None:
    # Theta links github.com/t/t and huggingface.co/t/w in its Paper cell.
    assert [s.url for s in row_suggestions(row("Theta"), ENTITIES)] == [
        "https://huggingface.co/T/x"
    ]


@pytest.mark.parametrize(
    "repo",
    [
        "https://github.com/org",  # an org page
        "https://github.com/orgs/acme/repositories",
        "https://gitlab.com/a/b",
        "javascript:alert(1)",
        None,
    ],
)
def test_only_a_repository_is_a_code_candidate(repo: str | None) -> None:
    entities = by_id(hub("hf_paper:2401.00001", github_repo=repo))
    assert row_suggestions(row("Alpha"), entities) == []


def test_an_org_or_odd_model_id_is_never_a_candidate() -> None:
    models = tagged(("gpt2", 9), ("a/b c", 8), ("a/ok", 1))
    entities = by_id(hub("hf_paper_models:2401.00002", models=models))
    assert [s.url for s in row_suggestions(row("Beta"), entities)] == [
        "https://huggingface.co/a/ok"
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.OK, 1),
        (Status.STALE, 1),  # the last known facts still make a good suggestion
        (Status.NOT_FOUND, 0),
        (Status.ERROR, 0),
        (Status.SKIPPED, 0),  # an --offline run knows nothing: no suggestion
    ],
)
def test_suggestions_need_fetched_facts(status: Status, expected: int) -> None:
    ref = "hf_paper:2401.00005"
    entities = by_id(hub(ref, status, github_repo="https://github.com/eps/eps"))
    assert len(row_suggestions(row("Eps"), entities)) == expected


def test_suggestions_of_every_row_in_order_and_the_best_per_cell_chosen() -> None:
    found = suggestions(records(), ENTITIES)
    assert [s.line for s in found] == [7, 7, 7, 8, 11, 12]
    chosen = choose(found)
    assert [(s.line, s.column, s.url.rsplit("/", 1)[-1]) for s in chosen] == [
        (7, "Code", "alpha"),
        (7, "Model Card", "big"),
        (8, "Model Card", "beta-7b"),
        (11, "Code", "eps"),
        (12, "Model Card", "x"),
    ]
    picked = choose(found, picks=["https://huggingface.co/a/mid/", "HTTPS://github.com/eps/eps"])
    assert [s.url for s in picked] == [
        "https://huggingface.co/a/mid",
        "https://github.com/eps/eps",
    ]


# --------------------------------------------------------------------------- filling


def written(text: str, chosen: Sequence[Suggestion], path: str = "list.md") -> str:
    return fill((doc := parse(text, path)), resolve(doc).records, chosen).text


def changed_lines(before: str, after: str) -> dict[int, tuple[str, str]]:
    old, new = split_lines(before), split_lines(after)
    assert len(old) == len(new)
    return {n: (a, b) for n, (a, b) in enumerate(zip(old, new, strict=True), 1) if a != b}


def test_fill_writes_only_the_chosen_empty_cells_and_keeps_every_other_byte() -> None:
    chosen = choose(suggestions(records(), ENTITIES))
    done = fill((doc := parse(SEED, "list.md")), resolve(doc).records, chosen)
    assert done.applied == tuple(chosen)
    assert (done.done, done.skipped) == ((), ())
    changes = changed_lines(SEED, done.text)
    assert sorted(changes) == [7, 8, 11, 12]
    for old, new in changes.values():
        before, after = split_cells(old), split_cells(new)
        assert len(before) == len(after)
        differ = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        assert all(not before[i].strip() for i in differ)  # only empty cells were written
    assert changes[7][1] == (
        "| Alpha | 2024 | [Link](https://arxiv.org/abs/2401.00001v2) "
        "| [Link](https://github.com/alpha/alpha) "
        "| [Link](https://huggingface.co/a/big)        |\n"
    )
    # The escaped pipe of Eps's first cell is kept.
    assert changes[11][1].startswith("| Eps \\| two | 2024 | [P](https://huggingface.co/papers/")


def test_a_written_seed_round_trips_and_resolves_the_new_links_in_place() -> None:
    text = written(SEED, choose(suggestions(records(), ENTITIES)))
    document = parse(text, "list.md")
    assert render_document(document) == text
    alpha = row("Alpha", text)
    assert [(link.column, link.kind, link.misplaced) for link in alpha.links[1:]] == [
        ("Code", Kind.GITHUB_REPO, False),
        ("Model Card", Kind.HF_MODEL, False),
    ]
    assert alpha.id == row("Alpha").id
    assert gap(alpha) is None


def test_filling_again_changes_nothing() -> None:
    chosen = choose(suggestions(records(), ENTITIES))
    once = written(SEED, chosen)
    again = fill((doc := parse(once, "list.md")), resolve(doc).records, chosen)
    assert again.text == once
    assert again.applied == ()
    assert again.done == tuple(chosen)
    assert suggestions(records(once), ENTITIES) == []


def test_a_wide_empty_cell_keeps_its_width() -> None:
    [alpha_model] = [s for s in row_suggestions(row("Alpha"), ENTITIES) if s.url.endswith("/a/mid")]
    line = split_lines(written(SEED, [alpha_model]))[6]
    cell = " [Link](https://huggingface.co/a/mid) "
    assert line.endswith(f"|  |{cell}{' ' * (45 - len(cell))}|\n")  # as wide as before


def test_rows_are_found_where_they_are_now() -> None:
    chosen = choose(suggestions(records(), ENTITIES))
    moved = SEED.replace("| Alpha |", "| Zeta | 2020 | | | |\n| Alpha |")
    changes = changed_lines(moved, written(moved, chosen))
    assert sorted(changes) == [8, 9, 12, 13]


def test_cells_filled_since_or_rows_gone_are_skipped_with_why() -> None:
    chosen = choose(suggestions(records(), ENTITIES))
    beta = "| [Link](https://github.com/beta/beta) |"
    edited = SEED.replace(f"{beta}   |", f"{beta} see paper |")
    edited = edited.replace("| Eps \\| two |", "| Eps |").replace(
        "papers/2401.00005", "papers/2401.00055"
    )
    done = fill((doc := parse(edited, "list.md")), resolve(doc).records, chosen)
    why = {s.line: reason for s, reason in done.skipped}
    assert why == {
        8: "its Model Card cell is no longer empty",
        11: "the row is no longer in the seed; run `python -m enrich run` again",
    }
    assert [s.line for s in done.applied] == [7, 7, 12]


def test_a_renamed_column_and_a_cell_taken_by_another_suggestion_are_skipped_with_why() -> None:
    models = [s for s in row_suggestions(row("Alpha"), ENTITIES) if s.column == "Model Card"]
    assert len(models) >= 2  # two candidates for one cell, both passed: the first is written
    done = fill((doc := parse(SEED, "list.md")), resolve(doc).records, models[:2])
    assert done.applied == (models[0],)
    assert done.skipped == ((models[1], "another suggestion fills that cell"),)
    renamed = SEED.replace("| Model Card |", "| Weights |")
    done = fill((doc := parse(renamed, "list.md")), resolve(doc).records, models[:1])
    assert (done.text, done.applied) == (renamed, ())
    assert done.skipped == ((models[0], "the row has no Model Card column any more"),)


def test_a_row_without_the_cell_is_skipped() -> None:
    short = (
        "| Method | Paper | Code |\n|---|---|---|\n| A | [p](https://arxiv.org/abs/2401.00001) |\n"
    )
    [suggestion] = [s for s in suggestions(records(short), ENTITIES)]
    done = fill((doc := parse(short, "list.md")), resolve(doc).records, [suggestion])
    assert done.text == short
    assert done.skipped == ((suggestion, "the row has fewer cells than the header"),)


def test_link_text_follows_the_table() -> None:
    text = (
        "| Paper | Code | Model Card |\n|---|---|---|\n"
        "| [p](https://arxiv.org/abs/2401.00001) | | |\n"
        "| [p](https://arxiv.org/abs/2401.00009) | [GitHub](https://github.com/x/y) | |\n"
        "| [p](https://arxiv.org/abs/2401.00008) | [GitHub](https://github.com/x/z) | |\n"
    )
    found = choose(suggestions(records(text), ENTITIES))
    new = written(text, found)
    assert "| [GitHub](https://github.com/alpha/alpha) |" in new  # as in the Code column
    assert "| [p](https://huggingface.co/a/big) |" in new  # the table's most used text
    bare = "| Paper | Code |\n|---|---|\n| <https://arxiv.org/abs/2401.00001> | |\n"
    assert f"| [{DEFAULT_TEXT}](https://github.com/alpha/alpha) |" in written(
        bare, choose(suggestions(records(bare), ENTITIES))
    )


def test_tables_in_blockquotes_and_crlf_files() -> None:
    quoted = (
        "> | Paper | Code |\r\n> |---|---|\r\n> | [p](https://arxiv.org/abs/2401.00001) |   |\r\n"
    )
    found = choose(suggestions(records(quoted), ENTITIES))
    assert written(quoted, found) == (
        "> | Paper | Code |\r\n> |---|---|\r\n"
        "> | [p](https://arxiv.org/abs/2401.00001) | [p](https://github.com/alpha/alpha) |\r\n"
    )


def test_suggestions_of_other_files_are_left_alone() -> None:
    chosen = choose(suggestions(records(), ENTITIES))
    assert written(SEED, chosen, path="other.md") == SEED


# -------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("env", "config", "expected"),
    [
        ({}, "", True),
        ({"ENRICH_DISCOVER": "0"}, "", False),
        ({"ENRICH_DISCOVER": "1"}, "", True),
        ({"ENRICH_DISCOVER": "0"}, "discover = true\n", True),  # the project's word wins
        ({}, "discover = false\n", False),
    ],
)
def test_discovery_can_be_turned_off_for_a_process(
    env: dict[str, str], config: str, expected: bool, tmp_path: Path
) -> None:
    (tmp_path / "enrich.toml").write_text(config, encoding="utf-8")
    assert Settings.from_env(env).with_project_config(tmp_path).discover is expected


def test_discovery_can_be_turned_off_in_the_project_config(tmp_path: Path) -> None:
    (tmp_path / "enrich.toml").write_text("discover = false\n", encoding="utf-8")
    assert Settings().discover is True
    assert Settings().with_project_config(tmp_path).discover is False
    (tmp_path / "enrich.toml").write_text('discover = "no"\n', encoding="utf-8")
    with pytest.raises(InputError, match="discover must be true or false"):
        Settings().with_project_config(tmp_path)

    (tmp_path / "list.md").write_text(SEED, encoding="utf-8")
    folders = {"seeds": tmp_path / "list.md", "out": tmp_path / "out", "cache": tmp_path / "c"}
    for discover, expected in ((True, 5), (False, 1)):  # Eps links its paper page
        config = Settings(**folders, offline=True, discover=discover)  # type: ignore[arg-type]
        dataset = pipeline.run(config, sources=()).dataset
        asked = [i for i in dataset.results if i in discovery(dataset.records)]
        assert len(asked) == expected
