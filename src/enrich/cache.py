"""diskcache behind `get`/`put` of fetched results; one namespace (key prefix) per source.

What it stores: facts only — `ok`, `not_found` and `moved` results with their provenance and
validators (ETag, Last-Modified). Failures are never stored: a failed fetch must not hide the
last good value, and must be tried again next run.

Freshness is decided here, not by diskcache's expiry: an entry past its source's TTL is still
returned (marked not fresh), because it carries the validators for a conditional request and
is the last known value if the refresh fails. Entries are dropped by diskcache after
`KEEP_FACTOR` TTLs without a refresh.

Entries are JSON text, never pickles. A corrupt cache (SQLite says the file is damaged or not
a database) is reported once, moved aside and rebuilt empty: a cache is an optimisation,
never a reason to lose a run. Any other failure (a full disk, an I/O error, a read-only
database) leaves the cache as it is, never moved aside: the run stops writing into it (and
reading from it, when reading failed) and goes on without it; `failure` says why, for the
caller to report once the outputs are written.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import diskcache
from pydantic import ValidationError

from enrich.migrate import upgrade_result
from enrich.models import Result, Status

KEEP_FACTOR = 30
_REBUILDS = itertools.count(1)
_KEEP = (".lock", "README.md")  # not the cache's: the run lock, the folder's README
CACHEABLE = frozenset({Status.OK, Status.NOT_FOUND, Status.MOVED})
_FORMAT = 2  # bumped when the stored form changes; older entries are then misses


class _NoPickles(diskcache.Disk):  # type: ignore[misc]
    """diskcache's storage with unpickling refused: keys and values are text, and a value
    planted or left as a pickle in cache.db reads as a miss instead of running code."""

    def get(self, key: object, raw: bool) -> object:
        if not raw:
            raise ValueError("refusing to unpickle a cache key")
        return super().get(key, raw)

    def fetch(self, mode: int, filename: str | None, value: object, read: bool) -> object:
        if mode == diskcache.core.MODE_PICKLE:
            raise ValueError("refusing to unpickle a cache value")
        return super().fetch(mode, filename, value, read)


def _corrupt(exc: BaseException) -> bool:
    """Whether `exc` says the database is damaged. `sqlite3` raises exactly `DatabaseError`
    for SQLITE_CORRUPT and SQLITE_NOTADB, and a subclass (`OperationalError`: SQLITE_FULL,
    SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN...) or an `OSError` for the rest."""
    return type(exc) is sqlite3.DatabaseError


def _key(source: str, ref: str) -> str:
    return f"{_FORMAT}|{source}|{ref}"


@dataclass(frozen=True)
class Entry:
    result: Result
    stored_at: float
    fresh: bool


def fresh_hit(entry: Entry | None, refresh: bool) -> Result | None:
    """What the cache answers for `entry` with no request made: a fresh entry's result,
    unless the run re-asks everything (`--refresh`). The one rule of a fresh cache hit: the
    fetch stage serves it, discovery's budget counts it free."""
    return entry.result if entry is not None and entry.fresh and not refresh else None


