"""`report.md` (what to fix in the seed) and `CHANGES.md` (what a refresh changed).

Both come from the fixture datasets of `test_render` (two runs against the loopback API;
regenerate the golden files with ENRICH_UPDATE_GOLDEN=1, see there).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from enrich.changes import LIMIT, changes_markdown
from enrich.metadata import HubMeta, PageMeta
from enrich.models import Dataset, Identifier, Kind, Provenance, Result, Status
from enrich.report import Problem, problems, report_markdown
from tests import builders as build
from tests.builders import repo
from tests.test_render import SEED_PATH, assert_golden, fixture


def previous() -> Dataset:
    return fixture()[0]


def current() -> Dataset:
    return fixture()[1]


def found(code: str, line: int) -> list[Problem]:
    return [p for p in problems(current()) if (p.code, p.line) == (code, line)]


def only(code: str, line: int) -> Problem:
    [problem] = found(code, line)
    return problem


# ------------------------------------------------------------------------------ report.md


def test_report_matches_the_golden_file() -> None:
    assert_golden("report.md", report_markdown(current()))


def test_misplaced_links_of_the_awq_row() -> None:
    misplaced = found("misplaced-link", 169)
    assert [(p.message.split()[0], p.fix.split(";")[0]) for p in misplaced] == [
        ("arxiv", "move it to the Paper column"),
        ("github_repo", "move it to the Code column"),
    ]


def test_duplicates_name_where_the_entity_came_first() -> None:
    assert "seeds/slm-survey.md:54" in only("duplicate-entity", 99).message
    assert "seeds/slm-survey.md:172" in only("duplicate-entity", 181).message


def test_year_cell_against_the_arxiv_first_published_year() -> None:
    dpo = only("year-mismatch", 79)
    assert "2024" in dpo.message
    assert "2305.18290" in dpo.message
    assert "2023-05" in dpo.message
    assert dpo.fix.startswith("write 2023")
    assert found("year-mismatch", 50) == []  # SqueezeLLM, 2023: right
    assert found("year-mismatch", 78) == []  # RLHF, 2022: right
    assert found("year-mismatch", 169) != []  # AWQ: its paper sits in the Code column
    assert found("year-mismatch", 51) == []  # JSQ, 2024: its PMLR page (ICML 2024) agrees


def test_year_cell_of_a_paper_without_arxiv_against_its_landing_page() -> None:
    jsq = current().entities["pmlr:v235/guo24g"]
    assert isinstance(jsq.data, PageMeta)
    for day, year, when in [(date(2023, 7, 23), 2023, "2023-07"), (None, 2023, "2023")]:
        page = jsq.data.model_copy(update={"publication_date": day, "year": year})
        problem = only_in(_dataset_with(jsq.model_copy(update={"data": page})), "year-mismatch", 51)
        assert problem.message == (
            f"Year cell says 2024, but its PMLR page dates it {when} (no arXiv record of it)"
        )
        assert problem.fix == "write 2023, unless 2024 is a deliberate venue year"


@pytest.mark.parametrize(
    ("url", "kind", "key", "site"),
    [
        ("https://openreview.net/forum?id=abc", Kind.OPENREVIEW, "abc", "OpenReview"),
        ("https://proceedings.mlr.press/v1/x.html", Kind.PMLR, "v1/x", "PMLR"),
    ],
)
def test_the_landing_page_a_year_is_checked_against_is_named_by_its_kind(
    url: str, kind: Kind, key: str, site: str
) -> None:
    page = PageMeta(title="T", year=2023, url=url)
    row = build.record(
        build.link(url, kind, key, column="Paper"), cells={"Paper": "T", "Year": "2021"}
    )
    dataset = build.dataset([row], build.result(Identifier(kind, key), page))
    [problem] = [p for p in problems(dataset) if p.code == "year-mismatch"]
    assert problem.message == (
        f"Year cell says 2021, but its {site} page dates it 2023 (no arXiv record of it)"
    )


def test_year_cell_of_a_paper_linked_by_doi_only() -> None:
    """QLoRA (line 61) links only its ACM DOI: Semantic Scholar names arXiv 2305.14314,
    first published 2023-05, and the Year cell says 2024."""
    qlora = only("year-mismatch", 61)
    assert "2305.14314" in qlora.message
    assert "2023-05" in qlora.message
    assert "Semantic Scholar" in qlora.message
    assert qlora.fix.startswith("write 2023")
    assert "2305.14152" in only("year-mismatch", 60).message  # PEQA, the same way
    assert found("year-mismatch", 123) == []  # T-SAS (ACL Anthology), 2023: right


def test_venue_upgrades_say_where_the_preprint_was_published() -> None:
    dpo = only("venue-upgrade", 79)
    assert "2305.18290" in dpo.message
    assert "Neural Information Processing Systems 2023" in dpo.message
    assert found("venue-upgrade", 61) == []  # QLoRA links its published version already
    assert found("venue-upgrade", 50) == []  # SqueezeLLM: still a preprint (arXiv.org)


def test_a_published_doi_is_the_link_to_put_in_the_row() -> None:
    """arXiv's own DOI (10.48550/...) is no upgrade; a journal's DOI is, with the link."""
    data = current()
    rlhf = data.entities["arxiv:2203.02155"]
    assert rlhf.data is not None
    published = rlhf.data.model_copy(
        update={"doi": "10.1145/3600006.3613165", "journal_ref": "NeurIPS 2022 | <b>x</b>"}
    )
    entities = {**data.entities, rlhf.ref: rlhf.model_copy(update={"data": published})}
    scholar = entities.pop("scholar:arxiv:2203.02155")  # only arXiv knows, here
    assert scholar is not None
    changed = data.model_copy(update={"entities": entities})
    [upgrade] = [p for p in problems(changed) if (p.code, p.line) == ("venue-upgrade", 78)]
    assert "NeurIPS 2022" in upgrade.message
    assert "<b>" not in report_markdown(changed)  # untrusted text stays text where written
    assert upgrade.fix == "link https://doi.org/10.1145/3600006.3613165 in the Paper column"


@pytest.mark.parametrize("doi", ["10.1/x) [evil](https://e.vil", "10.1145/<script>", "10.1/a|b"])
def test_a_doi_that_could_break_the_markdown_is_not_offered_as_a_link(doi: str) -> None:
    data = current()
    dpo = data.entities["arxiv:2305.18290"]
    assert dpo.data is not None
    changed = dpo.model_copy(update={"data": dpo.data.model_copy(update={"doi": doi})})
    dataset = data.model_copy(update={"entities": {**data.entities, dpo.ref: changed}})
    [upgrade] = [p for p in problems(dataset) if (p.code, p.line) == ("venue-upgrade", 79)]
    assert upgrade.fix.startswith("note the venue")
    assert "evil" not in report_markdown(dataset)


def test_archived_moved_and_gone_repositories() -> None:
    archived = only("archived", 61)
    assert "artidoro/qlora" in archived.message
    moved = only("moved", 92)
    assert "jongwooko/distillm-2" in moved.message
    assert moved.fix == "link https://github.com/jongwooko/distillm-2 instead"
    gone = only("not-found", 150)
    assert "https://github.com/nyu-dl/dl4marco-bert" in gone.message
    assert "remove the link" in gone.fix


def test_model_card_cells_that_do_not_point_to_a_model() -> None:
    assert "documentation page" in only("not-a-model", 76).message
    assert "huggingface.co/docs/transformers" in only("not-a-model", 76).message
    assert "huggingface.co/timdettmers" in only("not-a-model", 61).message
    assert "huggingface.co/codellama" in only("not-a-model", 131).message
    for line in (61, 131):
        assert "organisation or user page" in only("not-a-model", line).message
    for line in (69, 77, 129, 157):  # models and a space
        assert found("not-a-model", line) == []


def test_a_failed_fetch_is_reported_with_its_error() -> None:
    stale = only("stale", 132)
    assert "hf_model:google/codegemma-7b-it" in stale.message
    assert "500" in stale.message


def test_every_report_line_names_file_line_and_a_fix() -> None:
    text, _, _ = report_markdown(current()).partition("## Suggestions")
    items = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(items) == len(problems(current()))
    for item in items:
        assert re.fullmatch(rf"- `{SEED_PATH}:\d+`: \S.* — \S.*", item), item
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^## (\S+) \((\d+)\)$", text, re.M)}
    assert sum(counts.values()) == len(items)
    assert {"misplaced-link", "duplicate-entity", "year-mismatch", "archived", "moved"} <= set(
        counts
    )
    assert {"not-found", "not-a-model", "stale"} <= set(counts)


def test_suggestions_follow_the_problems_with_file_line_row_link_and_why() -> None:
    _, title, text = report_markdown(current()).partition("## Suggestions")
    assert title
    text, _, after = text.partition("\n## ")
    assert after.startswith("Papers to consider")  # the papers to consider close the report
    items = [line for line in text.splitlines() if line.startswith("- ")]
    assert text.startswith(f" ({len(items)})\n")
    assert len(items) == 6  # OneBit is listed twice, each row: a repository and two models
    for item in items:
        assert re.fullmatch(
            rf"- `{SEED_PATH}:\d+` \(arxiv:2402\.11295@[a-z-]+\): (Code|Model Card) "
            r"<https://(github\.com|huggingface\.co)/\S+> — \S.*",
            item,
        ), item
    assert "<https://huggingface.co/community/onebit-gguf> — tagged arxiv:2402.11295" in text
    assert text.index("community/onebit-gguf") < text.index("onebit/OneBit-7B")


def test_no_suggestions_no_section() -> None:
    entities = {
        ref: result
        for ref, result in current().entities.items()
        if not ref.endswith(":2402.11295") or ref.startswith("arxiv:")
    }
    assert "Suggestions" not in report_markdown(current().model_copy(update={"entities": entities}))


def _dataset_with(*results: Result) -> Dataset:
    base = current()
    return base.model_copy(update={"entities": {**base.entities, **{r.ref: r for r in results}}})


def test_fetched_text_in_the_report_is_escaped() -> None:
    """Regression: the suggested fix of a moved repository (its new name, as fetched) was
    written into report.md unescaped."""
    evil = "x/<img src=x onerror=alert(1)>|y"
    moved = repo(
        evil, 1, Status.MOVED, ref="github_repo:jongwooko/distillm", moved_to=f"github_repo:{evil}"
    )
    failed = current().entities["hf_model:google/codegemma-7b-it"]
    failed = failed.model_copy(
        update={"provenance": failed.provenance.model_copy(update={"error": "<script>\n| [a](b)"})}
    )
    text = report_markdown(_dataset_with(moved, failed))
    assert "<img" not in text
    assert "<script" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;\\|y" in text
    lines = [ln for ln in text.splitlines() if ":132`" in ln or ":92`" in ln]
    assert len(lines) == 2
    assert all(ln.count(" — ") == 1 for ln in lines)


@pytest.mark.parametrize("moved_to", ["hf_model:TinyLlama/TinyLlama-2", "TinyLlama/TinyLlama-2"])
def test_a_moved_hub_model_is_reported_with_its_hub_address(moved_to: str) -> None:
    """Regression: a moved entity was taken for a GitHub repository: its `moved_to` was split
    on a colon it need not have (IndexError for the Hub source's bare new id, crashing the
    run) and the suggested fix linked https://github.com/<new id>."""
    ref = "hf_model:TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    old = current().entities[ref]
    assert isinstance(old.data, HubMeta)
    moved = old.model_copy(
        update={
            "provenance": old.provenance.model_copy(update={"status": Status.MOVED}),
            "data": old.data.model_copy(update={"id": "TinyLlama/TinyLlama-2"}),
            "moved_to": moved_to,
        }
    )
    problem = only_in(_dataset_with(moved), "moved", 130)
    assert problem.message == (
        "https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0 moved to TinyLlama/TinyLlama-2"
    )
    assert problem.fix == "link https://huggingface.co/TinyLlama/TinyLlama-2 instead"
    assert "moved to TinyLlama/TinyLlama-2" in report_markdown(_dataset_with(moved))


