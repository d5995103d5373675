"""`enrich.cache.Cache`: facts only, freshness by TTL, no secrets, survives corruption."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import diskcache
import pytest

from enrich.cache import KEEP_FACTOR, Cache, _key
from enrich.config import Secret, Settings
from enrich.metadata import Author, PaperMeta, RepoMeta
from enrich.models import Result, Status
from tests import builders as build

TTL = 3600
TTLS = {"arxiv": TTL, "github": 60}
T0 = 1_700_000_000.0
TOKEN = "ghp_FAKE_test_token_zz9Qx7Lm3"
HF_TOKEN = "hf_FAKE_test_token_aB3cD4eF5"


def paper_result(arxiv_id: str = "2306.07629", title: str = "SqueezeLLM") -> Result:
    data = PaperMeta(
        arxiv_id=arxiv_id,
        latest_version="v4",
        title=title,
        authors=[Author(name="Sehoon Kim", affiliations=["UC Berkeley"])],
        abstract="Dense-and-sparse quantization.",
        published=datetime(2023, 6, 13, tzinfo=UTC),
        updated=datetime(2024, 6, 5, tzinfo=UTC),
        categories=["cs.CL"],
    )
    return build.result(
        f"arxiv:{arxiv_id}",
        data,
        source="arxiv",
        fetched_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        etag='W/"abc123"',
        last_modified="Wed, 01 May 2024 12:00:00 GMT",
    )


def status_result(status: Status, ref: str = "arxiv:1234.5678") -> Result:
    return build.result(
        ref,
        None,
        status,
        source="arxiv",
        fetched_at=None if status is Status.ERROR else datetime(2024, 5, 1, tzinfo=UTC),
        error="boom" if status in (Status.ERROR, Status.STALE) else None,
    )


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache(tmp_path / "cache", TTLS) as opened:
        yield opened


def files_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


# --------------------------------------------------------------------------- round trip


def test_put_get_round_trip(cache: Cache) -> None:
    stored = paper_result()
    assert cache.put("arxiv", stored, now=T0) is True
    entry = cache.get("arxiv", build.ident(stored.ref), now=T0 + 1)
    assert entry is not None
    assert entry.result == stored
    assert entry.result.provenance.etag == 'W/"abc123"'
    assert entry.result.provenance.last_modified == "Wed, 01 May 2024 12:00:00 GMT"
    assert isinstance(entry.result.data, PaperMeta)
    assert entry.result.data.title == "SqueezeLLM"
    assert entry.stored_at == T0
    assert entry.fresh is True


def test_round_trip_survives_reopening(tmp_path: Path) -> None:
    stored = paper_result()
    with Cache(tmp_path / "cache", TTLS) as first:
        first.put("arxiv", stored, now=T0)
    with Cache(tmp_path / "cache", TTLS) as second:
        entry = second.get("arxiv", build.ident(stored.ref), now=T0)
        assert entry is not None
        assert entry.result == stored
        assert second.warnings == []


def test_puts_in_one_transaction_are_stored(tmp_path: Path) -> None:
    stored = [paper_result(f"2306.0762{i}") for i in range(3)]
    with Cache(tmp_path / "cache", TTLS) as cache, cache.transaction():
        for result in stored:
            assert cache.put("arxiv", result, now=T0) is True
    with Cache(tmp_path / "cache", TTLS) as reopened:
        for result in stored:
            entry = reopened.get("arxiv", build.ident(result.ref), now=T0)
            assert entry is not None
            assert entry.result == result


def test_a_cache_failing_inside_a_transaction_is_rebuilt_and_the_puts_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Cache(tmp_path / "cache", TTLS) as cache:
        with cache.transaction():
            cache.put("arxiv", paper_result("2306.07620"), now=T0)
            failing = cache._disk

            def broken(*args: object, **kwargs: object) -> None:
                raise sqlite3.DatabaseError("database disk image is malformed")

            monkeypatch.setattr(failing, "set", broken)
            assert cache.put("arxiv", paper_result("2306.07621"), now=T0) is False
            assert cache.put("arxiv", paper_result("2306.07622"), now=T0) is True
        assert len(cache.warnings) == 1
        assert cache.get("arxiv", build.ident("arxiv:2306.07622"), now=T0) is not None
        assert cache.get("arxiv", build.ident("arxiv:2306.07621"), now=T0) is None


def test_a_missing_entry_is_none(cache: Cache) -> None:
    assert cache.get("arxiv", build.ident("arxiv:0000.0000"), now=T0) is None


def test_namespaces_are_separate(cache: Cache) -> None:
    stored = paper_result()
    cache.put("arxiv", stored, now=T0)
    assert cache.get("github", build.ident(stored.ref), now=T0) is None


def test_a_later_put_replaces_the_entry(cache: Cache) -> None:
    cache.put("arxiv", paper_result(title="Old"), now=T0)
    cache.put("arxiv", paper_result(title="New"), now=T0 + 10)
    entry = cache.get("arxiv", build.ident("arxiv:2306.07629"), now=T0 + 10)
    assert entry is not None
    assert isinstance(entry.result.data, PaperMeta)
    assert entry.result.data.title == "New"
    assert entry.stored_at == T0 + 10


@pytest.mark.parametrize("status", [Status.NOT_FOUND, Status.MOVED])
def test_facts_without_data_are_stored(cache: Cache, status: Status) -> None:
    stored = status_result(status)
    if status is Status.MOVED:
        stored = stored.model_copy(
            update={
                "moved_to": "new-owner/repo",
                "data": RepoMeta(full_name="new-owner/repo", stars=5),
            }
        )
    assert cache.put("arxiv", stored, now=T0) is True
    entry = cache.get("arxiv", build.ident(stored.ref), now=T0)
    assert entry is not None
    assert entry.result == stored


@pytest.mark.parametrize("status", [Status.ERROR, Status.STALE, Status.SKIPPED])
def test_failures_are_refused(cache: Cache, status: Status) -> None:
    refused = status_result(status)
    assert cache.put("arxiv", refused, now=T0) is False
    assert cache.get("arxiv", build.ident(refused.ref), now=T0) is None


def test_a_failure_does_not_overwrite_a_stored_fact(cache: Cache) -> None:
    good = paper_result()
    cache.put("arxiv", good, now=T0)
    stale = good.model_copy(
        update={"provenance": good.provenance.model_copy(update={"status": Status.STALE})}
    )
    assert cache.put("arxiv", stale, now=T0 + 5) is False
    entry = cache.get("arxiv", build.ident(good.ref), now=T0 + 5)
    assert entry is not None
    assert entry.result == good
    assert entry.stored_at == T0


# --------------------------------------------------------------------------- freshness


def test_fresh_within_ttl(cache: Cache) -> None:
    cache.put("arxiv", paper_result(), now=T0)
    entry = cache.get("arxiv", build.ident("arxiv:2306.07629"), now=T0 + TTL - 1)
    assert entry is not None
    assert entry.fresh is True


@pytest.mark.parametrize("age", [TTL, TTL + 1, 10 * TTL])
def test_an_expired_entry_is_returned_not_fresh(cache: Cache, age: int) -> None:
    stored = paper_result()
    cache.put("arxiv", stored, now=T0)
    entry = cache.get("arxiv", build.ident(stored.ref), now=T0 + age)
    assert entry is not None
    assert entry.fresh is False
    assert entry.result == stored
    assert entry.stored_at == T0


def test_ttl_is_per_source(cache: Cache) -> None:
    ref = "arxiv:2306.07629"
    cache.put("arxiv", paper_result(), now=T0)
    cache.put("github", paper_result(), now=T0)
    later = T0 + 120  # past github's 60 s, within arxiv's hour
    arxiv, github = (
        cache.get("arxiv", build.ident(ref), now=later),
        cache.get("github", build.ident(ref), now=later),
    )
    assert arxiv is not None
    assert github is not None
    assert arxiv.fresh is True
    assert github.fresh is False


def test_a_source_without_ttl_is_never_fresh(cache: Cache) -> None:
    cache.put("other", paper_result(), now=T0)
    entry = cache.get("other", build.ident("arxiv:2306.07629"), now=T0)
    assert entry is not None
    assert entry.fresh is False


def test_diskcache_keeps_entries_for_keep_factor_ttls(tmp_path: Path) -> None:
    before = time.time()
    with Cache(tmp_path / "cache", TTLS) as cache:
        cache.put("arxiv", paper_result())
    with diskcache.Cache(str(tmp_path / "cache")) as disk:
        _, expire = disk.get(_key("arxiv", "arxiv:2306.07629"), expire_time=True)
    assert expire - before == pytest.approx(TTL * KEEP_FACTOR, abs=5)


# --------------------------------------------------------------------------- tokens


def test_no_token_is_stored(tmp_path: Path) -> None:
    settings = Settings(
        cache=tmp_path / "cache",
        retry_wait=False,
        github_token=Secret(TOKEN),
        hf_token=Secret(HF_TOKEN),
    )
    with Cache(settings.cache, settings.ttls) as cache:
        for n in range(3):
            cache.put("arxiv", paper_result(f"2306.0762{n}"))
        cache.put("github", status_result(Status.NOT_FOUND, "github_repo:a/b"))
    stored = files_bytes(settings.cache)
    assert b"SqueezeLLM" in stored  # the scan does see what was stored
    assert b"2306.07622" in stored
    assert TOKEN.encode() not in stored
    assert HF_TOKEN.encode() not in stored
    assert b"TESTTOKEN" not in stored


def test_entries_are_not_stored_as_pickles(tmp_path: Path) -> None:
    with Cache(tmp_path / "cache", TTLS) as cache:
        cache.put("arxiv", paper_result())
    connection = sqlite3.connect(tmp_path / "cache" / "cache.db")
    try:
        modes = {row[0] for row in connection.execute("SELECT mode FROM Cache")}
    finally:
        connection.close()
    assert modes
    assert diskcache.core.MODE_PICKLE not in modes


# --------------------------------------------------------------------------- corruption


def test_a_corrupt_cache_is_reported_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    with Cache(directory, TTLS) as cache:
        cache.put("arxiv", paper_result(), now=T0)
        assert cache.warnings == []
    garbage = b"this is not a sqlite database\x00\xff" * 200
    (directory / "cache.db").write_bytes(garbage)

    with Cache(directory, TTLS) as cache:
        assert len(cache.warnings) == 1
        warning = cache.warnings[0]
        assert str(directory) in warning
        assert "unreadable" in warning
        aside = [p for p in directory.iterdir() if p.name.startswith("corrupt-")]
        assert len(aside) == 1
        assert str(aside[0]) in warning
        assert (aside[0] / "cache.db").read_bytes() == garbage
        # rebuilt empty, and working
        assert cache.get("arxiv", build.ident("arxiv:2306.07629"), now=T0) is None
        stored = paper_result(title="After rebuild")
        assert cache.put("arxiv", stored, now=T0) is True
        entry = cache.get("arxiv", build.ident(stored.ref), now=T0)
        assert entry is not None
        assert entry.result == stored

    with Cache(directory, TTLS) as reopened:
        assert reopened.warnings == []
        assert reopened.get("arxiv", build.ident(stored.ref), now=T0) is not None


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        "[]",
        '{"result": {}}',
        '{"stored_at": "yesterday", "result": {}}',
        '{"stored_at": 1, "result": {"ref": 42}}',
        '{"stored_at": 1, "result": {"ref": "arxiv:1", "provenance": {"status": "ok"}}}',
    ],
    ids=["not-json", "not-an-object", "no-stored-at", "bad-stored-at", "bad-ref", "no-source"],
)
def test_an_undecodable_entry_is_a_miss_and_is_deleted(tmp_path: Path, text: str) -> None:
    directory = tmp_path / "cache"
    key = _key("arxiv", "arxiv:1")
    with diskcache.Cache(str(directory)) as disk:
        disk.set(key, text)
    with Cache(directory, TTLS) as cache:
        assert cache.get("arxiv", build.ident("arxiv:1"), now=T0) is None
        assert cache.warnings == []
    with diskcache.Cache(str(directory)) as disk:
        assert key not in disk
    with Cache(directory, TTLS) as cache:  # the key is usable again
        assert cache.put("arxiv", status_result(Status.NOT_FOUND, "arxiv:1"), now=T0)
        assert cache.get("arxiv", build.ident("arxiv:1"), now=T0) is not None


def test_an_entry_in_another_stored_form_is_a_miss(tmp_path: Path) -> None:
    # What the first version of this cache wrote: a (stored_at, json) tuple.
    directory = tmp_path / "cache"
    with diskcache.Cache(str(directory)) as disk:
        disk.set(_key("arxiv", "arxiv:1"), (T0, status_result(Status.NOT_FOUND).model_dump_json()))
    with Cache(directory, TTLS) as cache:
        assert cache.get("arxiv", build.ident("arxiv:1"), now=T0) is None


UNPICKLED: list[str] = []


def _record_unpickling(tag: str) -> str:
    UNPICKLED.append(tag)
    return tag


class _Planted:
    """An object whose unpickling calls `_record_unpickling`: stands for a malicious pickle."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_record_unpickling, ("planted",))


