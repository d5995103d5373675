"""`FakeAPI`: one loopback HTTP server speaking arXiv, GitHub (REST + GraphQL) and the HF Hub.

A real socket, not a mock transport, because two of the three client libraries (`arxiv`,
PyGithub) use `requests` and cannot be reached by httpx's MockTransport. One server serves all
three APIs; the path decides which (`/api/query` arXiv, other `/api/...` Hub, `/repos`,
`/repositories`, `/rate_limit`, `/graphql` GitHub; also `/graph/v1/...` and
`/recommendations/v1/papers` Semantic Scholar,
and the landing pages of papers, `/v<N>/<slug>.html` PMLR and `/forum?id=` OpenReview).
State changes and request records are
guarded by one lock; latency and the `timeout` fault sleep outside it, on an event that
`stop()` sets, so shutdown is immediate. A request held for its latency (`hold`) is answered
as soon as `set_latency` lowers it below the time it has waited: a test that slows the API
down until something happened speeds it up at once, not after the requests in flight sleep
their old latency out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal, Self

from . import arxiv_feed, fixtures, landing, recommend, scholar
from .fixtures import Author, CollectionItem, Org, Paper
from .github_api import GitHubAPI
from .handler import FAULT_KINDS, Fault, LoopbackServer, RecordedRequest
from .hub_api import HubAPI
from .landing import LandingAPI, LandingPage
from .links import Extracted, extract_links
from .scholar import KNOWN, ScholarAPI, ScholarPaper
from .wire import Api, Reply, Request

ApiName = Literal["arxiv", "github", "hub", "scholar", "landing"]


class _Unset(enum.Enum):
    UNSET = 0


UNSET = _Unset.UNSET
STOP_CHECK = 0.05  # seconds: how often a request held for its latency sees a stop


class FakeAPI(LoopbackServer):
    """Context manager: `with FakeAPI() as api: api.base_url ...`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: float = 0.0,
        hub_limit: int = 500,
        hub_window: int = 300,
    ) -> None:
        super().__init__(host, port)
        self._latency: dict[str | None, float] = {None: latency}
        self._latency_set = threading.Condition()  # notified when `set_latency` changes it
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self.papers: dict[str, Paper] = {}
        self.github = GitHubAPI()
        self.hub = HubAPI(hub_limit, hub_window)
        self.scholar = ScholarAPI()
        self.landing = LandingAPI()

    # ---------------------------------------------------------------------- entities
    def add_paper(
        self,
        arxiv_id: str,
        *,
        title: str | None = None,
        authors: Sequence[str | Author | tuple[str, str]] | None = None,
        version: int | None = None,
        published: datetime | None = None,
        **fields: Any,
    ) -> Paper:
        """Register an arXiv paper; unset facts come from `fixtures.default_paper`.

        `fields` are other `Paper` fields (summary, updated, categories, primary_category,
        comment, journal_ref, doi); passing `doi=None` explicitly removes a default DOI.
        """
        parsed = fixtures.split_arxiv_id(arxiv_id)
        if parsed is None:
            raise ValueError(f"malformed arXiv id {arxiv_id!r}")
        base, seen_version = parsed
        paper = fixtures.default_paper(base)
        if authors is not None:
            fields["authors"] = [_author(a) for a in authors]
        if published is not None:
            fields.setdefault("updated", max(published, fields.get("updated", published)))
        given: dict[str, Any] = {
            "title": title,
            "version": version or seen_version,
            "published": published,
        }
        paper = dataclasses.replace(
            paper, **{k: v for k, v in given.items() if v is not None}, **fields
        )
        with self._lock:
            self.papers[base] = paper
        return paper

    def add_repo(
        self,
        full_name: str,
        *,
        stars: int | None = None,
        license_spdx: str | _Unset | None = UNSET,
        archived: bool | None = None,
        paths: Sequence[str] = (),
        refs: Sequence[str] = (),
        **fields: Any,
    ) -> fixtures.Repo:
        """Register a GitHub repository (case kept as given; lookups ignore case).

        `paths` are content paths that exist (a name with a dot is a file, else a directory);
        `refs` are branches/tags besides `default_branch`. `fields` are other `Repo` fields.
        """
        with self._lock:
            existing = self.github.find(full_name, follow_renames=False)
            repo = existing or fixtures.default_repo(full_name)
            given: dict[str, Any] = {"stars": stars, "archived": archived}
            overrides = {k: v for k, v in given.items() if v is not None} | fields
            if license_spdx is not UNSET:
                overrides["license_spdx"] = license_spdx
            repo = dataclasses.replace(repo, **overrides)
            repo.paths = repo.paths | {p.strip("/") for p in paths if p.strip("/")}
            repo.refs = repo.refs | set(refs)
            self.github.add(repo)
        return repo

    def rename_repo(self, old: str, new: str) -> None:
        """`old` now answers 301 (REST) and resolves silently to `new` (GraphQL)."""
        with self._lock:
            self.github.rename(old, new)

    def add_model(self, repo_id: str, **fields: Any) -> fixtures.HubRepo:
        """Register a Hub model; `fields` are `HubRepo` fields (downloads, likes, license,
        arxiv_ids, tags, gated, private, created_at, ...)."""
        return self._add_hub("model", repo_id, fields)

    def add_dataset(self, repo_id: str, **fields: Any) -> fixtures.HubRepo:
        return self._add_hub("dataset", repo_id, fields)

    def add_space(self, repo_id: str, **fields: Any) -> fixtures.HubRepo:
        return self._add_hub("space", repo_id, fields)

    def _add_hub(
        self, kind: fixtures.HubKind, repo_id: str, fields: dict[str, Any]
    ) -> fixtures.HubRepo:
        with self._lock:
            base = self.hub.repos.get((kind, repo_id)) or fixtures.default_hub_repo(kind, repo_id)
            repo = dataclasses.replace(base, **fields)
            self.hub.repos[(kind, repo_id)] = repo
        return repo

    def add_collection(
        self,
        slug: str,
        *,
        title: str | None = None,
        items: Sequence[CollectionItem | tuple[str, str]] | None = None,
        **fields: Any,
    ) -> fixtures.Collection:
        """`slug` is "<namespace>/<title>-<24 hex>"; items as (type, id) pairs or records."""
        col = fixtures.default_collection(slug)
        if title is not None:
            fields["title"] = title
        if items is not None:
            fields["items"] = [
                i if isinstance(i, CollectionItem) else CollectionItem(*i)  # type: ignore[arg-type]
                for i in items
            ]
        col = dataclasses.replace(col, **fields)
        with self._lock:
            self.hub.collections[slug] = col
        return col

    def add_paper_page(
        self, arxiv_id: str, *, github_repo: str | None = None, **fields: Any
    ) -> fixtures.PaperPage:
        """A Hub paper page (`/api/papers/<id>`); `github_repo` is a full GitHub URL."""
        page = fixtures.default_paper_page(arxiv_id)
        if github_repo is not None:
            fields["github_repo"] = github_repo
        page = dataclasses.replace(page, **fields)
        with self._lock:
            self.hub.papers[arxiv_id] = page
        return page

    def add_org(
        self,
        name: str,
        *,
        kind: Literal["org", "user"] = "org",
        models: int | None = None,
        fullname: str | None = None,
    ) -> Org:
        """A Hub org/user with `models` generated public models (deterministic when None)."""
        count = fixtures.Facts("hub-org", name).num("models", 1, 25) if models is None else models
        org = Org(name, kind, fullname)
        with self._lock:
            self.hub.orgs[name] = org
            for i in range(count):
                self._add_hub("model", f"{name}/{name.lower()}-model-{i}", {})
        return org

    def add_scholar(self, ident: str, **fields: Any) -> ScholarPaper:
        """Register a Semantic Scholar record for `ident` (`ARXIV:<id>`, `DOI:<doi>`,
        `ACL:<id>`); `fields` are `ScholarPaper` fields (citations, venue, external, ...)."""
        paper = scholar.default_paper(ident, **fields)
        with self._lock:
            self.scholar.add(paper)
        return paper

    def add_recommended(self, ident: str, **fields: Any) -> ScholarPaper:
        """A paper every recommendations answer starts with (unless it is a positive):
        `ident` and `fields` as for `add_scholar`; not registered for the batch endpoint."""
        paper = scholar.default_paper(ident, **fields)
        with self._lock:
            self.scholar.recommended.append(paper)
        return paper

    def update_scholar(self, ident: str, **fields: Any) -> ScholarPaper:
        """Change facts (citations, influential_citations, venue, ...) of the registered
        record known by `ident`, keeping the others: upstream moving between two runs."""
        with self._lock:
            found = self.scholar.papers[scholar.normalise(ident)]
            paper = dataclasses.replace(found, **fields)
            self.scholar.add(paper)
        return paper

    def add_landing_page(self, site: landing.Site, key: str, **fields: Any) -> LandingPage:
        """Register a paper's landing page: a PMLR key (`v235/guo24g`) or an OpenReview forum
        id; `fields` are `LandingPage` fields (title, authors, date, venue, ...)."""
        page = landing.default_page(site, key, **fields)
        with self._lock:
            self.landing.add(page)
        return page

    def populate_from_markdown(self, text: str) -> Extracted:
        """Register every arXiv id, GitHub repo (+ /tree|/blob ref and path) and Hub link in
        `text`, with deterministic facts; entities already registered keep their facts."""
        found = extract_links(text)
        with self._lock:
            for arxiv_id, seen in found.papers.items():
                if arxiv_id not in self.papers:
                    default = fixtures.default_paper(arxiv_id).version
                    self.add_paper(arxiv_id, version=max(default, seen or 0))
            for full_name, targets in found.repos.items():
                self.add_repo(
                    full_name, refs=[r for r, _ in targets], paths=[p for _, p in targets if p]
                )
            self._populate_hub(found)
            self._populate_scholar(found)
            self._populate_landing(found)
        return found

    def _populate_landing(self, found: Extracted) -> None:
        """A landing page for every PMLR and OpenReview paper: the real facts of the seed's
        (`landing.KNOWN`), else deterministic ones."""
        with self._lock:
            wanted = [
                *(("pmlr", k) for k in found.pmlr),
                *(("openreview", k) for k in found.openreview),
            ]
            for site, key in wanted:
                if (site, key) not in self.landing.pages:
                    self.add_landing_page(site, key, **landing.KNOWN.get((site, key), {}))

    def _populate_scholar(self, found: Extracted) -> None:
        """A record for every paper: an arXiv one agrees with the fake arXiv; one linked by
        DOI or ACL id has its real facts when the seed's (`scholar.KNOWN`), and the arXiv
        paper it names is registered too."""
        with self._lock:
            for ident in [*(f"DOI:{d}" for d in found.dois), *(f"ACL:{a}" for a in found.acl)]:
                if self.scholar.knows(ident):
                    continue
                known = KNOWN.get(scholar.normalise(ident), {})
                paper = self.add_scholar(
                    ident, **{**known, "external": dict(known.get("external", {}))}
                )
                arxiv_id = paper.external.get("ArXiv")
                if arxiv_id and arxiv_id not in self.papers:
                    moment = paper.publication_date or date(paper.year or 2020, 1, 1)
                    published = datetime(moment.year, moment.month, moment.day, 17, tzinfo=UTC)
                    self.add_paper(
                        arxiv_id, title=paper.title, authors=paper.authors, published=published
                    )
            for arxiv_id, paper in list(self.papers.items()):
                if not self.scholar.knows(f"ARXIV:{arxiv_id}"):
                    self.add_scholar(
                        f"ARXIV:{arxiv_id}",
                        title=paper.title,
                        authors=[a.name for a in paper.authors],
                        year=paper.published.year,
                        publication_date=paper.published.date(),
                    )

    def populate_discovery(self, text: str) -> None:
        """What discovery asks the Hub for, for every arXiv id `text` links: a paper page
        (`/api/papers/<id>`; a registered one is kept) and one model tagged `arxiv:<id>`
        (`/api/models?filter=arxiv:<id>`), `paper-lab/paper-<id>`, with deterministic facts."""
        found = extract_links(text)
        with self._lock:
            for arxiv_id in found.papers:
                self.hub.papers.setdefault(arxiv_id, fixtures.default_paper_page(arxiv_id))
                name = f"paper-lab/paper-{arxiv_id.replace('/', '-')}"
                self._add_hub("model", name, {"arxiv_ids": [arxiv_id]})

    def _populate_hub(self, found: Extracted) -> None:
        with self._lock:
            for kind, repo_id in found.hub:
                if (kind, repo_id) not in self.hub.repos:
                    self._add_hub(kind, repo_id, {})
            for slug in found.collections:
                self.hub.collections.setdefault(slug, fixtures.default_collection(slug))
            for arxiv_id in found.paper_pages:
                self.hub.papers.setdefault(arxiv_id, fixtures.default_paper_page(arxiv_id))
                if arxiv_id not in self.papers:
                    self.add_paper(arxiv_id)
            for name in found.orgs:
                if name not in self.hub.orgs:
                    self.add_org(name)

    # ------------------------------------------------------------------------ controls
    @contextlib.contextmanager
    def editing(self) -> Iterator[Self]:
        """`with api.editing():` change the registered entities (`api.papers`, `api.github`,
        `api.hub`, `api.scholar`, `api.landing`) as one change no request sees half done."""
        with self._lock:
            yield self

    def set_latency(self, seconds: float, api: ApiName | None = None) -> None:
        """Sleep `seconds` before answering each request (of `api`, or of every API); a
        request held now waits what the new latency says, from when it arrived (`hold`)."""
        with self._lock:
            self._latency[api] = seconds
        with self._latency_set:
            self._latency_set.notify_all()

    def hold(self, api: Api) -> bool:
        """Wait the latency of `api` from now, as it is when the wait would end (a
        `set_latency` meanwhile counts); False when the server is stopping."""
        began = time.monotonic()
        with self._latency_set:
            while self.pause(0):
                left = began + self.latency_for(api) - time.monotonic()
                if left <= 0:
                    return True
                self._latency_set.wait(min(left, STOP_CHECK))
        return False

    def latency_for(self, api: Api) -> float:
        with self._lock:
            return self._latency.get(api, self._latency[None])

    def fault(
        self,
        api: ApiName,
        kind: str,
        *,
        times: int | None = None,
        path_contains: str | None = None,
        **params: Any,
    ) -> None:
        """Make the next `times` matching requests (all, if None) fail as `kind`.

        Kinds: 429, 403_rate_limit, 500, 502, 503, timeout (params: seconds), reset, malformed,
        truncated, 404, empty; hostile: drip (interval, headers), huge (size, declared, gzip):
        see `hostile`. `retry_after` sets Retry-After; for GitHub `reset` and
        `remaining` set the X-RateLimit values. `path_contains` matches path + query string.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if api not in ("arxiv", "github", "hub", "scholar", "landing"):
            raise ValueError(f"unknown api {api!r}")
        with self._lock:
            self._faults.append(Fault(api, kind, times, path_contains, dict(params)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, api: Api, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.api != api or (fault.path_contains and fault.path_contains not in target):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def rate_limit_remaining(self, token: bool) -> int:
        """What is left of the GitHub core budget (anonymous or token)."""
        with self._lock:
            budget = self.github.core[token]
            budget.refresh()
            return budget.remaining

    def set_rate_limit(
        self, remaining: int, reset_epoch: int | None = None, token: bool | None = None
    ) -> None:
        """Set the GitHub core budget of token callers, anonymous ones, or both (None)."""
        with self._lock:
            for key in (False, True) if token is None else (token,):
                budget = self.github.core[key]
                budget.refresh()
                budget.remaining = remaining
                if reset_epoch is not None:
                    budget.reset = reset_epoch

    # ------------------------------------------------------------------------ requests
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def count(self, api: str | None = None, path_prefix: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self._requests
                if (api is None or r.api == api)
                and (path_prefix is None or r.path.startswith(path_prefix))
            )

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def refill_budgets(self) -> None:
        """Every rate-limit budget full again, in a new window (GitHub core and GraphQL, Hub)."""
        with self._lock:
            for budget in (*self.github.core.values(), self.github.graphql):
                budget.reset = 0
                budget.refresh()
            self.hub.window_end = 0.0
            self.hub.rate(spend=False)

    def budget_spent(self) -> dict[str, Any]:
        """What the budgets lost since they were last refilled (see `tests.fakeapi.control`)."""
        with self._lock:
            core = self.github.core
            return {
                "github_points": {
                    "core_anonymous": core[False].limit - core[False].remaining,
                    "core_token": core[True].limit - core[True].remaining,
                    "graphql": self.github.graphql.limit - self.github.graphql.remaining,
                },
                "hub_calls": self.hub.limit - self.hub.remaining,
            }

    # -------------------------------------------------------- used by the HTTP handler
    def record(self, request: Request, api: Api) -> RecordedRequest:
        query = {k: ",".join(v) for k, v in request.query.items()}
        rec = RecordedRequest(
            request.method, request.path, query, dict(request.headers), api, request.body
        )
        with self._lock:
            self._requests.append(rec)
        return rec

    def route(self, api: Api, request: Request) -> Reply:
        with self._lock:
            if api == "arxiv":
                return arxiv_feed.query(request, self.papers)
            if api == "github":
                return self.github.route(request)
            if api == "hub":
                return self.hub.route(request)
            if api == "scholar" and request.path.rstrip("/") == recommend.PATH:
                return recommend.route(self.scholar, request)
            if api == "scholar":
                return self.scholar.route(request)
            if api == "landing":
                return self.landing.route(request)
        return Reply(404, [("Content-Type", "text/plain; charset=utf-8")], b"Not Found\n")


def _author(value: str | Author | tuple[str, str]) -> Author:
    if isinstance(value, Author):
        return value
    if isinstance(value, tuple):
        return Author(*value)
    return Author(value)


class PeakFakeAPI(FakeAPI):
    """Counts requests the server holds at once (during the per-request latency)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.current = self.peak = 0
        self._guard = threading.Lock()

    def hold(self, api: Api) -> bool:
        with self._guard:
            self.current += 1
            self.peak = max(self.peak, self.current)
        try:
            return super().hold(api)
        finally:
            with self._guard:
                self.current -= 1
