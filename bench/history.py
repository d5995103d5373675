"""Part 3: how large the facts' history grows (`output/history/`): 52 simulated weekly
refreshes of the seed and of the 10,000-row list (`bench.generate`).

No network: each list is parsed and resolved as a run does, and every entity a run fetches
(its links and their companions: each paper's Semantic Scholar record) gets facts that move
week by week, appended by the history's own code (`enrich.history.appended`); what is
measured is the bytes of the files it writes. Two models of movement:

- `every week`: every numeric fact of every entity changes every week (the worst case: one
  line per fact and week);
- `typical`: each numeric fact changes in a given week with the chance `RATES` gives it (a
  repository's stars in most weeks, its forks in some; a model's 30-day downloads in every
  week, its likes rarely; a paper's citations in one week of two), drawn from a seeded
  generator, so the numbers are the same on every machine.

The budgets (`BUDGETS`): the seed under 1 MB after 52 weeks, the 10,000-row list under 50 MB.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.generate import generate
from bench.report import Check, markdown_table
from enrich.history import FIELDS, NUMBERS, History, appended
from enrich.metadata import EntityData, HubMeta, PaperMeta, RepoMeta, ScholarMeta
from enrich.models import Identifier, Kind, Provenance, Result, RowRecord, Status
from enrich.parse import parse
from enrich.plan import companions
from enrich.resolve import resolve

WEEKS = 52
START = datetime(2026, 1, 5, 4, 17, tzinfo=UTC)
RATES: Mapping[str, float] = {
    "stars": 0.8,
    "forks": 0.3,
    "downloads": 1.0,
    "likes": 0.2,
    "citations": 0.5,
    "influential_citations": 0.1,
}
"""The chance that a numeric fact changes in a week, in the `typical` model."""
EVERY_WEEK: Mapping[str, float] = dict.fromkeys(RATES, 1.0)
BUDGETS = {"seed": 1_000_000, "10,000 rows": 50_000_000}
_HUB = {Kind.HF_MODEL: "model", Kind.HF_DATASET: "dataset", Kind.HF_SPACE: "space"}


@dataclass(frozen=True)
class Grown:
    """A history after `weeks` refreshes: its lines, its bytes, and the values the model
    moved (every one of which must be a line)."""

    weeks: int
    lines: int
    size: int
    moved: int
    first: int
    """Lines of the first refresh (every value known)."""


def records_of(markdown: str, name: str = "list.md") -> list[RowRecord]:
    return list(resolve(parse(markdown, name)).records)


def refs_of(records: Iterable[RowRecord]) -> list[tuple[str, Kind]]:
    """Every entity a run fetches for `records` (links and companions), by ref, sorted."""
    found: dict[str, Kind] = {}
    for record in records:
        for link in record.links:
            for ident in (link.id, *companions(link.id)):
                found.setdefault(ident.ref, ident.kind)
    return sorted(found.items())


def _data(ref: str, kind: Kind, counts: Mapping[str, int]) -> EntityData | None:
    key = ref.partition(":")[2]
    if kind is Kind.GITHUB_REPO:
        return RepoMeta(full_name=key, stars=counts["stars"], forks=counts["forks"])
    if kind in _HUB:
        hub = _HUB[kind]
        return HubMeta(hub_kind=hub, id=key, downloads=counts["downloads"], likes=counts["likes"])  # type: ignore[arg-type]
    if kind is Kind.SCHOLAR:
        citations, influential = counts["citations"], counts["influential_citations"]
        return ScholarMeta(paper_id=key, citations=citations, influential_citations=influential)
    if kind is Kind.ARXIV:
        return PaperMeta(
            arxiv_id=key, latest_version="v1", title="t", authors=[], abstract="",
            published=START, updated=START,
        )  # fmt: skip
    return None


def weeks(
    entities: list[tuple[str, Kind]], rates: Mapping[str, float], count: int, seed: int = 0
) -> Iterator[tuple[dict[Identifier, Result], int]]:
    """Each week's results by entity, and how many numeric values the model moved that week."""
    rng = random.Random(seed)
    counts = {ref: dict.fromkeys(NUMBERS, 100) for ref, _ in entities}
    for week in range(count):
        when = START + timedelta(weeks=week)
        moved = 0
        results: dict[Identifier, Result] = {}
        for ref, kind in entities:
            data = _data(ref, kind, counts[ref])
            if data is None:
                continue
            provenance = Provenance(source="bench", status=Status.OK, fetched_at=when)
            results[Identifier.of_ref(ref)] = Result(ref=ref, provenance=provenance, data=data)
            for name in _numeric(data):
                if rng.random() < rates[name]:
                    counts[ref][name] += 1 + rng.randrange(50)
                    moved += week + 1 < count  # a change after the last week is not seen
        yield results, moved


def _numeric(data: EntityData) -> list[str]:
    return [name for name in FIELDS.get(type(data), ()) if name in RATES]


def grow(records: list[RowRecord], rates: Mapping[str, float], count: int = WEEKS) -> Grown:
    """The history of `count` weekly refreshes of `records`' entities under `rates`."""
    history, moved, first = History(), 0, 0
    for week, (results, changed) in enumerate(weeks(refs_of(records), rates, count)):
        history = appended(history, results)
        if week == 0:
            first = len(history.points)
        moved += changed
    size = sum(len(data) for data in history.files().values())
    return Grown(count, len(history.points), size, moved, first)


def run(seed: Path) -> tuple[str, list[Check]]:
    """The table of both lists under both models, and the budgets' verdicts."""
    lists = {
        "seed": records_of(seed.read_text(encoding="utf-8"), seed.name),
        "10,000 rows": records_of(generate(10_000)),
    }
    rows, found = [], []
    for name, records in lists.items():
        for model, rates in (("typical", RATES), ("every week", EVERY_WEEK)):
            grown = grow(records, rates)
            rows.append(
                [name, model, f"{grown.lines:,}", f"{grown.size / 1e6:.2f} MB", _budget(name)]
            )
            if model == "typical" or name == "seed":
                ok = grown.size < BUDGETS[name]
                text = f"{name}, {model}: {grown.size / 1e6:.2f} MB after {WEEKS} weeks"
                found.append(Check(f"{text} < {BUDGETS[name] / 1e6:g} MB", ok))
    headers = ["list", "movement", "lines", "size", "budget"]
    return markdown_table(headers, rows), found


def _budget(name: str) -> str:
    return f"< {BUDGETS[name] / 1e6:g} MB"