def test_a_pickle_planted_in_the_cache_is_never_unpickled(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    with diskcache.Cache(str(directory)) as disk:
        disk.set(_key("arxiv", "arxiv:1"), _Planted())
    UNPICKLED.clear()
    with Cache(directory, TTLS) as cache:
        assert cache.get("arxiv", build.ident("arxiv:1"), now=T0) is None
    assert UNPICKLED == []


def test_two_rebuilds_in_the_same_second_keep_both_copies_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("enrich.cache.time.time", lambda: T0)
    directory = tmp_path / "cache"
    for n in range(2):
        Cache(directory, TTLS).close()
        (directory / "cache.db").write_bytes(b"garbage %d" % n * 500)
        with Cache(directory, TTLS) as cache:
            assert len(cache.warnings) == 1
    aside = sorted(p for p in directory.iterdir() if p.name.startswith("corrupt-"))
    assert len(aside) == 2
    assert all((p / "cache.db").is_file() for p in aside)


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "HF_TOKEN", "S2_API_KEY"])
def test_a_token_a_header_cannot_carry_is_refused_without_showing_it(name: str) -> None:
    from enrich.config import Settings
    from enrich.errors import InputError

    with pytest.raises(InputError) as caught:
        Settings.from_env({name: "s3cr\u00e9t-t\u00f6ken"})
    assert name in str(caught.value)
    assert "\u00e9" not in str(caught.value)
    assert "s3cr" not in str(caught.value)


