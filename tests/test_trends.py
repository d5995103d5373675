"""What the history says (`enrich.trends`): 30-day changes computed by hand, the status flags'
rules one by one, the movers, the sparkline, and the columns that show them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from enrich.changes import changes_markdown
from enrich.columns import Facts, select, signed
from enrich.history import History, Point
from enrich.metadata import HubMeta, RepoMeta, ScholarMeta
from enrich.models import Dataset, Identifier, Kind, Result, Status
from enrich.trendchart import render_trends
from enrich.trends import Held, Trends, movers, spark, status
from tests import builders as build

AS_OF = date(2026, 6, 30)
REPO = "github_repo:org/repo"
REPO_ID = Identifier.of_ref(REPO)


def trends(*points: tuple[date, str, str, int | str]) -> Trends:
    made = [
        Point(day, Identifier.of_ref(ref), name, str(value)) for day, ref, name, value in points
    ]
    return Trends.of(History(tuple(sorted(made, key=lambda p: (p.day, p.id.ref, p.field)))))


def linked(result: Result) -> tuple[Identifier, Result]:
    return Identifier.of_ref(result.ref), result


def days_ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        # value 30 days before the last day, hand-computed against the last value
        ([(45, 100), (0, 1300)], 1200),
        ([(30, 100), (10, 150), (0, 90)], -10),  # a line exactly 30 days back counts
        ([(60, 7), (31, 9), (29, 20), (0, 20)], 11),  # the last line on or before it
        ([(90, 5), (0, 5)], 0),
        ([(29, 100), (0, 200)], None),  # the history does not reach 30 days back
    ],
)
def test_a_trend_is_the_change_over_the_last_30_days(
    series: list[tuple[int, int]], expected: int | None
) -> None:
    found = trends(*((days_ago(ago), REPO, "stars", n) for ago, n in series))
    assert found.as_of == AS_OF
    assert found.delta(REPO_ID, "stars") == expected


def test_now_is_the_last_day_of_the_whole_history() -> None:
    found = trends(
        (days_ago(40), REPO, "stars", 10),
        (days_ago(20), REPO, "stars", 30),
        (AS_OF, "scholar:arxiv:1", "citations", 1),  # another entity moved the last day
    )
    assert found.delta(REPO_ID, "stars") == 20
    assert Trends.of(History()).delta(REPO_ID, "stars") is None


def test_signed_changes_are_humanised() -> None:
    assert [signed(n) for n in (1234, -35, 0, None, 2_500_000)] == [
        "+1.2k",
        "-35",
        "0",
        "",
        "+2.5M",
    ]


def test_movers_are_the_biggest_changes_first_with_their_share() -> None:
    found = trends(
        (days_ago(40), "github_repo:a/1", "stars", 100),
        (days_ago(40), "hf_model:b/1", "downloads", 10_000),
        (days_ago(40), "scholar:arxiv:1", "citations", 0),
        (AS_OF, "github_repo:a/1", "stars", 150),
        (AS_OF, "hf_model:b/1", "downloads", 9_000),
        (AS_OF, "scholar:arxiv:1", "citations", 4),
    )
    refs = ["github_repo:a/1", "hf_model:b/1", "scholar:arxiv:1", "github_repo:gone/1"]
    moved = movers(found, [Identifier.of_ref(ref) for ref in refs])
    assert [(m.id.ref, m.change) for m in moved] == [
        ("hf_model:b/1", -1000),
        ("github_repo:a/1", 50),
        ("scholar:arxiv:1", 4),
    ]
    assert [m.relative for m in moved] == [-0.1, 0.5, None]  # nothing to compare 4 with


def held(
    repo: RepoMeta | None = None,
    links: Sequence[tuple[Identifier, Result]] = (),
    published: date | None = None,
) -> Held:
    found = build.result(REPO, repo) if repo is not None else None
    return Held(found, (REPO_ID if found else None, None, None), links, published)


def repo_meta(**fields: object) -> RepoMeta:
    return RepoMeta(full_name="org/repo", stars=1, license_spdx="MIT", **fields)  # type: ignore[arg-type]


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


START = "github_repo:x/start"
HISTORY = trends((days_ago(400), START, "stars", 1), (AS_OF, START, "stars", 2))


@pytest.mark.parametrize(
    ("row", "flags"),
    [
        (held(repo_meta(archived=True, pushed_at=at(days_ago(900)))), ("dead",)),
        (held(repo_meta(pushed_at=at(days_ago(183)))), ("inactive",)),
        (held(repo_meta(pushed_at=at(days_ago(182)))), ()),
        (held(repo_meta(pushed_at=at(days_ago(10))), published=days_ago(182)), ("new",)),
        (held(repo_meta(pushed_at=at(days_ago(10))), published=days_ago(184)), ()),
        (held(RepoMeta(full_name="org/repo", stars=1)), ("no license",)),
        (
            held(RepoMeta(full_name="o/r", stars=1, pushed_at=at(days_ago(300)))),
            ("inactive", "no license"),
        ),
        (
            held(links=[linked(build.result("hf_model:a/b", None, Status.NOT_FOUND))]),
            ("dead",),
        ),
        (
            held(links=[linked(build.repo("a/b", 1, Status.MOVED))]),
            ("dead",),
        ),
        (held(links=[linked(build.result("arxiv:1", None, Status.NOT_FOUND))]), ()),
        (held(), ()),
    ],
)
def test_status_flags_follow_their_rules(row: Held, flags: tuple[str, ...]) -> None:
    assert status(HISTORY, row) == flags


def test_new_when_first_seen_within_six_months_but_not_from_the_first_day() -> None:
    old = "github_repo:x/old"
    found = trends(
        (days_ago(400), old, "stars", 1),
        (days_ago(100), REPO, "stars", 1),
        (AS_OF, old, "stars", 2),
    )
    links = [linked(build.repo("org/repo", 1, ref=REPO))]
    assert status(found, held(links=links)) == ("new",)
    since_start = trends((days_ago(100), REPO, "stars", 1), (AS_OF, old, "stars", 2))
    assert status(since_start, held(links=links)) == ()  # the list's first run: all seen then
    late = trends(
        (days_ago(400), old, "stars", 1),
        (days_ago(200), REPO, "stars", 1),
        (AS_OF, old, "stars", 2),
    )
    assert status(late, held(links=links)) == ()


def test_without_a_history_only_the_facts_flag() -> None:
    empty = Trends.of(History())
    assert status(empty, held(repo_meta(pushed_at=at(days_ago(900))))) == ()
    assert status(empty, held(repo_meta(archived=True))) == ("dead",)


def test_a_sparkline_needs_two_values_and_spans_the_year() -> None:
    assert spark(trends((AS_OF, REPO, "stars", 5)), REPO_ID, "stars") == ""
    line = spark(
        trends(
            (days_ago(500), REPO, "stars", 0),
            (days_ago(100), REPO, "stars", 10),
            (AS_OF, "github_repo:x/other", "stars", 1),
        ),
        REPO_ID,
        "stars",
    )
    # from a year back (value 0) to the line 100 days back (10) and on to now: low to high
    assert line == "0.0,15.0 58.1,1.0 80.0,1.0"


def test_the_columns_show_the_trends_and_flags_of_a_row() -> None:
    old, now = at(days_ago(45)), at(AS_OF)
    record = build.record(build.link("https://github.com/org/repo", Kind.GITHUB_REPO, "org/repo"))
    found = build.repo("org/repo", 1300, fetched_at=now, pushed_at=at(days_ago(300)))
    history = trends((old.date(), REPO, "stars", 100), (AS_OF, REPO, "stars", 1300))
    facts = Facts(build.by_id(found), trends=history).of(record)
    columns = select(["stars", "stars_trend", "downloads_trend", "status"])
    assert [c.value(facts) for c in columns] == ["1.3k", "+1.2k", "", "inactive, no license"]
    plain = Facts(build.by_id(found)).of(record)  # no history: blank, as for a row with no repo
    assert [c.value(plain) for c in columns] == ["1.3k", "", "", ""]


# ------------------------------------------------------------------ CHANGES.md and trends.svg


def moving_dataset() -> tuple[Dataset, Dataset, Trends]:
    """A repository up 1,200 stars in 30 days (from 100), a model down 1,000 downloads (from
    10,000), a paper up 4 citations (from 0), a repository whose last push turned six months
    old since the history's previous day, and one archived by this refresh."""
    quiet = at(days_ago(190))
    old_repos = [
        build.repo("org/repo", 1000, fetched_at=at(AS_OF)),
        build.repo("org/quiet", 5, fetched_at=at(days_ago(45)), pushed_at=quiet),
        build.repo("org/shut", 7, fetched_at=at(days_ago(45))),
    ]
    new_repos = [
        build.repo("org/repo", 1300, fetched_at=at(AS_OF)),
        old_repos[1],
        build.repo("org/shut", 7, fetched_at=at(AS_OF), archived=True),
    ]
    history = trends(
        (days_ago(45), REPO, "stars", 100),
        (days_ago(45), "hf_model:o/m", "downloads", 10_000),
        (days_ago(45), "scholar:arxiv:1", "citations", 0),
        (days_ago(10), REPO, "stars", 1000),
        (AS_OF, REPO, "stars", 1300),
        (AS_OF, "hf_model:o/m", "downloads", 9_000),
        (AS_OF, "scholar:arxiv:1", "citations", 4),
    )
    others = [
        build.result("hf_model:o/m", HubMeta(hub_kind="model", id="o/m", downloads=9_000)),
        build.result("scholar:arxiv:1", ScholarMeta(paper_id="p", citations=4)),
    ]
    return build.dataset((), *old_repos, *others), build.dataset((), *new_repos, *others), history


