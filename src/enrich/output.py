"""All-or-nothing writing of the output folder.

A run writes several files that belong together (the dataset, its schema, the documents,
the report). Each is first written in full to a temporary file beside its target and
flushed to disk; then a journal naming every (temporary, target) pair is written (itself
atomically); then the temporary files are renamed over their targets; then the journal is
removed. A run killed at any point leaves either the old set (no journal yet: the
temporary files are debris) or a journal from which `recover` finishes the renames — so
after `recover`, which every run and check calls first, the folder holds the old version
or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from enrich.errors import OutputError

JOURNAL = ".enrich-commit.json"
_TMP_SUFFIX = ".tmp"
_BLOCK = 1 << 20


def commit(files: Mapping[Path, str | bytes], folder: Path) -> tuple[Path, ...]:
    """Write every changed file of `files` (all below `folder`; text, or its UTF-8 bytes)
    as one change."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = {path: _utf8(content) for path, content in files.items()}  # once: 26 MB at 10k
        changed = [path for path, content in data.items() if differs(path, content)]
        if not changed:
            return ()
        _commit(folder, [(path, data[path]) for path in changed])
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write the output ({exc.strerror or exc}); no file was left half "
            "written. Make room there or make it writable (or choose another --out), and run again"
        ) from None
    return tuple(changed)


def _commit(folder: Path, changed: list[tuple[Path, bytes]]) -> None:
    """Stage every file, journal, rename. A failure before the journal (a full disk) leaves
    the old files and removes what was staged."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, content in changed:
            staged.append((_stage(path, content), path))
        _write_journal(folder, staged)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    _apply(folder, staged)


def replace(path: Path, content: str | bytes) -> None:
    """`path` holds `content`, written beside it and renamed over it (its mode kept): a
    reader sees the old file or the new one. For a single file (`suggest --apply`'s seeds);
    the output folder goes through `commit`."""
    staged = _stage(path, _utf8(content))
    try:
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def recover(folder: Path) -> list[str]:
    """Finish a commit a killed run left half done, and remove its debris. Returns notes."""
    notes: list[str] = []
    journal = folder / JOURNAL
    if journal.is_file():
        try:
            pairs = [(Path(t), Path(p)) for t, p in json.loads(journal.read_text("utf-8"))]
        except (OSError, ValueError, TypeError):
            pairs = []
        _apply(folder, [(t, p) for t, p in pairs if t.exists()])
        notes.append(f"{folder}/: finished writing the output of an interrupted run")
    if folder.is_dir():  # documents sit in subfolders too (the seeds' layout)
        for debris in folder.rglob(f".*{_TMP_SUFFIX}"):
            debris.unlink(missing_ok=True)
    return notes


def _utf8(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def differs(path: Path, data: bytes) -> bool:
    """Whether `path` does not hold `data`: sizes first, then the content a block at a time
    (never a second copy of a large dataset in memory)."""
    try:
        if path.stat().st_size != len(data):
            return True
        view = memoryview(data)
        with path.open("rb") as handle:
            for start in range(0, len(data), _BLOCK):
                if handle.read(_BLOCK) != view[start : start + _BLOCK]:
                    return True
            return handle.read(1) != b""
    except FileNotFoundError:
        return True


def _mode(path: Path) -> int:
    """The target's own mode, else what a plain `open` would give (0666 less the umask):
    `mkstemp` makes 0600 files, and a rename keeps the mode."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _stage(path: Path, data: bytes) -> Path:
    """`data` in a flushed temporary file beside `path`, with `path`'s mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
    try:
        os.fchmod(fd, _mode(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _write_journal(folder: Path, staged: list[tuple[Path, Path]]) -> None:
    text = json.dumps([[str(t.resolve()), str(p.resolve())] for t, p in staged])
    tmp = _stage(folder / JOURNAL, text.encode("utf-8"))
    os.replace(tmp, folder / JOURNAL)
    _sync_dir(folder)


def _apply(folder: Path, staged: list[tuple[Path, Path]]) -> None:
    for tmp, path in staged:
        os.replace(tmp, path)
    for directory in {path.parent for _, path in staged} | {folder}:
        _sync_dir(directory)
    (folder / JOURNAL).unlink(missing_ok=True)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
