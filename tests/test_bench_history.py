"""The history's size arithmetic (`bench.history`, `python -m bench --history`) on a small
list and a few refreshes: every value the model moves is one line, and the files hold those
lines and a header each, nothing else."""

from __future__ import annotations

import pytest
from bench.generate import generate
from bench.history import EVERY_WEEK, RATES, grow, records_of, refs_of, weeks

from enrich.history import HEADER, History, appended


@pytest.mark.parametrize("rows", [20, 100])
@pytest.mark.parametrize("rates", [RATES, EVERY_WEEK])
def test_every_moved_value_is_one_line(rows: int, rates: dict[str, float]) -> None:
    records = records_of(generate(rows))
    grown = grow(records, rates, 10)
    assert grown.lines == grown.first + grown.moved
    assert grown.moved > 0


def test_every_week_moves_each_numeric_fact_once_a_week() -> None:
    records = records_of(generate(100))
    entities = refs_of(records)
    results, _ = next(weeks(entities, EVERY_WEEK, 1))
    numeric = sum(
        1 for r in results.values() for name in ("stars", "forks", "downloads", "likes",
        "citations", "influential_citations") if getattr(r.data, name, None) is not None
    )  # fmt: skip
    grown = grow(records, EVERY_WEEK, 10)
    assert grown.moved == numeric * 9  # the tenth week's moves are not seen by a refresh


def test_the_size_is_the_bytes_of_the_lines_and_one_header_a_year() -> None:
    records = records_of(generate(50))
    history = History()
    for results, _ in weeks(refs_of(records), RATES, 10):
        history = appended(history, results)
    files = history.files()
    header = len(",".join(HEADER)) + 1
    lines = sum(
        len(f"{p.day.isoformat()},{p.id.ref},{p.field},{p.value}\n") for p in history.points
    )
    assert sum(map(len, files.values())) == lines + header * len(files)
    assert grow(records, RATES, 10).size == lines + header * len(files)
