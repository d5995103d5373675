"""Fetch returns, merge decides: the phases are data (`plan.PAPERS`, by kind, not by a
source's name), `fetch_all` returns a frozen report, discovery's cache entries are looked up
once, and the worker threads belong to the loop `fetch` makes, not to the caller's."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from enrich.cache import Cache, Entry
from enrich.config import Settings
from enrich.fetch import WORKERS, fetch, fetch_all
from enrich.models import REF, Identifier, Kind, Result
from enrich.plan import PAPERS
from enrich.sources import FetchContext, Request
from tests.test_fetch import (
    A1,
    S_A1,
    S_DOI,
    FakeSource,
    Logged,
    ident,
    known,
    scholar_answer,
    store,
    wanted,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(cache=tmp_path / "cache", retry_wait=False)


@pytest.mark.parametrize(("leader", "follower"), [("s2", "papers"), ("zz", "aa")])
def test_the_papers_phase_goes_by_kind_not_by_name(
    settings: Settings, leader: str, follower: str
) -> None:
    assert (PAPERS.leader, PAPERS.follower) == (Kind.SCHOLAR, Kind.ARXIV)
    order: list[str] = []
    scholar = Logged(order, leader, {Kind.SCHOLAR}, scholar_answer({S_DOI: "2305.14314"}))
    arxiv = Logged(order, follower, {Kind.ARXIV})
    with Cache(settings.cache, settings.ttls) as cache:
        report = asyncio.run(
            fetch_all(wanted(A1, S_A1, S_DOI), [arxiv, scholar], settings, cache, {})
        )
    assert order == [leader, follower]
    assert arxiv.refs == [[A1, ident("arxiv:2305.14314")]]
    assert report.served == {leader: 2, follower: 2}


def test_the_report_is_frozen(settings: Settings) -> None:
    with Cache(settings.cache, settings.ttls) as cache:
        report = fetch(wanted(A1), [FakeSource("arxiv", {Kind.ARXIV})], settings, cache, {})
    assert list(report.results) == [A1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.results = {}  # type: ignore[misc]


class Counting(Cache):
    """A cache that counts its lookups by entity."""

    looked: dict[Identifier, int]

    def get(self, source: str, ident: Identifier, now: float | None = None) -> Entry | None:
        self.looked[ident] = self.looked.get(ident, 0) + 1
        return super().get(source, ident, now)


@pytest.mark.parametrize("limit", [0, 1, 5])
def test_a_discovery_lookup_is_looked_up_in_the_cache_once(settings: Settings, limit: int) -> None:
    refs = [ident(f"hf_paper:2401.0000{n}") for n in range(4)]
    optional = {ref: Request(ref) for ref in refs}
    hub = FakeSource("huggingface", {Kind.HF_PAPER})
    limited = dataclasses.replace(settings, discover_limit=limit)
    with Counting(settings.cache, settings.ttls) as cache:
        store(cache, "huggingface", known(refs[0], "huggingface"), age=60)  # fresh
        store(cache, "huggingface", known(refs[1], "huggingface"), age=10**9)  # stale
        cache.looked = {}
        report = fetch({}, [hub], limited, cache, {}, None, optional)
    assert cache.looked == dict.fromkeys(refs, 1)
    assert sorted(report.results, key=REF) == refs
    assert report.deferred == max(0, 3 - limit)  # the fresh one is free


class Threaded(FakeSource):
    """Notes the name of the worker thread its client would run in."""

    threads: list[str]

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> Mapping[Identifier, Result]:
        self.threads = [await asyncio.to_thread(lambda: threading.current_thread().name)]
        return await super().fetch(requests, ctx)


def test_fetch_runs_the_sync_clients_in_its_own_pool(settings: Settings) -> None:
    source = Threaded("arxiv", {Kind.ARXIV})
    with Cache(settings.cache, settings.ttls) as cache:
        fetch(wanted(A1), [source], settings, cache, {})
        assert source.threads[0].startswith("enrich")

        again = dataclasses.replace(settings, refresh=True)  # asked again, not from the cache
        asyncio.run(fetch_all(wanted(A1), [source], again, cache, {}))
        assert len(source.calls) == 2
        assert not source.threads[0].startswith("enrich")  # the caller's loop, left as it was
    assert WORKERS > 8
