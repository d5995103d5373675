"""Wires the stages: parse -> resolve -> fetch -> merge -> render. The only module that
reads seeds and writes outputs (and, for `suggest --apply`, seeds); what it writes is put
together by the stages and `artifacts`, a file at a time as `output.commit` writes it.

At the start of a run what the previous run wrote is read back (`earlier`): the previous
`output/enriched.json` as the store of last known values, so a fresh clone with an empty
cache still knows them, and the keys of `references.bib`; and `output/history/`, the facts'
history this run appends to (`history.py`). Outputs are written
as one change (`output.commit`): each file goes to a temporary file beside its target as it
is made, and all are renamed over the old ones together, so a crash leaves the old set or
the new one, never half of one. A lock serialises concurrent runs on the same cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import ValidationError

from enrich import collector, folders, output
from enrich.artifacts import Regenerated, output_files
from enrich.cache import Cache
from enrich.columns import select
from enrich.config import Settings
from enrich.diffs import bytes_diff, unified_diff
from enrich.document import Document, split_lines
from enrich.earlier import first_line, read_previous, read_published, written_titles
from enrich.errors import InputError, OutputError, SeedError
from enrich.fetch import FetchReport, Progress, discovery, entities, fetch
from enrich.folders import CHANGES_NAME, TIMELINE_NAME
from enrich.history import History, read_history
from enrich.ids import unique_across_files
from enrich.lint import missing_files
from enrich.merge import merge
from enrich.migrate import load_dataset
from enrich.models import Dataset, Diagnostic, Identifier, RowRecord, Severity
from enrich.parse import diagnose, parse
from enrich.plan import recommendations
from enrich.render import render_document
from enrich.resolve import resolve
from enrich.sources import Source, registry
from enrich.suggest import Filled, Suggestion, fill, suggestions


@dataclass(frozen=True)
class Seed:
    """A parsed and resolved seed file."""

    path: Path
    document: Document
    records: tuple[RowRecord, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def round_trips(self) -> bool:
        return render_document(self.document) == self.document.text

    def findings(self) -> list[Diagnostic]:
        """What `lint` reports: the seed's diagnostics and a warning for each relative link to
        a file missing beside it (`lint.missing_files`), in line order."""
        missing = missing_files(self.document, self.path.parent)
        return sorted((*self.diagnostics, *missing), key=lambda d: (d.line, d.code, d.message))


@dataclass(frozen=True)
class RunResult:
    seeds: tuple[Seed, ...]
    written: tuple[Path, ...]
    dataset: Dataset
    fetch: FetchReport = field(default_factory=lambda: FetchReport(results={}))
    warnings: tuple[str, ...] = ()

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(d for seed in self.seeds for d in seed.diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    def failed_sources(self) -> dict[str, int]:
        """Sources with items whose fetch failed this run, and how many."""
        return dict(sorted(self.fetch.failed.items()))

    @property
    def succeeded(self) -> bool:
        """No error diagnostic and no failed source (a `not_found` is not a failure)."""
        return not self.has_errors and not self.failed_sources()


def discover(paths: Iterable[Path]) -> list[Path]:
    """Markdown files named by `paths`: files as given, folders searched for `*.md`."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.md") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    if not found:
        raise InputError(f"no markdown (*.md) files in {', '.join(map(str, paths))}")
    return found


