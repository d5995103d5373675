"""`enrich.merge.merge`: one test per rule of its docstring, plus determinism."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from enrich.jsonout import render_json
from enrich.merge import carry, merge
from enrich.metadata import RepoMeta
from enrich.models import (
    Change,
    Dataset,
    Diagnostic,
    Identifier,
    Provenance,
    Result,
    RowRecord,
    Severity,
    Status,
)
from enrich.parse import parse
from enrich.resolve import resolve
from tests import builders as build
from tests.builders import ident

T_OLD = datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
T_NEW = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
REPO = "github_repo:mit-han-lab/llm-awq"
OTHER = "github_repo:org/other"

SEED = """\
# Quantization

| Paper | Code |
|---|---|
| [AWQ](https://arxiv.org/abs/2306.00978) | [code](https://github.com/mit-han-lab/llm-awq) |
| [Other](https://arxiv.org/abs/2401.00001) | [code](https://github.com/org/other) |
"""


def records() -> list[RowRecord]:
    return list(resolve(parse(SEED, "seed.md")).records)


def repo(
    ref: str = REPO,
    stars: int = 100,
    *,
    status: Status = Status.OK,
    fetched_at: datetime | None = T_NEW,
    error: str | None = None,
    moved_to: str | None = None,
    etag: str | None = None,
) -> Result:
    name = moved_to or ref.split(":", 1)[1]
    return build.repo(
        name,
        stars,
        status,
        ref=ref,
        fetched_at=fetched_at,
        error=error,
        etag=etag,
        moved_to=moved_to,
    )


def run(results: dict[str, Result], previous: dict[str, Result]) -> Dataset:
    """The merge of `results` over `previous`, each spelled here by ref (as in the JSON)."""
    return merge(["seed.md"], records(), by_ident(results), by_ident(previous), [])


def by_ident(named: dict[str, Result]) -> dict[Identifier, Result]:
    return {ident(ref): result for ref, result in named.items()}


def test_a_new_ok_replaces_the_old_value() -> None:
    old = repo(stars=100, fetched_at=T_OLD)
    new = repo(stars=150, fetched_at=T_NEW)
    merged = run({REPO: new}, {REPO: old}).entities[REPO]
    assert merged.model_copy(update={"changes": []}) == new
    assert isinstance(merged.data, RepoMeta)
    assert merged.data.stars == 150
    assert merged.provenance.fetched_at == T_NEW
    assert merged.changes == [Change(field="stars", old=100, new=150)]


def test_a_stale_result_keeps_the_old_value_and_fetched_at() -> None:
    # What the fetch stage makes of an `error` over an old `ok`: the old value, stale.
    old = repo(stars=100, fetched_at=T_OLD)
    stale = repo(stars=100, status=Status.STALE, fetched_at=T_OLD, error="HTTP 503")
    merged = run({REPO: stale}, {REPO: old}).entities[REPO]
    assert merged.status is Status.STALE
    assert merged.data == old.data
    assert merged.provenance.fetched_at == T_OLD
    assert merged.provenance.error == "HTTP 503"
    assert merged.changes == [Change(field="status", old="ok", new="stale")]


def test_not_found_replaces_the_old_value() -> None:
    old = repo(stars=100, fetched_at=T_OLD)
    gone = repo(status=Status.NOT_FOUND, fetched_at=T_NEW)
    merged = run({REPO: gone}, {REPO: old}).entities[REPO]
    assert merged.status is Status.NOT_FOUND
    assert merged.data is None
    assert merged.provenance.fetched_at == T_NEW
    assert merged.changes == [Change(field="status", old="ok", new="not_found")]


def test_moved_replaces_the_old_value() -> None:
    old = repo(stars=100, fetched_at=T_OLD)
    moved = repo(stars=120, status=Status.MOVED, fetched_at=T_NEW, moved_to="new-org/llm-awq")
    merged = run({REPO: moved}, {REPO: old}).entities[REPO]
    assert merged.status is Status.MOVED
    assert merged.moved_to == "new-org/llm-awq"
    assert isinstance(merged.data, RepoMeta)
    assert merged.data.full_name == "new-org/llm-awq"
    assert merged.provenance.fetched_at == T_NEW
    assert merged.changes == [
        Change(field="status", old="ok", new="moved"),
        Change(field="moved_to", old=None, new="new-org/llm-awq"),
        Change(field="full_name", old="mit-han-lab/llm-awq", new="new-org/llm-awq"),
        Change(field="stars", old=100, new=120),
    ]


def test_entities_no_row_links_any_more_are_dropped() -> None:
    gone = "github_repo:removed/from-seed"
    previous = {REPO: repo(fetched_at=T_OLD), gone: repo(gone, fetched_at=T_OLD)}
    results = {REPO: repo(fetched_at=T_NEW)}
    dataset = run(results, previous)
    assert set(dataset.entities) == set(results)
    assert gone not in dataset.entities


def test_an_unchanged_value_keeps_its_original_fetched_at() -> None:
    old = repo(stars=100, fetched_at=T_OLD, etag='"v1"')
    new = repo(stars=100, fetched_at=T_NEW, etag='"v1"')
    merged = run({REPO: new}, {REPO: old}).entities[REPO]
    assert merged.provenance.fetched_at == T_OLD
    assert merged.data == new.data
    assert merged.status is Status.OK


def test_an_unchanged_value_keeps_the_changes_recorded_before() -> None:
    before = [Change(field="stars", old=90, new=100)]
    old = repo(stars=100, fetched_at=T_OLD).model_copy(update={"changes": before})
    merged = run({REPO: repo(stars=100, fetched_at=T_NEW)}, {REPO: old}).entities[REPO]
    assert merged.changes == before
    assert merged.provenance.fetched_at == T_OLD


def test_a_new_entity_has_no_changes() -> None:
    merged = run({REPO: repo(fetched_at=T_NEW)}, {}).entities[REPO]
    assert merged.changes == []
    assert merged.provenance.fetched_at == T_NEW


def test_a_new_arxiv_version_is_a_change() -> None:
    def paper(version: str, at: datetime) -> Result:
        data = build.paper_meta(
            "2306.00978",
            "AWQ",
            datetime(2023, 6, 1, tzinfo=UTC),
            ["Ji Lin"],
            latest_version=version,
        ).model_copy(update={"updated": at})
        return build.result("arxiv:2306.00978", data, source="arxiv", fetched_at=at)

    old, new = paper("v4", T_OLD), paper("v5", T_NEW)
    merged = run({old.ref: new}, {old.ref: old}).entities[old.ref]
    assert merged.changes == [Change(field="latest_version", old="v4", new="v5")]
    assert merged.provenance.fetched_at == T_NEW


def test_an_untracked_change_takes_the_new_fetched_at_and_records_nothing() -> None:
    old = repo(fetched_at=T_OLD)
    new = repo(fetched_at=T_NEW)
    assert isinstance(new.data, RepoMeta)
    new = new.model_copy(update={"data": new.data.model_copy(update={"description": "new"})})
    merged = run({REPO: new}, {REPO: old}).entities[REPO]
    assert merged.provenance.fetched_at == T_NEW
    assert merged.changes == []


def test_a_changed_value_takes_the_new_fetched_at() -> None:
    old = repo(stars=100, fetched_at=T_OLD)
    new = repo(stars=101, fetched_at=T_NEW)
    assert run({REPO: new}, {REPO: old}).entities[REPO].provenance.fetched_at == T_NEW


def test_a_changed_status_takes_the_new_fetched_at() -> None:
    old = repo(status=Status.NOT_FOUND, fetched_at=T_OLD)
    new = repo(stars=5, fetched_at=T_NEW)
    assert run({REPO: new}, {REPO: old}).entities[REPO].provenance.fetched_at == T_NEW


def test_an_old_value_without_fetched_at_gives_way() -> None:
    old = repo(status=Status.ERROR, fetched_at=None, error="HTTP 503")
    new = repo(fetched_at=T_NEW)
    assert carry(new, None) == new
    carried = carry(new, old)
    assert carried.provenance.fetched_at == T_NEW
    assert carried.changes == [Change(field="status", old="error", new="ok")]


def test_an_unchanged_refresh_rewrites_no_byte() -> None:
    first = run({REPO: repo(fetched_at=T_OLD), OTHER: repo(OTHER, 7, fetched_at=T_OLD)}, {})
    # next run: the same facts, one fetched later, one answered from the cache as stored
    again = {REPO: repo(fetched_at=T_NEW), OTHER: first.entities[OTHER]}
    second = run(again, dict(first.entities))
    assert render_json(second) == render_json(first)


def test_output_is_deterministic_and_sorted() -> None:
    refs = [OTHER, "arxiv:2401.00001", REPO, "arxiv:2306.00978"]
    results = {ident(ref): repo(ref, n, fetched_at=T_NEW) for n, ref in enumerate(refs)}
    diagnostics = [
        Diagnostic(file="seed.md", line=5, severity=Severity.WARNING, code="x", message="m")
    ]
    one = merge(["seed.md"], records(), results, {}, diagnostics)
    two = merge(["seed.md"], records(), dict(reversed(results.items())), {}, diagnostics)
    assert list(one.entities) == sorted(refs)
    assert list(two.entities) == sorted(refs)
    assert render_json(one) == render_json(two)
    assert render_json(one) == render_json(merge(["seed.md"], records(), results, {}, diagnostics))
    assert list(json.loads(render_json(one))["entities"]) == sorted(refs)


def test_seeds_records_and_diagnostics_pass_through() -> None:
    rows = records()
    diagnostics = [
        Diagnostic(file="seed.md", line=5, severity=Severity.ERROR, code="c", message="m")
    ]
    dataset = merge(["seed.md"], rows, {}, {}, diagnostics)
    assert dataset.seeds == ["seed.md"]
    assert dataset.records == rows
    assert dataset.diagnostics == diagnostics
    assert dataset.entities == {}


def test_merge_does_not_mutate_its_inputs() -> None:
    old = repo(fetched_at=T_OLD)
    new = repo(fetched_at=T_NEW)
    results, previous = {REPO: new}, {REPO: old}
    run(results, previous)
    assert results == {REPO: new}
    assert results[REPO].provenance.fetched_at == T_NEW
    assert previous == {REPO: old}


def test_a_new_error_message_on_a_stale_value_keeps_its_changes() -> None:
    before = [Change(field="status", old="ok", new="stale")]
    old = repo(status=Status.STALE, fetched_at=T_OLD, error="HTTP 503")
    old = old.model_copy(update={"changes": before})
    new = repo(status=Status.STALE, fetched_at=T_OLD, error="ReadTimeout")
    merged = run({REPO: new}, {REPO: old}).entities[REPO]
    assert merged.provenance.error == "ReadTimeout"
    assert merged.changes == before


def test_records_share_their_fields_sets_and_a_copy_never_changes_another() -> None:
    """Records of a type with the same set fields share one set (memory); a copy with an
    update gets its own, and the shared one stays as it was."""
    first = Provenance(source="arxiv", status=Status.OK)
    second = Provenance(source="github", status=Status.ERROR)
    assert first.model_fields_set is second.model_fields_set
    changed = first.model_copy(update={"error": "boom", "status": Status.STALE})
    assert changed.model_fields_set == {"source", "status", "error"}
    assert first.model_fields_set == second.model_fields_set == {"source", "status"}
    assert Provenance.model_validate_json(first.model_dump_json()) == first
