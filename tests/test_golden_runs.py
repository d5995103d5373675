"""Whole runs of the seed and of a generated 1,000-row list against the loopback fake: every
output file of every step (cold, `--refresh`, the regenerated document as the seed,
`--offline`) has the digest recorded in `bench/golden.sha256` (`bench.golden`).

A change that moves an output on purpose records the new digests with
`python -m bench.golden --write`, after looking at what moved: `python -m bench.golden --keep
OLD` on the commit before, then `python -m bench.golden --keep NEW --diff OLD` on the change.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from bench import golden

import enrich.sources


@pytest.mark.slow
@pytest.mark.parametrize("case", golden.CASES, ids=lambda case: case.name)
def test_every_output_file_of_the_golden_runs_is_as_recorded(
    case: golden.Case, tmp_path: Path
) -> None:
    """One case a test (each is a chain of steps in one folder), so the cases run on two
    workers at once; together they check every recorded digest (`..._once` below). The steps
    run in this process (`run_case` without an interpreter): the same bytes as
    `python -m bench.golden`'s processes, without four interpreters' start-up a case
    (`test_a_step_in_a_process_of_its_own_makes_the_bytes_of_one_in_process` pins that)."""
    found = golden.digests(golden.run_case(case, None, tmp_path / case.name), case.name)
    expected = {
        name: digest
        for name, digest in golden.read_digests().items()
        if name.split("/")[0] == case.name
    }
    assert len(expected) == 40  # 4 steps x 10 files: the case's record is complete
    changed = golden.moved(expected, found)
    assert not changed, (
        f"{len(changed)} output file(s) moved: {', '.join(changed)}. If on purpose, see what "
        "moved with `python -m bench.golden --keep NEW --diff OLD` (OLD: a --keep of the commit "
        "before) and record it with `python -m bench.golden --write`."
    )


def test_the_golden_digests_name_each_case_step_and_file_once() -> None:
    text = golden.DIGESTS.read_text(encoding="utf-8")
    names = [line.split("  ", 1)[1] for line in text.splitlines()]
    assert names == sorted(set(names))
    assert len(names) == 80  # 2 cases x 4 steps x 10 files: the record is complete
    assert {name.split("/")[0] for name in names} == golden.PINNED
    assert {name.split("/")[1] for name in names} == set(golden.STEPS)
    assert text == golden.format_digests(golden.read_digests())


def test_moved_names_a_changed_a_missing_and_a_new_file() -> None:
    expected = {"a/cold/x": "1", "a/cold/y": "2", "a/cold/z": "3"}
    found = {"a/cold/x": "1", "a/cold/y": "9", "a/cold/w": "4"}
    assert golden.moved(expected, found) == ["a/cold/w", "a/cold/y", "a/cold/z"]
    assert golden.moved(expected, dict(expected)) == []


def test_diff_shows_the_changed_lines_of_each_file_and_only_those(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for root, stars in ((old, "12"), (new, "13")):
        (root / "cold").mkdir(parents=True)
        (root / "cold" / "report.md").write_text("same\n", encoding="utf-8")
        (root / "cold" / "list.md").write_text(f"| a | {stars} |\n", encoding="utf-8")
    (new / "cold" / "timeline.svg").write_bytes(b"\xff")
    shown = golden.diff(old, new)
    assert "-| a | 12 |\n+| a | 13 |\n" in shown
    assert "report.md" not in shown
    assert "timeline.svg differ" in shown


def test_a_step_in_a_process_of_its_own_makes_the_bytes_of_one_in_process(tmp_path: Path) -> None:
    """What the test above relies on: `_step` by an interpreter (as `python -m bench.golden`
    runs every step) and in this process give the same output bytes, the environment, working
    folder and sources' clock of this process as they were after the latter. A small list,
    offline (no fake needed): a few rows, a date the clock does not reach."""
    listing = "| Method | Paper |\n|---|---|\n| X | [Link](https://arxiv.org/abs/2305.14314) |\n"
    env = {**os.environ, "ENRICH_ARXIV_DELAY": "0"}
    outputs = []
    before = (dict(os.environ), Path.cwd(), enrich.sources._utcnow.__code__)
    for python in (sys.executable, None):
        folder = tmp_path / ("process" if python else "in-process")
        (folder / "seeds").mkdir(parents=True)
        (folder / "seeds" / "a.md").write_text(listing, encoding="utf-8")
        golden._step(python, folder, env, "offline", "seeds")
        outputs.append(
            {p.name: p.read_bytes() for p in (folder / "output").rglob("*") if p.is_file()}
        )
    assert outputs[0] == outputs[1]
    assert "a.md" in outputs[0]
    assert (dict(os.environ), Path.cwd(), enrich.sources._utcnow.__code__) == before
