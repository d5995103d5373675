"""Tables as markdown (they paste into docs/performance.md as is) and the targets' verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.fake import APIS
from bench.measure import Sample, median_sample, median_wall
from bench.seed import BASELINE, NO_DISCOVERY, STARTUP, Row

COLD_MAX_S = 2.0
"""A cold run's own time: what it may take beyond Semantic Scholar's paced span (`paced`)."""
COLD_SPEEDUP = 50.0
WARM_MAX_S = 1.0
ANONYMOUS_PER_HOUR = 60  # GitHub's REST limit without a token


@dataclass(frozen=True)
class Check:
    """One target: what it asks, what was measured, and whether it holds (None: not run)."""

    text: str
    ok: bool | None

    def __str__(self) -> str:
        return self.text if self.ok is None else f"{self.text} {'PASS' if self.ok else 'FAIL'}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def checks(row: Row, baseline: float | None) -> list[Check]:
    """The targets that apply to `row`."""
    wall, counts = median_wall(row.samples), median_sample(row.samples).counts
    if row.scenario == "cold refresh":
        median, floor = median_sample(row.samples), paced(median_sample(row.samples))
        text = f"≤ {COLD_MAX_S:g} s beyond S2's paced {floor:.1f} s"
        return [Check(text, median.wall - floor <= COLD_MAX_S)]
    if row.scenario == NO_DISCOVERY:
        found = [Check(f"≤ {COLD_MAX_S:g} s", wall <= COLD_MAX_S)]
        if baseline is None:
            return [*found, Check(f"≥ {COLD_SPEEDUP:g}× baseline: not measured", None)]
        speedup = baseline / wall
        return [
            *found,
            Check(
                f"{speedup:.0f}× faster than baseline (≥ {COLD_SPEEDUP:g}×)",
                speedup >= COLD_SPEEDUP,
            ),
        ]
    if row.scenario == "warm refresh":
        return [Check(f"0 requests, ≤ {WARM_MAX_S:g} s", counts.total == 0 and wall <= WARM_MAX_S)]
    if row.scenario == "revalidation" and row.token == "no":
        # Without a token a 304 is charged like a 200 (GitHub waives it only for a request
        # with an Authorization header): the target is one request, so one point, per
        # repository (no subpath checked again), within the anonymous 60 an hour.
        asked = counts.requests.get("github", 0)
        within = counts.points == asked <= ANONYMOUS_PER_HOUR
        return [Check(f"1 GitHub point per request ({asked}), ≤ {ANONYMOUS_PER_HOUR}", within)]
    return []


def paced(sample: Sample) -> float:
    """The seconds Semantic Scholar's pace (one request a second, the provider's terms, each
    spaced from the last answer) held `sample`'s run: the span of its S2 requests, from the
    first arriving to the last answered, when it made more than one. Since the papers to
    consider (one recommendations request per section, issue 17) a cold run of the seed
    makes 15; the cold target is the run's own time beyond that span."""
    return sample.counts.busy("scholar") if sample.counts.requests.get("scholar", 0) > 1 else 0.0


def seed_table(rows: Sequence[Row]) -> tuple[str, list[Check]]:
    """The part-1 table, and every check made in it."""
    baseline_rows = [r for r in rows if r.scenario == BASELINE and r.samples]
    baseline = median_wall(baseline_rows[0].samples) if baseline_rows else None
    headers = [
        "run",
        "GitHub token",
        "wall (median)",
        "runs",
        "arXiv req",
        "GitHub req",
        "Hub req",
        "S2 req",
        "page req",
        "GitHub points",
        "peak RSS",
        "exit",
        "targets",
    ]
    body, found = [], []
    for row in rows:
        if not row.samples:
            continue
        made = checks(row, baseline)
        found += [Check(f"{row.scenario}, token {row.token}: {c.text}", c.ok) for c in made]
        body.append(_cells(row, made))
    return markdown_table(headers, body), found


def _cells(row: Row, made: Sequence[Check]) -> list[str]:
    counts = median_sample(row.samples).counts
    asked = [str(counts.requests.get(api, 0)) for api in APIS] + [str(counts.points)]
    note = "; ".join(str(c) for c in made) or "—"
    if row.scenario == STARTUP:  # no request: nothing to count
        asked, note = ["—"] * len(asked), "the floor under every run"
    return [
        row.scenario,
        row.token,
        seconds(median_wall(row.samples)),
        str(len(row.samples)),
        *asked,
        f"{max(s.rss_mb for s in row.samples):.0f} MB",
        ",".join(sorted({str(s.exit_code) for s in row.samples})),
        note,
    ]


def verdict(found: Sequence[Check]) -> str:
    passed = sum(c.ok is True for c in found)
    failed = [str(c) for c in found if c.ok is False]
    text = f"targets: {passed} pass, {len(failed)} fail"
    return text + ("" if not failed else " (" + "; ".join(failed) + ")")