def only_in(dataset: Dataset, code: str, line: int) -> Problem:
    [problem] = [p for p in problems(dataset) if (p.code, p.line) == (code, line)]
    return problem


# ------------------------------------------------------------------------------ CHANGES.md


def changes() -> str:
    text = changes_markdown(previous(), current())
    assert text is not None
    return text


def section(text: str, title: str) -> list[str]:
    """The items of the `## title` section of `text`."""
    match = re.search(rf"^## {re.escape(title)}\n\n((?:- .*\n)+)", text, re.M)
    assert match, f"no section {title!r} in\n{text}"
    return [line[2:] for line in match[1].splitlines()]


def test_changes_match_the_golden_file() -> None:
    assert_golden("CHANGES.md", changes())


def test_changes_list_new_rows_movers_versions_and_repository_events() -> None:
    text = changes()
    assert text.startswith("# Changes\n\n1 new rows, ")
    assert section(text, "New rows") == [f"LinguaLinked ({SEED_PATH}:183)"]
    assert section(text, "Biggest movers") == [
        "hf_model:TinyLlama/TinyLlama-1.1B-Chat-v1.0: downloads 2.5M (+1,265,433)",
        "github_repo:mit-han-lab/llm-awq: stars 15k (+2,655)",
        "scholar:arxiv:2305.18290: citations 4.5k (+1,234)",  # DPO, cited more
    ]
    assert section(text, "New versions") == ["arxiv:2306.07629: v2 → v3"]
    assert section(text, "Newly archived, gone quiet") == ["github_repo:artidoro/qlora: archived"]
    assert section(text, "Moved, gone, relicensed") == [
        "github_repo:jongwooko/distillm: moved to github\\_repo:jongwooko/distillm-2",
        "github_repo:nyu-dl/dl4marco-bert: gone (404)",
    ]


