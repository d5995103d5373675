"""GitHub repositories through PyGithub: GraphQL batches with a token, REST without.

Transport. With a token, repositories go in aliased GraphQL queries of
`GITHUB_GRAPHQL_BATCH` (`github_graphql`): 50 repositories for one point of the 5,000/hour
GraphQL budget, linked subpaths checked in the same query. GraphQL needs a token, so without
one each repository is a REST `GET /repos/{owner}/{repo}` out of 60 requests/hour, at most
`GITHUB_CONCURRENCY` at a time, conditional: with the last known ETag as `If-None-Match`, a
304 ("unchanged", free of rate limit) returns the previous data as `ok`, validators kept.

Moves. PyGithub follows a 301 itself; an answer whose `full_name` (`nameWithOwner`)
differs from the name asked, ignoring case, is `moved` with the facts under the new name.

Budget. Every answer's `x-ratelimit-*` headers (and GraphQL's `rateLimit`) are recorded.
The first request goes out alone to learn the budget; after it, a request is sent only while
the remaining budget covers all the run still needs plus `RESERVE`. Otherwise the run stops
at once: the rest ends `error` with one message (left, needed, reset time) and the fetch
stage serves last known values as `stale`. So a run never burns the budget into 403s; a
403/429 that still comes is transient (`net.http_error`) and the policy gives up at once
when the wait it asks for does not fit.

PyGithub, set up on purpose: no urllib3 retries (its `GithubRetry` sleeps through 403s) and
no 0.25 s throttle, so `ctx.policy` and `GITHUB_CONCURRENCY` alone decide. Its `Requester`
is not thread-safe (one shared connection object whose `request()` stores what
`getresponse()` sends), so each worker thread gets a client of its own, all closed when
the fetch ends. `requestJson` gives status, headers and body without raising.

Secrets. The token goes to `Auth.Token` only; errors are rebuilt from what they mean
(status, exception type), never from exception text or headers, and are scrubbed anyway.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

from github import Auth, Github
from requests import exceptions as http_errors

from enrich import __version__
from enrich.config import GITHUB_CONCURRENCY, GITHUB_GRAPHQL_BATCH, Settings
from enrich.errors import FetchError, PermanentError, TimedOut, TransientError, Unreachable
from enrich.models import Kind, RepoMeta, Result, Status
from enrich.net import http_error
from enrich.sources import FetchContext, Request, result
from enrich.sources import github_graphql as gql
from enrich.transport import Bounds, bounds, mount

T = TypeVar("T")
U = TypeVar("U")
NAME = "github"
# Requests left untouched for whatever else the user runs against the API this hour.
RESERVE = 5
# Pins the REST answer shape (docs.github.com, "API Versions"); the version GitHub selects
# by default and the one the recordings in shared/api-samples/github answer with.
API_VERSION = "2022-11-28"
USER_AGENT = f"enrich/{__version__} (PyGithub)"
# GitHub's primary limits: 60 requests/hour without a token, 5,000 with one; GraphQL has
# 5,000 points/hour of its own (docs.github.com, "Rate limits for the REST API").
TOKEN_HINT = " — set GITHUB_TOKEN for 5,000/hour"
NO_LIMIT = gql.RateLimit(None, None, None)  # REST: the budget is in the headers alone
_Repo = tuple[int, Mapping[str, str], RepoMeta | None]  # status, headers, data (200 only)


class _BudgetStop(PermanentError):
    """The request was not sent: the budget cannot cover the rest of the run."""


class _Failed(Exception):
    """A unit of work failed for good, after `attempts` requests."""

    def __init__(self, error: FetchError, attempts: int) -> None:
        super().__init__(str(error))
        self.error, self.attempts = error, attempts


class _Budget:
    """The rate-limit budget of one transport, as the server last reported it.

    `pending` counts the units of work (repositories, or GraphQL batches) not started yet
    that will cost at least one point. A conditional request (`If-None-Match` of the last
    ETag) costs none when the answer is 304, so it reserves nothing: it only needs a budget
    that is not spent (GitHub refuses every request then), and if it comes back 200 the
    server's next count says so. Shared by the worker threads, hence the lock.
    """

    def __init__(self, ctx: FetchContext, pending: int, unit: str, hint: str) -> None:
        self._ctx, self._unit, self._hint = ctx, unit, hint
        self._lock = threading.Lock()
        self.pending = pending
        self._remaining: int | None = None  # what is left after this run's reservations
        self._reported: int | None = None  # the lowest the server said in this window
        self._reset: int | None = None
        self.stopped: str | None = None

    def observe(self, headers: Mapping[str, str], spent: int, limit: gql.RateLimit) -> None:
        """Record what an answer says of the budget (GraphQL's `rateLimit` before headers)."""
        remaining = _int(headers.get("x-ratelimit-remaining"))
        remaining = remaining if limit.remaining is None else limit.remaining
        reset = _int(headers.get("x-ratelimit-reset")) if limit.reset is None else limit.reset
        with self._lock:
            if reset is not None and reset > (self._reset or 0):  # a new window
                self._reset, self._reported, self._remaining = reset, None, None
            if remaining is not None:
                # Answers of concurrent requests arrive in any order: keep the lowest, and
                # below it what this run has reserved since.
                low = remaining if self._reported is None else min(self._reported, remaining)
                mine = self._remaining
                self._reported, self._remaining = low, low if mine is None else min(mine, low)
            reported = self._reported
        self._ctx.stats.rate_limit(reported, spent)

    def take(self, first: bool, free: bool = False) -> None:
        """Reserve one request (none for a `free` one: conditional, most likely a 304), or
        raise `_BudgetStop` when the rest cannot be afforded."""
        with self._lock:
            self._forget_past_window()
            cost = 0 if free else 1
            needed = self.pending + (0 if first else cost)
            known = self._remaining
            # RESERVE is kept for the user's other uses of the budget; what costs nothing
            # (nothing costly left, this request conditional) only needs the budget unspent.
            short = known is not None and (known < 1 or (needed > 0 and known < needed + RESERVE))
            if self.stopped is None and short:
                self.stopped = self._message(max(needed, 1))
                self._ctx.stats.note(self.stopped)
            if self.stopped is not None:
                raise _BudgetStop(self.stopped)
            self.pending -= cost if first else 0
            self._remaining = None if known is None else known - cost

    def spare(self) -> bool:
        """Reserve one optional request, if the budget is known and has room beyond the run."""
        with self._lock:
            self._forget_past_window()
            if self._remaining is None or self._remaining <= self.pending + RESERVE:
                return False
            self._remaining -= 1
            return True

    def _forget_past_window(self) -> None:
        if self._reset is not None and self._ctx.now().timestamp() >= self._reset:
            self._remaining, self._reported, self._reset = None, None, None

    def _message(self, needed: int) -> str:
        left, when = max(0, self._remaining or 0), "at an unknown time"
        if self._reset is not None:
            when = "at " + datetime.fromtimestamp(self._reset, UTC).strftime("%H:%M UTC")
        text = f"GitHub rate limit: {left} {self._unit} left, {needed} needed; resets {when}"
        return text + self._hint


def make_client(settings: Settings, token: str = "") -> Github:
    """A PyGithub client configured for this project (see the module docstring)."""
    client = Github(
        auth=Auth.Token(token) if token else None,
        base_url=settings.endpoints.github,
        # PyGithub insists on whole seconds; round up, never to zero (no timeout at all).
        timeout=max(1, math.ceil(settings.timeout)),
        user_agent=USER_AGENT,
        retry=0,  # no urllib3 retries: `ctx.policy` decides
        pool_size=1,  # a client serves one thread
        seconds_between_requests=None,  # pacing is GITHUB_CONCURRENCY and the budget
        seconds_between_writes=None,
        api_version=API_VERSION,
    )
    _bound(client, bounds(settings, NAME))
    return client


def _bound(client: Github, limits: Bounds) -> None:
    """Every connection the client makes sends through `enrich.transport` under `limits`
    (a total deadline, a size cap). PyGithub makes its connection objects from a class its
    `Requester` keeps (private since PyGithub 2.0; the hostile-server tests of this source
    fail if that changes): a subclass mounts the adapter on each one's session."""
    requester = client.requester
    base = requester._Requester__connectionClass  # type: ignore[attr-defined]

    class Bounded(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            mount(self.session, limits)

    requester._Requester__connectionClass = Bounded  # type: ignore[attr-defined]


class _Run:
    """What one `fetch` call shares between its units of work, and its clients."""

    budget: _Budget  # set by the transport, which knows its units of work

    def __init__(self, ctx: FetchContext, settings: Settings) -> None:
        self.ctx, self._settings = ctx, settings
        self.token = settings.github_token.reveal()
        self._local = threading.local()  # one client per worker thread: PyGithub is not
        self._opened: list[Github] = []  # thread-safe; all closed when the fetch ends
        self._lock = threading.Lock()

    def client(self) -> Github:
        client: Github | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = make_client(self._settings, self.token)
            with self._lock:
                self._opened.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for client in opened:
            client.close()

    def result(self, request: Request, status: Status, **fields: Any) -> Result:
        return result(request, self.ctx, NAME, status, **fields)

    def failed(self, request: Request, failed: _Failed) -> Result:
        error, n = failed.error, failed.attempts
        text = str(error).replace(self.token, "***") if self.token else str(error)
        return self.result(request, Status.ERROR, http_status=error.status, attempts=n, error=text)


class GitHubSource:
    """GitHub repositories: `github_repo` identifiers -> `RepoMeta`."""

    name = NAME
    kinds = frozenset({Kind.GITHUB_REPO})

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Builds PyGithub objects from answers; never sends a request (objects are complete).
        self._models = make_client(settings)
        self._graphql_url = self._models.requester.graphql_url
        # PyGithub logs at INFO to its own stderr handler (each redirect it follows); moves
        # are reported as results, so keep its chatter out of the progress display.
        logging.getLogger("github").setLevel(logging.WARNING)

    async def fetch(self, requests: Sequence[Request], ctx: FetchContext) -> dict[str, Result]:
        out: dict[str, Result] = {}
        valid: list[Request] = []
        for request in requests:
            try:
                gql.split_key(request.identifier.key)
                valid.append(request)
            except PermanentError as exc:
                out[request.ref] = result(request, ctx, NAME, Status.ERROR, error=str(exc))
                ctx.advance(1)
        token = bool(self._settings.github_token)
        run = _Run(ctx, self._settings)
        try:
            await (self._graphql(run, valid, out) if token else self._rest(run, valid, out))
        finally:
            run.close()
        return out

    # ---------------------------------------------------------------------------- common

    @staticmethod
    async def _in_order(units: Sequence[U], work: Callable[[U], Awaitable[None]]) -> None:
        """The first unit alone (its answer tells the budget), then the rest concurrently."""
        gate = asyncio.Semaphore(GITHUB_CONCURRENCY)

        async def gated(unit: U) -> None:
            async with gate:
                await work(unit)

        if units:
            await work(units[0])
            await asyncio.gather(*(gated(unit) for unit in units[1:]))

    @staticmethod
    async def _call(run: _Run, fn: Callable[[bool], T]) -> tuple[T, int]:
        """`fn(first_attempt)` in a worker thread under the retry policy: (value, attempts)."""
        tries = 0

        async def attempt() -> T:
            nonlocal tries
            tries += 1
            return await asyncio.to_thread(fn, tries == 1)

        try:
            return await run.ctx.policy.call(attempt)
        except FetchError as exc:
            raise _Failed(exc, tries - 1 if isinstance(exc, _BudgetStop) else tries) from None
        except Exception as exc:  # noqa: BLE001 - one item's surprise must not sink the others
            raise _Failed(PermanentError(f"unexpected {type(exc).__name__}"), tries) from None

    @staticmethod
    def _exchange(run: _Run, verb: str, url: str, what: str, **kwargs: Any) -> tuple[int, Any, str]:
        """One HTTP request (worker thread): status, lowercase headers, body."""
        run.ctx.stats.count_request()
        try:
            return run.client().requester.requestJson(verb, url, **kwargs)
        except http_errors.Timeout:
            raise TimedOut(f"{what}: timed out") from None
        except http_errors.ChunkedEncodingError as exc:
            raise TransientError(f"{what}: connection failed ({type(exc).__name__})") from None
        except http_errors.ConnectionError as exc:
            raise Unreachable(f"{what}: connection failed ({type(exc).__name__})") from None
        except (http_errors.RequestException, RuntimeError, ValueError, AssertionError) as exc:
            # e.g. a redirect to another host, which PyGithub refuses to follow
            raise PermanentError(f"{what}: failed ({type(exc).__name__})") from None

    # ------------------------------------------------------------------------------ REST

    async def _rest(self, run: _Run, requests: Sequence[Request], out: dict[str, Result]) -> None:
        costly = sum(1 for r in requests if not _validators(r.previous))
        run.budget = _Budget(run.ctx, costly, "requests", TOKEN_HINT)

        async def work(request: Request) -> None:
            out[request.ref] = await self._rest_item(run, request)
            run.ctx.advance(1)

        await self._in_order(requests, work)

    async def _rest_item(self, run: _Run, request: Request) -> Result:
        try:
            answer, attempts = await self._call(run, partial(self._get_repo, run, request))
        except _Failed as failed:
            return run.failed(request, failed)
        status, headers, meta = answer
        if status == 404:
            return run.result(request, Status.NOT_FOUND, http_status=404, attempts=attempts)
        if meta is None:
            return await self._revalidated(run, request, attempts)
        meta = await self._with_subpaths(run, meta, request.subpaths, {})
        moved = meta.full_name.lower() != request.identifier.key.lower()
        return run.result(
            request,
            Status.MOVED if moved else Status.OK,
            data=meta,
            http_status=301 if moved else 200,
            attempts=attempts,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            moved_to=f"github_repo:{meta.full_name.lower()}" if moved else None,
        )

    def _get_repo(self, run: _Run, request: Request, first: bool) -> _Repo:
        """One attempt at `GET /repos/{owner}/{repo}` (in a worker thread)."""
        validators = _validators(request.previous)
        run.budget.take(first, free=bool(validators))
        key = request.identifier.key
        url = f"/repos/{key}"
        what = f"GET {url}"
        status, headers, body = self._exchange(run, "GET", url, what, headers=validators)
        refused = status in (403, 429) and headers.get("x-ratelimit-remaining") == "0"
        run.budget.observe(headers, 0 if status == 304 or refused else 1, NO_LIMIT)
        if status in (304, 404):
            return status, headers, None
        if status != 200:
            raise http_error(status, headers, what)
        meta = gql.meta_from_rest(self._models, gql.json_object(body, what), headers)
        if meta.full_name.lower() != key.lower():
            # PyGithub followed a 301: that was a second request, and it was charged.
            run.ctx.stats.count_request()
            run.ctx.stats.rate_limit(None, 1)
        return status, headers, meta

    async def _revalidated(self, run: _Run, request: Request, attempts: int) -> Result:
        """A 304: the last known data is current; its validators stay as they were."""
        previous = request.previous
        assert previous is not None
        assert isinstance(previous.data, RepoMeta)
        run.ctx.stats.count_revalidated()
        linked = {s: v for s, v in previous.data.subpaths.items() if s in request.subpaths}
        meta = await self._with_subpaths(run, previous.data, request.subpaths, linked)
        return run.result(
            request,
            Status.MOVED if previous.moved_to else Status.OK,
            data=meta,
            http_status=304,
            attempts=attempts,
            etag=previous.provenance.etag,
            last_modified=previous.provenance.last_modified,
            moved_to=previous.moved_to,
        )

    async def _with_subpaths(
        self, run: _Run, meta: RepoMeta, subpaths: Sequence[str], known: dict[str, bool]
    ) -> RepoMeta:
        """`meta` with `subpaths` checked (REST: one contents request each)."""
        found = dict(known)
        for subpath in gql.checkable(subpaths):
            # Optional requests: made only when the budget is known and has room beyond
            # what the run's repositories need. Otherwise skipped silently: the subpath's
            # existence stays unknown, which is no error.
            if subpath in found or not run.budget.spare():
                continue
            check = partial(self._get_contents, run, meta.full_name, subpath)
            try:
                found[subpath], _ = await self._call(run, check)
            except _Failed:
                continue
        return meta if found == meta.subpaths else meta.model_copy(update={"subpaths": found})

    def _get_contents(self, run: _Run, full_name: str, subpath: str, first: bool) -> bool:
        """`GET /repos/{o}/{r}/contents/{path}?ref=` exists? (one attempt, worker thread)."""
        if not first and not run.budget.spare():
            raise PermanentError("no budget left to retry a subpath check")
        ref, path = gql.split_subpath(subpath) or ("", "")
        url = f"/repos/{full_name}/contents" + (f"/{quote(path)}" if path else "")
        what = f"GET {url}"
        status, headers, _ = self._exchange(run, "GET", url, what, parameters={"ref": ref})
        run.budget.observe(headers, 1, NO_LIMIT)
        if status in (200, 404):
            return status == 200
        raise http_error(status, headers, what)

    # --------------------------------------------------------------------------- GraphQL

    async def _graphql(
        self, run: _Run, requests: Sequence[Request], out: dict[str, Result]
    ) -> None:
        size = GITHUB_GRAPHQL_BATCH
        batches = [requests[i : i + size] for i in range(0, len(requests), size)]
        run.budget = _Budget(run.ctx, len(batches), "points", "")

        async def work(batch: Sequence[Request]) -> None:
            out.update(await self._graphql_batch(run, batch))
            run.ctx.advance(len(batch))

        await self._in_order(batches, work)

    async def _graphql_batch(self, run: _Run, batch: Sequence[Request]) -> dict[str, Result]:
        keys = [r.identifier.key for r in batch]
        subpaths = [gql.checkable(r.subpaths) for r in batch]
        try:
            outcomes, n = await self._call(run, partial(self._post_batch, run, keys, subpaths))
        except _Failed as failed:
            return {r.ref: run.failed(r, failed) for r in batch}
        return {
            r.ref: run.result(r, o.status, http_status=200, attempts=n, **o.fields())
            for r, o in zip(batch, outcomes, strict=True)
        }

    def _post_batch(
        self, run: _Run, keys: list[str], subpaths: list[list[str]], first: bool
    ) -> list[gql.Outcome]:
        """One attempt at one aliased query (in a worker thread)."""
        run.budget.take(first)
        query, variables = gql.build_query(keys, subpaths)
        payload = {"query": query, "variables": variables}
        answer = self._exchange(run, "POST", self._graphql_url, "POST /graphql", input=payload)
        try:
            data = gql.decode(*answer)
        except FetchError:
            run.budget.observe(answer[1], 0, NO_LIMIT)
            raise
        limit = gql.rate_limit(data)
        run.budget.observe(answer[1], limit.cost or 1, limit)
        return gql.parse_batch(data, keys, subpaths)


def _validators(previous: Result | None) -> dict[str, str]:
    """`If-None-Match` when the last known result has data and an ETag (a fresh dict:
    PyGithub adds its own headers to the one it is given)."""
    if previous is None or not isinstance(previous.data, RepoMeta):
        return {}
    etag = previous.provenance.etag
    return {"If-None-Match": etag} if etag else {}


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
