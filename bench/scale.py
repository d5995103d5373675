"""Part 2: a 10,000-row list (`bench.generate`) refreshed cold, and how 100, 1,000 and
10,000 rows grow.

Each size is one cold `python -m enrich run` with a GitHub token (3,000 repositories need
GraphQL: 60 queries instead of 3,000 REST calls against 60 an hour), against one fake seeded
with the largest list, whose Hub budget is raised to `--hub-limit` calls per 5 minutes
(the Hub allows 500 anonymous, 1,000 with a token: 2,000 Hub links cannot be fetched in one
window there). arXiv keeps the production spacing and asks `--arxiv-batch` ids per request.

ARXIV_BATCH is 500, the largest batch the real API serves reliably: it returns up to 2,000
entries per request, but refuses long GET URLs (HTTP 414 from about 640 ids, an 8 KB request
line), so ENRICH_ARXIV_BATCH is capped at 500 and 5,000 papers take 10 requests, 3 s apart.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

from bench.fake import fake_api
from bench.generate import Mix, generate
from bench.measure import Sample, base_env, measure
from bench.report import Check, markdown_table, seconds, verdict
from bench.seed import TOKEN, enrich_command, progress

ARXIV_BATCH = 500
HUB_LIMIT = 10_000
SIZES = (100, 1_000, 10_000)
FLOOR_FACTOR = 1.2
PARSE_RENDER_MAX_S = 1.0
RSS_MAX_MB = 300


def write_list(folder: Path, rows: int) -> Path:
    path = folder / "lists" / f"list-{rows}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generate(rows), encoding="utf-8")
    return path


def in_process(listing: Path, out: Path) -> dict[str, float]:
    """Parse + resolve + render of `listing` in a fresh process (see `bench.inprocess`)."""
    command = [sys.executable, "-m", "bench.inprocess", str(listing), "--out", str(out)]
    command += ["--dataset", str(out / "enriched.json")]
    found: dict[str, float] = json.loads(subprocess.check_output(command, text=True))
    return found


def floor(rows: int, batch: int, delay: float) -> float:
    """The arXiv politeness floor: one request per `delay` seconds, one per batch."""
    return math.ceil(Mix(rows).papers / batch) * delay


def table_row(rows: int, cold: Sample, stages: dict[str, float], floor_s: float) -> list[str]:
    c = cold.counts
    busy = " / ".join(f"{c.busy(api):.1f}" for api in ("arxiv", "github", "hub"))
    asked = " / ".join(str(c.requests.get(api, 0)) for api in ("arxiv", "github", "hub"))
    split = " + ".join(f"{stages[s]:.2f}" for s in ("parse", "resolve", "render"))
    cpu = f"{stages['cpu']:.2f} s CPU"
    return [
        f"{rows:,}",
        seconds(cold.wall),
        f"{floor_s:g} s",
        busy,
        asked,
        str(c.points),
        f"{cold.rss_mb:.0f} MB",
        f"{stages['total']:.2f} s ({split}); {cpu}",
        f"{stages['rss_mb']:.0f} MB",
        str(cold.exit_code),
    ]


HEADERS = [
    "rows",
    "cold wall",
    "arXiv floor",
    "busy s arXiv / GitHub / Hub",
    "requests arXiv / GitHub / Hub",
    "GitHub points",
    "peak RSS",
    "parse + resolve + render, in process (median of 5)",
    "its RSS",
    "exit",
]


def checks(
    rows: int, cold: Sample, stages: dict[str, float], floor_s: float, json_mb: float
) -> list[Check]:
    limit = FLOOR_FACTOR * floor_s
    arxiv = cold.counts.busy("arxiv")
    total = stages["total"]
    parse_render = stages["parse"] + stages["render"]
    return [
        Check(
            f"{rows:,} rows cold {seconds(cold.wall)} ≤ {FLOOR_FACTOR:g} × arXiv floor = "
            f"{limit:.1f} s{slowest(cold, limit)}",
            cold.wall <= limit,
        ),
        Check(f"arXiv alone busy {arxiv:.1f} s ≤ {limit:.1f} s", arxiv <= limit),
        Check(
            f"parse + render {parse_render:.2f} s ≤ {PARSE_RENDER_MAX_S:g} s (with resolve, "
            f"stage 2 between them: {total:.2f} s{stage(stages)})",
            parse_render <= PARSE_RENDER_MAX_S,
        ),
        Check(
            f"peak RSS {cold.rss_mb:.0f} MB ≤ {RSS_MAX_MB} MB (enriched.json {json_mb:.0f} MB)",
            cold.rss_mb <= RSS_MAX_MB,
        ),
    ]


def stage(stages: dict[str, float]) -> str:
    name = max(("parse", "resolve", "render"), key=lambda s: stages[s])
    return f"; slowest stage: {name}, {stages[name]:.2f} s"


def slowest(cold: Sample, limit: float) -> str:
    """Which source kept the run past `limit`, if it ran past it."""
    if cold.wall <= limit:
        return ""
    source = max(("arxiv", "github", "hub"), key=cold.counts.busy)
    return f" (slowest source: {source}, busy {cold.counts.busy(source):.1f} s)"


def cold_runs(args: argparse.Namespace, lists: dict[int, Path], workdir: Path) -> dict[int, Sample]:
    """One cold refresh per list, each into its own fresh cache and output folder."""
    colds: dict[int, Sample] = {}
    with fake_api([lists[SIZES[-1]]], args.latency, args.hub_limit) as fake:
        env = base_env(fake, args.arxiv_delay, GITHUB_TOKEN=TOKEN)
        env["ENRICH_ARXIV_BATCH"] = str(args.arxiv_batch)
        for rows, listing in lists.items():
            progress(f"cold refresh of {rows:,} rows")
            run_dir = workdir / f"scale-{rows}"
            colds[rows] = measure(fake, enrich_command(listing, run_dir), env, run_dir / "cold.log")
    return colds


def run(args: argparse.Namespace, workdir: Path, context: str) -> tuple[list[Check], list[int]]:
    """Measure, print the table and the targets; return the checks and the exit codes."""
    lists = {rows: write_list(workdir, rows) for rows in SIZES}
    colds = cold_runs(args, lists, workdir)
    body, found = [], []
    for rows, listing in lists.items():
        progress(f"parse + resolve + render of {rows:,} rows, in process")
        stages = in_process(listing, workdir / f"scale-{rows}" / "out")
        floor_s = floor(rows, args.arxiv_batch, args.arxiv_delay)
        body.append(table_row(rows, colds[rows], stages, floor_s))
        dataset = workdir / f"scale-{rows}" / "out" / "enriched.json"
        json_mb = dataset.stat().st_size / 2**20 if dataset.is_file() else 0.0
        found = checks(rows, colds[rows], stages, floor_s, json_mb)  # the largest list's
    print(
        f"\nCold refresh of generated lists: {context}; GitHub token; ENRICH_ARXIV_BATCH="
        f"{args.arxiv_batch}; fake Hub budget {args.hub_limit:,} calls per 5 min\n\n"
        f"{markdown_table(HEADERS, body)}\n\n" + "\n".join(str(c) for c in found),
        flush=True,
    )
    print(verdict(found))
    return found, [s.exit_code for s in colds.values()]
