"""The run summary: one row computation behind the terminal table and the markdown table."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from enrich import pipeline
from enrich.cli import main
from enrich.config import Settings
from enrich.fetch import FetchReport
from enrich.models import Dataset, Result, Status
from enrich.pipeline import RunResult
from enrich.progress import (
    COLUMNS,
    SourceRow,
    Summary,
    hints,
    print_summary,
    source_rows,
    summary_markdown,
)
from enrich.sources import SourceStats
from tests import builders as build
from tests.conftest import SEED, fake_settings, files_below, point_at, working_copy
from tests.fakeapi import FakeAPI


def run_args(tmp_path: Path, *extra: str) -> list[str]:
    seeds = tmp_path / "seeds"
    if not seeds.exists():
        seeds.mkdir()
        (seeds / SEED.name).write_bytes(SEED.read_bytes())
    out, cache = tmp_path / "output", tmp_path / "cache"
    return ["run", "--seeds", str(seeds), "--out", str(out), "--cache", str(cache), *extra]


def markdown_rows(text: str) -> list[list[str]]:
    """The cells of every markdown table row, header and separator included."""
    return [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in text.splitlines()
        if line.startswith("| ")
    ]


@pytest.fixture
def env(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(api, monkeypatch)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder after `enrich run` of the seed (`run_args`) with every source answering, as
    the working folder, made once: tests that go on from it work in a copy (`after_good_run`)
    against their own `api`, which knows the same facts (fixed per id)."""
    root = tmp_path_factory.mktemp("good-run")
    with FakeAPI() as api, pytest.MonkeyPatch.context() as patch:
        api.populate_from_markdown(SEED.read_text(encoding="utf-8"))
        point_at(api, patch)
        patch.chdir(root)
        assert main(run_args(root, "-q")) == 0
    return root


