"""The history's CSV contract (`enrich.history`): what is appended, when nothing is, how it is
written, and every way a malformed file is refused with its file and line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from enrich.errors import InputError
from enrich.history import HEADER, History, Point, appended, parse_year, read_history, seeded
from enrich.metadata import HubMeta, ScholarMeta
from enrich.models import Identifier, Kind, Result, Status
from tests import builders as build

DAY = datetime(2026, 3, 2, 4, 17, tzinfo=UTC)


def repo(stars: int, when: datetime = DAY, **extra: object) -> Result:
    return build.repo("org/repo", stars, fetched_at=when, **extra)


def model(downloads: int, when: datetime = DAY) -> Result:
    data = HubMeta(hub_kind="model", id="org/model", downloads=downloads, likes=3)
    return build.result("hf_model:org/model", data, fetched_at=when)


def cited(citations: int, when: datetime = DAY) -> Result:
    data = ScholarMeta(paper_id="p", citations=citations, influential_citations=1)
    return build.result("scholar:arxiv:2306.00978", data, fetched_at=when)


def lines(history: History) -> list[tuple[str, str, str, str]]:
    return [(p.day.isoformat(), p.id.ref, p.field, p.value) for p in history.points]


def test_a_first_run_records_every_kept_value_known() -> None:
    history = appended(
        History(), build.by_id(repo(10, forks=2, license_spdx="MIT"), model(500), cited(7))
    )
    assert lines(history) == [
        ("2026-03-02", "github_repo:org/repo", "archived", "false"),
        ("2026-03-02", "github_repo:org/repo", "forks", "2"),
        ("2026-03-02", "github_repo:org/repo", "license_spdx", "MIT"),
        ("2026-03-02", "github_repo:org/repo", "stars", "10"),
        ("2026-03-02", "hf_model:org/model", "downloads", "500"),
        ("2026-03-02", "hf_model:org/model", "likes", "3"),
        ("2026-03-02", "scholar:arxiv:2306.00978", "citations", "7"),
        ("2026-03-02", "scholar:arxiv:2306.00978", "influential_citations", "1"),
    ]  # no status line for `ok`, none for an unknown value (no license, no move)


@pytest.mark.parametrize("days", [1, 7, 400])
def test_only_what_changed_is_appended_dated_by_its_fetch(days: int) -> None:
    later = DAY + timedelta(days=days)
    first = appended(History(), build.by_id(repo(10), model(500)))
    again = appended(first, build.by_id(repo(10, later), model(500, later)))
    assert again is first  # nothing changed: nothing appended
    moved = appended(first, build.by_id(repo(12, later), model(500, later)))
    assert set(lines(moved)) - set(lines(first)) == {
        (later.date().isoformat(), "github_repo:org/repo", "stars", "12")
    }
    assert set(lines(first)) <= set(lines(moved))  # never rewritten


def test_a_second_change_on_the_same_day_replaces_that_days_line() -> None:
    first = appended(History(), build.by_id(repo(10)))
    later = appended(first, build.by_id(repo(11, DAY + timedelta(hours=5))))
    again = appended(later, build.by_id(repo(14, DAY + timedelta(hours=9))))
    assert [p.value for p in again.points if p.field == "stars"] == ["14"]


@pytest.mark.parametrize("status", [Status.STALE, Status.ERROR, Status.SKIPPED])
def test_a_failed_or_skipped_fetch_appends_nothing(status: Status) -> None:
    first = appended(History(), build.by_id(repo(10)))
    failed = build.repo("org/repo", 99, status, fetched_at=DAY + timedelta(days=3))
    assert appended(first, build.by_id(failed)) is first


def test_vanishing_moving_and_coming_back_are_status_lines() -> None:
    first = appended(History(), build.by_id(repo(10)))
    gone = build.repo("org/repo", 0, Status.NOT_FOUND, fetched_at=DAY + timedelta(days=7))
    moved = build.repo(
        "org/new", 10, Status.MOVED, ref="github_repo:org/repo", moved_to="org/new",
        fetched_at=DAY + timedelta(days=14),
    )  # fmt: skip
    history = appended(appended(first, build.by_id(gone)), build.by_id(moved))
    assert lines(history)[len(first.points) :] == [
        ("2026-03-09", "github_repo:org/repo", "status", "not_found"),
        ("2026-03-16", "github_repo:org/repo", "moved_to", "org/new"),
        ("2026-03-16", "github_repo:org/repo", "status", "moved"),
    ]


def test_a_license_removed_is_a_blank_value() -> None:
    first = appended(History(), build.by_id(repo(10, license_spdx="MIT")))
    later = appended(first, build.by_id(repo(10, DAY + timedelta(days=2))))
    assert lines(later)[-1] == ("2026-03-04", "github_repo:org/repo", "license_spdx", "")


def test_an_entity_that_leaves_the_list_keeps_its_lines() -> None:
    first = appended(History(), build.by_id(repo(10), model(500)))
    assert appended(first, build.by_id(model(500, DAY + timedelta(days=7)))) is first


def test_backfill_seeds_from_the_previous_dataset_only_when_there_is_no_history() -> None:
    old = DAY - timedelta(days=90)
    previous = build.by_id(repo(8, old), cited(3, old))
    backfilled = seeded(History(), previous)
    assert {(p.day, p.field, p.value) for p in backfilled.points} >= {
        (old.date(), "stars", "8"),
        (old.date(), "citations", "3"),
    }
    existing = appended(History(), build.by_id(repo(10)))
    assert seeded(existing, previous) is existing
    assert seeded(History(), None) == History()


def test_files_are_one_per_year_sorted_with_the_header_and_read_back() -> None:
    history = appended(History(), build.by_id(repo(10, DAY - timedelta(days=365))))
    history = appended(history, build.by_id(repo(11), model(5, DAY + timedelta(days=1))))
    files = history.files()
    assert list(files) == ["2025.csv", "2026.csv"]
    assert files["2026.csv"].decode().splitlines() == [
        ",".join(HEADER),
        "2026-03-02,github_repo:org/repo,stars,11",
        "2026-03-03,hf_model:org/model,downloads,5",
        "2026-03-03,hf_model:org/model,likes,3",
    ]
    points = [
        p for name, data in files.items() for p in parse_year(data.decode(), name, int(name[:4]))
    ]
    assert tuple(points) == history.points


def test_a_value_with_a_comma_or_quote_is_quoted_and_read_back() -> None:
    history = appended(History(), build.by_id(repo(1, license_spdx='odd, "x"')))
    data = history.files()["2026.csv"].decode()
    assert '"odd, ""x"""' in data
    assert tuple(parse_year(data, "2026.csv", 2026)) == history.points


