"""The pipeline end to end without network: outputs, atomic writes, determinism, contract."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from enrich import output, pipeline
from enrich.config import Settings
from enrich.jsonout import render_json
from enrich.models import SCHEMA_VERSION, Dataset, Kind, PaperMeta, Provenance, Result, Status

SEED = Path(__file__).parents[1] / "seeds" / "slm-survey.md"
# Every test runs on a copy in its tmp_path/seeds (see _seed_layout).


def settings(tmp_path: Path, seeds: Path | None = None, **overrides: object) -> Settings:
    return Settings(
        seeds=seeds or tmp_path / "seeds" / SEED.name,
        out=tmp_path / "out",
        cache=tmp_path / "cache",
        retry_wait=False,
        **overrides,
    )


@pytest.fixture(autouse=True)
def _seed_layout(tmp_path: Path) -> None:
    """Outputs sit beside the seeds, as in a checkout: `seeds/` and `out/` share a parent."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / SEED.name).write_bytes(SEED.read_bytes())


def test_run_writes_dataset_schema_and_document(tmp_path: Path) -> None:
    result = pipeline.run(settings(tmp_path, offline=True, columns=()), sources=())
    out = tmp_path / "out"
    assert {p.name for p in result.written} == {
        "enriched.json",
        "enriched.schema.json",
        "slm-survey.md",
        "index.html",
        "report.md",
        "CHANGES.md",
        "timeline.svg",
    }
    expected = SEED.read_text(encoding="utf-8").replace("](images/", "](../seeds/images/")
    lines = (out / "slm-survey.md").read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines.pop(42).startswith('<img src="timeline.svg" ')  # after the seed's figure
    assert "".join(lines) == expected
    data = json.loads((out / "enriched.json").read_text(encoding="utf-8"))
    assert data["schema_version"] == SCHEMA_VERSION == 2
    assert len(data["records"]) == 75


