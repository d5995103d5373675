"""Papers to consider, end to end: a run of the seed against the loopback API asks one
recommendations lookup per section, report.md lists candidates none of which the list has,
and an unreachable recommendations endpoint costs the run nothing but a summary line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from enrich import pipeline
from enrich.cli import main
from enrich.config import Settings
from enrich.metadata import Recommendations
from enrich.models import Kind
from enrich.plan import recommendation
from enrich.progress import hints, source_rows
from enrich.rows import sections
from enrich.sources.recommend import PATH
from tests.conftest import SEED, fake_settings
from tests.fakeapi import FakeAPI


def settings(api: FakeAPI, root: Path, **overrides: object) -> Settings:
    return fake_settings(api, root, SEED, **overrides)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> tuple[pipeline.RunResult, Path]:
    """A run of the seed with every endpoint answering, made once: its result and output
    folder, which the tests below only read (the fake's facts are fixed per id, so their own
    `api` knows the same ones)."""
    root = tmp_path_factory.mktemp("good")
    with FakeAPI() as api:
        api.populate_from_markdown(SEED.read_text(encoding="utf-8"))
        return pipeline.run(settings(api, root)), root / "output"


def asked(api: FakeAPI) -> int:
    return sum(1 for r in api.requests if r.path == PATH)


def section_count(result: pipeline.RunResult) -> int:
    """The seed's sections with a paper Semantic Scholar can look up."""
    rows = sections(result.dataset.records).values()
    return sum(1 for group in rows if recommendation(group) is not None)


def linked_urls(result: pipeline.RunResult) -> set[str]:
    """Every arXiv id and DOI the seed links, as the report would link them."""
    found: set[str] = set()
    for record in result.dataset.records:
        for link in record.links:
            if link.kind in (Kind.ARXIV, Kind.HF_PAPER):
                found.add(f"https://arxiv.org/abs/{link.key}")
            elif link.kind is Kind.DOI:
                found.add(f"https://doi.org/{link.key}")
    return found


def test_report_lists_candidates_per_section_none_in_the_list_one_request_each(
    api: FakeAPI, tmp_path: Path
) -> None:
    config = settings(api, tmp_path)
    listed = api.add_recommended("ARXIV:2305.14314")  # QLoRA: in the list, by arXiv id
    result = pipeline.run(config)
    sections_ = section_count(result)
    assert sections_ > 5
    assert asked(api) == sections_
    row = next(r for r in source_rows(result, config) if r.source == "recommendations")
    assert (row.items, row.requests, row.failed) == (sections_, sections_, 0)
    answers = [
        e.data for e in result.dataset.entities.values() if isinstance(e.data, Recommendations)
    ]
    assert len(answers) == sections_
    # the fake's answers hold papers the list has: the filter had work to do
    assert all(listed.paper_id in {p.paper_id for p in a.papers} for a in answers)
    report = (tmp_path / "output" / "report.md").read_text(encoding="utf-8")
    part = report[report.index("## Papers to consider") :]
    headings = re.findall(r"^### (.+)$", part, flags=re.MULTILINE)
    assert len(headings) == sections_
    urls = set(re.findall(r"\]\((https://[^)]+)\)", part))
    assert urls
    assert not urls & linked_urls(result)
    assert "QLoRA" not in part.split("Related to")[0]
    assert all(len(re.findall(r"^- ", s, flags=re.MULTILINE)) <= 10 for s in part.split("### "))


def test_a_warm_run_asks_no_lookup_and_discover_false_asks_none(
    api: FakeAPI, tmp_path: Path, good: tuple[pipeline.RunResult, Path]
) -> None:
    shutil.copytree(good[1].parent, tmp_path, dirs_exist_ok=True)  # after the good run
    config = settings(api, tmp_path)
    pipeline.run(config)
    assert asked(api) == 0  # fresh in the cache for a week
    api.reset_requests()
    off = settings(api, tmp_path / "off", discover=False)
    result = pipeline.run(off)
    assert asked(api) == 0
    assert "Papers to consider" not in (tmp_path / "off/output/report.md").read_text()
    assert "recommendations" not in result.fetch.served


@pytest.mark.parametrize("kind", ["reset", "503", "malformed"])
def test_an_unreachable_recommendations_endpoint_costs_the_run_one_summary_line(
    api: FakeAPI, tmp_path: Path, kind: str, good: tuple[pipeline.RunResult, Path]
) -> None:
    good_run, good_output = good
    api.fault("scholar", kind, path_contains=PATH)
    config = settings(api, tmp_path / "down")
    down = pipeline.run(config)
    assert down.failed_sources() == {}  # exit code 0
    extra = set(hints(down, config)) - set(hints(good_run, config))
    assert extra == {
        f"recommendations: {section_count(down)} discovery lookup(s) failed; "
        "retried next run (not a failure)"
    }
    report = (tmp_path / "down" / "output" / "report.md").read_text(encoding="utf-8")
    assert "Papers to consider" not in report
    before = (good_output / "report.md").read_text(encoding="utf-8")
    assert report.rstrip("\n") == before[: before.index("## Papers to consider")].rstrip("\n")
    # every linked entity fetched as in the good run
    for ref, entity in good_run.dataset.entities.items():
        if entity.provenance.source != "recommendations":
            assert down.dataset.entities[ref].status == entity.status, ref


def test_suggest_papers_lists_them_offline_and_by_section(
    api: FakeAPI, capsys: pytest.CaptureFixture[str], good: tuple[pipeline.RunResult, Path]
) -> None:
    result, output = good
    out = str(output)
    capsys.readouterr()
    with api.editing():
        api.fault("scholar", "reset")  # nothing is asked: a request would fail
    before = len(api.requests)
    assert main(["suggest", "--out", out, "--papers"]) == 0
    everything = capsys.readouterr()
    assert "found through Semantic Scholar" in everything.err
    label = next(label for label, rows in sections(result.dataset.records).items() if label)
    assert main(["suggest", "--out", out, "--papers", label.upper()]) == 0
    one = capsys.readouterr().out
    assert one.splitlines()[0].startswith(label)
    assert 1 < len(one.splitlines()) <= 11
    assert one in everything.out
    assert main(["suggest", "--out", out, "--papers", "No such section"]) == 2
    assert f"no such section in the dataset; its sections: {label}; " in capsys.readouterr().err
    for other in (["--apply"], ["--dry-run"], ["--only", "x"], ["--pick", "https://x"]):
        assert main(["suggest", "--out", out, "--papers", *other]) == 2
    assert len(api.requests) == before


@pytest.mark.parametrize("delay", [0.0, 0.05])
def test_the_recommendations_trail_the_batch_arxiv_waits_for(
    api: FakeAPI, tmp_path: Path, delay: float
) -> None:
    """Both endpoints share one pace: the recommendations (discovery) start with arXiv, so
    the batch that names arXiv papers, on the run's critical path, is never behind them."""
    pipeline.run(settings(api, tmp_path, s2_delay=delay))
    order = [r.path for r in sorted(api.requests, key=lambda r: r.at) if r.api == "scholar"]
    assert order[0] == "/graph/v1/paper/batch"
    assert order[1:] == [PATH] * (len(order) - 1)
    first_arxiv = min(r.at for r in api.requests if r.api == "arxiv")
    batch = next(r for r in api.requests if r.path == "/graph/v1/paper/batch")
    assert batch.at <= first_arxiv
