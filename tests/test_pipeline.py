"""The pipeline end to end without network: outputs, atomic writes, determinism, contract."""

from __future__ import annotations

import errno
import fcntl
import gc
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from enrich import output, pipeline
from enrich.cli import main
from enrich.config import Settings
from enrich.errors import InputError
from enrich.jsonout import render_json
from enrich.models import SCHEMA_VERSION, Dataset, Identifier, Kind, Result, Status
from tests import builders as build
from tests.conftest import OUTPUTS, SEED

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
    assert {p.name for p in result.written} == OUTPUTS
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
    old = build.paper("2306.07629", "SqueezeLLM", fetched, fetched_at=fetched)
    out = tmp_path / "out"
    out.mkdir()
    previous = build.dataset((), old, seeds=())
    (out / "enriched.json").write_text(render_json(previous), encoding="utf-8")

    class Arxiv:
        name = "arxiv"
        kinds = frozenset({Kind.ARXIV})

        async def fetch(self, requests: object, ctx: object) -> dict[Identifier, Result]:
            raise AssertionError("offline must not fetch")

    result = pipeline.run(settings(tmp_path, offline=True), sources=(Arxiv(),))
    kept = result.dataset.entities["arxiv:2306.07629"]
    assert kept.status is Status.OK  # nothing was learnt offline, nothing failed
    assert kept.data == old.data
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
    assert output.commit([(target, "one\n")], tmp_path / "a") == (target,)
    assert output.commit([(target, "one\n")], tmp_path / "a") == ()
    assert output.commit([(target, "two\n")], tmp_path / "a") == (target,)
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


HOLD = 0.05
"""Seconds the other run holds the folder after this one said it waits."""


@pytest.mark.parametrize("held", ["cache", "out"])
def test_concurrent_runs_are_serialised_with_a_message(tmp_path: Path, held: str) -> None:
    """A run waits for another that holds its cache or its output folder (two runs with one
    --out and different caches would otherwise remove each other's staged files). The holder
    lets go `HOLD` seconds after the run said it waits (not a fixed 0.3 s from the start):
    a run that did not wait would end before that."""
    folder = tmp_path / held
    folder.mkdir()
    messages: list[str] = []
    holder = os.open(folder, os.O_RDONLY)
    released = threading.Timer(HOLD, lambda: fcntl.flock(holder, fcntl.LOCK_UN))

    def waiting(message: str) -> None:
        messages.append(message)
        released.start()

    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        started = time.monotonic()
        pipeline.run(settings(tmp_path, offline=True), sources=(), on_wait=waiting)
        waited = time.monotonic() - started
        released.join()
    finally:
        os.close(holder)
    assert waited >= HOLD
    assert messages == [f"another enrich run is using {folder}/; waiting for it to finish"]
    assert not list(folder.glob("*lock*"))  # no lock file left in either folder


def test_the_lazy_registry_declares_what_the_sources_declare() -> None:
    """`registry()` names each source's kinds without importing it; they must agree."""
    from enrich.sources import registry
    from enrich.sources.arxiv import ArxivSource
    from enrich.sources.github import GitHubSource
    from enrich.sources.huggingface import HubSource
    from enrich.sources.landing import LandingSource
    from enrich.sources.recommend import RecommendSource
    from enrich.sources.scholar import ScholarSource

    lazy = {s.name: s.kinds for s in registry(Settings())}
    classes = (ArxivSource, GitHubSource, HubSource, ScholarSource, LandingSource, RecommendSource)
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


# ------------------------------------------------------------- where the documents go

LIST = (
    "# {title}\n\nSee [notes](notes/x.md).\n\n| Method | Paper |\n|---|---|\n"
    "| {title} | [Link](https://arxiv.org/abs/2306.07629) |\n"
)


def write_list(path: Path, title: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LIST.format(title=title), encoding="utf-8")


def test_documents_mirror_the_seed_folder_so_none_is_lost(tmp_path: Path) -> None:
    seeds = tmp_path / "lists"
    names = ["README.md", "a/README.md", "b/README.md", "a/deep/README.md", "b/report.md"]
    for name in names:
        write_list(seeds / name, name)
    result = pipeline.run(settings(tmp_path, seeds=seeds, offline=True), sources=())
    out = tmp_path / "out"
    for name in names:
        document = (out / name).read_text(encoding="utf-8")
        assert f"| {name} |" in document  # its own rows, no other seed's
        # relative links and the timeline resolve from where the document is
        target = document.split("[notes](")[1].split(")")[0]
        assert (out / name).parent.joinpath(target).resolve() == (seeds / name).parent.joinpath(
            "notes/x.md"
        ).resolve()
        image = document.split('<img src="')[1].split('"')[0]
        assert (out / name).parent.joinpath(image).resolve() == (out / "timeline.svg").resolve()
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# Report")
    assert len({r.file for r in result.dataset.records}) == len(names)


