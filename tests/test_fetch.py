"""The fetch stage (`enrich.fetch`) with in-test fake sources: no HTTP, no sleeping.

What is under test is the stage: dedupe, cache partition, fallbacks, caching of facts,
`--offline`, `--refresh`, `--only`/`--skip`, crash isolation, concurrency and progress.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from enrich.cache import Cache
from enrich.config import Settings
from enrich.errors import FetchError, TransientError
from enrich.fetch import FetchReport, Progress, entities, fetch_all
from enrich.metadata import Author, HubMeta, PaperMeta, RepoMeta, ScholarMeta
from enrich.models import REF, Identifier, Kind, Link, Provenance, Result, Status
from enrich.parse import parse
from enrich.resolve import resolve
from enrich.sources import FetchContext, Request, SourceStats, result
from tests import builders as build
from tests.builders import ident

OLD = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
DAY = 24 * 3600

Answer = Callable[[Request, FetchContext, str], Result | None]


# --------------------------------------------------------------------------- helpers


def data_for(ident: Identifier, title: str = "fresh") -> PaperMeta | RepoMeta | HubMeta:
    if ident.kind is Kind.ARXIV:
        return PaperMeta(
            arxiv_id=ident.key,
            title=title,
            authors=[Author(name="A. Author")],
            abstract="An abstract.",
            published=datetime(2023, 6, 1, tzinfo=UTC),
            updated=datetime(2023, 6, 2, tzinfo=UTC),
        )
    if ident.kind is Kind.GITHUB_REPO:
        return RepoMeta(full_name=ident.key, description=title, stars=42)
    return HubMeta(hub_kind="paper", id=ident.key, title=title)


def ok(request: Request, ctx: FetchContext, source: str) -> Result:
    return result(request, ctx, source, Status.OK, data=data_for(request.identifier), etag='"new"')


def fail(request: Request, ctx: FetchContext, source: str) -> Result:
    return result(request, ctx, source, Status.ERROR, error="HTTP 503 after 4 attempts")


class FakeSource:
    """A `Source` that records its calls and answers each request with `answer`."""

    def __init__(
        self,
        name: str,
        kinds: set[Kind],
        answer: Answer = ok,
        crash: BaseException | None = None,
    ) -> None:
        self.name = name
        self.kinds = frozenset(kinds)
        self.answer = answer
        self.crash = crash
        self.calls: list[list[Request]] = []
        self.contexts: list[FetchContext] = []

    @property
    def refs(self) -> list[list[Identifier]]:
        return [[r.identifier for r in call] for call in self.calls]

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> Mapping[Identifier, Result]:
        self.calls.append(list(requests))
        self.contexts.append(ctx)
        if self.crash is not None:
            raise self.crash
        out: dict[Identifier, Result] = {}
        for request in requests:
            got = self.answer(request, ctx, self.name)
            if got is not None:
                out[request.identifier] = got
        ctx.advance(len(requests))
        return out


class Logged(FakeSource):
    """A `FakeSource` that notes its name in `order` when it is called."""

    def __init__(self, order: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> Mapping[Identifier, Result]:
        self.order.append(self.name)
        return await super().fetch(requests, ctx)


def arxiv_source(answer: Answer = ok, **kw: BaseException) -> FakeSource:
    return FakeSource("arxiv", {Kind.ARXIV}, answer, **kw)


def github_source(answer: Answer = ok, **kw: BaseException) -> FakeSource:
    return FakeSource("github", {Kind.GITHUB_REPO}, answer, **kw)


def wanted(*idents: Identifier) -> dict[Identifier, Request]:
    return {i: Request(i) for i in idents}


def known(
    entity: Identifier, source: str, title: str = "old", status: Status = Status.OK
) -> Result:
    """A last known result, fetched at OLD."""
    return build.result(
        entity.ref,
        data_for(entity, title) if status in (Status.OK, Status.MOVED) else None,
        status,
        source=source,
        fetched_at=OLD,
        etag='"old"',
        moved_to="new/name" if status is Status.MOVED else None,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(cache=tmp_path / "cache", retry_wait=False)


@pytest.fixture
def cache(settings: Settings) -> Iterator[Cache]:
    with Cache(settings.cache, settings.ttls) as opened:
        yield opened


def fetch(
    want: Mapping[Identifier, Request],
    sources: Sequence[FakeSource],
    settings: Settings,
    cache: Cache,
    previous: Mapping[Identifier, Result] | None = None,
    progress: Progress | None = None,
) -> FetchReport:
    return asyncio.run(fetch_all(want, sources, settings, cache, previous or {}, progress))


def store(cache: Cache, source: str, value: Result, age: float) -> None:
    """Put `value` in the cache as stored `age` seconds ago."""
    assert cache.put(source, value, now=time.time() - age)


A1, A2, A3 = ident("arxiv:2306.07629"), ident("arxiv:2401.00001"), ident("arxiv:2402.00002")
G1, G2 = ident("github_repo:mit-han-lab/llm-awq"), ident("github_repo:org/other")


# --------------------------------------------------------------------------- entities


SEED = """\
# Papers

