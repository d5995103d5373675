"""The fault matrix: every source × every failure mode of its API, end to end.

Each column of the matrix starts from the output and cache of a clean run (the "template",
made once a session), changes a fact of every entity upstream (so a value fetched now can be
told from the last known one), injects its fault into the loopback API of each source and
runs `enrich run --refresh` in process, with the real retry policy whose waits are recorded
on an injected sleep (`RetryPolicy.sleep`), not slept. Each cell (source × fault) is its own
test and asserts what the README promises:

* the run ends within a bounded time: the retry policy is bounded in attempts (the requests
  each source sent) and in seconds (on the injected clock: no wait beyond a backoff step or
  what the server asked), and a wait the server asks for that does not fit is not waited;
* no curated row is lost: the 26 records of the list are all in `output/enriched.json`;
* an entity whose fetch failed keeps its last known value, marked `stale`, with the data and
  `fetched_at` of the clean run; an entity fetched this run has the new upstream facts;
* the exit code follows the documented policy: 0 when every source succeeded (a per-item
  `not_found` is not a failure, nor is a fault a retry cured), 1 when a source failed —
  `RunResult.failed_sources()`, read as `enrich.cli.run` reads it.

Sources run concurrently and independently, so a column faults arXiv, GitHub (REST, no
token), the Hub, Semantic Scholar and the landing pages in one run (arXiv waits for Semantic
Scholar's first batch, which names the arXiv ids of papers linked by DOI, so a fault there
delays it); GitHub with a token (GraphQL batches) gets a run of its own, and so does a cell
marked xfail (a crash there must not take its neighbours down). The CLI cases at the end go
through the CLI's entry (`enrich.cli.main`) with the real policy, every source at once, their
waits recorded on the injected sleep too (whole `python -m enrich` processes under faults are
`test_hostile.py`'s and `test_crash.py`'s).

How each column maps onto the APIs (fake fault kinds in brackets):

* 429-once / 429-always: [429] with Retry-After: 1, once / every time. GitHub: a secondary
  limit (429 + Retry-After with 50 requests of the primary budget left).
* rate-limit-exhausted: GitHub [403_rate_limit] (remaining 0, reset in an hour). arXiv has
  no such answer and the Hub answers a spent window with 429 (`RateLimit: r=0;t=3600`), so
  both get [429] with Retry-After: 3600 — a wait that does not fit the policy.
* 5xx-burst: [502], [503], [500] once each, then answers. 5xx-always: [503] every time.
* timeout-once / timeout-always: [timeout] holding the answer 3 s against a 0.3 s client
  timeout (GitHub's too: `enrich.sources.github_client` keeps it as given), with
  TIMEOUT_ATTEMPTS attempts an item (a retry, as the default 4 give, each attempt costing its
  whole timeout). GitHub REST and the Hub send one request per entity, so "always" hangs one
  entity there (a whole source that never answers is the `silent` column below: five
  timeouts open its circuit breaker).
* reset-*, truncated-*: [reset] (RST), [truncated] (half the promised body).
* malformed-*: [malformed] (a cut XML feed; a broken JSON body).
* 404: [404] on every request. arXiv and GraphQL: the endpoint itself is gone, the source
  failed. GitHub REST and the Hub: every entity is gone (`not_found`), not a failure.
* gone: one entity deleted upstream (arXiv leaves it out of the feed: a known paper left
  out is kept stale, since arXiv never deletes papers).
* moved: GitHub renames a repository (REST answers 301, GraphQL resolves the new name); the
  Hub answers a renamed model under its new id (where its redirect leads); arXiv and
  Semantic Scholar: N/A (they answer the ids we ask, whatever their own ids become).
* Semantic Scholar answers one batch for every paper, like GraphQL: a fault that fails the
  batch fails all its papers; `gone` is a `null` in the answer. Its recommendations (one
  request per section, on the same host: the fake's `scholar` API) are discovery lookups, so
  a fault there fails nothing (`tests/test_recommend_run.py` has their cases).
* Landing pages (the seed has one: its PMLR paper) are a page per paper, read for their
  `citation_*` meta tags: a page without a title tag (malformed, empty) is final, not
  retried; `404` and `gone` are `not_found`; `moved`: N/A (a PMLR key is a volume and a
  slug, which stay).
* empty: [empty] (a feed without entries; an empty body).
* drip, drip-headers, silent, huge, huge-gzip: hostile servers (`tests/fakeapi/hostile.py`)
  against a request deadline of HOSTILE_DEADLINE and the client's usual 5 s timeout: every
  entity of every source ends stale, the run in bounded time (`test_hostile.py` runs whole
  processes against them and measures their memory).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from enrich import fetch, pipeline
from enrich.cli import main
from enrich.config import HF_CONCURRENCY, Secret, Settings
from enrich.net import RetryPolicy
from enrich.progress import hints
from enrich.sources import FetchContext
from tests.conftest import SEED, Sleeps, fake_settings, point_at
from tests.fakeapi import FakeAPI


def sections(text: str, keep: set[str]) -> str:
    """`text` (a list) with only the sections whose heading line is in `keep`, and what comes
    before and between them under headings of level 1 or 2 (title, contents, overview)."""
    kept, keeping = [], True
    for line in text.splitlines(keepends=True):
        if line.startswith("#"):
            keeping = len(line) - len(line.lstrip("#")) <= 2 or line.strip() in keep
        if keeping:
            kept.append(line)
    return "".join(kept)


# The list of every run here: three sections of the seed, which hold each kind of link (arXiv
# papers, DOIs, a PMLR page, repositories, models, organisations, a paper page, empty cells)
# and each entity the faults aim at (`TARGETS`), in a third of the rows.
LIST = sections(
    SEED.read_text(encoding="utf-8"),
    {
        "### Foundational Concepts in Building Language Models",
        "### Task-specific SLM Applications",
        "#### SLM in Coding",
        "### On-device Deployment Optimization Techniques",
        "#### Memory Efficiency Optimization",
    },
)
RECORDS = 26  # curated rows of the list
# Entities the sources fetch for it: 23 arXiv papers linked and 2 more that Semantic Scholar
# names, 14 repositories, 6 Hub pages, 25 Semantic Scholar records (none for the PMLR
# paper: the API has no lookup by PMLR id), the PMLR paper's landing page, and what
# discovery asks the Hub about rows with empty cells: 11 paper pages (1 of them linked) and
# the models tagged with 17 papers; and Semantic Scholar's recommendations for each of the 3
# sections. The fake knows them all (`populate`), so that every fault hits discovery too and
# a clean refresh changes every fact (a recommendation answer holds papers of the list, whose
# citations change).
FETCHED = 71 + 10 + 17 + 3
LONGEST_WAIT = 2.5  # seconds: the policy's third backoff step (2 s) with its jitter (0.5 s)
FAST_TIMEOUT = 0.3  # client timeout of the timeout columns, GitHub's too
# Seconds a request of the hostile columns may take in all: against servers that never end
# an answer (drip, silent) whatever cuts it short is a timeout, and each such request costs
# the run its whole deadline, so it is short; 3 GB answers get room to reach their caps.
HOSTILE_DEADLINE = {"drip": 0.1, "drip-headers": 0.1, "silent": 0.1, "huge": 0.2, "huge-gzip": 0.2}
HANG = 3.0  # how long a `timeout` fault holds the answer back
TIMEOUT_ATTEMPTS = 2  # attempts an item gets in the timeout columns (each costs a timeout)

# The entity each source's one-entity faults aim at, and the request path that reaches it.
TARGETS = {
    "arxiv": ("arxiv:2306.00978", "/api/query"),
    "github": ("github_repo:mit-han-lab/llm-awq", "/repos/mit-han-lab/llm-awq"),
    "huggingface": ("hf_model:google/codegemma-7b-it", "/api/models/google/codegemma-7b-it"),
    "scholar": ("scholar:arxiv:2306.00978", "/graph/v1/paper/batch"),
    "landing": ("pmlr:v235/guo24g", "/v235/guo24g.html"),
}
RENAMED_REPO = "mit-han-lab/awq-renamed"
RENAMED_MODEL = "google/codegemma-7b-it-renamed"


@dataclass(frozen=True)
class Source:
    """A source as the matrix sees it: enrich's name, the fake's API, the transport."""

    name: str  # enrich's source name (`--only`)
    api: str  # the fake's API name (`FakeAPI.fault`)
    token: bool = False  # GitHub: a token switches REST to GraphQL batches

    @property
    def target(self) -> str:
        return TARGETS[self.name][0]

    @property
    def key(self) -> str:
        return self.target.split(":", 1)[1]

    def fault(self, api: FakeAPI, kind: str, **params: Any) -> None:
        api.fault(self.api, kind, **params)  # type: ignore[arg-type]


SOURCES = {
    "arxiv": Source("arxiv", "arxiv"),
    "github-rest": Source("github", "github"),
    "github-graphql": Source("github", "github", token=True),
    "huggingface": Source("huggingface", "hub"),
    "scholar": Source("scholar", "scholar"),
    "landing": Source("landing", "landing"),
}

ALL, TARGET, ONE = "all", "target", "one"  # which entities of the source a fault hits


@dataclass(frozen=True)
class Expect:
    """How the source's entities end: `status` for those the fault hits (`ALL`, the
    source's `TARGET`, or exactly `ONE` of them), `ok` for the rest; the source's part in
    the exit code (1: it is among the failed sources)."""

    status: str
    hits: str
    exit: int
    max_requests: int | None = None  # requests the run may send to the source's API


OK0 = Expect("ok", ALL, 0)
STALE1 = Expect("stale", ALL, 1)

# ---------------------------------------------------------------------------------- faults

Injector = Callable[[FakeAPI, Source], None]


def fault(kind: str, times: int | None = None, **params: Any) -> Injector:
    return lambda api, source: source.fault(api, kind, times=times, **params)


def retry_after(times: int | None) -> Injector:
    def inject(api: FakeAPI, source: Source) -> None:
        # The fake's GitHub 429 says `x-ratelimit-remaining: 0` unless told: that would be
        # the primary limit spent, not the secondary limit this column is about.
        extra = {"remaining": 50} if source.api == "github" else {}
        source.fault(api, "429", times=times, retry_after=1, **extra)

    return inject


def exhausted(api: FakeAPI, source: Source) -> None:
    if source.api == "github":
        source.fault(api, "403_rate_limit", reset=int(time.time()) + 3600)
    else:
        source.fault(api, "429", retry_after=3600)


def burst(api: FakeAPI, source: Source) -> None:
    for kind in ("502", "503", "500"):  # three in a row, then answers: within 4 attempts
        source.fault(api, kind, times=1)


def hang(api: FakeAPI, source: Source) -> None:
    one_entity = source.api in ("github", "hub") and not source.token  # a request per entity
    where = TARGETS[source.name][1] if one_entity else None
    source.fault(api, "timeout", path_contains=where, seconds=HANG)


def gone(api: FakeAPI, source: Source) -> None:
    with api.editing():
        if source.name == "arxiv":
            del api.papers[source.key]
        elif source.name == "scholar":
            del api.scholar.papers[f"ARXIV:{source.key.removeprefix('arxiv:')}"]
        elif source.name == "landing":
            del api.landing.pages["pmlr", source.key]
        elif source.name == "github":
            del api.github.by_name[source.key]
        else:
            del api.hub.repos[("model", source.key)]


def moved(api: FakeAPI, source: Source) -> None:
    if source.name == "github":
        api.rename_repo(source.key, RENAMED_REPO)
    elif source.name == "huggingface":
        # The Hub redirects a renamed repo's old id to the new one, which answers with its
        # new `id`: the same answer as the old path serving a repo of the new id.
        with api.editing():
            old = api.hub.repos[("model", source.key)]
            api.hub.repos[("model", source.key)] = dataclasses.replace(old, repo_id=RENAMED_MODEL)


MOVED_TO = {"github": f"github_repo:{RENAMED_REPO}", "huggingface": f"hf_model:{RENAMED_MODEL}"}

# column -> (fault, expectation per source), in the matrix's order
MATRIX: dict[str, tuple[Injector, dict[str, Expect]]] = {
    "429-once": (retry_after(1), dict.fromkeys(SOURCES, OK0)),
    "429-always": (retry_after(None), dict.fromkeys(SOURCES, STALE1)),
    "rate-limit-exhausted": (
        exhausted,
        {
            # The wait asked for (an hour) does not fit the policy: no retry; the Hub stops
            # the requests not in flight. GitHub's budget is spent, which is no failure:
            # every repository keeps its last value as it was and waits for a later run.
            "arxiv": Expect("stale", ALL, 1, max_requests=1),
            "github-rest": Expect("kept", ALL, 0, max_requests=1),
            "github-graphql": Expect("kept", ALL, 0, max_requests=1),
            "huggingface": Expect("stale", ALL, 1, max_requests=HF_CONCURRENCY),
            "scholar": Expect("stale", ALL, 1, max_requests=1),
            "landing": Expect("stale", ALL, 1, max_requests=1),
        },
    ),
    "5xx-burst": (burst, dict.fromkeys(SOURCES, OK0)),
    "5xx-always": (fault("503"), dict.fromkeys(SOURCES, STALE1)),
    "timeout-once": (fault("timeout", 1, seconds=HANG), dict.fromkeys(SOURCES, OK0)),
    "timeout-always": (
        hang,
        {
            "arxiv": STALE1,
            "github-rest": Expect("stale", TARGET, 1),
            "github-graphql": STALE1,
            "huggingface": Expect("stale", TARGET, 1),
            "scholar": STALE1,
            "landing": STALE1,  # its one page
        },
    ),
    "reset-once": (fault("reset", 1), dict.fromkeys(SOURCES, OK0)),
    "reset-always": (fault("reset"), dict.fromkeys(SOURCES, STALE1)),
    "truncated-once": (fault("truncated", 1), dict.fromkeys(SOURCES, OK0)),
    "truncated-always": (fault("truncated"), dict.fromkeys(SOURCES, STALE1)),
    "malformed-once": (
        fault("malformed", 1),
        {
            # arXiv asks once more after a malformed answer (a transport accident); GitHub and
            # the Hub take one as final — with GraphQL, for the whole batch of 14.
            "arxiv": OK0,
            "github-rest": Expect("stale", ONE, 1),
            "github-graphql": STALE1,
            "huggingface": Expect("stale", ONE, 1),
            "scholar": STALE1,  # the one batch
            "landing": STALE1,  # a page without a title tag is final: its one page
        },
    ),
    "malformed-always": (fault("malformed"), dict.fromkeys(SOURCES, STALE1)),
    "404": (
        fault("404"),
        {
            "arxiv": STALE1,  # the query endpoint answers 404: the source failed
            "github-rest": Expect("not_found", ALL, 0),
            "github-graphql": STALE1,  # POST /graphql answers 404: the source failed
            "huggingface": Expect("not_found", ALL, 0),
            "scholar": STALE1,  # the batch endpoint answers 404: the source failed
            "landing": Expect("not_found", ALL, 0),
        },
    ),
    "gone": (
        gone,
        {
            # arXiv never deletes a paper (a withdrawn one keeps its entry): a known paper left
            # out of an answer is arXiv's accident, kept stale; elsewhere gone is a fact.
            "arxiv": Expect("stale", TARGET, 1),
            "github-rest": Expect("not_found", TARGET, 0),
            "github-graphql": Expect("not_found", TARGET, 0),
            "huggingface": Expect("not_found", TARGET, 0),
            "scholar": Expect("not_found", TARGET, 0),  # `null` in the answer
            "landing": Expect("not_found", TARGET, 0),
        },
    ),
    "moved": (moved, dict.fromkeys(SOURCES, Expect("moved", TARGET, 0))),
    # Hostile servers (`tests/fakeapi/hostile.py`), every request held to HOSTILE_DEADLINE:
    # a byte every 0.02 s after the headers, or of the headers themselves; an answer that
    # never comes; 3 GB announced by Content-Length; a gzip stream that decodes to 3 GB.
    "drip": (fault("drip", interval=0.02), dict.fromkeys(SOURCES, STALE1)),
    "drip-headers": (fault("drip", interval=0.02, headers=True), dict.fromkeys(SOURCES, STALE1)),
    "silent": (fault("timeout", seconds=3600), dict.fromkeys(SOURCES, STALE1)),
    "huge": (fault("huge"), dict.fromkeys(SOURCES, STALE1)),
    "huge-gzip": (fault("huge", gzip=True), dict.fromkeys(SOURCES, STALE1)),
    "empty": (
        fault("empty"),
        {
            # arXiv: an empty feed is asked once more; known papers missing from it are kept
            # stale (arXiv never deletes a paper), never cached as not_found.
            "arxiv": Expect("stale", ALL, 1, max_requests=2),
            "github-rest": STALE1,
            "github-graphql": STALE1,
            "huggingface": STALE1,
            "scholar": STALE1,  # an empty body is not the JSON list asked for
            "landing": STALE1,  # an empty page has no title tag
        },
    ),
}
MARKS = {
    ("arxiv", "moved"): pytest.mark.skip(reason="N/A: arXiv ids never move (versions keep it)"),
    ("scholar", "moved"): pytest.mark.skip(reason="N/A: asked by arXiv id or DOI, which stay"),
    ("landing", "moved"): pytest.mark.skip(reason="N/A: a PMLR volume and slug stay"),
}


def cells() -> Iterator[Any]:
    for column in MATRIX:
        for source_id in SOURCES:
            marks = MARKS.get((source_id, column), ())
            yield pytest.param(source_id, column, marks=marks, id=f"{source_id}/{column}")


def group(source_id: str, column: str) -> tuple[str, ...]:
    """The sources faulted together with `source_id` in `column`'s run."""
    if (source_id, column) in MARKS or SOURCES[source_id].token:
        return (source_id,)
    return tuple(s for s in SOURCES if not SOURCES[s].token and (s, column) not in MARKS)


