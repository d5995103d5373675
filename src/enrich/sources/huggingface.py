"""Hugging Face Hub: models, datasets, spaces, collections, paper pages, orgs and users.

How it asks. One `HfApi` on `settings.endpoints.huggingface`, with the configured token or
none (`hub_client.make_api`). One request per item: `model_info`/`dataset_info`/`space_info`
with `expand=` the properties read (`hub_client.MODEL_EXPAND`...), `get_collection`, `paper_info`,
and for a bare name the org overview, else the user overview (`numModels`: the exact public
count in one request). For discovery (`Kind.HF_PAPER_MODELS`), the models tagged
`arxiv:<id>`, most downloaded first: `GET /api/models?filter=arxiv:<id>&sort=downloads
&direction=-1&limit=5`, the request `list_models` sends, in one request
(`hub_client.tagged_models`). The blocking calls run in worker threads, at most
`HF_CONCURRENCY` at once; a slot is held per attempt, not across the policy's waits.

How the library is bent to the project's timeouts, bounds, retries and quota lives in one
adapter, `sources/hub_client.py` (its client factory replaced, a request hook per run, the
tagged-models request), whose contract test fails on an upgrade that breaks it.

Answers. 404 (`RepositoryNotFoundError`) is `not_found`; so is a 401 on a repo: the Hub
answers it for private (and, anonymously, missing) repos, and a link no reader can open is
dead for the list. A 401 refusing the token itself is an error. `GatedRepoError` is an
error, not `not_found`: the repo exists (a gated repo's info answers 200 with `gated`, kept
as `ok`). 429/5xx go through `enrich.net.http_error` (so `RateLimit` and `Retry-After` set
the wait); timeouts and resets reach the policy as retryable; an answer that does not parse
is a permanent error. A repo answering under another id (a rename, redirected) is `moved`.

Rate limit: each answer's `RateLimit` header (`"api";r=<left>;t=<reset s>`) goes to
`ctx.stats` and to the run's `Quota` (the Hub's policy on the project's one window-quota
mechanism, `rate.Window`). Once no call is left and the window resets later than the
policy would wait, no more requests are sent: those items end `error` (the fetch stage
keeps their last known value), with one note. Values are untrusted: checked, cleaned,
capped. Messages are scrubbed of the configured token.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import httpx2
from huggingface_hub import Organization, User
from huggingface_hub.errors import (
    HfHubHTTPError,
    HFValidationError,
)

from enrich.config import HF_CONCURRENCY, Settings
from enrich.errors import FetchError, PermanentError
from enrich.metadata import HubMeta, TaggedModels
from enrich.models import HUB_FETCHED, Identifier, Kind, Result, Status
from enrich.rate import Window
from enrich.sources import FetchContext, Request, SourceStats, result
from enrich.sources.hub_client import (
    DATASET_EXPAND,
    MODEL_EXPAND,
    SPACE_EXPAND,
    confine,
    hooked,
    make_api,
    rate_limit,
    tagged_models,
)
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
from enrich.transport import Bounds, bounds
from enrich.urls import ARXIV_ID

NAME: Final = "huggingface"
# Hub API rate limits: 500 calls per 5 minutes anonymous, 1,000 with a token
# (huggingface.co/docs/hub/rate-limits).
RATE_LIMIT_ANONYMOUS: Final = 500
RATE_LIMIT_TOKEN: Final = 1_000
TAGGED_MODELS: Final = 5
"""Models tagged with a paper asked for, most downloaded first (discovery suggests 3 at most,
after leaving out those the row links already)."""
_NAME = re.compile(r"[A-Za-z0-9][\w.-]{0,95}")


class Quota:
    """The Hub's rate limit as one run spends it: a policy on a `rate.Window` that believes
    each report (`lowest=False`: see `rate.Window` for why the Hub's are read that way).
    A request goes while calls are left, or the window is unknown or past; when none is
    left it still goes if the window resets within `patience` (the server will answer 429
    with the wait, and the retry policy waits it out), else it must not be sent.

    `clock` is `time.monotonic` unless a test gives its own: the Hub's resets are relative.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = Window(clock, lowest=False)

    @property
    def left(self) -> int | None:
        """The calls left after this run's requests (None: unknown)."""
        return self._window.left

    def report(self, left: int, resets_in: float, cost: int = 1) -> None:
        """What an answer said: `left` calls, the window resetting in `resets_in` seconds;
        `cost` 0: the answer cost nothing."""
        with self._window.lock:
            self._window.report(left, self._window.clock() + resets_in, cost)

    def take(self, patience: float) -> float | None:
        """Count a request about to be sent; or, when none is left and the window resets in
        more than `patience` seconds, count nothing and return the seconds to the reset:
        the request must not be sent."""
        with self._window.lock:
            if self._window.reserve():
                return None
            wait = self._window.resets_in()
            if wait is not None and wait > patience:
                return wait
            self._window.spend()
            return None


class _Exhausted(PermanentError):
    """The rate limit is spent until after the policy would wait: the request is not sent."""


@dataclass
class _Run:
    """One `fetch` call: what the request hooks of its worker threads need, and the quota."""

    endpoint: str
    timeout: httpx2.Timeout
    bounds: Bounds
    stats: SourceStats
    max_wait: float
    quota: Quota
    stopped: int = 0  # items not fetched for want of rate limit (event loop only)

    def admit(self, request: httpx2.Request) -> None:
        """Refuse what is not ours or over the quota; count the request, apply the timeout
        and the bounds."""
        confine(request, self.endpoint, self.timeout, self.bounds)
        wait = self.quota.take(patience=self.max_wait)
        if wait is not None:
            raise _Exhausted(
                f"Hub rate limit exhausted for {wait:.0f} s more (longer than the "
                f"{self.max_wait:.0f} s the retry policy waits): not fetched"
            )
        self.stats.count_request()

    def observe(self, response: httpx2.Response) -> None:
        info = rate_limit(response)
        spent = 0 if response.status_code == 429 else 1
        self.stats.rate_limit(info[0] if info else None, spent=spent)
        if info is not None:
            self.quota.report(*info, cost=spent)


class HubSource:
    """Facts about Hub entities, one request each (two for a user page)."""

    name = NAME
    # Docs pages are not fetched; paper pages and tagged models are (discovery asks for both).
    kinds = HUB_FETCHED

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._secret = settings.hf_token.reveal()
        self._api = make_api(settings.endpoints.huggingface, self._secret)
        self._calls: dict[Kind, Callable[[str], HubMeta | TaggedModels]] = {
            Kind.HF_MODEL: self._model,
            Kind.HF_DATASET: self._dataset,
            Kind.HF_SPACE: self._space,
            Kind.HF_COLLECTION: self._collection,
            Kind.HF_PAPER: self._paper,
            Kind.HF_ORG: self._owner,
            Kind.HF_PAPER_MODELS: self._paper_models,
        }

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> dict[Identifier, Result]:
        """One result per request, keyed by its `Identifier`; never raises for an item."""
        timeout = httpx2.Timeout(self._settings.timeout)
        endpoint = str(httpx2.URL(self._api.endpoint))  # as httpx2 spells request URLs
        limits = bounds(self._settings, NAME)
        run = _Run(endpoint, timeout, limits, ctx.stats, ctx.policy.max_seconds, Quota())
        quota = RATE_LIMIT_TOKEN if self._secret else RATE_LIMIT_ANONYMOUS
        if len(requests) > quota:
            ctx.stats.note(f"{NAME}: {len(requests)} items; the Hub allows {quota} per 5 min")
        slots = asyncio.Semaphore(HF_CONCURRENCY)
        done = await asyncio.gather(*(self._item(r, run, slots, ctx) for r in requests))
        if run.stopped:
            ctx.stats.note(f"{NAME}: rate limit exhausted, {run.stopped} item(s) not fetched")
        return {r.identifier: found for r, found in zip(requests, done, strict=True)}

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
        named = what(ident)
        try:
            with hooked(run):
                return self._calls[ident.kind](ident.key)
        except HfHubHTTPError as exc:
            raise failure(exc, named) from None
        except HFValidationError:
            raise PermanentError(f"{named}: not a valid Hub id") from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PermanentError(f"{named}: malformed answer ({type(exc).__name__})") from None

    def _model(self, key: str) -> HubMeta:
        info = self._api.model_info(key, expand=MODEL_EXPAND, timeout=self._settings.timeout)
        return repo_meta("model", info)

    def _dataset(self, key: str) -> HubMeta:
        info = self._api.dataset_info(key, expand=DATASET_EXPAND, timeout=self._settings.timeout)
        return repo_meta("dataset", info)

    def _space(self, key: str) -> HubMeta:
        info = self._api.space_info(key, expand=SPACE_EXPAND, timeout=self._settings.timeout)
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
        items = tagged_models(self._api, key, TAGGED_MODELS)
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
