"""Hugging Face Hub: models, datasets, spaces, collections, paper pages, orgs and users.

How it asks. One `HfApi(endpoint=settings.endpoints.huggingface, token=<token> or False)`:
the library reads `HF_ENDPOINT` once, at import, so the endpoint is explicit; `token=False`
keeps it from using `HF_TOKEN` or `~/.cache/huggingface/token` when none is configured.
One request per item: `model_info`/`dataset_info`/`space_info` with `expand=` the
properties read below (`downloadsAllTime` only comes back when asked for), `get_collection`,
`paper_info`, and for a bare name the org overview, else the user overview (`numModels`:
the exact public count in one request). For discovery (`Kind.HF_PAPER_MODELS`), the models
tagged `arxiv:<id>`, most downloaded first: `GET /api/models?filter=arxiv:<id>&sort=downloads
&direction=-1&limit=5`, the request `list_models` sends, sent the way `paper_info` sends its
own (the shared session, HfApi's headers, `hf_raise_for_status`). The blocking calls run in
worker threads, at most `HF_CONCURRENCY` at once; a slot is held per attempt, not across the
policy's waits.

What huggingface_hub does by itself, and how it is kept in check:

* Its shared httpx2 client has no timeout; only the `*_info` calls take one. The source
  installs once, through the documented `set_client_factory`, a client whose request hook
  applies `settings.timeout` to every request made for this source, and whose transport
  (`enrich.transport`) holds each of them to the source's bounds: a total deadline and a
  size cap of the answer (the hook sets them on the request).
* The calls used here send one request and raise (`hf_raise_for_status`): only `ctx.policy`
  retries. Not `list_models` (for orgs, or tagged models): its pages go through
  `http_backoff`, which retries 5 times by itself, sleeping up to the whole `RateLimit` reset
  in the worker thread.
* Its own request hook fails every request (a retryable `ConnectionError`) when
  `HF_HUB_OFFLINE` is set; it does not run for this source: `--offline` governs.
* Building headers may fetch an "agent harness" registry from the import-time endpoint and
  cache it in `HF_HOME`. Our hook refuses any request but the Hub API paths used here on
  the configured endpoint: no hidden request is made.
* The hooks find the current run through a `ContextVar` set in the worker thread; other
  code in the process keeps the library's behaviour.

Answers. 404 (`RepositoryNotFoundError`) is `not_found`; so is a 401 on a repo: the Hub
answers it for private (and, anonymously, missing) repos, and a link no reader can open is
dead for the list. A 401 refusing the token itself is an error. `GatedRepoError` is an
error, not `not_found`: the repo exists (a gated repo's info answers 200 with `gated`, kept
as `ok`). 429/5xx go through `enrich.net.http_error` (so `RateLimit` and `Retry-After` set
the wait); timeouts and resets reach the policy as retryable; an answer that does not parse
is a permanent error. A repo answering under another id (a rename, redirected) is `moved`.

Rate limit: each answer's `RateLimit` header (`"api";r=<left>;t=<reset s>`) goes to
`ctx.stats`. Once no call is left and the window resets later than the policy would wait,
no more requests are sent: those items end `error` (the fetch stage keeps their last known
value), with one note. Values are untrusted: checked, cleaned, capped. Messages are
scrubbed of the configured token.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final, get_args

import httpx2
from huggingface_hub import HfApi, Organization, User, hf_api
from huggingface_hub.errors import (
    HfHubHTTPError,
    HFValidationError,
)
from huggingface_hub.utils import _http as hub_http

from enrich import __version__
from enrich.config import HF_CONCURRENCY, Settings
from enrich.errors import FetchError, PermanentError
from enrich.models import (
    HUB_FETCHED,
    HubMeta,
    Identifier,
    Kind,
    Result,
    Status,
    TaggedModels,
)
from enrich.sources import FetchContext, Request, SourceStats, result
from enrich.sources.hub_records import (
    SLUG,
    Missing,
    check,
    count,
    failure,
    github_repo,
    moment,
    repo_meta,
    tagged_model,
    text,
    what,
)
from enrich.transport import BOUNDS, Bounds, Transport, bounds
from enrich.urls import ARXIV_ID

NAME: Final = "huggingface"
# Hub API rate limits: 500 calls per 5 minutes anonymous, 1,000 with a token
# (huggingface.co/docs/hub/rate-limits).
RATE_LIMIT_ANONYMOUS: Final = 500
RATE_LIMIT_TOKEN: Final = 1_000
TAGGED_MODELS: Final = 5
"""Models tagged with a paper asked for, most downloaded first (discovery suggests 3 at most,
after leaving out those the row links already)."""
# The properties read, asked with `expand=`; each repo type gets those its API accepts.
_WANTED = frozenset(
    "downloads downloadsAllTime likes lastModified pipeline_tag library_name cardData gated "
    "tags sdk".split()
)
_MODEL_EXPAND = [p for p in get_args(hf_api.ExpandModelProperty_T) if p in _WANTED]
_DATASET_EXPAND = [p for p in get_args(hf_api.ExpandDatasetProperty_T) if p in _WANTED]
_SPACE_EXPAND = [p for p in get_args(hf_api.ExpandSpaceProperty_T) if p in _WANTED]
# The only requests this source makes, relative to the endpoint.
_API_PATH = re.compile(
    r"/api/(?:(?:models|datasets|spaces|collections|papers|organizations|users)/|models$)"
)
_NAME = re.compile(r"[A-Za-z0-9][\w.-]{0,95}")


class _Exhausted(PermanentError):
    """The rate limit is spent until after the policy would wait: the request is not sent."""


@dataclass
class _Run:
    """One `fetch` call: what the HTTP hooks of its worker threads need, and the budget.

    `left` is what the last `RateLimit` header said, counted down by each request sent
    since (requests in flight when it was sent may make it optimistic by a few).
    """

    endpoint: str
    timeout: httpx2.Timeout
    bounds: Bounds
    stats: SourceStats
    max_wait: float
    left: int | None = None
    reset_at: float = 0.0
    stopped: int = 0  # items not fetched for want of rate limit (event loop only)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(self, request: httpx2.Request) -> None:
        """Refuse what is not ours or over budget; count the request, apply the timeout and
        the bounds."""
        target = str(request.url.copy_with(query=None, fragment=None))
        local = target[len(self.endpoint) :] if target.startswith(self.endpoint) else ""
        if not _API_PATH.match(local):
            raise PermanentError(f"refused a request outside the Hub API ({request.url.host})")
        with self._lock:
            wait = self.reset_at - time.monotonic()
            if self.left is not None and wait > 0:
                if self.left <= 0 and wait > self.max_wait:
                    raise _Exhausted(
                        f"Hub rate limit exhausted for {wait:.0f} s more (longer than the "
                        f"{self.max_wait:.0f} s the retry policy waits): not fetched"
                    )
                self.left -= 1
        extensions = {"timeout": self.timeout.as_dict(), BOUNDS: self.bounds}
        request.extensions = {**request.extensions, **extensions}
        self.stats.count_request()

    def observe(self, response: httpx2.Response) -> None:
        info = hub_http.parse_ratelimit_headers(response.headers)
        spent = 0 if response.status_code == 429 else 1
        self.stats.rate_limit(info.remaining if info else None, spent=spent)
        if info is not None:
            with self._lock:
                self.left = info.remaining
                self.reset_at = time.monotonic() + info.reset_in_seconds


_RUN: ContextVar[_Run | None] = ContextVar("enrich_hub_run", default=None)
_INSTALL_LOCK = threading.Lock()


def _on_request(request: httpx2.Request) -> None:
    run = _RUN.get()
    if run is None:
        hub_http.hf_request_event_hook(request)  # someone else's request: the library's behaviour
    else:
        run.admit(request)


def _on_response(response: httpx2.Response) -> None:
    run = _RUN.get()
    if run is not None:
        run.observe(response)


def _client() -> httpx2.Client:
    """The library's default client (no default timeout, redirects followed) + our hooks and
    our transport (which bounds the requests our hook marks, and only those)."""
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [_on_request]}
    hooks["response"] = [_on_response]
    return httpx2.Client(
        event_hooks=hooks, follow_redirects=True, timeout=None, transport=Transport()
    )


def _install_client() -> None:
    with _INSTALL_LOCK:
        if _on_request not in hub_http.get_session().event_hooks["request"]:
            hub_http.set_client_factory(_client)


class HubSource:
    """Facts about Hub entities, one request each (two for a user page)."""

    name = NAME
    # Docs pages are not fetched; paper pages and tagged models are (discovery asks for both).
    kinds = HUB_FETCHED

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._secret = settings.hf_token.reveal()
        endpoint = settings.endpoints.huggingface.rstrip("/")
        self._api = HfApi(
            endpoint=endpoint,
            token=self._secret or False,
            library_name="enrich",
            library_version=__version__,
        )
        self._calls: dict[Kind, Callable[[str], HubMeta | TaggedModels]] = {
            Kind.HF_MODEL: self._model,
            Kind.HF_DATASET: self._dataset,
            Kind.HF_SPACE: self._space,
            Kind.HF_COLLECTION: self._collection,
            Kind.HF_PAPER: self._paper,
            Kind.HF_ORG: self._owner,
            Kind.HF_PAPER_MODELS: self._paper_models,
        }

    async def fetch(self, requests: Sequence[Request], ctx: FetchContext) -> dict[str, Result]:
        """One result per request, keyed by ref; never raises for an item."""
        _install_client()
        timeout = httpx2.Timeout(self._settings.timeout)
        endpoint = str(httpx2.URL(self._api.endpoint))  # as httpx2 spells request URLs
        limits = bounds(self._settings, NAME)
        run = _Run(endpoint, timeout, limits, ctx.stats, ctx.policy.max_seconds)
        quota = RATE_LIMIT_TOKEN if self._secret else RATE_LIMIT_ANONYMOUS
        if len(requests) > quota:
            ctx.stats.note(f"{NAME}: {len(requests)} items; the Hub allows {quota} per 5 min")
        slots = asyncio.Semaphore(HF_CONCURRENCY)
        done = await asyncio.gather(*(self._item(r, run, slots, ctx) for r in requests))
        if run.stopped:
            ctx.stats.note(f"{NAME}: rate limit exhausted, {run.stopped} item(s) not fetched")
        return {r.ref: found for r, found in zip(requests, done, strict=True)}

    async def _item(
        self, request: Request, run: _Run, slots: asyncio.Semaphore, ctx: FetchContext
    ) -> Result:
        attempts = 0

        async def attempt() -> HubMeta | TaggedModels:
            nonlocal attempts
            attempts += 1
            return await asyncio.to_thread(self._lookup, request.identifier, run)

        try:
            meta, _ = await ctx.policy.call(attempt, gate=slots)
        except Exception as exc:  # noqa: BLE001 - an item never raises: it ends as its status
            found = self._failed(request, ctx, exc, max(attempts, 1), run)
        else:
            found = _done(request, ctx, meta, attempts)
        ctx.advance(1)
        return found

    def _failed(
        self, request: Request, ctx: FetchContext, exc: Exception, attempts: int, run: _Run
    ) -> Result:
        status = exc.status if isinstance(exc, FetchError) else None
        if isinstance(exc, Missing):
            return result(
                request, ctx, NAME, Status.NOT_FOUND, http_status=status, attempts=attempts
            )
        run.stopped += isinstance(exc, _Exhausted)
        if isinstance(exc, FetchError):
            message = str(exc)
        elif isinstance(exc, httpx2.HTTPError | OSError):
            message = f"{what(request.identifier)}: {type(exc).__name__}: {str(exc)[:200]}"
        else:
            message = f"{what(request.identifier)}: unexpected {type(exc).__name__}"
        if self._secret:
            message = message.replace(self._secret, "***")
        return result(
            request, ctx, NAME, Status.ERROR, http_status=status, attempts=attempts, error=message
        )

    # ------------------------------------------------------------------ in worker threads

    def _lookup(self, ident: Identifier, run: _Run) -> HubMeta | TaggedModels:
        """One attempt: the library call, its errors as `FetchError`s."""
        token = _RUN.set(run)
        named = what(ident)
        try:
            return self._calls[ident.kind](ident.key)
        except HfHubHTTPError as exc:
            raise failure(exc, named) from None
        except HFValidationError:
            raise PermanentError(f"{named}: not a valid Hub id") from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PermanentError(f"{named}: malformed answer ({type(exc).__name__})") from None
        finally:
            _RUN.reset(token)

    def _model(self, key: str) -> HubMeta:
        info = self._api.model_info(key, expand=_MODEL_EXPAND, timeout=self._settings.timeout)
        return repo_meta("model", info)

    def _dataset(self, key: str) -> HubMeta:
        info = self._api.dataset_info(key, expand=_DATASET_EXPAND, timeout=self._settings.timeout)
        return repo_meta("dataset", info)

    def _space(self, key: str) -> HubMeta:
        info = self._api.space_info(key, expand=_SPACE_EXPAND, timeout=self._settings.timeout)
        return repo_meta("space", info)

    def _collection(self, key: str) -> HubMeta:
        check(SLUG, key, "collection slug")
        found = self._api.get_collection(key)
        upvotes, modified = count(found.upvotes), moment(found.last_updated)
        return HubMeta(
            hub_kind="collection",
            id=key,
            title=text(found.title),
            items=len(found.items),
            upvotes=upvotes,
            last_modified=modified,
        )

    def _paper(self, key: str) -> HubMeta:
        check(ARXIV_ID, key, "arXiv id")
        found = self._api.paper_info(key)
        upvotes, repo = count(found.upvotes), github_repo(found.github_repo)
        return HubMeta(
            hub_kind="paper", id=key, title=text(found.title), upvotes=upvotes, github_repo=repo
        )

    def _paper_models(self, key: str) -> TaggedModels:
        """The models tagged `arxiv:<key>`, most downloaded first (none is a fact: `ok`)."""
        check(ARXIV_ID, key, "arXiv id")
        params: dict[str, str | int] = {
            "filter": f"arxiv:{key}",
            "sort": "downloads",
            "direction": -1,
            "limit": TAGGED_MODELS,
        }
        answer = hub_http.get_session().get(
            f"{self._api.endpoint}/api/models",
            params=params,
            headers=self._api._build_hf_headers(),  # the token (or none), as HfApi's calls
        )
        hub_http.hf_raise_for_status(answer)
        items = answer.json()
        if not isinstance(items, list):
            raise ValueError("not a list of models")
        models = [tagged_model(item) for item in items]
        ranked = sorted(
            {m.id.lower(): m for m in models if m is not None}.values(),
            key=lambda m: (-(m.downloads or 0), m.id.lower()),
        )
        return TaggedModels(arxiv_id=key, models=ranked[:TAGGED_MODELS])

    def _owner(self, key: str) -> HubMeta:
        """An org, else a user of that name: `numModels` of its overview."""
        check(_NAME, key, "org or user name")
        found: Organization | User
        try:
            found = self._api.get_organization_overview(key)
        except HfHubHTTPError as exc:
            if exc.response.status_code != 404:
                raise
            found = self._api.get_user_overview(key)
        models = count(found.num_models)
        return HubMeta(hub_kind="org", id=key, title=text(found.fullname), models=models)


def _done(request: Request, ctx: FetchContext, meta: HubMeta | TaggedModels, tries: int) -> Result:
    """`ok`, or `moved` when a repo answers under another id (the Hub redirects renames)."""
    key = request.identifier.key
    moved = None
    if isinstance(meta, HubMeta) and meta.hub_kind in ("model", "dataset", "space"):
        renamed = meta.id.lower() != key.lower()
        moved = f"{request.identifier.kind.value}:{meta.id}" if renamed else None
    status = Status.MOVED if moved else Status.OK
    return result(
        request, ctx, NAME, status, data=meta, http_status=200, attempts=tries, moved_to=moved
    )