def test_dataset_validates_against_its_generated_schema(tmp_path: Path) -> None:
    pipeline.run(settings(tmp_path, offline=True), sources=())
    out = tmp_path / "out"
    schema = json.loads((out / "enriched.schema.json").read_text(encoding="utf-8"))
    data = json.loads((out / "enriched.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    broken = dict(data, records=[{**data["records"][0], "line": "seven"}])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_second_run_rewrites_nothing(tmp_path: Path) -> None:
    pipeline.run(settings(tmp_path, offline=True), sources=())
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    again = pipeline.run(settings(tmp_path, offline=True), sources=())
    assert again.written == ()
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


def test_records_in_seed_order_with_stable_ids(tmp_path: Path) -> None:
    result = pipeline.run(settings(tmp_path, offline=True), sources=())
    lines = [r.line for r in result.dataset.records]
    assert lines == sorted(lines)
    ids = [r.id for r in result.dataset.records]
    assert len(set(ids)) == len(ids)
    assert "arxiv:2306.07629" in ids


def test_crlf_seed_without_final_newline_round_trips(tmp_path: Path) -> None:
    seed = tmp_path / "seeds" / "crlf.md"
    seed.write_bytes(
        b"# T\r\n\r\n| a | b |\r\n|---|---|\r\n| [x](https://arxiv.org/abs/2306.07629) | y |"
    )
    pipeline.run(settings(tmp_path, seeds=seed, offline=True, columns=()), sources=())
    first, *rest = (tmp_path / "out" / "crlf.md").read_bytes().split(b"\r\n", 2)
    assert rest[0].startswith(b'<img src="timeline.svg" ')  # after the first heading
    assert rest[0].endswith(b" <!-- enrich -->")
    assert b"\r\n".join([first, rest[1]]) == seed.read_bytes()


def test_previous_dataset_supplies_last_known_values_offline(tmp_path: Path) -> None:
    fetched = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    paper = PaperMeta(
        arxiv_id="2306.07629",
        title="SqueezeLLM",
        authors=[],
        abstract="a",
        published=fetched,
        updated=fetched,
    )
    old = Result(
        ref="arxiv:2306.07629",
        provenance=Provenance(source="arxiv", status=Status.OK, fetched_at=fetched),
        data=paper,
    )
    out = tmp_path / "out"
    out.mkdir()
    previous = Dataset(seeds=[], records=[], entities={old.ref: old}, diagnostics=[])
    (out / "enriched.json").write_text(render_json(previous), encoding="utf-8")

    class Arxiv:
        name = "arxiv"
        kinds = frozenset({Kind.ARXIV})

        async def fetch(self, requests: object, ctx: object) -> dict[str, Result]:
            raise AssertionError("offline must not fetch")

    result = pipeline.run(settings(tmp_path, offline=True), sources=(Arxiv(),))
    kept = result.dataset.entities["arxiv:2306.07629"]
    assert kept.status is Status.OK  # nothing was learnt offline, nothing failed
    assert kept.data == paper
    assert kept.provenance.fetched_at == fetched
    assert result.failed_sources() == {}
    others = [r for ref, r in result.dataset.entities.items() if ref.startswith("arxiv:")]
    assert {r.status for r in others} == {Status.OK, Status.SKIPPED}


def test_unusable_previous_dataset_is_reported_not_fatal(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "enriched.json").write_text("{not json", encoding="utf-8")
    result = pipeline.run(settings(tmp_path, offline=True), sources=())
    assert any("previous dataset unusable" in w for w in result.warnings)
    assert json.loads((out / "enriched.json").read_text(encoding="utf-8"))["records"]


def test_commit_writes_changed_files_and_leaves_no_debris(tmp_path: Path) -> None:
    target = tmp_path / "a" / "file.txt"
    assert output.commit({target: "one\n"}, tmp_path / "a") == (target,)
    assert output.commit({target: "one\n"}, tmp_path / "a") == ()
    assert output.commit({target: "two\n"}, tmp_path / "a") == (target,)
    assert target.read_text(encoding="utf-8") == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_recover_finishes_an_interrupted_commit(tmp_path: Path) -> None:
    """A run killed after its journal was written: the next run completes the renames."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("old a", encoding="utf-8")
    (folder / "b.txt").write_text("old b", encoding="utf-8")
    staged = []
    for name in ("a.txt", "b.txt"):
        tmp = folder / f".{name}.x.tmp"
        tmp.write_text(f"new {name[0]}", encoding="utf-8")
        staged.append([str(tmp), str(folder / name)])
    os.replace(staged[0][0], staged[0][1])  # killed after the first rename
    (folder / output.JOURNAL).write_text(json.dumps(staged), encoding="utf-8")
    notes = output.recover(folder)
    assert notes
    assert (folder / "a.txt").read_text(encoding="utf-8") == "new a"
    assert (folder / "b.txt").read_text(encoding="utf-8") == "new b"
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt"]


def test_recover_drops_debris_of_a_run_killed_before_its_journal(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("old a", encoding="utf-8")
    (folder / ".a.txt.x.tmp").write_text("new a", encoding="utf-8")
    assert output.recover(folder) == []
    assert (folder / "a.txt").read_text(encoding="utf-8") == "old a"
    assert [p.name for p in folder.iterdir()] == ["a.txt"]


def test_concurrent_runs_are_serialised_with_a_message(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    messages: list[str] = []
    with open(cache / ".lock", "a+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        released = threading.Timer(0.3, lambda: fcntl.flock(holder, fcntl.LOCK_UN))
        released.start()
        started = time.monotonic()
        pipeline.run(settings(tmp_path, offline=True), sources=(), on_wait=messages.append)
        waited = time.monotonic() - started
        released.join()
    assert waited >= 0.25
    assert messages
    assert "another enrich run" in messages[0]


def test_the_lazy_registry_declares_what_the_sources_declare() -> None:
    """`registry()` names each source's kinds without importing it; they must agree."""
    from enrich.sources import registry
    from enrich.sources.arxiv import ArxivSource
    from enrich.sources.github import GitHubSource
    from enrich.sources.huggingface import HubSource
    from enrich.sources.landing import LandingSource
    from enrich.sources.scholar import ScholarSource

    lazy = {s.name: s.kinds for s in registry(Settings())}
    classes = (ArxivSource, GitHubSource, HubSource, ScholarSource, LandingSource)
    real = {c.name: frozenset(c.kinds) for c in classes}
    assert lazy == real


def test_a_warm_run_imports_no_client_library(tmp_path: Path) -> None:
    """Everything fresh in the cache: PyGithub and huggingface_hub are never imported."""
    import subprocess
    import sys

    code = (
        "import sys; from enrich import pipeline; from enrich.config import Settings; "
        f"pipeline.run(Settings(seeds=__import__('pathlib').Path({str(tmp_path / 'seeds')!r}),"
        f" out=__import__('pathlib').Path({str(tmp_path / 'out')!r}),"
        f" cache=__import__('pathlib').Path({str(tmp_path / 'cache')!r}), offline=True)); "
        "print(sorted(m for m in ('github', 'huggingface_hub', 'arxiv') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["enriched.json", "previous.json"])
def test_render_json_streams_the_same_bytes_as_one_dump(name: str) -> None:
    """Written member by member (for memory), the dataset is byte for byte one sorted dump."""
    path = Path(__file__).parent / "data" / "golden" / name
    dataset = Dataset.model_validate_json(path.read_bytes())
    whole = json.dumps(
        dataset.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False
    )
    assert render_json(dataset) == whole + "\n"
    assert (
        render_json({"b": [1, {"d": 2, "c": None}], "a": "é"})
        == json.dumps(
            {"b": [1, {"d": 2, "c": None}], "a": "é"}, indent=2, sort_keys=True, ensure_ascii=False
        )
        + "\n"
    )