def test_changes_fit_a_commit_message_body() -> None:
    lines = changes().splitlines()
    assert len(lines) <= 40
    assert max(map(len, lines)) <= 100
    assert changes().endswith("\n")
    assert not changes().endswith("\n\n")


def test_a_move_is_told_once() -> None:
    """Regression: a renamed repository also showed up under "Other changes" as a change of
    status (ok → moved) and of full_name, besides "moved to"."""
    assert [line for line in changes().splitlines() if "distillm" in line] == [
        "- github_repo:jongwooko/distillm: moved to github\\_repo:jongwooko/distillm-2"
    ]


def test_a_failed_fetch_is_not_a_change() -> None:
    """Regression: a source failing (ok → stale, facts kept) or recovering (stale → ok, same
    facts) was listed as a change, so CHANGES.md was rewritten by every flaky refresh."""
    assert "codegemma" not in changes()
    old = current()
    ref = "github_repo:mit-han-lab/llm-awq"
    failed = old.entities[ref].model_copy(
        update={
            "provenance": Provenance(
                source="github", status=Status.STALE, fetched_at=datetime(2020, 1, 1, tzinfo=UTC)
            )
        }
    )
    stale = _dataset_with(failed)
    assert changes_markdown(old, stale) is None
    assert changes_markdown(stale, old) is None


