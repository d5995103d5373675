"""One measured run: a whole process, its wall time and peak RSS, and what the fake counted.

Peak RSS comes from `os.wait4`, which returns the resource usage of that one child (its
`ru_maxrss`, KiB on Linux): exact, where polling (psutil) would sample, and where
`getrusage(RUSAGE_CHILDREN)` would give the largest of all children so far.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.fake import ROOT, Counts, FakeProcess


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, process start to exit
    rss_mb: float  # peak resident set size, MiB
    exit_code: int
    counts: Counts


@dataclass(frozen=True)
class Finished:
    wall: float
    rss_mb: float
    exit_code: int


def run_process(argv: Sequence[str], env: Mapping[str, str], log: Path) -> Finished:
    """Run `argv` (cwd: the project) to its end; its output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv), cwd=ROOT, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    return Finished(wall, usage.ru_maxrss / 1024, process.returncode)


def measure(fake: FakeProcess, argv: Sequence[str], env: Mapping[str, str], log: Path) -> Sample:
    """Reset the fake, run `argv`, read what the fake counted."""
    fake.reset()
    done = run_process(argv, env, log)
    return Sample(done.wall, done.rss_mb, done.exit_code, fake.counts())


def median_sample(samples: Sequence[Sample]) -> Sample:
    """The sample of median wall time (the lower middle one for an even count)."""
    ordered = sorted(samples, key=lambda s: s.wall)
    return ordered[(len(ordered) - 1) // 2]


def median_wall(samples: Sequence[Sample]) -> float:
    return statistics.median(s.wall for s in samples)


def base_env(fake: FakeProcess, arxiv_delay: float, **extra: str) -> dict[str, str]:
    """The environment of a measured process: no tokens of the caller, the fake's endpoints."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "HF_TOKEN")}
    env.update(fake.env())
    env.update(ENRICH_ARXIV_DELAY=f"{arxiv_delay:g}", HF_HUB_DISABLE_TELEMETRY="1")
    env.update(extra)
    return env