def test_a_single_seed_file_gives_one_document_beside_the_generated_files(tmp_path: Path) -> None:
    pipeline.run(settings(tmp_path, offline=True, columns=()), sources=())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [*pipeline.folders.GENERATED, SEED.name]
    )
    assert b'<img src="timeline.svg"' in (tmp_path / "out" / SEED.name).read_bytes()


@pytest.mark.parametrize(
    "name",
    [*pipeline.folders.GENERATED, "changes.md", "Report.md", "INDEX.HTML", "Enriched.JSON"],
)
def test_no_seed_can_shadow_a_generated_file(tmp_path: Path, name: str) -> None:
    seed = tmp_path / "lists" / name
    write_list(seed, "X")
    for seeds in (seed, seed.parent):
        if seeds.is_dir() and not name.endswith(".md"):
            continue  # a folder gives its *.md files only
        with pytest.raises(InputError, match="a file enrich generates; rename the seed"):
            pipeline.run(settings(tmp_path, seeds=seeds, offline=True), sources=())
        assert not (tmp_path / "out").exists()  # refused before anything was written
    if not name.endswith(".md"):
        return
    (tmp_path / "lists" / "sub").mkdir()
    seed.rename(tmp_path / "lists" / "sub" / name)  # in a subfolder: its own path
    pipeline.run(settings(tmp_path, seeds=tmp_path / "lists", offline=True), sources=())
    assert b"| X |" in (tmp_path / "out" / "sub" / name).read_bytes()