@pytest.fixture
def after_good_run(good_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of `good_run` as the working folder (the seeds named alike in its outputs)."""
    return working_copy(good_run, tmp_path / "after-good-run", monkeypatch)


@pytest.mark.usefixtures("env")
def test_summary_md_appends_a_table_per_source_even_when_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary" / "step.md"
    assert main(run_args(tmp_path, "-q", "--summary-md", str(summary))) == 0
    assert capsys.readouterr().err == ""  # -q: nothing on the terminal
    first = summary.read_text(encoding="utf-8")
    rows = markdown_rows(first)
    assert rows[0] == list(COLUMNS)
    assert rows[2] == ["arxiv", "63", "0", "63", "0", "0", "0", "0", "1", ""]
    assert rows[3][:9] == ["github", "28", "0", "28", "0", "0", "0", "0", "30"]
    assert re.search(r"Started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.", first)
    assert "Wrote `" in first

    assert main(run_args(tmp_path, "-q", "--summary-md", str(summary))) == 0
    both = summary.read_text(encoding="utf-8")
    assert both.startswith(first)  # appended, as $GITHUB_STEP_SUMMARY wants
    second = both[len(first) :]
    assert markdown_rows(second)[2] == ["arxiv", "63", "63", "0", "0", "0", "0", "0", "0", ""]
    assert "/` is up to date." in second
    for path in files_below(tmp_path / "output").values():  # run times stay out of output/
        assert "Started" not in path.read_text(encoding="utf-8")


@pytest.mark.usefixtures("env")
def test_an_unwritable_summary_is_a_warning_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(run_args(tmp_path, "-q", "--summary-md", str(blocker / "step.md"))) == 0
    assert "cannot write the summary" in capsys.readouterr().err


def outcome(ref: str, status: Status, source: str = "github") -> Result:
    return build.result(ref, None, status, source=source)


def result_with(stats: SourceStats, warnings: tuple[str, ...] = ()) -> RunResult:
    """github: 3 items, one from the cache, two failed (one kept its last value)."""
    report = FetchReport(
        results={
            build.ident("github_repo:a/cached"): outcome("github_repo:a/cached", Status.OK),
            build.ident("github_repo:a/kept"): outcome("github_repo:a/kept", Status.STALE),
            build.ident("github_repo:a/lost"): outcome("github_repo:a/lost", Status.ERROR),
        },
        stats={"github": stats},
        served={"github": 3},
        from_cache={"github": 1},
        failed={"github": 2},
    )
    dataset = Dataset(seeds=[], records=[], diagnostics=[])
    return RunResult((), (), dataset, report, warnings)


def test_terminal_and_markdown_tables_show_the_same_rows() -> None:
    stats = SourceStats(requests=5, revalidated=0)
    stats.rate_limit(41)
    result = result_with(stats)
    rows = source_rows(result, Settings())
    assert rows == [SourceRow("github", 3, 1, 0, 0, 0, 0, 2, 5, 41)]
    console = Console(record=True, width=200, force_terminal=True)
    print_summary(console, Summary.of(result, Settings(), 1.0))
    terminal = console.export_text()
    assert re.search(r"github\s*│\s*3\s*│\s*1\s*│\s*0\s*│.*│\s*5\s*│\s*41\s*│", terminal)
    markdown = summary_markdown(Summary.of(result, Settings(), 1.0))
    assert markdown_rows(markdown)[2] == list(rows[0].cells())
    assert "github: 2 item(s) failed" in terminal
    assert "- github: 2 item(s) failed" in markdown  # the same hints
    assert "Started" not in markdown  # no start time given, none shown


def test_markdown_escapes_html_and_pipes() -> None:
    stats = SourceStats()
    stats.note("answer <b>was</b> a | b")
    markdown = summary_markdown(
        Summary.of(result_with(stats, ("cache <corrupt>",)), Settings(), 0.5)
    )
    assert "- cache &lt;corrupt&gt;" in markdown
    assert "- github: answer &lt;b&gt;was&lt;/b&gt; a | b" in markdown
    assert markdown_rows(markdown)[2][-1] == ""  # no rate limit known: an empty cell


# ------------------------------------------------------------------ a log has no width to fit


@pytest.mark.parametrize("width", [40, 80, 120])
def test_outside_a_terminal_the_table_is_printed_whole(width: int) -> None:
    """A CI log, `| tee` or a redirect: no header or cell is cut (`sour…`), whatever width
    the console assumes; the columns still line up."""
    stats = SourceStats(requests=12345, revalidated=0)
    stats.rate_limit(4999)
    stream = io.StringIO()
    console = Console(file=stream, width=width, soft_wrap=True)
    assert not console.is_terminal
    print_summary(console, Summary.of(result_with(stats), Settings(), 1.0))
    text = stream.getvalue()
    assert "…" not in text
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("source"))
    assert re.split(r"\s{2,}", header) == list(COLUMNS)
    row = next(line for line in lines if line.startswith("github"))
    assert re.split(r"\s+", row) == ["github", "3", "1", "0", "0", "0", "0", "2", "12345", "4999"]
    assert len(row) == len(header)  # right-aligned under their headers


def test_on_a_terminal_the_table_is_drawn() -> None:
    stream = io.StringIO()
    console = Console(file=stream, width=200, force_terminal=True, color_system=None)
    print_summary(console, Summary.of(result_with(SourceStats()), Settings(), 1.0))
    assert "│ github" in stream.getvalue()


@pytest.mark.usefixtures("env")
def test_a_piped_run_prints_every_column_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(run_args(tmp_path)) == 0
    err = capsys.readouterr().err
    assert "…" not in err
    header = next(line for line in err.splitlines() if line.startswith("source"))
    assert re.split(r"\s{2,}", header) == list(COLUMNS)


# ------------------------------------------------------------------ counts that add up


@pytest.mark.parametrize(
    ("linked", "discovery"),
    [
        ((Status.STALE, Status.ERROR), (Status.STALE,) * 83),  # the "-83"
        ((Status.ERROR,), (Status.STALE, Status.ERROR)),
        ((Status.STALE,) * 3, ()),
        ((Status.STALE,), (Status.STALE,) * 5 + (Status.OK,)),
    ],
    ids=["stale-lookups", "mixed", "linked-only", "lookups-and-facts"],
)
def test_failure_counts_are_of_linked_items_and_never_negative(
    linked: tuple[Status, ...], discovery: tuple[Status, ...]
) -> None:
    """Discovery lookups that kept a last value are not failures of the list's items: the
    hint counts the failed linked items, kept and not, in one population."""
    results = {
        build.ident(f"hf_model:o/m{i}"): outcome(f"hf_model:o/m{i}", s, "huggingface")
        for i, s in enumerate(linked)
    }
    lookups = {
        build.ident(f"hf_paper:2401.{i:05d}"): outcome(f"hf_paper:2401.{i:05d}", s, "huggingface")
        for i, s in enumerate(discovery)
    }
    report = FetchReport(
        results={**results, **lookups},
        served={"huggingface": len(results) + len(lookups)},
        failed={"huggingface": len(linked)},
        optional=frozenset(lookups),
        optional_failed={"huggingface": sum(1 for s in discovery if s is not Status.OK)}
        if discovery
        else {},
    )
    result = RunResult((), (), Dataset(seeds=[], records=[], diagnostics=[]), report)
    said = list(hints(result, Settings()))
    kept = linked.count(Status.STALE)
    lost = linked.count(Status.ERROR)
    assert (
        f"huggingface: {len(linked)} item(s) failed; {kept} kept their last known value "
        f"(stale), {lost} have none yet (error)"
    ) in said
    assert not any(re.search(r"(?<![\w:.])-\d", line) for line in said), said
    assert source_rows(result, Settings())[0].failed == len(linked)


def test_a_failed_hub_refresh_counts_no_lookup_as_a_failed_item(
    api: FakeAPI, after_good_run: Path
) -> None:
    """The issue's case, end to end: a refresh after a good run with the Hub answering 500;
    every Hub item and discovery lookup keeps its last value."""
    settings = fake_settings(api, after_good_run)
    api.fault("hub", "500")
    result = pipeline.run(replace(settings, refresh=True))
    failed = result.failed_sources()["huggingface"]
    assert result.fetch.optional_failed["huggingface"] > 0  # the lookups failed too
    said = list(hints(result, settings))
    assert (
        f"huggingface: {failed} item(s) failed; {failed} kept their last known value "
        "(stale), 0 have none yet (error)"
    ) in said
    row = next(r for r in source_rows(result, settings) if r.source == "huggingface")
    assert row.failed == failed
    assert all(not cell.startswith("-") for cell in row.cells())


# ------------------------------------------------------------------ offline says what it did


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("fault", [None, "github"], ids=["after-a-good-run", "after-a-failed-run"])
def test_an_offline_run_says_it_asked_nothing(
    api: FakeAPI,
    tmp_path: Path,
    fault: str | None,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    """Not the previous run's "refreshed 63" or "failed 28": 0 requests, every item served
    from the cache or the previous output. The good run is the module's (`good_run`)."""
    if fault:
        api.fault(fault, "500")
        main(run_args(tmp_path))
    else:
        tmp_path = request.getfixturevalue("after_good_run")
    capsys.readouterr()
    summary = tmp_path / "step.md"
    assert main(run_args(tmp_path, "--offline", "--summary-md", str(summary))) == 0
    err = capsys.readouterr().err
    rows = markdown_rows(summary.read_text(encoding="utf-8"))[2:]
    assert rows
    for cells in rows:
        items, cached, refreshed, revalidated, failed, requests = (
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[7],
            cells[8],
        )
        assert (cached, refreshed, revalidated, failed, requests) == (items, "0", "0", "0", "0")
    served = sum(int(cells[1]) for cells in rows)
    line = f"Offline: 0 requests; {served} item(s) served from the cache or the previous output."
    assert line in err
    assert line in summary.read_text(encoding="utf-8")
    assert "item(s) failed" not in err


def test_an_offline_run_with_nothing_known_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(run_args(tmp_path, "--offline")) == 0
    err = capsys.readouterr().err
    # 249 linked entities and Hub lookups, and 14 recommendations lookups (one a section)
    assert (
        "Offline: 0 requests; 263 item(s) served from the cache or the previous output, "
        "263 of them not known yet (skipped)."
    ) in err