class Cache:
    """The on-disk cache of one run. Use as a context manager, or call `close()`."""

    def __init__(self, directory: Path, ttls: Mapping[str, int]) -> None:
        self.directory = directory
        self.ttls = dict(ttls)
        self.warnings: list[str] = []
        self.failure: str | None = None
        """Why the cache could not be used this run (and was left as it was), if it could not."""
        self._disk: diskcache.Cache | None = self._open()

    def _open(self) -> diskcache.Cache | None:
        try:
            disk = diskcache.Cache(str(self.directory), disk=_NoPickles)
            disk.get("probe")  # reads the database: fails here if it is corrupt
            return disk
        except (sqlite3.Error, OSError) as exc:
            if _corrupt(exc):
                return self._rebuild(exc)
            self._fail(exc)
            return None

    def _rebuild(self, exc: BaseException) -> diskcache.Cache | None:
        """Move the corrupt cache's files aside (inside the folder, so the run lock there
        stays where it is) and start an empty cache."""
        stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{next(_REBUILDS)}"
        aside = self.directory / f"corrupt-{stamp}"
        self.warnings.append(
            f"cache {self.directory} is unreadable ({type(exc).__name__}: {exc}); "
            f"moved its files to {aside} and started an empty one"
        )
        try:
            aside.mkdir(parents=True)
            for entry in self.directory.iterdir():
                ours = entry.name not in _KEEP and not entry.name.startswith("corrupt-")
                if entry != aside and ours:
                    shutil.move(str(entry), str(aside / entry.name))
            return diskcache.Cache(str(self.directory), disk=_NoPickles)
        except (sqlite3.Error, OSError) as error:
            self._fail(error)
            return None

    def _fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"

    def get(self, source: str, ref: str, now: float | None = None) -> Entry | None:
        """The stored result for `ref`, fresh or not; None when absent or unreadable."""
        disk = self._disk
        if disk is None:
            return None
        try:
            raw = disk.get(_key(source, ref))
        except ValueError:  # a pickle: refused
            self._forget(disk, _key(source, ref))
            return None
        except (sqlite3.Error, OSError) as exc:
            self._trouble(disk, exc, reading=True)
            return None
        if not isinstance(raw, str):
            return None
        try:
            envelope = json.loads(raw)
            stored_at = float(envelope["stored_at"])
            result = Result.model_validate(upgrade_result(envelope["result"]))
        except (ValidationError, ValueError, KeyError, TypeError):
            self._forget(disk, _key(source, ref))
            return None
        now = time.time() if now is None else now
        fresh = now - float(stored_at) < self.ttls.get(source, 0)
        return Entry(result=result, stored_at=stored_at, fresh=fresh)

    def put(self, source: str, result: Result, now: float | None = None) -> bool:
        """Store a fact; refuse (return False) anything that is not one."""
        disk = self._disk
        if result.status not in CACHEABLE or disk is None or self.failure is not None:
            return False
        now = time.time() if now is None else now
        keep = self.ttls.get(source, 0) * KEEP_FACTOR or None
        # A str is stored by diskcache as text, never pickled.
        value = json.dumps({"stored_at": now, "result": result.model_dump(mode="json")})
        try:
            disk.set(_key(source, result.ref), value, expire=keep)
        except (sqlite3.Error, OSError) as exc:
            self._trouble(disk, exc, reading=False)
            return False
        return True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The `put`s made inside share one SQLite transaction: one commit for thousands
        of entries instead of one each (a commit waits for the disk). Should the
        cache fail, it is handled as `put` handles it, and the puts go on without one."""
        disk = self._disk
        if disk is None or self.failure is not None:
            yield
            return
        try:
            manager = disk.transact()
            manager.__enter__()
        except (sqlite3.Error, OSError) as exc:
            self._trouble(disk, exc, reading=False)
            yield
            return
        try:
            yield
        except BaseException:
            with suppress(sqlite3.Error, OSError):
                manager.__exit__(*sys.exc_info())
            raise
        try:
            manager.__exit__(None, None, None)
        except (sqlite3.Error, OSError) as exc:
            self._trouble(disk, exc, reading=False)  # unless a `put` inside already did

    def _trouble(self, disk: diskcache.Cache, exc: BaseException, *, reading: bool) -> None:
        """`disk`, the cache in use, failed: rebuilt when corrupt; else left as it is, with
        no more writes this run (and no more reads, when reading failed)."""
        current = self._disk
        if current is None or current is not disk:
            return  # handled already
        corrupt = _corrupt(exc)
        if not corrupt:
            self._fail(exc)
        if corrupt or reading:
            with suppress(sqlite3.Error, OSError):  # failing already; nothing left to write
                current.close()
            self._disk = self._rebuild(exc) if corrupt else None

    def _forget(self, disk: diskcache.Cache, key: str) -> None:
        """Delete an entry that cannot be read (when the cache can still be written)."""
        if self.failure is None:
            try:
                disk.delete(key)
            except (sqlite3.Error, OSError) as exc:
                self._trouble(disk, exc, reading=False)

    def close(self) -> None:
        disk, self._disk = self._disk, None
        if disk is not None:
            disk.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
