"""What each speed trick of `enrich` buys, measured with and without it, in this process.

    python -m bench.tricks LIST DATASET [--repeat 5]

LIST is a generated list (`bench.generate`, 10,000 rows for the README's figures) and DATASET
the `enriched.json` a cold run of it wrote (`nox -s bench -- --scale --workdir DIR` keeps
both). Each trick is switched off by patching it out here, never by an option of `enrich`.
Times are CPU seconds (`time.process_time`), the best of `--repeat` passes: other processes
on a shared machine stretch wall time, hardly the CPU time of a pass. Memory is what
`tracemalloc` counts. Prints one JSON object, a figure with and without each trick:

- `collector`: parse + resolve of LIST, alone and with the previous dataset in memory (as
  `pipeline.refresh` has it): the cyclic collector on, paused around them (as `enrich` no
  longer does), or kept off the previous dataset (`gc.freeze`, what `collector.settle`
  does); then every output rendered (`pipeline.outputs`) with what the stages built frozen
  or not. With the objects the collector's full collections walked, a count the load of
  the machine does not change.
- `run`: a whole offline `run` of LIST, with `collector.settle` between the stages or not.
- `table_rule`: parse alone, with `tablerule` or markdown-it's own table rule.
- `fields_sets`: DATASET read (`Dataset.model_validate_json`), the records' sets of set
  fields shared (`record.Record.model_post_init`) or each its own: memory held and time.
- `jsonout`: DATASET written, by `jsonout.json_pieces` (the sorted pydantic-core serializer,
  an item at a time; also whole, joined) or by `json.dumps` of `model_dump`: time and peak
  memory.
- `facts`: every output rendered with each row's facts worked out each time an output asks
  (`columns.Facts`), or once a row, kept by `id()` of its record (as `enrich` no longer does).
- `exit`: a process importing what `run` uses (the seed table's start-up row), and an
  offline `run` of LIST into a copy of DATASET's folder, each ending through the
  interpreter's teardown or without it (`os._exit`, as `enrich/__main__.py` ends): CPU
  seconds of the whole process (`os.wait4`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from enrich import artifacts, collector, columns, output, parse, pipeline, record
from enrich.config import Settings
from enrich.jsonout import json_bytes, json_pieces
from enrich.models import Dataset, Entities

ROOT = Path(__file__).resolve().parents[1]

KEPT = (
    (
        "enrich/tablerule.py",
        "markdown-it's table rule without a token per row and cell",
        "10,000 rows: parse + render < 1 s",
    ),
    (
        "enrich/collector.py",
        "what each stage leaves for the next kept off the collector (gc.freeze, by pipeline)",
        "10,000 rows: cold run <= 1.2 x the arXiv floor",
    ),
    (
        "enrich/__main__.py",
        "the process ends by os._exit, without the interpreter's teardown",
        "seed cold run <= 2 s",
    ),
    (
        "enrich/jsonout.py",
        "enriched.json written an item at a time by a key-sorting pydantic-core serializer",
        "10,000 rows: peak RSS <= 300 MB",
    ),
    (
        "enrich/output.py, enrich/page.py",
        "each output staged as it is made (one held at a time); index.html made a row at a time",
        "10,000 rows: peak RSS <= 300 MB",
    ),
    (
        "enrich/record.py",
        "records of one type and fields share one set of set fields",
        "10,000 rows: peak RSS <= 300 MB",
    ),
)
"""The speed work `enrich` keeps, where it lives, and the target that needs it; every other
trick was removed when this module showed no target needed it (docs/performance.md)."""


def kept_note() -> str:
    """`KEPT`, as the benchmark prints it under its tables."""
    lines = [f"  {where}: {what} ({target})" for where, what, target in KEPT]
    return "speed work kept for a target (measured by python -m bench.tricks):\n" + "\n".join(lines)


def best(func: Callable[[], object], repeat: int) -> float:
    """The least CPU seconds of `repeat` calls of `func`."""
    found = []
    for _ in range(repeat):
        started = time.process_time()
        func()
        found.append(time.process_time() - started)
    return round(min(found), 3)


@contextlib.contextmanager
def patched(owner: Any, name: str, value: object) -> Iterator[None]:
    old = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


def settings_for(listing: Path, out: Path) -> Settings:
    base = Settings().with_project_config(ROOT)
    return replace(base, seeds=listing, out=out, cache=out / "cache", offline=True)


def refreshed(
    listing: Path, seeds: tuple[pipeline.Seed, ...], previous: Dataset, settings: Settings
) -> pipeline.Refreshed:
    """What an offline refresh of `listing` computes when nothing changed: its rows with the
    entities of `previous`."""
    records = [r for s in seeds for r in s.records]
    paths = [s.document.path for s in seeds]
    dataset = Dataset(seeds=paths, records=records, entities=previous.entities, diagnostics=[])
    documents = {listing: settings.out / listing.name}
    return pipeline.Refreshed(seeds, documents, dataset, previous, None, ())  # type: ignore[arg-type]


def collector_cost(
    listing: Path, dataset: bytes, settings: Settings, repeat: int
) -> dict[str, float]:
    load = lambda: pipeline.load_seeds([listing])  # noqa: E731
    found = measured("cold: parse+resolve, collector on", load, repeat)
    with gc_paused():
        found |= measured("cold: parse+resolve, collector paused", load, repeat)
    previous = Dataset.model_validate_json(dataset)  # alive, as in `pipeline.refresh`
    found |= measured("parse+resolve, collector on", load, repeat)
    with gc_paused():
        found |= measured("parse+resolve, collector paused", load, repeat)
    with gc_frozen():
        found |= measured("parse+resolve, previous frozen", load, repeat)
    done = refreshed(listing, pipeline.load_seeds([listing]), previous, settings)
    render = lambda: rendered(settings, done)  # noqa: E731
    found |= measured("outputs, collector on", render, repeat)
    with gc_frozen():
        found |= measured("outputs, what the stages built frozen", render, repeat)
    return found


def rendered(settings: Settings, done: pipeline.Refreshed) -> int:
    """Every output made, a piece at a time as `output.commit` asks for them (each file is
    made only when asked for: `pipeline.outputs`); their size."""
    files = pipeline.outputs(settings, done)
    return sum(len(piece) for _, content in files for piece in output.pieces(content))


def measured(name: str, func: Callable[[], object], repeat: int) -> dict[str, float]:
    """CPU seconds (best of `repeat` calls), and the objects the collector's full collections
    walked, a call on average: a count the machine's load does not change."""
    walked = [0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            walked[0] += sum(len(gc.get_objects(g)) for g in range(3))

    gc.callbacks.append(count)
    try:
        seconds = best(func, repeat)
    finally:
        gc.callbacks.remove(count)
    millions = round(walked[0] / repeat / 1e6, 2)
    return {f"{name}: CPU s": seconds, f"{name}: objects walked (millions)": millions}


@contextlib.contextmanager
def gc_frozen() -> Iterator[None]:
    """What is alive now kept off the collector (`gc.freeze`) for the block."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def run_cost(listing: Path, dataset: Path, repeat: int) -> dict[str, float]:
    """A whole offline `run` of LIST (`pipeline.run`: the previous dataset read, parse,
    resolve, merge, every output written), with `collector.settle` between the stages or
    not."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        out.mkdir()
        shutil.copy(dataset, out / dataset.name)
        settings = replace(settings_for(listing, out), cache=Path(folder) / "cache")
        run = lambda: pipeline.run(settings)  # noqa: E731
        with patched(collector, "settle", lambda: None):
            found = measured("offline run, not settled", run, repeat)
        found |= measured("offline run, settled", run, repeat)
    return found


def table_rule_cost(text: str, repeat: int) -> dict[str, float]:
    run = lambda: parse.parse(text, "list.md")  # noqa: E731
    with gc_paused():
        found = {"parse with tablerule": best(run, repeat)}
        with patched(parse, "_MD", parse.markdown().disable(["inline", "text_join"])):
            assert parse.parse(text, "list.md") == run(), "the two rules parse alike"
            found["parse with markdown-it's rule"] = best(run, repeat)
    return found


def fields_sets_cost(dataset: bytes) -> dict[str, float]:
    def held() -> tuple[float, float]:
        gc.collect()
        tracemalloc.start()
        started = time.process_time()
        loaded = Dataset.model_validate_json(dataset)
        seconds = time.process_time() - started
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del loaded
        return round(size / 2**20, 1), round(seconds, 3)

    shared = held()
    with patched(record.Record, "model_post_init", lambda self, context, /: None):
        own = held()
    return {
        "dataset MB, sets shared": shared[0],
        "dataset MB, a set each": own[0],
        "read s (traced), sets shared": shared[1],
        "read s (traced), a set each": own[1],
    }


def jsonout_cost(dataset: bytes, repeat: int) -> dict[str, float]:
    value = Dataset.model_validate_json(dataset)

    def plain() -> bytes:
        dumped = value.model_dump(mode="json")
        return (json.dumps(dumped, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

    assert plain() == json_bytes(value), "the two writers write the same bytes"
    written = lambda: sum(len(piece) for piece in json_pieces(value))  # noqa: E731

    def peak(func: Callable[[], object]) -> float:
        tracemalloc.start()
        func()
        found = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return round(found / 2**20, 1)

    return {
        "write s, jsonout": best(written, repeat),
        "write s, json.dumps": best(plain, repeat),
        "write peak MB, jsonout": peak(written),
        "write peak MB, jsonout whole": peak(lambda: json_bytes(value)),
        "write peak MB, json.dumps": peak(plain),
    }


class _Cached(columns.Facts):
    """`Facts` that keeps each row's facts, by `id()` of its record (kept with them)."""

    def __init__(
        self,
        entities: Entities,
        bib: Mapping[str, tuple[str, ...]] | None = None,
        trends: Any = None,
    ) -> None:
        super().__init__(entities, bib, trends)
        self.rows: dict[int, tuple[Any, columns.RowFacts]] = {}

    def with_trends(self, trends: Any) -> columns.Facts:
        return _Cached(self.entities, self.bib, trends)

    def of(self, record: Any) -> columns.RowFacts:
        known = self.rows.get(id(record))
        if known is None:
            known = self.rows[id(record)] = (record, super().of(record))
        return known[1]


def facts_cost(listing: Path, dataset: bytes, settings: Settings, repeat: int) -> dict[str, float]:
    previous = Dataset.model_validate_json(dataset)
    seeds = pipeline.load_seeds([listing])
    done = refreshed(listing, seeds, previous, settings)
    render = lambda: rendered(settings, done)  # noqa: E731
    found = {"outputs, facts each time": best(render, repeat)}
    with patched(artifacts, "Facts", _Cached):
        found["outputs, facts once a row"] = best(render, repeat)
    return found


IMPORTS = (
    "import enrich.cli, enrich.sources.arxiv, enrich.sources.github, enrich.sources.huggingface"
)
RUN = "import sys; from enrich.cli import main; code = main(sys.argv[1:])"
ENDS = {
    "teardown": "; sys.exit(code)",
    "os._exit": "; sys.stdout.flush(); import os; os._exit(code)",
}


def process_cpu(argv: list[str]) -> float:
    """The CPU seconds (user + system) of one run of the process `argv`."""
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, argv
    return usage.ru_utime + usage.ru_stime


def exit_cost(listing: Path, dataset: Path, repeat: int) -> dict[str, float]:
    """Each process `repeat` times, the two ends taking turns (a change of the machine's load
    falls on both): the least and the median CPU seconds."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        out.mkdir()
        shutil.copy(dataset, out / dataset.name)
        run = ["run", "--offline", "--seeds", str(listing), "--out", str(out)]
        run += ["--cache", str(Path(folder) / "cache")]
        commands = {}
        for end, code in ENDS.items():
            imports = IMPORTS + ("; import sys" + code.replace("code", "0"))
            commands[f"imports, {end}"] = [sys.executable, "-c", imports]
            commands[f"offline run, {end}"] = [sys.executable, "-c", RUN + code, *run]
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):
            for name, argv in commands.items():
                times[name].append(process_cpu(argv))
    found = {f"{name}: least": round(min(t), 3) for name, t in times.items()}
    return found | {f"{name}: median": round(statistics.median(t), 3) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tricks", description=__doc__)
    parser.add_argument("list", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    text = args.list.read_text(encoding="utf-8")
    dataset = args.dataset.read_bytes()
    settings = settings_for(args.list, args.dataset.parent)
    runs: dict[str, Callable[[], dict[str, float]]] = {
        "table_rule": lambda: table_rule_cost(text, args.repeat),
        "fields_sets": lambda: fields_sets_cost(dataset),
        "jsonout": lambda: jsonout_cost(dataset, args.repeat),
        "facts": lambda: facts_cost(args.list, dataset, settings, args.repeat),
        "collector": lambda: collector_cost(args.list, dataset, settings, args.repeat),
        "exit": lambda: exit_cost(args.list, args.dataset, args.repeat),
        "run": lambda: run_cost(args.list, args.dataset, args.repeat),
    }
    found = {name: run() for name, run in runs.items() if not args.only or name in args.only}
    json.dump(found, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