def read_seed(path: Path) -> str:
    """The text of a seed. Raises `SeedError` for unreadable, binary or non-UTF-8 files."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SeedError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise SeedError(f"{path}:{line}: binary file (NUL byte); a seed must be UTF-8 markdown")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SeedError(
            f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None


def display_path(path: Path) -> str:
    """`path` relative to the working folder, in POSIX form (`../lists/a.md` when outside
    it): the name a seed has in every output, the same whether it was named by an absolute
    or a relative path, and in any checkout of the same repository."""
    return _relative(path, Path.cwd())


def load_seed(path: Path, titles: Mapping[str, str] | None = None) -> Seed:
    """A seed parsed and resolved; `titles` are those an earlier run wrote on its links
    (`titles.earlier_titles`), not curated text when the seed is a regenerated document."""
    name = display_path(path)
    document = parse(read_seed(path), name, titles)
    resolved = resolve(document)
    diagnostics = sorted(
        (*diagnose(document), *resolved.diagnostics), key=lambda d: (d.line, d.code, d.message)
    )
    return Seed(path, document, resolved.records, tuple(diagnostics))


def load_seeds(paths: Iterable[Path], titles: Mapping[str, str] | None = None) -> tuple[Seed, ...]:
    """The seeds of one run, their row ids unique across them (`ids.unique_across_files`)."""
    seeds = [load_seed(path, titles) for path in paths]
    records = unique_across_files([seed.records for seed in seeds])
    return tuple(replace(s, records=r) for s, r in zip(seeds, records, strict=True))


def build_dataset(seeds: tuple[Seed, ...]) -> Dataset:
    return Dataset(
        seeds=[s.document.path for s in seeds],
        records=[r for s in seeds for r in s.records],
        diagnostics=[d for s in seeds for d in s.diagnostics],
    )


def plan(settings: Settings) -> dict[Path, Path]:
    """Every seed of `settings.seeds` and the path of its regenerated document, once the
    folders are known to be usable together (`folders.check_folders`, `folders.documents`)."""
    folders.check_folders(settings.seeds, settings.out, settings.cache)
    return folders.documents(settings.seeds, discover([settings.seeds]), settings.out)


@dataclass(frozen=True)
class Refreshed:
    """Everything a run computed, before anything is written."""

    seeds: tuple[Seed, ...]
    documents: Mapping[Path, Path]  # each seed's path -> its regenerated document's
    dataset: Dataset
    previous: Dataset | None
    fetch: FetchReport
    warnings: tuple[str, ...]
    cache_failure: str | None = None  # why the cache could not be used (left as it was)
    published: Mapping[Identifier, str] = field(default_factory=dict)  # `read_published`
    history: History = field(default_factory=History)  # before this run (`history.py`)


def refresh(
    settings: Settings,
    documents: Mapping[Path, Path],
    progress: Progress | None,
    sources: tuple[Source, ...] | None,
) -> Refreshed:
    """Parse, resolve, fetch and merge the seeds of `documents` (from `plan`). Call it under
    `folders.run_lock`."""
    paths = list(documents)
    recovered = output.recover(settings.out)
    previous, warnings = read_previous(settings.out)
    published, unusable = read_published(settings.out)
    history = read_history(settings.out)  # a malformed one stops the run: InputError
    collector.settle()  # after each stage: see `enrich.collector`
    warnings = recovered + warnings + unusable
    titles = written_titles(previous, paths, settings.out)
    seeds = load_seeds(paths, titles)
    collector.settle()
    records = [r for s in seeds for r in s.records]
    last = previous.results if previous else {}
    with Cache(settings.cache, settings.ttls) as cache:
        chosen = sources if sources is not None else registry(settings)
        linked = entities(records)  # first: discovery must not spend the budget they need
        found = {**discovery(records), **recommendations(records)} if settings.discover else {}
        report = fetch(linked, chosen, settings, cache, last, progress, found)
        warnings += cache.warnings
        failure = cache.failure
    collector.settle()
    dataset = merge(
        [s.document.path for s in seeds],
        records,
        report.results,
        last,
        [d for s in seeds for d in s.diagnostics],
    )
    return Refreshed(
        seeds, documents, dataset, previous, report, tuple(warnings), failure, published, history
    )


def run(
    settings: Settings,
    progress: Progress | None = None,
    on_wait: Callable[[str], None] = lambda message: None,
    sources: tuple[Source, ...] | None = None,
) -> RunResult:
    """The main job: parse, resolve, fetch, merge, render, and write `settings.out`."""
    documents = plan(settings)
    locked = {settings.cache: "--cache", settings.out: "--out"}
    with folders.run_lock(locked, on_wait), collector.run_scope():
        done = refresh(settings, documents, progress, sources)
        files = outputs(settings, done)
        written = output.commit(files, settings.out)
    if done.cache_failure is not None:
        raise OutputError(
            f"--cache {settings.cache}: the cache could not be used ({done.cache_failure}); "
            f"it was left as it was, and the outputs in {settings.out}/ were written from "
            "what this run fetched. Make room there or make it writable (or choose another "
            "--cache), and run again"
        )
    return RunResult(done.seeds, written, done.dataset, done.fetch, done.warnings)


def check(settings: Settings, on_wait: Callable[[str], None] = lambda message: None) -> list[str]:
    """Unified diffs between `settings.out` and what an offline run would write there; an
    `InputError` when `settings.out` holds no dataset to check."""
    offline = replace(settings, offline=True)
    documents = plan(offline)
    folders.existing_dataset(settings.out, "nothing to check")
    locked = {settings.cache: "--cache"} | (
        {settings.out: "--out"} if settings.out.is_dir() else {}
    )
    with folders.run_lock(locked, on_wait), collector.run_scope():
        done = refresh(offline, documents, None, None)
        files = outputs(offline, done)
        changes = settings.out / CHANGES_NAME  # history of the last refresh, not the seeds
        found = (difference(path, content) for path, content in files if path != changes)
        return [diff for diff in found if diff]


def difference(path: Path, content: output.Content) -> str:
    """A unified diff from the bytes of `path` (none when missing) to `content`
    (`diffs.bytes_diff`)."""
    data = b"".join(output.pieces(content))
    try:
        current = path.read_bytes() if path.exists() else b""
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return bytes_diff(current, data, (f"{path} (committed)", f"{path} (from seeds and cache)"))


def outputs(settings: Settings, done: Refreshed) -> Iterator[tuple[Path, output.Content]]:
    """Every output file's path and content, each made when asked for
    (`artifacts.output_files`), each seed's regenerated document where `plan` put it."""
    out = settings.out
    documents = [
        Regenerated(
            seed.document,
            target,
            _relative(seed.path.parent, target.parent),
            _relative(out / TIMELINE_NAME, target.parent),
        )
        for seed in done.seeds
        for target in (done.documents[seed.path],)
    ]
    columns = select(settings.columns, settings.headers)
    return output_files(
        out, done.dataset, done.previous, columns, documents, done.published, done.history
    )


