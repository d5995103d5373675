"""Parse, resolve and render one list in this process, timed per stage.

    python -m bench.inprocess LIST [--dataset enriched.json] [--out DIR] [--repeat 5]

Renders as `enrich run` renders a seed into its output folder, the collector kept off what
the earlier stages built as a run keeps it (`enrich.collector.settle`): the rows' records, the
entities of `--dataset` (the output of a run of that list; none without it), the columns of
the project's `[tool.enrich]`, links re-pointed from `--out` to the list's folder. Prints
JSON: the median wall seconds of each stage and of their sum, the median CPU seconds of the
sum (what other processes on the machine cannot inflate), and this process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from enrich import collector
from enrich.columns import select
from enrich.config import Settings
from enrich.models import Dataset, Entities
from enrich.parse import parse
from enrich.render import render_document
from enrich.resolve import resolve

ROOT = Path(__file__).resolve().parents[1]


def once(text: str, name: str, entities: Entities, base: str) -> dict[str, float]:
    """Seconds spent in each stage for one pass."""
    settings = Settings().with_project_config(ROOT)
    columns = select(settings.columns, settings.headers)
    cpu, started = time.process_time(), time.perf_counter()
    document = parse(text, name)
    parsed = time.perf_counter()
    records = resolve(document).records
    collector.settle()  # what the run sets aside before it renders (`pipeline.refresh`)
    resolved = time.perf_counter()
    render_document(document, records, entities, columns, base)
    rendered = time.perf_counter()
    return {
        "parse": parsed - started,
        "resolve": resolved - parsed,
        "render": rendered - resolved,
        "cpu": time.process_time() - cpu,
    }


def facts_of(dataset: Path | None) -> Entities:
    """The results of `dataset` (an `enriched.json`) as the render stage reads them, keyed
    by `Identifier`; none without it."""
    if dataset is None or not dataset.is_file():
        return {}
    return Dataset.model_validate_json(dataset.read_bytes()).results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("list", type=Path)
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "output")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    text = args.list.read_text(encoding="utf-8")
    entities = facts_of(args.dataset)
    base = Path(os.path.relpath(args.list.parent.resolve(), args.out.resolve())).as_posix()
    with collector.run_scope():  # the collector as a run keeps it (`enrich.collector`)
        collector.settle()
        passes = [once(text, args.list.name, entities, base) for _ in range(args.repeat)]
    found = {stage: statistics.median(p[stage] for p in passes) for stage in passes[0]}
    found["total"] = statistics.median(p["parse"] + p["resolve"] + p["render"] for p in passes)
    found["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump(found, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