def test_read_history_reads_the_folder_and_none_is_empty(tmp_path: Path) -> None:
    assert read_history(tmp_path) == History()
    history = appended(History(), build.by_id(repo(10), cited(4, DAY + timedelta(days=400))))
    (tmp_path / "history").mkdir()
    for name, data in history.files().items():
        (tmp_path / "history" / name).write_bytes(data)
    (tmp_path / "history" / "README.txt").write_text("notes", encoding="utf-8")
    assert read_history(tmp_path) == history


GOOD = "date,ref,field,value\n2026-03-02,github_repo:org/repo,stars,10\n"


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("", 1, "empty file"),
        ("day,ref,field,value\n", 1, "header"),
        (GOOD + "2026-03-02,github_repo:org/repo,stars\n", 3, "3 values"),
        (GOOD + "2026-3-4,github_repo:org/repo,stars,10\n", 3, "date"),
        (GOOD + "2025-12-31,github_repo:org/repo,stars,10\n", 3, "not a day of 2026"),
        (GOOD + "2026-03-04,gitlab:org/repo,stars,10\n", 3, "gitlab"),
        (GOOD + "2026-03-04,github_repo:,stars,10\n", 3, "no key"),
        (GOOD + "2026-03-04,github_repo:org/repo,watchers,10\n", 3, "unknown field"),
        (GOOD + "2026-03-04,github_repo:org/repo,stars,1.2k\n", 3, "integer"),
        (GOOD + "2026-03-04,github_repo:org/repo,archived,yes\n", 3, "true or false"),
        (GOOD + "2026-03-04,github_repo:org/repo,status,stale\n", 3, "status must be"),
        (GOOD + "2026-03-01,github_repo:org/repo,stars,9\n", 3, "sorted"),
        (GOOD + "2026-03-02,github_repo:org/repo,stars,12\n", 3, "each once"),
        (GOOD + '2026-03-04,github_repo:org/repo,license_spdx,"MIT\n', 3, "malformed"),
    ],
)
def test_a_malformed_history_is_refused_with_file_and_line(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "2026.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_history(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'history' / '2026.csv'}:{line}: "), message
    assert says in message


@pytest.mark.parametrize("name", ["26.csv", "2026-q1.csv"])
def test_a_csv_not_named_by_its_year_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / name).write_text(GOOD, encoding="utf-8")
    with pytest.raises(InputError, match=r"named YEAR\.csv"):
        read_history(tmp_path)


def test_a_point_knows_its_number() -> None:
    repo_id = build.ident("github_repo:r/x")
    assert Point(date(2026, 1, 1), repo_id, "stars", "12").number == 12
    assert Point(date(2026, 1, 1), repo_id, "license_spdx", "12").number is None
    assert Point(date(2026, 1, 1), repo_id, "stars", "").number is None


def test_a_read_line_names_its_entity_by_identifier_written_back_as_its_ref() -> None:
    text = (
        "date,ref,field,value\n"
        "2026-03-02,github_repo:org/repo,stars,10\n"
        "2026-03-02,scholar:doi:10.1/x:y,citations,3\n"
        "2026-03-09,github_repo:org/repo,stars,12\n"
    )
    points = parse_year(text, "2026.csv", 2026)
    assert [p.id for p in points] == [
        build.ident("github_repo:org/repo"),
        Identifier(Kind.SCHOLAR, "doi:10.1/x:y"),  # the key keeps its own colons
        build.ident("github_repo:org/repo"),
    ]
    assert points[0].id is points[2].id  # one identifier per entity, however many lines
    assert History(tuple(points)).files()["2026.csv"].decode() == text