def _relative(path: Path, start: Path) -> str:
    """`path` seen from the folder `start`, in POSIX form."""
    return Path(os.path.relpath(folders.real(path), folders.real(start))).as_posix()


# ------------------------------------------------------------------------- suggestions


def read_dataset(out: Path) -> Dataset:
    """`out`'s enriched.json, for `suggest`; an `InputError` when there is none to use."""
    path = folders.existing_dataset(out, "no dataset to suggest from")
    try:
        return load_dataset(path.read_bytes())
    except (OSError, ValidationError, ValueError) as exc:
        raise InputError(
            f"{path}: unusable ({first_line(exc)}); run `python -m enrich run`"
        ) from None


@dataclass(frozen=True)
class Proposals:
    """The suggestions a dataset's facts give for its seeds as they are now (rows found where
    they are, filled cells seen), and those seeds."""

    suggestions: list[Suggestion]
    seeds: tuple[Seed, ...]

    @property
    def by_file(self) -> dict[str, Seed]:
        return {seed.document.path: seed for seed in self.seeds}

    @property
    def rows(self) -> set[str]:
        """Every row's id and `file:line`: what `--only` may name."""
        records = [r for seed in self.seeds for r in seed.records]
        return {r.id for r in records} | {f"{r.file}:{r.line}" for r in records}


def proposals(dataset: Dataset) -> Proposals:
    """`dataset`'s suggestions for its seeds (the files it names, read now)."""
    seeds = load_seeds(Path(name) for name in dataset.seeds)
    records = [r for seed in seeds for r in seed.records]
    return Proposals(suggestions(records, dataset.results), seeds)


@dataclass(frozen=True)
class Applied:
    """What `suggest --apply` did to each seed: its diff, and every suggestion's outcome."""

    filled: dict[str, Filled]
    diffs: dict[str, str]
    written: tuple[Path, ...] = ()


def apply_suggestions(
    chosen: list[Suggestion], seeds: Mapping[str, Seed], *, write: bool
) -> Applied:
    """Write the chosen suggestions into their seeds (when `write`), each seed replaced as
    one file (temporary file + rename); return the unified diffs."""
    filled: dict[str, Filled] = {}
    diffs: dict[str, str] = {}
    written: list[Path] = []
    for name in dict.fromkeys(s.file for s in chosen):
        document = seeds[name].document
        done = fill(document, seeds[name].records, chosen)
        filled[name] = done
        if done.text == document.text:
            continue
        diffs[name] = unified_diff(
            split_lines(document.text), split_lines(done.text), f"a/{name}", f"b/{name}"
        )
        if write:
            replace_file(Path(name), done.text)
            written.append(Path(name))
    return Applied(filled, diffs, tuple(written))


def replace_file(path: Path, text: str) -> None:
    """`path` holds `text` (UTF-8, line endings as given), replaced in one rename
    (`output.replace`). The file's mode is kept."""
    try:
        output.replace(path, text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