@pytest.mark.parametrize(
    ("out", "cache", "message"),
    [
        ("seeds", "cache", "is the seed folder"),
        ("seeds/./", "cache", "is the seed folder"),
        ("seeds/out", "cache", "is inside the seed folder"),
        ("seeds/a/b", "cache", "is inside the seed folder"),
        ("store", "store", "is the cache folder"),
        ("store/../store", "store/", "is the cache folder"),
        ("store/out", "store", "is inside the cache folder"),
    ],
)
def test_outputs_can_be_neither_seeds_nor_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, cache: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "store").mkdir()
    for spelled in (Path(out), tmp_path / out):
        chosen = Settings(seeds=Path("seeds"), out=spelled, cache=Path(cache), offline=True)
        with pytest.raises(InputError, match=message):
            pipeline.run(chosen, sources=())
        with pytest.raises(InputError, match=message):
            pipeline.check(chosen)
    assert main(["run", "--offline", "-q", "--out", out, "--cache", cache]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seeds", "store"]


def test_a_document_never_overwrites_another_seed(tmp_path: Path) -> None:
    seeds = tmp_path / "out" / "lists"
    write_list(seeds / "x.md", "outer")
    write_list(seeds / "lists" / "x.md", "inner")  # its document would be out/lists/x.md
    with pytest.raises(InputError, match=r"would overwrite the seed .*lists/x\.md"):
        pipeline.run(settings(tmp_path, seeds=seeds, offline=True), sources=())
    assert (seeds / "x.md").read_text(encoding="utf-8") == LIST.format(title="outer")


def test_a_document_may_replace_its_own_seed_in_place(tmp_path: Path) -> None:
    pipeline.run(settings(tmp_path, offline=True), sources=())
    document = tmp_path / "out" / SEED.name
    before = document.read_bytes()
    pipeline.run(settings(tmp_path, seeds=document, offline=True), sources=())
    assert document.read_bytes() == before


# ------------------------------------------------------------- folders that cannot be used


@pytest.mark.parametrize("option", ["--cache", "--out"])
@pytest.mark.parametrize("where", ["a-file", "below-a-file"])
@pytest.mark.parametrize("command", ["run", "check"])
def test_a_folder_option_naming_a_file_is_a_message_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str,
    where: str,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("taken").write_text("not a folder\n", encoding="utf-8")
    path = "taken" if where == "a-file" else "taken/sub"
    args = ["--offline", "-q"] if command == "run" else []
    if command == "check":  # an output to compare with, so that the folder option is judged
        Path("output").mkdir()
        Path("output/enriched.json").write_text("{}\n", encoding="utf-8")
    code = main([command, *args, option, path])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    if command == "check" and option == "--out":  # nothing to compare with
        state = "is not a folder" if where == "a-file" else "does not exist"
        assert f"enrich: error: {path}/ {state}: nothing to check" in captured.err
        return
    assert f"enrich: error: {option} {path}: a file, not a folder; name a folder" in captured.err
    assert Path("taken").read_text(encoding="utf-8") == "not a folder\n"


@pytest.mark.parametrize("option", ["--cache", "--out"])
def test_a_read_only_folder_is_a_message_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = Path("locked")
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root writes anywhere: make the folder read-only to it
        real_access = os.access
        monkeypatch.setattr(
            pipeline.folders.os,
            "access",
            lambda path, mode: (
                not mode & os.W_OK if Path(path) == folder else real_access(path, mode)
            ),
        )
    try:
        assert main(["run", "--offline", "-q", option, str(folder)]) == 2
    finally:
        folder.chmod(0o755)
    err = capsys.readouterr().err
    assert f"enrich: error: {option} locked: the folder is read-only; make it writable" in err
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("failing_at", [0, 1, 2, 3], ids=["first", "second", "last", "journal"])
def test_a_full_disk_under_the_output_keeps_the_previous_output_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failing_at: int,
) -> None:
    """No space for the n-th staged file: the previous output stays as it was, nothing staged
    is left behind, exit 2 with the folder and what to do."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--offline", "-q", "--seeds", "seeds", "--out", "out"]) == 0
    out = tmp_path / "out"
    (out / "enriched.json").unlink()  # the next run writes three files, then its journal
    (out / "report.md").unlink()
    (out / SEED.name).write_text("edited by hand\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    staged: list[Path] = []
    real_stage = output._stage

    def stage(path: Path, data: bytes) -> Path | None:
        if len(staged) == failing_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        made = real_stage(path, data)  # None: an unchanged file, not staged
        staged.extend([made] if made else [])
        return made

    monkeypatch.setattr(output, "_stage", stage)
    capsys.readouterr()
    assert main(["run", "--offline", "-q", "--seeds", "seeds", "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert "enrich: error: out: cannot write the output (No space left on device)" in err
    assert "Make room there" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no debris either
    assert len(staged) == failing_at


@pytest.mark.parametrize("spelling", ["s.md", "./s.md", "lists/../s.md", "ABSOLUTE", "."])
def test_relative_links_resolve_from_the_document_however_the_seed_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("lists").mkdir()
    (Path("seeds") / SEED.name).unlink()  # the fixture's: only s.md in the working folder
    write_list(tmp_path / "s.md", "S")
    seeds = tmp_path / "s.md" if spelling == "ABSOLUTE" else Path(spelling)
    out = Path("site") if spelling != "." else tmp_path.parent / f"{tmp_path.name}-site"
    pipeline.run(Settings(seeds=seeds, out=out, cache=Path("cache"), offline=True), sources=())
    document = (out / "s.md").read_text(encoding="utf-8")
    target = document.split("[notes](")[1].split(")")[0]
    assert (out / target).resolve() == (tmp_path / "notes" / "x.md").resolve()
    dataset = json.loads((out / "enriched.json").read_bytes())
    assert dataset["seeds"] == ["s.md"]


def test_a_run_keeps_the_collector_off_what_each_stage_left_and_hands_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`collector.settle` is applied by the pipeline between its stages: the previous dataset
    is set aside before the seeds are parsed, the parsed seeds before fetching; after the
    run nothing stays set aside."""
    pipeline.run(settings(tmp_path, offline=True), sources=())  # a previous dataset
    frozen: dict[str, int] = {}
    parse, fetch = pipeline.parse, pipeline.fetch

    def parsing(*args: object, **kwargs: object) -> object:
        frozen["parse"] = gc.get_freeze_count()
        return parse(*args, **kwargs)  # type: ignore[arg-type]

    def fetching(*args: object, **kwargs: object) -> object:
        frozen["fetch"] = gc.get_freeze_count()
        return fetch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "parse", parsing)
    monkeypatch.setattr(pipeline, "fetch", fetching)
    gc.unfreeze()
    pipeline.run(settings(tmp_path, offline=True), sources=())
    assert 0 < frozen["parse"] < frozen["fetch"]
    assert gc.get_freeze_count() == 0