def section(text: str, title: str) -> list[str]:
    part = text.split(f"## {title}\n\n", 1)[1].split("\n\n", 1)[0]
    return [line.removeprefix("- ") for line in part.splitlines()]


def test_changes_tell_the_trending_and_the_newly_archived_or_quiet() -> None:
    previous, dataset, history = moving_dataset()
    text = changes_markdown(previous, dataset, history, days_ago(20))
    assert text is not None
    assert section(text, "Trending (30 days)") == [
        "github_repo:org/repo: stars 1.3k (+1.2k, +1200%)",
        "hf_model:o/m: downloads 9k (-1k, -10%)",
        "scholar:arxiv:1: citations 4 (+4)",
    ]
    assert section(text, "Trending, relative (30 days)") == [
        "github_repo:org/repo: stars 1.3k (+1.2k, +1200%)",
        "hf_model:o/m: downloads 9k (-1k, -10%)",
    ]  # a paper cited 0 times before has no share
    assert section(text, "Newly archived, gone quiet") == [
        "github_repo:org/shut: archived",
        f"github_repo:org/quiet: no push since {days_ago(190).isoformat()}",
    ]
    # quiet before the history's previous day: not news any more
    later = changes_markdown(previous, dataset, history, days_ago(5))
    assert later is not None
    assert "org/quiet" not in later


def test_without_a_change_there_is_no_changes_text_whatever_trends() -> None:
    _, dataset, history = moving_dataset()
    # nothing changed: the history's last day did not move either
    assert changes_markdown(dataset, dataset, history, history.as_of) is None


def test_trends_svg_draws_the_top_movers_with_the_same_bytes() -> None:
    _, dataset, history = moving_dataset()
    svg = render_trends(history, dataset.results)
    assert svg == render_trends(history, dict(reversed(dataset.results.items())))
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[2:] == [
        "github_repo:org/repo",
        "stars 1.3k (+1.2k)",
        "hf_model:o/m",
        "downloads 9k (-1k)",
        "scholar:arxiv:1",
        "citations 4 (+4)",
    ]
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polyline"))) == 3
    assert "none yet" in render_trends(Trends.of(History()), dataset.results)


def test_trends_svg_escapes_what_it_draws() -> None:
    ref = 'github_repo:a/<b>&"c'
    history = trends((days_ago(40), ref, "stars", 1), (AS_OF, ref, "stars", 9))
    svg = render_trends(history, dict([linked(build.repo('a/<b>&"c', 9, ref=ref))]))
    assert "<b>" not in svg
    ET.fromstring(svg)  # well-formed
