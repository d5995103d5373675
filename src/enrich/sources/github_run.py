"""What one GitHub fetch shares between its units of work, whichever the transport.

A run holds the context, the budget, the PyGithub clients and the token (only to scrub it
from errors), and builds each unit's result: fetched, failed, or left for a later run.
`call` runs one request in a worker thread under the retry policy, asking `admit` before
every attempt; `in_order` sends the first unit alone (its answer tells the budget), then
the rest `GITHUB_CONCURRENCY` at a time, in the order given.

A unit left for a later run ends `skipped`, with the reason: the fetch stage keeps its last
known result as it was (`lastknown.settle`), so it is no failure and is not cached again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from enrich.config import GITHUB_CONCURRENCY, Settings
from enrich.errors import FetchError, PermanentError
from enrich.models import Result, Status
from enrich.sources import FetchContext, Request, last_fetched, result
from enrich.sources.github_budget import Budget, BudgetStop, NotSent
from enrich.sources.github_client import Clients

T = TypeVar("T")
U = TypeVar("U")
NAME = "github"
WAITS = "GitHub rate limit: not sent, waits for a later run"


class Failed(Exception):
    """A unit of work failed for good, after `attempts` requests."""

    def __init__(self, error: FetchError, attempts: int) -> None:
        super().__init__(str(error))
        self.error, self.attempts = error, attempts


class Run:
    """One `fetch` call of the GitHub source."""

    def __init__(self, ctx: FetchContext, settings: Settings, budget: Budget) -> None:
        self.ctx, self.budget = ctx, budget
        self.token = settings.github_token.reveal()
        self.clients = Clients(settings, self.token)
        self.waiting = 0  # units left for a later run

    def result(self, request: Request, status: Status, **fields: Any) -> Result:
        return result(request, self.ctx, NAME, status, **fields)

    def failed(self, request: Request, failed: Failed) -> Result:
        """The unit's failure; a refusal for a spent budget leaves it waiting instead."""
        if self.budget.spent(failed.error):
            return self.wait(request)
        error, n = failed.error, failed.attempts
        text = str(error).replace(self.token, "***") if self.token else str(error)
        return self.result(request, Status.ERROR, http_status=error.status, attempts=n, error=text)

    def wait(self, request: Request) -> Result:
        """Not fetched this run: the budget is spent (see the module docstring)."""
        self.waiting += 1
        return self.result(request, Status.SKIPPED, attempts=0, error=WAITS)

    def close(self) -> None:
        self.clients.close()
        if self.waiting:
            self.ctx.stats.note(self.budget.waiting(self.waiting))


def oldest_first(requests: Sequence[Request]) -> list[Request]:
    """`requests` by the age of their last value: never fetched first, then the oldest;
    by ref among equals, so the same inputs are always offered in the same order."""

    return sorted(requests, key=lambda request: (last_fetched(request.previous), request.ref))


async def in_order(units: Sequence[U], work: Callable[[U], Awaitable[None]]) -> None:
    """The first unit alone (its answer tells the budget), then the rest concurrently, each
    started in the order given."""
    gate = asyncio.Semaphore(GITHUB_CONCURRENCY)

    async def gated(unit: U) -> None:
        async with gate:
            await work(unit)

    if units:
        await work(units[0])
        await asyncio.gather(*(gated(unit) for unit in units[1:]))


def take(run: Run) -> Callable[[int], None]:
    """The `admit` of a unit of work: a point of the budget for every attempt."""
    return lambda attempt: run.budget.take(first=attempt == 1)


def spare(run: Run) -> Callable[[int], None]:
    """The `admit` of an optional request, its first point already reserved (`spare`)."""

    def admit(attempt: int) -> None:
        if attempt > 1 and not run.budget.spare():
            raise PermanentError("no budget left to retry")

    return admit


async def call(run: Run, admit: Callable[[int], None], fn: Callable[[], T]) -> tuple[T, int]:
    """`fn()` in a worker thread under the retry policy, `admit(attempt)` asked first on the
    event loop (in the order units start): (value, attempts). `NotSent` passes through."""
    tries = 0

    async def attempt() -> T:
        nonlocal tries
        tries += 1
        admit(tries)
        return await asyncio.to_thread(fn)

    try:
        return await run.ctx.policy.call(attempt)
    except NotSent:
        raise
    except FetchError as exc:
        raise Failed(exc, tries - 1 if isinstance(exc, BudgetStop) else tries) from None
    except Exception as exc:  # noqa: BLE001 - one item's surprise must not sink the others
        raise Failed(PermanentError(f"unexpected {type(exc).__name__}"), tries) from None
