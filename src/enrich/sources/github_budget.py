"""GitHub's rate limit as one run spends it: what may still go out, a policy on the
project's one window-quota mechanism (`rate.Window`, which counts what is left).

Every answer's `x-ratelimit-*` headers (and GraphQL's `rateLimit`) are recorded (`observe`).
The first request of a run goes out alone to learn the budget; after it, each unit of work
(a repository over REST, a batch over GraphQL) is sent only while the budget has a point
for it beyond `RESERVE`. Units are offered oldest value first, so a budget smaller than the
list spends itself on those that waited longest; the rest are not sent (`NotSent`): they
keep their last values and wait for a later run, which is no failure. Over consecutive runs
every repository is fetched.

Without a token every REST request costs one of the 60 an hour, a conditional one answered
304 too: GitHub waives a 304 only for a request with an `Authorization` header (docs.github
.com, "Best practices for using the REST API"). With a token the project uses GraphQL,
where ETags do not apply and a query of 50 repositories costs one of 5,000 points.

A retry needs a point too; when none is left it is not sent (`BudgetStop`) and the unit
fails as its attempt did. So a run never burns the budget into 403s, and a 403/429 that
still comes (someone else spent the budget) leaves its unit waiting like the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from enrich.errors import FetchError, PermanentError
from enrich.rate import Window, github_said
from enrich.sources import SourceStats

# Requests left untouched for whatever else the user runs against the API this hour.
RESERVE = 5
# GitHub's primary limits: 60 requests/hour without a token, 5,000 with one; GraphQL has
# 5,000 points/hour of its own (docs.github.com, "Rate limits for the REST API").
TOKEN_HINT = " — set GITHUB_TOKEN for 5,000/hour"


class BudgetStop(PermanentError):
    """A retry was not sent: the budget has no point left for it."""


class NotSent(Exception):
    """A unit's first request was not sent: the budget is spent; it waits for a later run."""


@dataclass(frozen=True)
class RateLimit:
    """What GraphQL's `rateLimit` said (None where absent; REST has it in headers alone)."""

    cost: int | None = None
    remaining: int | None = None
    reset: int | None = None  # epoch seconds


NO_LIMIT = RateLimit()


class Budget:
    """GitHub's rate limit in one run of one transport: a policy on the run's `rate.Window`.

    The window (`lowest=True`: see `rate.Window` for why GitHub's reports are read that way)
    holds what is left: the lowest `remaining` reported in this window, less what this run
    reserved since, points given back for answers that cost nothing. This class decides
    what may go: a unit's first request while more than `RESERVE` points are left (else
    `NotSent`), a retry likewise (else `BudgetStop`), an optional request (`spare`) only
    while the points left exceed the units not offered yet (`pending`) and the reserve. So
    the happy path is exact and deterministic: after the first answer's `remaining` R,
    R - `RESERVE` more requests. The window is read on the sources' clock (`now`), against
    GitHub's epoch resets. Shared by the worker threads (which `observe`) and the event
    loop (which `take`s): decisions are made under the window's lock.
    """

    def __init__(
        self,
        stats: SourceStats,
        now: Callable[[], datetime],
        pending: int,
        unit: str,
        hint: str,
    ) -> None:
        self._stats, self._unit, self._hint = stats, unit, hint
        self._window = Window(lambda: now().timestamp(), lowest=True)
        self.pending = pending

    def observe(self, headers: Mapping[str, str], spent: int, limit: RateLimit = NO_LIMIT) -> None:
        """Record what an answer says of the budget (GraphQL's `rateLimit` before headers);
        an answer that cost nothing (`spent` 0) gives its reservation back."""
        remaining, reset = github_said(headers)
        remaining = remaining if limit.remaining is None else limit.remaining
        reset = reset if limit.reset is None else limit.reset
        with self._window.lock:
            self._window.report(remaining, reset, cost=spent)
            reported = self._window.reported
        self._stats.rate_limit(reported, spent)

    def take(self, first: bool) -> None:
        """Reserve a point for a unit's `first` attempt, else `NotSent`; for a retry, else
        `BudgetStop`. An unknown budget (before the first answer) lets the request go."""
        with self._window.lock:
            self.pending -= 1 if first else 0
            if self._window.reserve(keep=RESERVE):
                return
        if first:
            raise NotSent
        raise BudgetStop(f"GitHub rate limit: no {self._unit} left to retry" + self._hint)

    def spare(self) -> bool:
        """Reserve one optional request, if the budget is known and has room beyond the run."""
        with self._window.lock:
            return self._window.known() and self._window.reserve(keep=self.pending + RESERVE)

    def spent(self, error: FetchError) -> bool:
        """Whether `error` is GitHub refusing a request because the budget is spent."""
        return error.status in (403, 429, None) and self._window.reported == 0

    def waiting(self, count: int) -> str:
        """The run's one line about the `count` repositories left for a later run."""
        with self._window.lock:
            left, reset = max(0, self._window.left or 0), self._window.reset_at
        when = "at an unknown time"
        if reset is not None:
            when = "at " + datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC")
        return (
            f"github: {count} repositories wait for a later run (rate limit: {left} "
            f"{self._unit} left, resets {when}), oldest values first{self._hint}"
        )
