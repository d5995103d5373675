"""`python -m enrich check`, and runs in a row that find nothing new and leave `output/` alone.

Each test works in its own folder laid out like a checkout (`seeds/`, `output/`, `cache/`),
with `python -m enrich run` already done against the loopback API.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from enrich import pipeline
from enrich.cli import main
from enrich.config import Settings
from tests.conftest import (
    HISTORY,
    OUTPUTS,
    SEED,
    files_below,
    first_run,
    point_at,
    without_history,
    working_copy,
)
from tests.fakeapi import FakeAPI

Snapshot = dict[str, tuple[bytes, int]]


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout after its first run, made once: each test works in a copy (relative
    paths throughout, so a copy is the same checkout; the fake's facts are fixed per id)."""
    folder = tmp_path_factory.mktemp("first")
    with FakeAPI() as api, pytest.MonkeyPatch.context() as patch:
        api.populate_from_markdown(SEED.read_text(encoding="utf-8"))
        first_run(folder, api, patch)
    return folder


@pytest.fixture
def project(first: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeAPI) -> Path:
    """A checkout after `python -m enrich run`, as the working folder, with `api` (which
    knows the same facts as the first run's) as its upstream."""
    point_at(api, monkeypatch)
    api.set_rate_limit(5000)  # several anonymous runs in the same hour
    folder = tmp_path / "project"
    shutil.copytree(first, folder, symlinks=True)
    monkeypatch.chdir(folder)
    return folder


def test_a_copied_checkout_is_the_first_run_as_made_here(
    first: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeAPI
) -> None:
    """What `project` relies on: the first run's copy has every byte a run made in place
    against `api` has (`fetched_at` aside: the two runs fetch at different moments)."""
    first_run(tmp_path, api, monkeypatch)
    made = {n: p.read_bytes() for n, p in files_below(tmp_path / "output").items()}
    kept = {n: p.read_bytes() for n, p in files_below(first / "output").items()}
    assert made.keys() == kept.keys()
    assert without_history(made) == OUTPUTS
    moment = re.compile(rb'"fetched_at": "[^"]*"')
    assert {n: moment.sub(b"", d) for n, d in made.items()} == {
        n: moment.sub(b"", d) for n, d in kept.items()
    }


def snapshot(folder: Path) -> Snapshot:
    """Every file's bytes and modification time: a rewrite with the same bytes shows too."""
    return {n: (p.read_bytes(), p.stat().st_mtime_ns) for n, p in files_below(folder).items()}


def edit_seed(old: str, new: str) -> None:
    seed = Path("seeds") / SEED.name
    text = seed.read_text(encoding="utf-8")
    assert text.count(old) == 1
    seed.write_text(text.replace(old, new), encoding="utf-8")