| Paper | Code |
|---|---|
| [A](https://arxiv.org/abs/2306.07629v2) | [c][awq] |
| [B](https://huggingface.co/papers/2306.07629) | [c][tinychat] |
| [C](https://huggingface.co/papers/2401.00001) | [c][awq] |
| [D](https://arxiv.org/abs/2306.07629) | [c](https://github.com/mit-han-lab/llm-awq) |

[awq]: https://github.com/mit-han-lab/llm-awq/tree/main/awq
[tinychat]: https://github.com/mit-han-lab/llm-awq/tree/main/tinychat
"""


def test_entities_dedupes_collects_subpaths_and_adds_also_refs() -> None:
    records = resolve(parse(SEED, "seed.md")).records
    found = entities(records)
    assert list(found) == [
        ident("arxiv:2306.07629"),
        ident("arxiv:2401.00001"),  # only named through the Hub paper page's `also`
        ident("github_repo:mit-han-lab/llm-awq"),
        ident("hf_paper:2306.07629"),
        ident("hf_paper:2401.00001"),
        ident("scholar:arxiv:2306.07629"),  # every paper's Semantic Scholar record
        ident("scholar:arxiv:2401.00001"),
    ]
    assert found[G1].subpaths == ("tree/main/awq", "tree/main/tinychat")
    assert found[ident("arxiv:2306.07629")].subpaths == ()
    assert found[ident("arxiv:2401.00001")].identifier == Identifier(
        kind=Kind.ARXIV, key="2401.00001"
    )
    assert found[ident("hf_paper:2306.07629")].identifier.kind is Kind.HF_PAPER
    assert all(entity.identifier == key for key, entity in found.items())


def test_entities_keeps_the_first_linked_version() -> None:
    records = resolve(parse(SEED, "seed.md")).records
    assert entities(records)[ident("arxiv:2306.07629")].identifier.version == "v2"


def test_entities_from_records_built_directly() -> None:
    def link(key: str, subpath: str | None = None) -> Link:
        return build.link("u", Kind.GITHUB_REPO, key, subpath=subpath)

    records = [
        build.record(*links, id=f"row{n}", line=n, cells={})
        for n, links in enumerate(
            [
                [link("b/b", "blob/main/x.py")],
                [link("a/a"), link("b/b")],
                [link("b/b", "blob/main/x.py")],
            ]
        )
    ]
    found = entities(records)
    assert list(found) == [ident("github_repo:a/a"), ident("github_repo:b/b")]
    assert found[ident("github_repo:b/b")].subpaths == ("blob/main/x.py",)
    assert entities([]) == {}


# --------------------------------------------------------------------------- cache partition


def test_fresh_cache_hits_make_no_source_call(settings: Settings, cache: Cache) -> None:
    cached = known(A1, "arxiv", "cached")
    store(cache, "arxiv", cached, age=60)
    source = arxiv_source()
    report = fetch(wanted(A1), [source], settings, cache)
    assert source.calls == []
    got = report.results[A1]
    assert got.status is Status.OK
    assert got == cached  # as stored
    assert got.data == cached.data
    assert got.provenance.fetched_at == OLD
    assert report.from_cache == {"arxiv": 1}
    assert report.served == {"arxiv": 1}


def test_only_the_misses_go_to_the_source(settings: Settings, cache: Cache) -> None:
    store(cache, "arxiv", known(A1, "arxiv"), age=60)
    source = arxiv_source()
    report = fetch(wanted(A1, A2, A3), [source], settings, cache)
    assert source.refs == [[A2, A3]]
    assert all(r.previous is None for r in source.calls[0])
    assert report.from_cache == {"arxiv": 1}
    assert report.served == {"arxiv": 3}
    assert report.results[A2].status is Status.OK
    assert report.results[A2].provenance.etag == '"new"'  # from the source


def test_expired_entries_go_to_the_source_with_previous(settings: Settings, cache: Cache) -> None:
    cached = known(A1, "arxiv", "cached")
    store(cache, "arxiv", cached, age=8 * DAY)  # arXiv's TTL is a week
    dataset_value = known(A1, "arxiv", "from the previous dataset")
    source = arxiv_source()
    report = fetch(wanted(A1), [source], settings, cache, previous={A1: dataset_value})
    assert source.refs == [[A1]]
    request = source.calls[0][0]
    # the cache, which carries the validators, wins over the previous dataset
    assert request.previous == cached
    assert request.previous is not None
    assert request.previous.provenance.etag == '"old"'
    assert report.results[A1].status is Status.OK
    assert report.from_cache == {"arxiv": 0}


def test_without_cache_entry_previous_comes_from_the_dataset(
    settings: Settings, cache: Cache
) -> None:
    dataset_value = known(A1, "arxiv")
    source = arxiv_source()
    fetch(wanted(A1), [source], settings, cache, previous={A1: dataset_value})
    assert source.calls[0][0].previous == dataset_value


def test_subpaths_reach_the_source(settings: Settings, cache: Cache) -> None:
    source = github_source()
    want = {G1: Request(G1, subpaths=("tree/main/awq", "tree/main/tinychat"))}
    fetch(want, [source], settings, cache)
    assert source.calls[0][0].subpaths == ("tree/main/awq", "tree/main/tinychat")


def test_refresh_ignores_ttls(settings: Settings, cache: Cache) -> None:
    cached = known(A1, "arxiv", "cached")
    store(cache, "arxiv", cached, age=1)
    source = arxiv_source()
    report = fetch(wanted(A1), [source], replace(settings, refresh=True), cache)
    assert source.refs == [[A1]]
    assert source.calls[0][0].previous == cached
    assert report.results[A1].provenance.etag == '"new"'  # from the source
    assert report.from_cache == {"arxiv": 0}


def test_the_context_carries_settings_and_the_retry_policy(
    settings: Settings, cache: Cache
) -> None:
    settings = replace(settings, retry_attempts=7, retry_max_seconds=12.5)
    source = arxiv_source()
    report = fetch(wanted(A1), [source], settings, cache)
    ctx = source.contexts[0]
    assert ctx.settings is settings
    assert ctx.policy.attempts == 7
    assert ctx.policy.max_seconds == 12.5
    assert ctx.policy.wait is False
    assert ctx.stats is report.stats["arxiv"]


def test_each_source_gets_its_own_retry_policy(settings: Settings, cache: Cache) -> None:
    arxiv, github = arxiv_source(), github_source()
    fetch(wanted(A1, G1), [arxiv, github], settings, cache)
    first, second = arxiv.contexts[0].policy, github.contexts[0].policy
    assert first is not second
    assert first.breaker is not second.breaker  # one unreachable host does not stop the other


# --------------------------------------------------------------------------- after the call


def test_ok_results_are_cached(settings: Settings, cache: Cache) -> None:
    report = fetch(wanted(A1), [arxiv_source()], settings, cache)
    got = report.results[A1]
    assert got.status is Status.OK
    assert got.provenance.fetched_at is not None
    entry = cache.get("arxiv", A1)
    assert entry is not None
    assert entry.fresh
    assert entry.result.data == got.data


def test_a_refreshed_value_replaces_the_expired_entry(settings: Settings, cache: Cache) -> None:
    store(cache, "arxiv", known(A1, "arxiv", "cached"), age=8 * DAY)
    fetch(wanted(A1), [arxiv_source()], settings, cache)
    entry = cache.get("arxiv", A1)
    assert entry is not None
    assert entry.fresh
    assert isinstance(entry.result.data, PaperMeta)
    assert entry.result.data.title == "fresh"


@pytest.mark.parametrize("status", [Status.NOT_FOUND, Status.MOVED])
def test_not_found_and_moved_are_cached(settings: Settings, cache: Cache, status: Status) -> None:
    def answer(request: Request, ctx: FetchContext, source: str) -> Result:
        if status is Status.MOVED:
            data = RepoMeta(full_name="new/name", stars=1)
            return result(request, ctx, source, status, data=data, moved_to="new/name")
        return result(request, ctx, source, status, http_status=404)

    store(cache, "github", known(G1, "github"), age=2 * DAY)
    report = fetch(wanted(G1), [github_source(answer)], settings, cache)
    assert report.results[G1].status is status
    entry = cache.get("github", G1)
    assert entry is not None
    assert entry.fresh
    assert entry.result.status is status
    assert entry.result.model_dump() == report.results[G1].model_dump()  # stored fields


def test_an_error_over_an_old_ok_becomes_stale(settings: Settings, cache: Cache) -> None:
    last = known(A1, "arxiv", "last known")
    report = fetch(wanted(A1), [arxiv_source(fail)], settings, cache, previous={A1: last})
    got = report.results[A1]
    assert got.status is Status.STALE
    assert got.data == last.data
    assert got.provenance.fetched_at == OLD
    assert got.provenance.error == "HTTP 503 after 4 attempts"
    assert got.provenance.etag == '"old"'
    assert report.failed == {"arxiv": 1}
    assert cache.get("arxiv", A1) is None  # failures are never cached


def test_an_error_does_not_touch_the_expired_cache_entry(settings: Settings, cache: Cache) -> None:
    cached = known(A1, "arxiv", "cached")
    store(cache, "arxiv", cached, age=8 * DAY)
    before = cache.get("arxiv", A1)
    report = fetch(wanted(A1), [arxiv_source(fail)], settings, cache)
    assert report.results[A1].status is Status.STALE
    assert report.results[A1].data == cached.data
    after = cache.get("arxiv", A1)
    assert before is not None
    assert after is not None
    assert after.stored_at == before.stored_at
    assert after.result == cached


def test_an_error_without_previous_stays_an_error(settings: Settings, cache: Cache) -> None:
    report = fetch(wanted(A1), [arxiv_source(fail)], settings, cache)
    got = report.results[A1]
    assert got.status is Status.ERROR
    assert got.data is None
    assert got.provenance.fetched_at is None
    assert got.provenance.error == "HTTP 503 after 4 attempts"
    assert cache.get("arxiv", A1) is None


def test_an_error_over_an_old_not_found_is_an_error(settings: Settings, cache: Cache) -> None:
    # `stale` means "data is the last known value": a not_found has none to keep.
    gone = known(G1, "github", status=Status.NOT_FOUND)
    report = fetch(wanted(G1), [github_source(fail)], settings, cache, previous={G1: gone})
    got = report.results[G1]
    assert got.status is Status.ERROR
    assert got.data is None
    assert got.provenance.error == "HTTP 503 after 4 attempts"


def test_a_missing_result_is_an_error(settings: Settings, cache: Cache) -> None:
    def only_a1(request: Request, ctx: FetchContext, source: str) -> Result | None:
        return ok(request, ctx, source) if request.identifier == A1 else None

    last = known(A3, "arxiv")
    report = fetch(
        wanted(A1, A2, A3), [arxiv_source(only_a1)], settings, cache, previous={A3: last}
    )
    assert report.results[A1].status is Status.OK
    assert report.results[A2].status is Status.ERROR
    assert report.results[A2].provenance.source == "arxiv"
    assert report.results[A2].provenance.error == "the source returned no result for it"
    assert report.results[A3].status is Status.STALE  # a previous value is kept
    assert report.failed == {"arxiv": 2}
    assert report.results[A3].data == last.data


def test_a_crashing_source_fails_its_items_only(settings: Settings, cache: Cache) -> None:
    crashing = arxiv_source(crash=RuntimeError("parser exploded"))
    healthy = github_source()
    last = known(A2, "arxiv")
    report = fetch(wanted(A1, A2, G1), [crashing, healthy], settings, cache, previous={A2: last})
    message = "arxiv failed: RuntimeError: parser exploded"
    assert report.results[A1].status is Status.ERROR
    assert report.results[A1].provenance.error == message
    assert report.results[A2].status is Status.STALE
    assert report.results[A2].data == last.data
    assert report.results[A2].provenance.fetched_at == OLD
    assert report.results[A2].provenance.error == message
    assert report.results[G1].status is Status.OK
    assert report.stats["arxiv"].notes == [message]
    assert report.failed == {"arxiv": 2}
    assert report.stats["github"].notes == []
    assert cache.get("arxiv", A1) is None
    assert cache.get("arxiv", A2) is None


# --------------------------------------------------------------------------- offline


def test_offline_calls_no_source(settings: Settings, cache: Cache) -> None:
    store(cache, "arxiv", known(A1, "arxiv", "fresh in cache"), age=60)
    store(cache, "arxiv", known(A2, "arxiv", "expired in cache"), age=8 * DAY)
    previous = {
        A2: known(A2, "arxiv", "the previous dataset wins"),
        A3: known(A3, "arxiv", "in the previous dataset"),
        G2: known(G2, "github", status=Status.NOT_FOUND),
    }
    sources = [arxiv_source(), github_source()]
    report = fetch(
        wanted(A1, A2, A3, G1, G2), sources, replace(settings, offline=True), cache, previous
    )
    assert [s.calls for s in sources] == [[], []]
    got = report.results
    assert list(got) == sorted(got, key=REF)
    # Nothing was attempted, so nothing failed: every last known result is kept as it was
    # (status, value, fetched_at, validators): the stored result as it is. The previous
    # dataset wins over the cache: it is what `check` must reproduce.
    for ref, title in (
        (A1, "fresh in cache"),
        (A2, "the previous dataset wins"),
        (A3, "in the previous dataset"),
    ):
        assert got[ref].status is Status.OK
        assert got[ref].provenance.etag == '"old"'  # as stored
        assert got[ref].provenance.fetched_at == OLD
        assert got[ref].provenance.error is None
        data = got[ref].data
        assert isinstance(data, PaperMeta)
        assert data.title == title
    assert got[G2].model_dump() == previous[G2].model_dump()  # a known not_found stays one
    # nothing known: skipped
    assert got[G1].status is Status.SKIPPED
    assert got[G1].provenance.source == "github"
    assert got[G1].provenance.error == "offline: not fetched"
    assert got[G1].data is None
    assert report.failed == {}


def test_offline_keeps_a_previous_stale_value_stale(settings: Settings, cache: Cache) -> None:
    stale = known(A1, "arxiv", "last known").model_copy(
        update={"provenance": Provenance(source="arxiv", status=Status.STALE, fetched_at=OLD)}
    )
    report = fetch(
        wanted(A1), [arxiv_source()], replace(settings, offline=True), cache, {A1: stale}
    )
    assert report.results[A1].model_dump() == stale.model_dump()


def test_offline_keeps_an_old_error_as_it_was_and_not_as_a_failure_of_this_run(
    settings: Settings, cache: Cache
) -> None:
    """So `check` after a run in which a fetch failed reproduces that run's dataset."""
    old_error = build.result(A1, None, Status.ERROR, source="arxiv", error="HTTP 503")
    report = fetch(
        wanted(A1), [arxiv_source()], replace(settings, offline=True), cache, {A1: old_error}
    )
    assert report.results[A1].model_dump(mode="json") == old_error.model_dump(mode="json")
    assert report.failed == {}


def test_offline_keeps_an_old_skip_with_its_reason(settings: Settings, cache: Cache) -> None:
    later = "discovery: over this run's 100 lookups, asked on a later run"
    old_skip = build.result(A1, None, Status.SKIPPED, source="arxiv", error=later)
    report = fetch(
        wanted(A1), [arxiv_source()], replace(settings, offline=True), cache, {A1: old_skip}
    )
    assert report.results[A1].provenance.error == later


# --------------------------------------------------------------------------- skipped


def test_kinds_no_source_serves_are_skipped(settings: Settings, cache: Cache) -> None:
    source = arxiv_source()
    docs = ident("hf_docs:transformers")
    report = fetch(wanted(A1, docs), [source], settings, cache)
    assert source.refs == [[A1]]
    got = report.results[docs]
    assert got.status is Status.SKIPPED
    assert got.provenance.source == "none"
    assert got.provenance.error == "no source fetches hf_docs links"
    assert "none" not in report.served


def test_unknown_kinds_are_skipped_even_with_a_previous_value(
    settings: Settings, cache: Cache
) -> None:
    docs = ident("hf_docs:transformers")
    old = build.result(docs, None, Status.SKIPPED, source="none")
    report = fetch(wanted(docs), [], settings, cache, previous={docs: old})
    assert report.results[docs].status is Status.SKIPPED


@pytest.mark.parametrize(
    "narrowed",
    [
        lambda s: replace(s, only=frozenset({"arxiv"})),
        lambda s: replace(s, skip=frozenset({"github"})),
    ],
    ids=["only", "skip"],
)
def test_only_and_skip(
    settings: Settings, cache: Cache, narrowed: Callable[[Settings], Settings]
) -> None:
    previous = {
        G1: known(G1, "github", "last known"),
        G2: known(G2, "github", status=Status.NOT_FOUND),
    }
    unknown = ident("github_repo:never/seen")
    arxiv, github = arxiv_source(), github_source()
    report = fetch(
        wanted(A1, G1, G2, unknown), [arxiv, github], narrowed(settings), cache, previous
    )
    assert arxiv.refs == [[A1]]
    assert github.calls == []
    assert "github" not in report.served
    assert report.failed == {}
    got = report.results
    assert got[A1].status is Status.OK
    assert got[A1].provenance.etag == '"new"'  # from the source
    # a last known result is kept as it was: status, value and fetched_at
    assert got[G1].status is Status.OK
    assert got[G1].data == previous[G1].data
    assert got[G1].provenance.fetched_at == OLD
    assert got[G1].provenance.error is None
    assert got[G1] == previous[G1]  # as it was
    assert got[G2].model_dump() == previous[G2].model_dump()
    # nothing known: skipped, under the source's name
    assert got[unknown].status is Status.SKIPPED
    assert got[unknown].provenance.source == "github"
    assert got[unknown].provenance.error == "skipped: --only/--skip left out github"
    assert got[unknown].data is None


def test_skip_uses_the_cached_value(settings: Settings, cache: Cache) -> None:
    cached = known(G1, "github", "cached")
    store(cache, "github", cached, age=60)
    previous = {G1: known(G1, "github", "from the previous dataset")}
    source = github_source()
    report = fetch(
        wanted(G1), [source], replace(settings, skip=frozenset({"github"})), cache, previous
    )
    assert source.calls == []
    got = report.results[G1]
    # the cache wins over the previous dataset, as for an entity that is fetched
    assert got.status is Status.OK
    assert got.data == cached.data
    assert got.provenance.fetched_at == OLD
    assert got == cached  # as stored


# --------------------------------------------------------------------------- concurrency, progress


def test_progress_receives_totals(settings: Settings, cache: Cache) -> None:
    store(cache, "arxiv", known(A1, "arxiv"), age=60)
    calls: list[tuple[str, int, int]] = []
    fetch(
        wanted(A1, A2, A3, G1),
        [arxiv_source(), github_source()],
        settings,
        cache,
        progress=lambda source, n, total: calls.append((source, n, total)),
    )
    arxiv = [c for c in calls if c[0] == "arxiv"]
    github = [c for c in calls if c[0] == "github"]
    assert arxiv == [("arxiv", 1, 3), ("arxiv", 2, 3)]  # cache hits, then the source's
    assert {total for _, _, total in github} == {1}
    assert sum(n for _, n, _ in github) == 1


def test_offline_progress_completes(settings: Settings, cache: Cache) -> None:
    calls: list[tuple[str, int, int]] = []
    fetch(
        wanted(A1, A2),
        [arxiv_source()],
        replace(settings, offline=True),
        cache,
        progress=lambda source, n, total: calls.append((source, n, total)),
    )
    assert all(total == 2 for _, _, total in calls)
    assert sum(n for _, n, _ in calls) == 2


def test_a_batch_settled_early_is_in_the_cache_before_the_call_returns(
    settings: Settings, cache: Cache
) -> None:
    """A source working in batches hands each one over as it settles: its facts are stored
    then (a run stopped midway keeps them), its failures are not, and progress advances."""
    seen: list[bool] = []
    progress: list[int] = []

    class Batched(FakeSource):
        async def fetch(
            self, requests: Sequence[Request], ctx: FetchContext
        ) -> Mapping[Identifier, Result]:
            first = {A1: ok(requests[0], ctx, self.name), A2: fail(requests[1], ctx, self.name)}
            ctx.settled(first)
            seen.append(cache.get(self.name, A1) is not None)
            seen.append(cache.get(self.name, A2) is not None)
            return {**first, A3: ok(requests[2], ctx, self.name)}

    source = Batched("arxiv", {Kind.ARXIV})
    report = fetch(
        wanted(A1, A2, A3), [source], settings, cache, progress=lambda s, n, t: progress.append(n)
    )
    assert seen == [True, False]
    assert cache.get("arxiv", A3) is not None  # the rest, stored when the call returned
    assert report.results[A1].status is Status.OK
    assert report.failed == {"arxiv": 1}
    assert 2 in progress  # the settled batch advanced the bar by its size


def test_every_wanted_entity_gets_one_result_sorted(settings: Settings, cache: Cache) -> None:
    refs = (G2, A3, ident("hf_docs:x"), A1, G1)
    report = fetch(wanted(*refs), [github_source(), arxiv_source()], settings, cache)
    assert list(report.results) == sorted(refs, key=REF)
    assert all(report.results[i].ref == i.ref for i in refs)


# ------------------------------------------------------- Semantic Scholar, then arXiv


def scholar_answer(names: Mapping[Identifier, str]) -> Answer:
    """Semantic Scholar records; `names` maps a scholar record to the arXiv id it names."""

    def answer(request: Request, ctx: FetchContext, source: str) -> Result:
        data = ScholarMeta(paper_id=request.identifier.key, arxiv_id=names.get(request.identifier))
        return result(request, ctx, source, Status.OK, data=data)

    return answer


S_DOI = ident("scholar:doi:10.5555/3666122.3666563")
S_A1 = ident(f"scholar:{A1.ref}")


def test_arxiv_also_fetches_the_papers_semantic_scholar_names_in_its_one_call(
    settings: Settings, cache: Cache
) -> None:
    """QLoRA is linked by its ACM DOI only: its record names arXiv 2305.14314, which joins
    the arXiv call of the linked papers."""
    order: list[str] = []
    scholar = Logged(order, "scholar", {Kind.SCHOLAR}, scholar_answer({S_DOI: "2305.14314"}))
    arxiv = Logged(order, "arxiv", {Kind.ARXIV})
    report = fetch(wanted(A1, S_A1, S_DOI), [arxiv, scholar], settings, cache)
    assert order == ["scholar", "arxiv"]  # the records naming arXiv ids come first
    assert scholar.refs == [[S_DOI, S_A1]]  # the DOI first, the batch filled with the rest
    assert arxiv.refs == [[A1, ident("arxiv:2305.14314")]]
    assert report.results[ident("arxiv:2305.14314")].status is Status.OK
    assert report.served == {"scholar": 2, "arxiv": 2}


def test_arxiv_is_asked_before_any_other_source(settings: Settings, cache: Cache) -> None:
    """arXiv, paced 3 s a request, is the run's critical path: its call starts first, not
    after the other sources' cache lookups and client imports."""
    order: list[str] = []
    sources = [
        Logged(order, "github", {Kind.GITHUB_REPO}),
        Logged(order, "huggingface", {Kind.HF_MODEL}),
        Logged(order, "scholar", {Kind.SCHOLAR}, scholar_answer({})),
        Logged(order, "arxiv", {Kind.ARXIV}),
    ]
    fetch(
        wanted(G1, ident("hf_model:o/a"), ident("hf_model:o/b"), S_A1, A1), sources, settings, cache
    )
    assert order[0] == "arxiv"
    assert order[1:3] == ["huggingface", "github"]  # then the source with more items first
    assert sorted(order) == ["arxiv", "github", "huggingface", "scholar"]


class Handshake(FakeSource):
    """Sets the other's event, then waits for its own: deadlocks if run one by one."""

    def __init__(self, name: str, kind: Kind) -> None:
        super().__init__(name, {kind}, scholar_answer({}) if kind is Kind.SCHOLAR else ok)
        self.mine = asyncio.Event()
        self.other = asyncio.Event()

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> Mapping[Identifier, Result]:
        self.other.set()
        await self.mine.wait()
        return await super().fetch(requests, ctx)


@pytest.mark.parametrize(
    "pair",
    [
        [("arxiv", A1), ("github", G1)],
        [("arxiv", A1), ("scholar", S_A1)],  # Semantic Scholar only on papers arXiv fetches
    ],
    ids=["arxiv-and-github", "scholar-does-not-hold-arxiv-back"],
)
def test_sources_run_concurrently(
    settings: Settings, cache: Cache, pair: list[tuple[str, Identifier]]
) -> None:
    async def main() -> FetchReport:
        first, second = (Handshake(name, entity.kind) for name, entity in pair)
        first.other, second.other = second.mine, first.mine
        job = fetch_all(wanted(*(e for _, e in pair)), [first, second], settings, cache, {})
        return await asyncio.wait_for(job, timeout=5)

    report = asyncio.run(main())
    assert [report.results[entity].status for _, entity in pair] == [Status.OK, Status.OK]


def test_a_failing_semantic_scholar_does_not_hold_arxiv_back(
    settings: Settings, cache: Cache
) -> None:
    """Semantic Scholar's first attempt fails (a 500); its retry then waits for arXiv's call
    to start: it deadlocks if arXiv waits for Semantic Scholar's whole call. The papers that
    Semantic Scholar names when it does answer are fetched from arXiv in a call of their own."""
    arxiv_called = asyncio.Event()

    class Failing(FakeSource):
        async def fetch(
            self, requests: Sequence[Request], ctx: FetchContext
        ) -> Mapping[Identifier, Result]:
            tries = 0

            async def attempt() -> None:
                nonlocal tries
                tries += 1
                if tries == 1:
                    raise TransientError("Semantic Scholar paper batch: HTTP 500", status=500)
                await arxiv_called.wait()

            await ctx.policy.call(attempt)
            return await super().fetch(requests, ctx)

    class Arxiv(FakeSource):
        async def fetch(
            self, requests: Sequence[Request], ctx: FetchContext
        ) -> Mapping[Identifier, Result]:
            arxiv_called.set()
            return await super().fetch(requests, ctx)

    async def main() -> FetchReport:
        scholar = Failing("scholar", {Kind.SCHOLAR}, scholar_answer({S_DOI: "2305.14314"}))
        job = fetch_all(wanted(A1, S_A1, S_DOI), [arxiv, scholar], settings, cache, {})
        return await asyncio.wait_for(job, timeout=5)

    arxiv = Arxiv("arxiv", {Kind.ARXIV})
    report = asyncio.run(main())
    assert arxiv.refs == [[A1], [ident("arxiv:2305.14314")]]
    assert report.results[ident("arxiv:2305.14314")].status is Status.OK
    assert report.results[S_DOI].status is Status.OK


def test_the_named_arxiv_papers_are_kept_when_semantic_scholar_is_left_out(
    settings: Settings, cache: Cache
) -> None:
    """`--skip scholar` keeps the last known records, and the arXiv papers they name are
    still fetched: the set of entities does not depend on which sources ran."""
    scholar = FakeSource("scholar", {Kind.SCHOLAR}, scholar_answer({}))
    arxiv = arxiv_source()
    record = result(
        Request(S_DOI),
        FetchContext(settings=settings, policy=None, stats=SourceStats()),  # type: ignore[arg-type]
        "scholar",
        Status.OK,
        data=ScholarMeta(paper_id="p", arxiv_id="2305.14314"),
    )
    skip = replace(settings, skip=frozenset({"scholar"}))
    report = fetch(wanted(S_DOI), [arxiv, scholar], skip, cache, {S_DOI: record})
    assert scholar.calls == []
    assert arxiv.refs == [[ident("arxiv:2305.14314")]]
    assert sorted(report.results, key=REF) == [ident("arxiv:2305.14314"), S_DOI]


# ------------------------------------------------------------------------ discovery


def test_discovery_lookups_stay_within_the_budget_oldest_first(
    settings: Settings, cache: Cache
) -> None:
    """Discovery's lookups (optional) are asked at most `discover_limit` a run: never asked
    ones first, then the longest unasked; the others keep what they had until a later run."""
    hub = FakeSource("huggingface", {Kind.HF_PAPER})
    refs = [ident(f"hf_paper:2401.0000{n}") for n in range(5)]
    optional = {ref: Request(ref) for ref in refs}
    previous = {refs[0]: known(refs[0], "huggingface"), refs[1]: known(refs[1], "huggingface")}
    previous[refs[1]] = previous[refs[1]].model_copy(
        update={
            "provenance": previous[refs[1]].provenance.model_copy(
                update={"fetched_at": OLD.replace(year=2020)}
            )
        }
    )
    limited = replace(settings, discover_limit=4)
    report = asyncio.run(fetch_all({}, [hub], limited, cache, previous, None, optional))
    assert sorted(hub.refs[0], key=REF) == sorted([refs[2], refs[3], refs[4], refs[1]], key=REF)
    assert report.deferred == 1
    kept = report.results[refs[0]]  # asked most recently: its turn comes next run
    assert (kept.status, kept.provenance.fetched_at) == (Status.OK, OLD)


def test_a_failed_discovery_lookup_fails_nothing(settings: Settings, cache: Cache) -> None:
    hub = FakeSource("huggingface", {Kind.HF_PAPER, Kind.HF_MODEL}, fail)
    optional = {ident("hf_paper:2401.00001"): Request(ident("hf_paper:2401.00001"))}
    report = asyncio.run(
        fetch_all(wanted(ident("hf_model:o/m")), [hub], settings, cache, {}, None, optional)
    )
    assert report.failed == {"huggingface": 1}  # the linked model
    assert report.optional_failed == {"huggingface": 1}
    assert report.results[ident("hf_paper:2401.00001")].status is Status.ERROR


def test_refresh_keeps_the_discovery_budget(settings: Settings, cache: Cache) -> None:
    """`--refresh` re-asks fresh entries too, but no more than `discover_limit` a run."""
    hub = FakeSource("huggingface", {Kind.HF_PAPER})
    refs = [ident(f"hf_paper:2401.0000{n}") for n in range(3)]
    for ref in refs:
        store(cache, "huggingface", known(ref, "huggingface"), age=60)
    optional = {ref: Request(ref) for ref in refs}
    limited = replace(settings, discover_limit=2, refresh=True)
    report = asyncio.run(fetch_all({}, [hub], limited, cache, {}, None, optional))
    assert len(hub.refs[0]) == 2
    assert report.deferred == 1


@pytest.mark.parametrize(
    "leave_out",
    [{"skip": frozenset({"huggingface"})}, {"only": frozenset({"arxiv", "github"})}],
)
@pytest.mark.parametrize("limit", [0, 2, 5])
def test_discovery_lookups_of_a_source_left_out_spend_no_budget(
    settings: Settings, cache: Cache, leave_out: dict[str, frozenset[str]], limit: int
) -> None:
    """`--only`/`--skip` leaving the Hub out: its lookups ask nothing, so none counts against
    the budget or is said to wait for a later run; each keeps what it had, else is skipped,
    and the sources taking part still get the whole budget's worth of nothing taken."""
    hub = FakeSource("huggingface", {Kind.HF_PAPER})
    refs = [ident(f"hf_paper:2401.0000{n}") for n in range(4)]
    optional = {ref: Request(ref) for ref in refs}
    previous = {refs[0]: known(refs[0], "huggingface")}
    chosen = replace(settings, discover_limit=limit, **leave_out)
    report = asyncio.run(fetch_all({}, [hub], chosen, cache, previous, None, optional))
    assert hub.calls == []
    assert report.deferred == 0
    assert report.results[refs[0]] == previous[refs[0]]  # as it was
    for ref in refs[1:]:
        got = report.results[ref]
        assert (got.status, got.provenance.error) == (
            Status.SKIPPED,
            "skipped: --only/--skip left out huggingface",
        )


def test_a_fresh_cache_hit_is_one_rule_for_the_budget_and_the_fetch(
    settings: Settings, cache: Cache
) -> None:
    """A lookup fresh in the cache is free for the budget exactly when the fetch stage serves
    it from the cache: with a budget of one, the stale and the absent ones compete for it."""
    hub = FakeSource("huggingface", {Kind.HF_PAPER})
    fresh, stale, absent = (ident(f"hf_paper:2401.0000{n}") for n in range(3))
    store(cache, "huggingface", known(fresh, "huggingface"), age=60)
    store(cache, "huggingface", known(stale, "huggingface"), age=400 * DAY)
    optional = {ref: Request(ref) for ref in (fresh, stale, absent)}
    limited = replace(settings, discover_limit=1)
    report = asyncio.run(fetch_all({}, [hub], limited, cache, {}, None, optional))
    assert hub.refs == [[absent]]  # never asked first; the fresh one cost nothing
    assert report.deferred == 1  # the stale one, next run
    assert report.from_cache == {"huggingface": 1}
    assert report.results[fresh].provenance.fetched_at == OLD


def test_a_report_repr_is_a_summary_not_every_result() -> None:
    """`asyncio.run` formats the repr of its result (the report) on the way out: it must
    not cost a second for 10,000 results."""
    results = {ident(f"arxiv:{i}"): build.result(f"arxiv:{i}", source="arxiv") for i in range(2000)}
    report = FetchReport(results=results, failed={"arxiv": 1})
    assert repr(report).startswith("FetchReport(2000 results")
    assert len(repr(report)) < 200


class Policed(FakeSource):
    """A `FakeSource` whose every item goes through the retry policy, as real sources do."""

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> Mapping[Identifier, Result]:
        out: dict[Identifier, Result] = {}
        for request in requests:

            async def attempt(request: Request = request) -> Result:
                return ok(request, ctx, self.name)

            try:
                out[request.identifier], _ = await ctx.policy.call(attempt)
            except FetchError as exc:
                out[request.identifier] = result(
                    request, ctx, self.name, Status.ERROR, error=str(exc)
                )
        return out


@pytest.mark.parametrize("limit", [0.0, 1800.0])
def test_past_the_run_limit_no_request_starts_and_the_report_says_so(
    settings: Settings, cache: Cache, limit: float
) -> None:
    source = Policed("github", {Kind.GITHUB_REPO})
    previous = {G1: known(G1, "github")}
    report = fetch(wanted(G1, G2), [source], replace(settings, run_limit=limit), cache, previous)
    assert report.run_limit == limit
    if limit:
        assert report.late == {}
        assert {r.status for r in report.results.values()} == {Status.OK}
        return
    assert report.late == {"github": 2}
    assert report.results[G1].status is Status.STALE  # the last known value kept
    assert report.results[G2].status is Status.ERROR
    assert "time limit" in (report.results[G2].provenance.error or "")