def test_nothing_changed_means_no_changes_file() -> None:
    assert changes_markdown(current(), current()) is None
    assert changes_markdown(previous(), previous()) is None


def test_first_refresh_says_so() -> None:
    """Regression: CHANGES.md ended in a blank line (two newlines), unlike every other file."""
    first = changes_markdown(None, current())
    assert first == "# Changes\n\nFirst refresh: 75 rows, 274 entities.\n"


def test_changes_are_deterministic_whatever_the_order_of_entities() -> None:
    """Regression: versions, repository events and other changes were listed in the order of
    the dataset's entities, so two equal datasets could give two different CHANGES.md."""
    shuffled = current().model_copy(
        update={"entities": dict(reversed(list(current().entities.items())))}
    )
    assert changes_markdown(previous(), shuffled) == changes()


@pytest.mark.parametrize("count", [LIMIT - 1, LIMIT, LIMIT + 15])
def test_every_section_is_capped(count: int) -> None:
    """Regression: only "Biggest movers" was capped; a day of fork and like counts moving, or
    a large seed edit, made CHANGES.md far too long for a commit message body."""
    old = Dataset(
        seeds=[],
        records=[],
        entities={r.ref: r for r in (repo(f"o/r{i:02}", 100, forks=1) for i in range(count))},
        diagnostics=[],
    )
    new = old.model_copy(
        update={
            "entities": {
                r.ref: r for r in (repo(f"o/r{i:02}", 110 + i * 10, forks=2) for i in range(count))
            }
        }
    )
    text = changes_markdown(old, new)
    assert text is not None
    movers = section(text, "Biggest movers")
    others = section(text, "Other changes")
    shown = min(count, LIMIT)
    assert len(movers) == len(others) == shown + (count > LIMIT)
    assert movers[0].startswith(f"github_repo:o/r{count - 1:02}: stars")  # biggest first
    if count > LIMIT:
        assert movers[-1] == others[-1] == f"… and {count - LIMIT} more"