# ------------------------------------------------------------------ the clean run, upstream


def settings(api: FakeAPI, root: Path, **overrides: Any) -> Settings:
    return fake_settings(api, root, **{"timeout": 5.0, **overrides})


def read_dataset(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "output" / "enriched.json").read_text("utf-8"))
    return data


@dataclass(frozen=True)
class Template:
    root: Path
    dataset: dict[str, Any]

    def entities(self, source: str) -> dict[str, Any]:
        found = self.dataset["entities"].items()
        return {
            ref: e
            for ref, e in found
            if e["provenance"]["source"] == source and e["provenance"]["status"] != "skipped"
        }

    def copy_to(self, root: Path) -> Path:
        shutil.copytree(self.root, root)
        return root


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Output and cache of one clean run: the last known values of every case."""
    return make_template(tmp_path_factory)


_MADE: dict[Path, Template] = {}
"""The template of each test session (by its temporary folder), made once: this module's and
`test_hostile.py`'s are one. A case copies it (`Template.copy_to`) and never writes to it."""


def make_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Output and cache of one clean run of the list against a fake that knows it all, made
    once a session."""
    session = tmp_path_factory.getbasetemp()
    if session not in _MADE:
        _MADE[session] = _clean_run(tmp_path_factory)
    return _MADE[session]


def _clean_run(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("template")
    (root / "seeds").mkdir()
    (root / "seeds" / SEED.name).write_text(LIST, encoding="utf-8")
    # fetched_at has whole seconds: the template's facts are dated an hour back (the sources'
    # clock, `FetchContext.now`), so that every case fetches in a later second than it.
    an_hour_ago = lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)  # noqa: E731
    with FakeAPI() as api, pytest.MonkeyPatch.context() as patch:
        populate(api)
        patch.setattr(fetch, "FetchContext", functools.partial(FetchContext, now=an_hour_ago))
        result = pipeline.run(settings(api, root))
    assert result.failed_sources() == {}
    done = read_dataset(root)
    assert {e["provenance"]["status"] for e in done["entities"].values()} == {"ok", "skipped"}
    return Template(root, done)


def populate(api: FakeAPI) -> None:
    """Every entity the list links, and what discovery asks for, with deterministic facts."""
    text = LIST
    api.populate_from_markdown(text)
    api.populate_discovery(text)


def advance_upstream(api: FakeAPI) -> None:
    """Change a fact of every entity the seed links, in every API."""
    with api.editing():
        for key, paper in list(api.papers.items()):
            api.papers[key] = dataclasses.replace(paper, title=paper.title + " (revised)")
        for repo in api.github.repos.values():
            repo.stars += 1000
        for hub_key, hub in list(api.hub.repos.items()):
            api.hub.repos[hub_key] = dataclasses.replace(
                hub, downloads=hub.downloads + 1000, likes=hub.likes + 10
            )
        for slug, col in list(api.hub.collections.items()):
            api.hub.collections[slug] = dataclasses.replace(col, upvotes=col.upvotes + 5)
        for arxiv_id, page in list(api.hub.papers.items()):
            api.hub.papers[arxiv_id] = dataclasses.replace(page, upvotes=page.upvotes + 5)
        for name, org in list(api.hub.orgs.items()):
            api.hub.orgs[name] = dataclasses.replace(org, fullname=f"{name} (renamed)")
        for record in {id(p): p for p in api.scholar.papers.values()}.values():
            record.citations += 100
        for page in api.landing.pages.values():
            page.title = f"{page.title} (revised)"


# ------------------------------------------------------------------------------- the runs


@dataclass(frozen=True)
class Outcome:
    """A faulted run: where it wrote, what it returned, the waits its retry policies asked
    for (none slept), what it asked."""

    root: Path
    sources: tuple[str, ...]
    result: pipeline.RunResult
    waits: tuple[float, ...]
    requests: dict[str, int]


def exit_code(result: pipeline.RunResult) -> int:
    """The exit code `enrich.cli.run` derives from a run."""
    return 0 if result.succeeded else 1


@pytest.fixture(scope="module")
def faulted_run(
    template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, tuple[str, ...]], Outcome]:
    """`faulted_run(column, sources)`: the run of `column` with `sources` faulted, made once."""
    made: dict[tuple[str, tuple[str, ...]], Outcome] = {}

    def make(column: str, sources: tuple[str, ...]) -> Outcome:
        if (column, sources) not in made:
            made[column, sources] = run_column(template, tmp_path_factory, column, sources)
        return made[column, sources]

    return make


def run_column(
    template: Template, factory: pytest.TempPathFactory, column: str, sources: tuple[str, ...]
) -> Outcome:
    inject = MATRIX[column][0]
    root = template.copy_to(factory.mktemp(column) / "run")
    chosen = [SOURCES[s] for s in sources]
    overrides: dict[str, Any] = {
        "refresh": True,
        "only": frozenset(s.name for s in chosen),
        "timeout": FAST_TIMEOUT if column.startswith("timeout") else 5.0,
    }
    if column.startswith("timeout"):  # one retry: it still cures timeout-once
        overrides["retry_attempts"] = TIMEOUT_ATTEMPTS
    if column in HOSTILE_DEADLINE:  # the client's timeout stays 5 s: the deadline cuts it
        overrides["deadline"] = HOSTILE_DEADLINE[column]
    if any(s.token for s in chosen):
        overrides["github_token"] = Secret("ghp_fault_matrix")
    # The real policy (`retry_wait`), its waits recorded on an injected sleep, not slept.
    slept = Sleeps()
    with FakeAPI() as api, pytest.MonkeyPatch.context() as patch:
        patch.setattr(fetch, "RetryPolicy", functools.partial(RetryPolicy, sleep=slept))
        populate(api)
        advance_upstream(api)
        for source in chosen:
            inject(api, source)
        result = pipeline.run(settings(api, root, retry_wait=True, **overrides))
        requests = {s.api: api.count(s.api) for s in chosen}
    return Outcome(root, sources, result, tuple(slept), requests)


# ------------------------------------------------------------------------------ assertions


def hit_refs(expect: Expect, source: Source, refs: list[str], got: dict[str, Any]) -> set[str]:
    if expect.hits == ALL:
        return set(refs)
    if expect.hits == TARGET:
        return {source.target}
    hit = {r for r in refs if got[r]["provenance"]["status"] == expect.status}
    assert len(hit) == 1, f"expected exactly one {expect.status} entity, got {sorted(hit)}"
    return hit


def check_entity(status: str, ref: str, new: dict[str, Any], old: dict[str, Any]) -> None:
    if status == "kept":  # not fetched, no failure: the last known result as it was
        assert new == old, ref
        return
    prov, old_prov = new["provenance"], old["provenance"]
    assert prov["status"] == status, (ref, prov)
    if status == "stale":
        # the last known value, untouched: its data and the time it was fetched
        assert new["data"] == old["data"], ref
        assert prov["fetched_at"] == old_prov["fetched_at"], ref
        assert prov["error"], ref
    elif status == "ok":
        assert new["data"] != old["data"], f"{ref}: the new upstream facts were not fetched"
        assert prov["fetched_at"] > old_prov["fetched_at"], ref
        assert not prov["error"], ref
    elif status == "not_found":
        assert new["data"] is None, ref
        assert prov["fetched_at"] > old_prov["fetched_at"], ref
    elif status == "moved":
        assert new["moved_to"], ref
        assert new["data"] is not None, ref
        assert new["data"] != old["data"], ref


def check_rows_kept(template: Template, root: Path) -> dict[str, Any]:
    done = read_dataset(root)
    assert len(done["records"]) == RECORDS
    assert [r["id"] for r in done["records"]] == [r["id"] for r in template.dataset["records"]]
    assert done["entities"].keys() == template.dataset["entities"].keys()
    assert (root / "output" / SEED.name).is_file()
    return done


@pytest.mark.parametrize(("source_id", "column"), list(cells()))
def test_fault_matrix(
    template: Template,
    faulted_run: Callable[[str, tuple[str, ...]], Outcome],
    source_id: str,
    column: str,
) -> None:
    source, expect = SOURCES[source_id], MATRIX[column][1][source_id]
    run = faulted_run(column, group(source_id, column))

    # Bounded time, on the injected clock: no wait longer than a backoff step or the
    # second the 429 columns ask (an hour asked does not fit: not waited at all).
    assert max(run.waits, default=0.0) <= LONGEST_WAIT, run.waits
    if column == "rate-limit-exhausted":
        assert run.waits == ()
    if column == "429-once":  # the Retry-After asked (1 s) was waited, on the injected clock
        assert 1.0 in run.waits, run.waits
    if expect.max_requests is not None:
        assert 0 < run.requests[source.api] <= expect.max_requests
    done = check_rows_kept(template, run.root)

    old, got = template.entities(source.name), done["entities"]
    hit = hit_refs(expect, source, sorted(old), got)
    for ref in sorted(old):
        check_entity(expect.status if ref in hit else "ok", ref, got[ref], old[ref])
    if expect.status == "moved":  # named as entities are keyed, whatever the source
        assert got[source.target]["moved_to"] == MOVED_TO[source.name]
    in_run = {SOURCES[s].name for s in run.sources}
    for ref, entity in template.dataset["entities"].items():
        if entity["provenance"]["source"] not in in_run:  # left out: kept as they were
            assert got[ref]["data"] == entity["data"], ref
            assert got[ref]["provenance"]["status"] == entity["provenance"]["status"], ref

    failed = run.result.failed_sources()
    # discovery's lookups (not linked from a row) fail nothing: the exit code is about links
    linked = hit - {entity.ref for entity in run.result.fetch.optional}  # `got` is the JSON
    assert failed.get(source.name, 0) == (len(linked) if expect.exit else 0)
    optional = run.result.fetch.optional_failed.get(source.name, 0)
    assert optional == (len(hit - linked) if expect.exit else 0)
    everyone = max(MATRIX[column][1][s].exit for s in run.sources)
    assert exit_code(run.result) == everyone


def test_a_clean_refresh_sees_every_upstream_change(template: Template, tmp_path: Path) -> None:
    """The control row: without a fault, every fetched entity is `ok` with the new facts —
    which is what lets the matrix tell a last known value from a fresh one."""
    root = template.copy_to(tmp_path / "run")
    with FakeAPI() as api:
        populate(api)
        advance_upstream(api)
        result = pipeline.run(settings(api, root, refresh=True))
    assert exit_code(result) == 0
    done = check_rows_kept(template, root)
    fetched = {r: e for r, e in template.dataset["entities"].items() if e["data"] is not None}
    assert len(fetched) == FETCHED
    for ref, old in fetched.items():
        check_entity("ok", ref, done["entities"][ref], old)


@pytest.mark.parametrize(
    ("column", "network"),
    [
        pytest.param("reset-always", True, id="reset-suggests-offline"),
        pytest.param(
            "rate-limit-exhausted",
            False,
            id="spent-rate-limit-does-not-suggest-offline",
        ),
    ],
)
def test_the_hints_tell_a_network_failure_from_a_spent_rate_limit(
    faulted_run: Callable[[str, tuple[str, ...]], Outcome], column: str, network: bool
) -> None:
    run = faulted_run(column, group("github-rest", column))
    said = list(hints(run.result, Settings()))
    assert any("github" in line for line in said)
    assert any("could not be reached" in line for line in said) is network, said


# ----------------------------------------------------------------------------- the CLI


def cli_run(
    root: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, Sleeps]:
    """`enrich run --refresh` on `root` through the CLI's entry (`enrich.cli.main`), in this
    process, against `api`: its exit code, its stderr, and the waits its retry policies asked
    for, recorded on an injected sleep (`RetryPolicy.sleep`), not slept."""
    point_at(api, monkeypatch)
    monkeypatch.setenv("ENRICH_RETRY_WAIT", "1")  # the real policy: its waits are asked for
    slept = Sleeps()
    monkeypatch.setattr(fetch, "RetryPolicy", functools.partial(RetryPolicy, sleep=slept))
    paths = ["--seeds", str(root / "seeds"), "--out", str(root / "output")]
    code = main(["run", "--refresh", *paths, "--cache", str(root / "cache")])
    return code, capsys.readouterr().err, slept


CLI_CASES = [
    # faults per source, how each source's entities end, the exit code, what stderr says, the
    # waits asked for (an hour asked is refused, not waited; a 503 once is waited once)
    pytest.param(
        {"github-rest": exhausted, "huggingface": exhausted},
        {
            "arxiv": "ok",
            "github": "kept",
            "huggingface": "stale",
            "scholar": "ok",
            "landing": "ok",
            "recommendations": "ok",
        },
        1,
        (
            "github: 14 repositories wait for a later run",
            "huggingface: 6 item(s) failed",
            "huggingface: 27 discovery lookup(s) failed; retried next run (not a failure)",
            "rate limit",
        ),
        0,
        id="github-403-and-hub-429-exhausted-exit-1",
    ),
    pytest.param(
        dict.fromkeys(("arxiv", "github-rest", "huggingface"), fault("503", 1)),
        dict.fromkeys(
            ("arxiv", "github", "huggingface", "scholar", "landing", "recommendations"), "ok"
        ),
        0,
        (),
        3,
        id="5xx-once-recovers-after-a-wait-exit-0",
    ),
    pytest.param(
        dict.fromkeys(("github-rest", "huggingface"), fault("404")),
        {
            "arxiv": "ok",
            "github": "not_found",
            "huggingface": "not_found",
            "scholar": "ok",
            "landing": "ok",
            "recommendations": "ok",
        },
        0,
        (),
        0,
        id="not-found-is-not-a-failure-exit-0",
    ),
]


@pytest.mark.parametrize(("faults", "statuses", "code", "says", "waits"), CLI_CASES)
def test_cli_exit_codes_under_faults(
    template: Template,
    tmp_path: Path,
    api: FakeAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    faults: dict[str, Injector],
    statuses: dict[str, str],
    code: int,
    says: tuple[str, ...],
    waits: int,
) -> None:
    """`enrich run --refresh` through the CLI with the real retry policy, every source at
    once: the exit code and what it says, and the waits asked for (on the injected clock:
    a wait of an hour asked by a server is refused, not waited)."""
    root = template.copy_to(tmp_path / "run")
    api.populate_discovery(LIST)
    advance_upstream(api)
    for source_id, inject in faults.items():
        inject(api, SOURCES[source_id])
    returned, stderr, slept = cli_run(root, api, monkeypatch, capsys)
    assert returned == code, stderr
    for text in says:
        assert text in stderr
    assert len(slept) == waits, slept
    assert max(slept, default=0.0) <= LONGEST_WAIT, slept
    result = check_rows_kept(template, root)
    for ref, old in template.dataset["entities"].items():
        if old["data"] is not None:
            status = statuses[old["provenance"]["source"]]
            check_entity(status, ref, result["entities"][ref], old)