# ------------------------------------------------- failures that are not corruption


def full(directory: Path) -> None:
    """The database may not grow: every write that needs a page fails as on a full disk
    (SQLITE_FULL, "database or disk is full"). diskcache keeps the pragma in its settings."""
    diskcache.Cache(str(directory), sqlite_max_page_count=1).close()


def stored(directory: Path, count: int) -> list[Result]:
    results = [paper_result(f"2306.{n:05d}", title=f"P{n}") for n in range(count)]
    with Cache(directory, TTLS) as cache:
        assert all(cache.put("arxiv", r, now=T0) for r in results)
    return results


def nothing_moved_aside(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.startswith("corrupt-")]


@pytest.mark.parametrize("in_transaction", [False, True])
def test_a_full_cache_is_left_as_it_was_and_no_longer_written(
    tmp_path: Path, in_transaction: bool
) -> None:
    directory = tmp_path / "cache"
    kept = stored(directory, 3)
    full(directory)
    with Cache(directory, TTLS) as cache:
        assert cache.failure is None
        with cache.transaction() if in_transaction else contextlib.nullcontext():
            puts = [cache.put("arxiv", paper_result(f"2401.{n:05d}"), now=T0) for n in range(200)]
        assert puts.count(False) > 0
        assert puts[puts.index(False) :] == [False] * (200 - puts.index(False))  # none after
        assert cache.failure is not None
        assert "database or disk is full" in cache.failure
        assert cache.warnings == []
        # still read: what it holds serves the rest of the run
        assert all(cache.get("arxiv", build.ident(r.ref), now=T0) is not None for r in kept)
    assert nothing_moved_aside(directory)
    with Cache(directory, TTLS) as reopened:
        assert [reopened.get("arxiv", build.ident(r.ref), now=T0).result for r in kept] == kept  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("attempt to write a readonly database"),
        OSError(5, "Input/output error"),
    ],
    ids=["io-error", "read-only", "os-error"],
)
@pytest.mark.parametrize("where", ["get", "set", "open"])
def test_an_io_failure_never_moves_a_valid_cache_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, where: str
) -> None:
    directory = tmp_path / "cache"
    kept = stored(directory, 2)

    def failing(*args: object, **kwargs: object) -> None:
        raise error

    if where == "open":
        monkeypatch.setattr(diskcache, "Cache", failing)
    with Cache(directory, TTLS) as cache:
        if where != "open":
            monkeypatch.setattr(cache._disk, where, failing)
        assert cache.get("arxiv", build.ident(kept[0].ref), now=T0) is None or where == "set"
        assert cache.put("arxiv", paper_result("2402.00001"), now=T0) is False
        assert cache.failure is not None
        assert cache.warnings == []
        assert cache.get("arxiv", build.ident("arxiv:2402.00001"), now=T0) is None
    monkeypatch.undo()
    assert nothing_moved_aside(directory)
    with Cache(directory, TTLS) as reopened:
        assert reopened.get("arxiv", build.ident(kept[1].ref), now=T0) is not None