def test_a_venue_is_escaped_once() -> None:
    data = current()
    key = "scholar:arxiv:2305.18290"
    dpo = data.entities[key]
    assert dpo.data is not None
    venue = dpo.data.model_copy(update={"venue": "Knowledge Discovery & Data_Mining"})
    entities = {**data.entities, key: dpo.model_copy(update={"data": venue})}
    text = report_markdown(data.model_copy(update={"entities": entities}))
    [line] = [ln for ln in text.splitlines() if ln.startswith("- `seeds/slm-survey.md:79`: arXiv")]
    assert "Knowledge Discovery &amp; Data\\_Mining 2023" in line
    assert "&amp;amp;" not in line
    assert "\\\\_" not in line


def _with_status(dataset: Dataset, statuses: dict[str, Status]) -> Dataset:
    entities = dict(dataset.entities)
    for ref, status in statuses.items():
        old = entities[ref]
        provenance = old.provenance.model_copy(update={"status": status})
        data = None if status in (Status.NOT_FOUND, Status.SKIPPED) else old.data
        entities[ref] = old.model_copy(update={"provenance": provenance, "data": data})
    return dataset.model_copy(update={"entities": entities})


def _first(dataset: Dataset, kind: str, *, linked: bool) -> str:
    refs = {link.id.ref for record in dataset.records for link in record.links}
    return next(r for r in sorted(dataset.entities) if r.startswith(kind) and (r in refs) is linked)


@pytest.mark.parametrize(
    ("kind", "linked", "before"),
    [
        ("github_repo:", True, Status.OK),
        ("hf_model:", True, Status.OK),
        ("hf_paper:", True, Status.OK),  # a link to a paper's Hub page
        ("hf_paper:", False, Status.SKIPPED),  # discovery: a lookup asked for the first time
        ("hf_paper:", False, Status.OK),  # discovery: the page went away
        ("hf_paper_models:", False, Status.OK),
        ("scholar:", False, Status.OK),  # a linked paper's Semantic Scholar record
        ("arxiv:", False, Status.OK),  # a paper Semantic Scholar named, not linked
    ],
)
def test_only_what_the_list_links_can_be_gone(kind: str, linked: bool, before: Status) -> None:
    """A discovery lookup that finds no Hub page (or any entity the list does not link) is
    not a repository or model that is "gone (404)"."""
    base = current()
    ref = _first(base, kind, linked=linked)
    old = _with_status(base, {ref: before})
    new = _with_status(base, {ref: Status.NOT_FOUND})
    text = changes_markdown(old, new) or ""
    assert (f"- {ref}: gone (404)\n" in text) is linked
    assert "gone (404)" not in text.replace(f"{ref}: gone (404)", "")
