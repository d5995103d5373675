"""Simulated weekly refreshes against the loopback API, with a test clock (the sources'
`FetchContext.now`) and a fake whose stars, downloads and citations move between runs: the
history holds exactly the changes, the trends and flags are the hand-computed ones, a run
that learns nothing rewrites no byte, and `check` covers the history."""

from __future__ import annotations

import functools
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from enrich import fetch, pipeline
from enrich.cli import main
from enrich.columns import humanise
from enrich.config import Settings
from enrich.errors import InputError
from enrich.sources import FetchContext
from tests.conftest import SEED, fake_settings, working_copy
from tests.fakeapi import FakeAPI

START = datetime(2026, 3, 2, 4, 17, tzinfo=UTC)
REPO, MODEL, PAPER = "mit-han-lab/llm-awq", "bit-dny/MindLLM-1b3-chat-zh-v2.0", "ARXIV:2306.00978"
COLUMNS = ("stars", "stars_trend", "downloads_trend", "citations_trend", "status")


class Clock:
    """The sources' clock, set by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    ticking = Clock()
    monkeypatch.setattr(fetch, "FetchContext", functools.partial(FetchContext, now=ticking))
    return ticking


def settings_of(api: FakeAPI, root: Path) -> Settings:
    api.set_rate_limit(5000)
    return fake_settings(
        api,
        root,
        refresh=True,  # every run asks again, as a weekly refresh past the TTL does
        columns=COLUMNS,
    )


@pytest.fixture(scope="module")
def day_zero(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder after its first run, on `START`, made once: each test works in a
    copy (`project`), against its own `api`, which knows the same facts (fixed per id). The
    folder is the working one of each run, so that the outputs name the seeds the same way
    (relative to it) in the copy."""
    root = tmp_path_factory.mktemp("day-zero")
    (root / "seeds").mkdir()
    shutil.copy(SEED, root / "seeds" / SEED.name)
    with FakeAPI() as api, pytest.MonkeyPatch.context() as patch:
        api.populate_from_markdown(SEED.read_text(encoding="utf-8"))
        patch.setattr(fetch, "FetchContext", functools.partial(FetchContext, now=Clock()))
        patch.chdir(root)
        assert pipeline.run(settings_of(api, root)).failed_sources() == {}
    return root


@pytest.fixture
def project(
    day_zero: Path, tmp_path: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The settings of a copy of `day_zero`'s folder, against `api`, as the working folder."""
    return settings_of(api, working_copy(day_zero, tmp_path / "project", monkeypatch))


def history_lines(settings: Settings) -> list[str]:
    folder = settings.out / "history"
    return [
        line
        for path in sorted(folder.glob("*.csv"))
        for line in path.read_text(encoding="utf-8").splitlines()[1:]
    ]


def row(settings: Settings, name: str) -> list[str]:
    """The generated cells of the row called `name` in the regenerated document."""
    text = (settings.out / SEED.name).read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith(f"| {name} "))
    return [cell.strip() for cell in line.strip("|").split("|")][-len(COLUMNS) :]


def refresh(settings: Settings, clock: Clock, days: int) -> pipeline.RunResult:
    clock.now += timedelta(days=days)
    result = pipeline.run(settings)
    assert result.failed_sources() == {}
    return result


@pytest.mark.slow
def test_weekly_refreshes_keep_exactly_the_changes(
    project: Settings, api: FakeAPI, clock: Clock
) -> None:
    first = history_lines(project)
    assert first
    assert all(line.startswith("2026-03-02,") for line in first)
    stars = api.github.find(REPO, follow_renames=False).stars  # type: ignore[union-attr]
    downloads = api.hub.repos[("model", MODEL)].downloads
    citations = api.scholar.papers[PAPER].citations
    assert f"2026-03-02,github_repo:{REPO},stars,{stars}" in first

    api.add_repo(REPO, stars=stars + 100)
    api.add_model(MODEL, downloads=downloads + 5_000)
    api.update_scholar(PAPER, citations=citations + 40)
    refresh(project, clock, 7)
    assert history_lines(project)[len(first) :] == [
        f"2026-03-09,github_repo:{REPO},stars,{stars + 100}",
        f"2026-03-09,hf_model:{MODEL},downloads,{downloads + 5_000}",
        "2026-03-09,scholar:arxiv:2306.00978,citations," + str(citations + 40),
    ]
    # 7 days of history: not enough for a 30-day trend
    assert row(project, "AWQ")[1:4] == ["", "", ""]

    api.add_repo(REPO, stars=stars + 1_350)
    api.update_scholar(PAPER, citations=citations + 100)
    refresh(project, clock, 31)  # 2026-04-09: 30 days back is 2026-03-10
    assert len(history_lines(project)) == len(first) + 5
    assert row(project, "AWQ")[:4] == [
        humanise(stars + 1_350),
        "+1.2k",  # stars + 1,350 now, stars + 100 on 2026-03-10
        "",  # the row links no model
        "+60",  # citations + 100 now, + 40 then
    ]
    changes = (project.out / "CHANGES.md").read_text(encoding="utf-8")
    assert f"github_repo:{REPO}: stars" in changes.split("## Trending (30 days)")[1]

    before = {p: p.read_bytes() for p in project.out.rglob("*") if p.is_file()}
    again = refresh(project, clock, 7)  # nothing moved upstream
    assert again.written == ()
    assert {p: p.read_bytes() for p in project.out.rglob("*") if p.is_file()} == before
    assert pipeline.check(project) == []


def test_the_first_run_with_history_seeds_it_from_the_previous_dataset(
    project: Settings, api: FakeAPI, clock: Clock
) -> None:
    seeded = history_lines(project)
    shutil.rmtree(project.out / "history")  # a dataset written before there was a history
    assert pipeline.check(project) != []  # check sees the history missing
    stars = api.github.find(REPO, follow_renames=False).stars  # type: ignore[union-attr]
    api.add_repo(REPO, stars=stars + 3)
    refresh(project, clock, 14)
    lines = history_lines(project)
    assert lines[: len(seeded)] == seeded  # every value, dated by its old fetched_at
    assert lines[len(seeded) :] == [f"2026-03-16,github_repo:{REPO},stars,{stars + 3}"]


def test_a_malformed_history_stops_run_and_check_with_file_and_line(project: Settings) -> None:
    path = project.out / "history" / "2026.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",", ";", 1)
    path.write_text("".join(lines), encoding="utf-8")
    for attempt in (pipeline.run, pipeline.check):
        with pytest.raises(InputError, match=rf"^{path}:4: malformed history line"):
            attempt(project)


def test_check_sees_a_history_line_edited_by_hand(project: Settings) -> None:
    assert pipeline.check(project) == []
    path = project.out / "history" / "2026.csv"
    text = path.read_text(encoding="utf-8")
    edited = text.replace(",stars,", ",stars,1", 1)
    path.write_text(edited, encoding="utf-8")
    found = pipeline.check(replace(project, columns=COLUMNS))
    assert len(found) == 1
    assert "history/2026.csv" in found[0]


def test_the_cli_names_the_malformed_line_and_exits_2(
    project: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project.out / "history" / "2026.csv"
    with path.open("a", encoding="utf-8") as history:
        history.write("2026-03-02,github_repo:a/b,stars,many\n")
    folders = ["--seeds", str(project.seeds), "--out", str(project.out)]
    for command in (["check"], ["run", "--offline", "-q"]):
        capsys.readouterr()
        assert main([*command, *folders, "--cache", str(project.cache)]) == 2
        err = capsys.readouterr().err
        assert f"{path}:" in err
        assert "stars must be an integer, not 'many'" in err
