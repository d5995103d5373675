"""Part 1: the seed refreshed cold, warm and revalidated, with and without a GitHub token,
and the same cold refresh by the naive baseline (`bench.baseline`).

Each measured run is a whole `python -m enrich run` process against the fake. A lineage is
one fresh cache and output folder: cold (both empty), then warm (everything fresh in the
cache), then revalidation (`--refresh`: every time-to-live treated as expired while nothing
changed upstream, so GitHub REST answers 304). The fake's budgets are refilled before every
run, as after the day that separates a revalidation from the refresh before it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.fake import Counts, FakeProcess
from bench.measure import Sample, base_env, measure, run_process

TOKEN = "bench-token"  # the fake accepts any token
MODES = {"no": {}, "yes": {"GITHUB_TOKEN": TOKEN}}
SCENARIOS = ("cold refresh", "warm refresh", "revalidation")
BASELINE = "naive baseline, cold"
STARTUP = "start-up only"
# What every run imports before it does anything: the CLI, the pipeline, the three clients.
IMPORTS = (
    "import enrich.cli, enrich.sources.arxiv, enrich.sources.github, enrich.sources.huggingface"
)


@dataclass
class Row:
    scenario: str
    token: str  # "yes", "no"
    samples: list[Sample] = field(default_factory=list)


def enrich_command(seed: Path, run_dir: Path, refresh: bool = False) -> list[str]:
    out, cache = run_dir / "out", run_dir / "cache"
    command = [sys.executable, "-m", "enrich", "run", "--seeds", str(seed)]
    command += ["--out", str(out), "--cache", str(cache)]
    return command + (["--refresh"] if refresh else [])


def lineage(fake: FakeProcess, seed: Path, run_dir: Path, env: dict[str, str]) -> list[Sample]:
    """Cold, warm and revalidation runs on one fresh cache and output folder."""
    samples = []
    for scenario, refresh in zip(SCENARIOS, (False, False, True), strict=True):
        log = run_dir / f"{scenario.split()[0]}.log"
        samples.append(measure(fake, enrich_command(seed, run_dir, refresh), env, log))
    return samples


def seed_rows(
    fake: FakeProcess, seed: Path, runs: int, workdir: Path, arxiv_delay: float
) -> list[Row]:
    """Six rows: each scenario without and with a token, `runs` lineages each."""
    rows = {(s, t): Row(s, t) for t in MODES for s in SCENARIOS}
    for token, extra in MODES.items():
        env = base_env(fake, arxiv_delay, **extra)
        for i in range(runs):
            progress(f"enrich, token={token}, lineage {i + 1}/{runs}")
            samples = lineage(fake, seed, workdir / f"token-{token}-{i}", env)
            for scenario, sample in zip(SCENARIOS, samples, strict=True):
                rows[scenario, token].samples.append(sample)
    return list(rows.values())


NO_DISCOVERY = "cold, no discovery"
"""A cold run doing the baseline's work only (`ENRICH_DISCOVER=0`): no Hub lookups for empty
cells, no papers to consider. The speed-up over the baseline is measured on it."""


def no_discovery_row(
    fake: FakeProcess, seed: Path, runs: int, workdir: Path, arxiv_delay: float
) -> Row:
    row = Row(NO_DISCOVERY, "no")
    env = base_env(fake, arxiv_delay, ENRICH_DISCOVER="0")
    for i in range(runs):
        progress(f"enrich without discovery, cold {i + 1}/{runs}")
        run_dir = workdir / f"no-discovery-{i}"
        row.samples.append(measure(fake, enrich_command(seed, run_dir), env, run_dir / "cold.log"))
    return row


def baseline_row(
    fake: FakeProcess, seed: Path, runs: int, workdir: Path, arxiv_delay: float
) -> Row:
    row = Row(BASELINE, "no")
    env = base_env(fake, arxiv_delay)
    for i in range(runs):
        progress(f"naive baseline, run {i + 1}/{runs} (about 3 s per paper)")
        out = workdir / f"baseline-{i}"
        command = [
            sys.executable,
            "-m",
            "bench.baseline",
            str(seed),
            "--out",
            str(out / "facts.json"),
        ]
        row.samples.append(measure(fake, command, env, out / "baseline.log"))
    return row


def startup_row(runs: int, workdir: Path, env: dict[str, str]) -> Row:
    """The floor under every run: the interpreter starting and importing what `run` uses."""
    row = Row(STARTUP, "—")
    for i in range(runs):
        done = run_process([sys.executable, "-c", IMPORTS], env, workdir / f"startup-{i}.log")
        row.samples.append(Sample(done.wall, done.rss_mb, done.exit_code, Counts()))
    return row


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)