def test_check_passes_right_after_run_and_makes_no_request(
    project: Path, api: FakeAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    before = api.count()
    assert main(["check"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "output/ matches seeds" in captured.err
    assert api.count() == before


def test_check_fails_with_a_diff_after_a_seed_row_is_edited(
    project: Path, api: FakeAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    output = snapshot(project / "output")
    edit_seed("| SqueezeLLM    | 3-bit ", "| SqueezeLLM-X  | 3-bit ")
    capsys.readouterr()
    before = api.count()
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    diff = captured.out.splitlines()
    assert "--- output/slm-survey.md (committed)" in diff
    assert "+++ output/slm-survey.md (from seeds and cache)" in diff
    removed = [line for line in diff if line.startswith("-| SqueezeLLM ")]
    added = [line for line in diff if line.startswith("+| SqueezeLLM-X ")]
    assert len(removed) == len(added) == 1
    assert removed[0][1:].replace("SqueezeLLM   ", "SqueezeLLM-X ") == added[0][1:]
    assert '+        "Method": "SqueezeLLM-X",' in diff  # enriched.json
    assert "python -m enrich run" in captured.err
    assert api.count() == before  # offline
    assert snapshot(project / "output") == output  # check writes nothing

    assert main(["run", "-q"]) == 0
    assert main(["check"]) == 0


def test_check_passes_in_a_fresh_clone_without_cache(project: Path, api: FakeAPI) -> None:
    """The previous enriched.json supplies every fact offline."""
    shutil.rmtree(project / "cache")
    before = api.count()
    assert main(["check"]) == 0
    assert api.count() == before


def test_check_fails_when_an_output_file_was_edited_or_removed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = project / "output" / "report.md"
    report.write_text(report.read_text(encoding="utf-8") + "hand-made\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["check"]) == 1
    assert "-hand-made" in capsys.readouterr().out.splitlines()
    (project / "output" / "slm-survey.md").unlink()
    assert main(["check"]) == 1
    assert main(["run", "-q"]) == 0
    assert main(["check"]) == 0


def test_two_runs_in_a_row_leave_every_output_file_untouched(project: Path, api: FakeAPI) -> None:
    first = snapshot(project / "output")
    assert without_history(first) == OUTPUTS
    assert [name for name in first if HISTORY.fullmatch(name)]
    before = api.count()
    assert main(["run", "-q"]) == 0  # within the cache's time-to-live
    assert api.count() == before
    assert snapshot(project / "output") == first

    assert main(["run", "-q", "--refresh"]) == 0  # everything asked again: nothing new
    assert api.count() > before
    assert snapshot(project / "output") == first
    changes = (project / "output" / "CHANGES.md").read_text(encoding="utf-8")
    assert changes.startswith("# Changes\n\nFirst refresh: 75 rows")


def test_changes_file_is_rewritten_only_when_upstream_changed(project: Path, api: FakeAPI) -> None:
    stars = json.loads((project / "output" / "enriched.json").read_text(encoding="utf-8"))[
        "entities"
    ]["github_repo:mit-han-lab/llm-awq"]["data"]["stars"]
    api.add_repo("mit-han-lab/llm-awq", stars=stars + 1_234)
    assert main(["run", "-q", "--refresh"]) == 0
    changes = (project / "output" / "CHANGES.md").read_text(encoding="utf-8")
    assert "- github_repo:mit-han-lab/llm-awq: stars " in changes
    assert "(+1,234)" in changes
    after = snapshot(project / "output")

    assert main(["run", "-q", "--refresh"]) == 0
    assert snapshot(project / "output") == after
    assert main(["check"]) == 0


def run_with_github_failing(api: FakeAPI) -> None:
    """`run --refresh` while GitHub answers 500: its values kept as last known, `stale`."""
    api.fault("github", "500")
    settings = Settings.from_env(
        seeds=Path("seeds"),
        out=Path("output"),
        cache=Path("cache"),
        refresh=True,
        retry_wait=False,
        retry_attempts=1,
    )
    result = pipeline.run(settings)
    assert result.failed_sources()["github"] > 0
    stale = result.dataset.entities["github_repo:mit-han-lab/llm-awq"]
    assert stale.status.value == "stale"
    assert "†" in Path("output/slm-survey.md").read_text(encoding="utf-8")


def test_check_passes_right_after_a_run_in_which_a_source_failed_and_without_its_cache(
    project: Path, api: FakeAPI
) -> None:
    """One failing run for both: check passes with the run's cache, and without it (the
    previous dataset reproduces the stale values)."""
    run_with_github_failing(api)
    assert main(["check"]) == 0
    shutil.rmtree(project / "cache")
    assert main(["check"]) == 0


def fresh_run(**overrides: object) -> pipeline.RunResult:
    """A run as the first one: no cache, no previous output."""
    shutil.rmtree("cache")
    shutil.rmtree("output")
    settings = Settings.from_env(
        seeds=Path("seeds"), out=Path("output"), cache=Path("cache"), **overrides
    )
    return pipeline.run(settings)


def test_check_passes_right_after_a_run_that_left_discovery_lookups_for_later(
    project: Path,
) -> None:
    result = fresh_run(discover_limit=5)
    deferred = [
        r for r in result.dataset.entities.values() if "later run" in (r.provenance.error or "")
    ]
    assert deferred  # the seed has more than 5 rows with an empty Code or Model Card cell
    assert main(["check"]) == 0


def test_check_passes_right_after_a_first_run_in_which_a_source_failed(
    project: Path, api: FakeAPI
) -> None:
    api.fault("github", "500")
    result = fresh_run(retry_wait=False, retry_attempts=1)
    assert result.dataset.entities["github_repo:mit-han-lab/llm-awq"].status.value == "error"
    assert main(["check"]) == 0


def test_the_regenerated_document_as_seed_gives_the_same_document(project: Path) -> None:
    assert main(["run", "-q", "--seeds", "output/slm-survey.md", "--out", "again"]) == 0
    again = (project / "again" / "slm-survey.md").read_bytes()
    assert again == (project / "output" / "slm-survey.md").read_bytes()
    timeline = (project / "again" / "timeline.svg").read_bytes()
    assert timeline == (project / "output" / "timeline.svg").read_bytes()
    assert b"No dated papers" not in timeline
    first = json.loads((project / "output" / "enriched.json").read_text(encoding="utf-8"))
    second = json.loads((project / "again" / "enriched.json").read_text(encoding="utf-8"))
    assert [(r["id"], r["cells"], r["links"]) for r in second["records"]] == [
        (r["id"], r["cells"], r["links"]) for r in first["records"]
    ]
    assert second["entities"] == first["entities"]
    assert main(["check", "--seeds", "output/slm-survey.md", "--out", "again"]) == 0


# ------------------------------------------------- bytes, line endings and seed paths, offline

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
LIST = [
    "# A list",
    "",
    "Intro with a [relative link](docs/a.md).",
    "",
    "| Method | Paper |",
    "|---|---|",
    "| X | [Link](https://arxiv.org/abs/2305.14314) |",
    "| Y | [Link](https://arxiv.org/abs/2306.07629) |",
    "",
    "Closing words.",
]


def ended(lines: list[str], endings: str, final: bool) -> bytes:
    """`lines` joined with `endings` ("\\r\\n", "\\n", "\\r", or "mixed": each in turn)."""
    cycle = ["\r\n", "\n", "\r"] if endings == "mixed" else [endings]
    text = "".join(line + cycle[i % len(cycle)] for i, line in enumerate(lines))
    return text.encode() if final else text.rstrip("\r\n").encode()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def crlf_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with `s.md` (`LIST`, CRLF endings) and `out/` of its offline run, made once:
    tests that change it work in a copy (`crlf_here`)."""
    folder = tmp_path_factory.mktemp("crlf")
    (folder / "s.md").write_bytes(ended(LIST, "\r\n", True))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        assert offline("run", "s.md") == 0
    return folder


@pytest.fixture
def crlf_here(crlf_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of `crlf_run` as the working folder."""
    return working_copy(crlf_run, tmp_path / "crlf", monkeypatch)


def offline(command: str, seeds: Path | str, out: str = "out", cache: str = "cache") -> int:
    args = ["run", "-q", "--offline"] if command == "run" else [command]
    return main([*args, "--seeds", str(seeds), "--out", out, "--cache", cache])


@pytest.mark.parametrize("final", [True, False], ids=["final-newline", "no-final-newline"])
@pytest.mark.parametrize(
    "endings", ["\r\n", "\r", "mixed", "\n"], ids=["crlf", "cr", "mixed", "lf"]
)
def test_check_passes_right_after_run_whatever_the_seed_line_endings(
    here: Path, endings: str, final: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "s.md").write_bytes(ended(LIST, endings, final))
    assert offline("run", "s.md") == 0
    assert (
        (here / "out" / "s.md")
        .read_bytes()
        .endswith(b"Closing words." + (b"" if not final else ended([""], endings, True)))
    )
    capsys.readouterr()
    assert offline("check", "s.md") == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.replace(b"\r\n", b"\n") if b"\r\n" in b else b.replace(b"\n", b"\r\n"),
        lambda b: b[: b.rindex(b"\n")] + b"\r" + b[b.rindex(b"\n") :],  # one line ending
        lambda b: b[:-1] + b"\xff",  # not UTF-8
        lambda b: b"\xfe\xff" + b,  # a byte order mark that is not UTF-8's
        lambda b: b[:5] + b"\x80\x81" + b[5:],
    ],
    ids=["all-endings", "one-ending", "last-byte-not-utf8", "utf16-bom", "stray-bytes"],
)
@pytest.mark.parametrize("name", ["s.md", "report.md", "enriched.json", "index.html"])
def test_check_reports_any_byte_difference_with_a_diff_never_a_traceback(
    crlf_here: Path,
    change: Callable[[bytes], bytes],
    name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = crlf_here / "out" / name
    assert change(target.read_bytes()) != target.read_bytes()
    target.write_bytes(change(target.read_bytes()))
    capsys.readouterr()
    assert offline("check", "s.md") == 1
    captured = capsys.readouterr()
    assert f"--- out/{name} (committed)" in captured.out.splitlines()
    assert "@@" in captured.out
    assert "Traceback" not in captured.err
    assert offline("run", "s.md") == 0
    assert offline("check", "s.md") == 0


def corpus_part(part: int, parts: int = 3) -> list[Path]:
    """The `part`-th of `parts` shares of the corpus's lists of about equal size: largest first,
    each to the share with the fewest bytes so far."""
    shares: list[list[Path]] = [[] for _ in range(parts)]
    for path in sorted(CORPUS.glob("*.md"), key=lambda p: (-p.stat().st_size, p.name)):
        min(shares, key=lambda share: sum(p.stat().st_size for p in share)).append(path)
    return shares[part]


@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "SOURCES.md").is_file(), reason=f"no corpus at {CORPUS}")
@pytest.mark.parametrize("part", range(3))
def test_check_passes_right_after_a_run_over_the_corpus_folder(here: Path, part: int) -> None:
    """A third of the corpus's lists (`corpus_part`) as one folder of seeds: a third a test,
    so that xdist runs them at once (6 s of CPU in one test before). Each third holds a CRLF
    list (one of FairyFali's versions)."""
    lists = corpus_part(part)
    folder = here / "corpus"
    folder.mkdir()
    for path in lists:
        shutil.copy(path, folder / path.name)
    assert any(b"\r\n" in p.read_bytes() for p in lists)  # a CRLF list among them
    assert offline("run", "corpus") == 0
    assert offline("check", "corpus") == 0
    # (check with the seeds named another way: test_check_passes_in_another_checkout_path...)


def output_bytes(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


def make_lists(root: Path) -> None:
    (root / "lists" / "sub").mkdir(parents=True)
    (root / "lists" / "a.md").write_bytes(ended(LIST, "\n", True))
    misplaced = "| Z | [Link](https://github.com/org/repo) |"  # a problem for report.md
    (root / "lists" / "sub" / "b.md").write_bytes(ended([*LIST[:6], misplaced], "\r\n", True))


@pytest.mark.parametrize("spelling", ["relative", "absolute", "dotted", "symlinked"])
def test_seed_paths_in_outputs_are_relative_to_the_working_folder(
    here: Path, spelling: str
) -> None:
    checkout = here / "checkout"
    make_lists(checkout)
    (here / "link").symlink_to(checkout)
    seeds = {
        "relative": "lists",
        "absolute": str(checkout / "lists"),
        "dotted": "./lists/../lists/sub/../",
        "symlinked": str(here / "link" / "lists"),
    }[spelling]
    os.chdir(checkout)
    assert offline("run", "lists", out="expected") == 0
    assert offline("run", seeds) == 0
    outputs = output_bytes(checkout / "out")
    assert outputs == output_bytes(checkout / "expected")
    assert not [name for name, data in outputs.items() if str(here).encode() in data]
    dataset = json.loads(outputs["enriched.json"])
    assert dataset["seeds"] == ["lists/a.md", "lists/sub/b.md"]
    assert {r["file"] for r in dataset["records"]} == {"lists/a.md", "lists/sub/b.md"}
    assert "lists/sub/b.md:" in outputs["report.md"].decode()


def test_check_passes_in_another_checkout_path_and_seeds_outside_it_are_named_with_dots(
    here: Path,
) -> None:
    make_lists(here / "one")
    (here / "one" / "repo").mkdir()
    os.chdir(here / "one" / "repo")
    assert offline("run", here / "one" / "lists") == 0  # absolute, outside the working folder
    dataset = json.loads(Path("out/enriched.json").read_bytes())
    assert dataset["seeds"] == ["../lists/a.md", "../lists/sub/b.md"]
    assert offline("check", "../lists") == 0
    shutil.copytree(here / "one", here / "elsewhere" / "two")
    os.chdir(here / "elsewhere" / "two" / "repo")
    assert offline("check", "../lists") == 0
    assert offline("check", here / "elsewhere" / "two" / "lists") == 0
