"""The run summary: one row computation behind the terminal table and the markdown table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from enrich.cli import main
from enrich.config import Settings
from enrich.fetch import FetchReport
from enrich.models import Dataset
from enrich.pipeline import RunResult
from enrich.progress import COLUMNS, SourceRow, print_summary, source_rows, summary_markdown
from enrich.sources import SourceStats
from tests.conftest import SEED, api_env
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
    for key, value in api_env(api.base_url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)


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
    for path in (tmp_path / "output").iterdir():  # run times stay out of output/
        assert "Started" not in path.read_text(encoding="utf-8")


@pytest.mark.usefixtures("env")
def test_an_unwritable_summary_is_a_warning_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(run_args(tmp_path, "-q", "--summary-md", str(blocker / "step.md"))) == 0
    assert "cannot write the summary" in capsys.readouterr().err


def result_with(stats: SourceStats, warnings: tuple[str, ...] = ()) -> RunResult:
    report = FetchReport(
        results={},
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
    rows = source_rows(result)
    assert rows == [SourceRow("github", 3, 1, 0, 0, 0, 0, 0, 5, 41)]
    console = Console(record=True, width=200)
    print_summary(console, result, Settings(), 1.0)
    terminal = console.export_text()
    assert re.search(r"github\s*│\s*3\s*│\s*1\s*│\s*0\s*│.*│\s*5\s*│\s*41\s*│", terminal)
    markdown = summary_markdown(result, Settings(), 1.0)
    assert markdown_rows(markdown)[2] == list(rows[0].cells())
    assert "github: 2 item(s) failed" in terminal
    assert "- github: 2 item(s) failed" in markdown  # the same hints
    assert "Started" not in markdown  # no start time given, none shown


def test_markdown_escapes_html_and_pipes() -> None:
    stats = SourceStats()
    stats.note("answer <b>was</b> a | b")
    markdown = summary_markdown(result_with(stats, ("cache <corrupt>",)), Settings(), 0.5)
    assert "- cache &lt;corrupt&gt;" in markdown
    assert "- github: answer &lt;b&gt;was&lt;/b&gt; a | b" in markdown
    assert markdown_rows(markdown)[2][-1] == ""  # no rate limit known: an empty cell
