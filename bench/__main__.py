"""`python -m bench`: benchmarks of `python -m enrich run` against the loopback fake API.

    python -m bench                  the seed: cold, warm, revalidation x token, and baseline
    python -m bench --quick          the same without the baseline (about 3 minutes less)
    python -m bench --scale          the 10,000-row list, and growth from 100 and 1,000 rows
    python -m bench --history        the facts' history after 52 simulated weekly refreshes

Every measured run is a whole process against the fake, itself a separate process, with
`--latency` per request (default 80 ms) and the production arXiv spacing (3 s). The
`enrich` package is byte-compiled first, as `pip install` leaves it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import sys
import tempfile
from pathlib import Path

from bench import history, scale
from bench.fake import ROOT, fake_api
from bench.measure import base_env
from bench.report import Check, seed_table, verdict
from bench.seed import baseline_row, no_discovery_row, seed_rows, startup_row
from bench.tricks import kept_note

DEFAULT_SEED = ROOT / "seeds" / "slm-survey.md"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="skip the naive baseline")
    parser.add_argument("--scale", action="store_true", help="the 10,000-row benchmark instead")
    parser.add_argument(
        "--history", action="store_true", help="the history's size budgets (no network)"
    )
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="the list to refresh")
    parser.add_argument("--runs", type=int, default=3, help="runs per row (median reported)")
    parser.add_argument("--baseline-runs", type=int, default=1, help="runs of the baseline")
    parser.add_argument("--latency", type=float, default=0.08, help="seconds per request")
    parser.add_argument(
        "--arxiv-delay", type=float, default=3.0, help="seconds between arXiv requests"
    )
    parser.add_argument(
        "--arxiv-batch", type=int, default=scale.ARXIV_BATCH, help="ENRICH_ARXIV_BATCH for --scale"
    )
    parser.add_argument(
        "--hub-limit",
        type=int,
        default=scale.HUB_LIMIT,
        help="the fake's Hub calls per 5 minutes for --scale",
    )
    parser.add_argument("--workdir", type=Path, help="keep caches, outputs and logs here")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is missed, not only on errors"
    )
    return parser.parse_args(argv)


def context(args: argparse.Namespace) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Python {platform.python_version()} on {platform.system()}, {os.cpu_count()} cores "
        f"(load average {load}); fake API latency {args.latency * 1000:g} ms per request, "
        f"arXiv spacing {args.arxiv_delay:g} s"
    )


def seed_benchmark(args: argparse.Namespace, workdir: Path) -> int:
    with fake_api([args.seed], args.latency) as fake:
        rows = seed_rows(fake, args.seed, args.runs, workdir, args.arxiv_delay)
        rows.insert(0, startup_row(args.runs, workdir, base_env(fake, args.arxiv_delay)))
        rows.insert(2, no_discovery_row(fake, args.seed, args.runs, workdir, args.arxiv_delay))
        if not args.quick:
            rows.append(
                baseline_row(fake, args.seed, args.baseline_runs, workdir, args.arxiv_delay)
            )
    table, found = seed_table(rows)
    print(f"\nRefreshing {args.seed.name}: {context(args)}\n\n{table}\n\n{verdict(found)}")
    if args.quick:
        print("baseline skipped (--quick): the speed-up target is not measured")
    else:
        print(f"baseline: {args.baseline_runs} run(s) (--baseline-runs); others: median of runs")
    return outcome(args, found, [s.exit_code for r in rows for s in r.samples])


def outcome(args: argparse.Namespace, found: list[Check], exit_codes: list[int]) -> int:
    """1 when a measured process failed (its numbers mean nothing), or with --strict when a
    target is missed; else 0: a missed target is a finding, printed, not a crash."""
    if any(exit_codes):
        print("a measured run exited non-zero: see its log under --workdir", file=sys.stderr)
        return 1
    return 1 if args.strict and any(c.ok is False for c in found) else 0


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    # Bytecode as an installed package has it (pip compiles at install): an editable install
    # under PYTHONDONTWRITEBYTECODE would otherwise compile `enrich` again in every process.
    compileall.compile_dir(ROOT / "src" / "enrich", quiet=1)
    with tempfile.TemporaryDirectory(prefix="enrich-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        if args.history:
            table, found = history.run(args.seed)
            print(f"\nThe facts' history after {history.WEEKS} weekly refreshes\n\n{table}\n")
            print(verdict(found))
            code = 1 if args.strict and any(c.ok is False for c in found) else 0
        elif args.scale:
            found, exit_codes = scale.run(args, workdir, context(args))
            code = outcome(args, found, exit_codes)
        else:
            code = seed_benchmark(args, workdir)
    print(kept_note())
    return code


if __name__ == "__main__":
    sys.exit(main())
