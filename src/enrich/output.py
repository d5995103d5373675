"""All-or-nothing writing of the output folder.

A run writes several files that belong together (the dataset, its schema, the documents,
the report). Each is written in full to a temporary file beside its target as soon as it
is made (`commit` takes them one at a time, so the run never holds every file at once) and
flushed to disk, unless the target holds those bytes already (compared as they are written:
an unchanged file is left alone, its temporary file removed); then a journal naming every
(temporary, target) pair is written (itself atomically); then the temporary files are
renamed over their targets; then the journal is removed. A run killed at any point leaves
either the old set (no journal yet: the temporary files are debris) or a journal from which
`recover` finishes the renames — so after `recover`, which every run and check calls first,
the folder holds the old version or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from enrich.errors import OutputError

JOURNAL = ".enrich-commit.json"
_TMP_SUFFIX = ".tmp"
_BLOCK = 1 << 20

Content = str | bytes | Iterable[bytes]
"""A file's content: text (written as UTF-8), its bytes, or its bytes in pieces (a large
file made a piece at a time is never held whole)."""


def commit(files: Iterable[tuple[Path, Content]], folder: Path) -> tuple[Path, ...]:
    """Write every changed file of `files` (all below `folder`) as one change; the files
    that changed. Each file is staged as `files` gives it, before the next one is made; a
    failure while they are made or staged (a full disk) leaves the old files and removes
    what was staged."""
    staged: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            for path, content in files:
                tmp = _stage(path, content)
                if tmp is not None:
                    staged.append((tmp, path))
            if staged:
                _write_journal(folder, staged)
        except BaseException:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            raise
        if staged:
            _apply(folder, staged)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot write the output ({exc.strerror or exc}); no file was left half "
            "written. Make room there or make it writable (or choose another --out), and run again"
        ) from None
    return tuple(path for _, path in staged)


def replace(path: Path, content: Content) -> None:
    """`path` holds `content`, written beside it and renamed over it (its mode kept): a
    reader sees the old file or the new one. For a single file (`suggest --apply`'s seeds);
    the output folder goes through `commit`."""
    staged = _stage(path, content)
    if staged is None:  # it holds `content` already
        return
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


def pieces(content: Content) -> Iterable[bytes]:
    """`content` as the bytes it is written as, in pieces."""
    if isinstance(content, str):
        return (content.encode("utf-8"),)
    return (content,) if isinstance(content, bytes) else content


class _Unchanged:
    """Whether the bytes seen so far are how the file at `path` begins: the file is read
    alongside, a block at a time (never a second copy of a large file in memory)."""

    def __init__(self, path: Path) -> None:
        try:
            self._file: BinaryIO | None = path.open("rb")
        except FileNotFoundError:
            self._file = None

    def see(self, piece: bytes) -> None:
        if self._file is None:
            return
        view = memoryview(piece)
        for start in range(0, len(view), _BLOCK):
            block = view[start : start + _BLOCK]
            if self._file.read(len(block)) != block:
                self.close()
                return

    def whole(self) -> bool:
        """The bytes seen are the whole file."""
        return self._file is not None and self._file.read(1) == b""

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> _Unchanged:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _mode(path: Path) -> int:
    """The target's own mode, else what a plain `open` would give (0666 less the umask):
    `mkstemp` makes 0600 files, and a rename keeps the mode."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _stage(path: Path, content: Content) -> Path | None:
    """`content` in a flushed temporary file beside `path`, with `path`'s mode; None (and
    no file) when `path` holds exactly those bytes already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The target is opened first: one that cannot be read (a folder, no permission) fails
    # before a temporary file exists, so nothing is left behind.
    with _Unchanged(path) as unchanged:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
        return _write(fd, Path(name), path, content, unchanged)


def _write(fd: int, tmp: Path, path: Path, content: Content, unchanged: _Unchanged) -> Path | None:
    """`_stage`'s writing into the temporary file `tmp` (open as `fd`); `tmp` removed on
    any failure, and when `path` holds those bytes already (None)."""
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _mode(path))
            for piece in pieces(content):
                handle.write(piece)
                unchanged.see(piece)
            if unchanged.whole():
                handle.close()
                tmp.unlink()
                return None
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _write_journal(folder: Path, staged: list[tuple[Path, Path]]) -> None:
    text = json.dumps([[str(t.resolve()), str(p.resolve())] for t, p in staged])
    tmp = _stage(folder / JOURNAL, text)
    if tmp is not None:  # else a journal of the same renames is there already
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
