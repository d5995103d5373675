"""Wires the stages: parse -> resolve -> (fetch -> merge) -> render. The only module that
reads seeds and writes outputs.

Outputs are written atomically: each file goes to a temporary file in the output folder and
is renamed over the old one, so a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from enrich.errors import InputError, OutputError, SeedError
from enrich.models import Dataset, Diagnostic, Document, RowRecord, Severity
from enrich.parse import diagnose, parse
from enrich.render import dataset_schema, render_document, render_json
from enrich.resolve import resolve

DATASET_NAME = "enriched.json"
SCHEMA_NAME = "enriched.schema.json"


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


@dataclass(frozen=True)
class RunResult:
    seeds: tuple[Seed, ...]
    written: tuple[Path, ...]
    dataset: Dataset

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(d for seed in self.seeds for d in seed.diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


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
    """`path` relative to the working folder when it is below it, in POSIX form."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_seed(path: Path) -> Seed:
    name = display_path(path)
    document = parse(read_seed(path), name)
    resolved = resolve(document)
    diagnostics = sorted(
        (*diagnose(document), *resolved.diagnostics), key=lambda d: (d.line, d.code, d.message)
    )
    return Seed(path, document, resolved.records, tuple(diagnostics))


def build_dataset(seeds: tuple[Seed, ...]) -> Dataset:
    return Dataset(
        seeds=[s.document.path for s in seeds],
        records=[r for s in seeds for r in s.records],
        diagnostics=[d for s in seeds for d in s.diagnostics],
    )


def run(seed_paths: Iterable[Path], out: Path) -> RunResult:
    """Parse and resolve every seed, then write the dataset, its schema and the documents."""
    seeds = tuple(load_seed(p) for p in discover(seed_paths))
    dataset = build_dataset(seeds)
    files = {
        out / DATASET_NAME: render_json(dataset),
        out / SCHEMA_NAME: render_json(dataset_schema()),
    }
    for seed in seeds:
        files[out / seed.path.name] = render_document(seed.document)
    written = tuple(path for path, text in files.items() if write_atomic(path, text))
    return RunResult(seeds=seeds, written=written, dataset=dataset)


def write_atomic(path: Path, text: str) -> bool:
    """Write `text` to `path` through a temporary file and a rename. False if unchanged."""
    data = text.encode("utf-8")
    try:
        if path.is_file() and path.read_bytes() == data:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return True
