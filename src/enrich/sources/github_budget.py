"""GitHub's rate limit as one run spends it: what is left, and what may still go out.

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

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from enrich.errors import FetchError, PermanentError
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
    """The rate-limit budget of one transport in one run, as the server last reported it.

    What is left is the lowest `remaining` the server reported in this window, less what
    this run reserved since: every request reserves a point when it is sent, and gives it
    back when its answer cost nothing (`observe` with `spent` 0: a rate-limit refusal, a
    server error; should GitHub have counted it after all, its next answer's `remaining`
    says so). So the happy path is exact and deterministic: after the first answer's
    `remaining` R, R - `RESERVE` more requests. `pending` counts the units of work not
    offered yet. Shared by the worker threads (which `observe`) and the event loop (which
    `take`s), hence the lock.
    """

    def __init__(
        self,
        stats: SourceStats,
        now: Callable[[], datetime],
        pending: int,
        unit: str,
        hint: str,
    ) -> None:
        self._stats, self._now, self._unit, self._hint = stats, now, unit, hint
        self._lock = threading.Lock()
        self.pending = pending
        self._remaining: int | None = None  # what is left after this run's reservations
        self._reported: int | None = None  # the lowest the server said in this window
        self._reset: int | None = None

    def observe(self, headers: Mapping[str, str], spent: int, limit: RateLimit = NO_LIMIT) -> None:
        """Record what an answer says of the budget (GraphQL's `rateLimit` before headers);
        an answer that cost nothing (`spent` 0) gives its reservation back."""
        remaining = _int(headers.get("x-ratelimit-remaining"))
        remaining = remaining if limit.remaining is None else limit.remaining
        reset = _int(headers.get("x-ratelimit-reset")) if limit.reset is None else limit.reset
        with self._lock:
            if reset is not None and reset > (self._reset or 0):  # a new window
                self._reset, self._reported, self._remaining = reset, None, None
            if not spent and self._remaining is not None:
                self._remaining += 1
            if remaining is not None:
                # Answers of concurrent requests arrive in any order: keep the lowest, and
                # below it what this run has reserved since.
                low = remaining if self._reported is None else min(self._reported, remaining)
                mine = self._remaining
                self._reported, self._remaining = low, low if mine is None else min(mine, low)
            reported = self._reported
        self._stats.rate_limit(reported, spent)

    def take(self, first: bool) -> None:
        """Reserve a point for a unit's `first` attempt, else `NotSent`; for a retry, else
        `BudgetStop`. An unknown budget (before the first answer) lets the request go."""
        with self._lock:
            self._forget_past_window()
            self.pending -= 1 if first else 0
            left = self._remaining
            if left is not None and left < 1 + RESERVE:
                if first:
                    raise NotSent
                raise BudgetStop(f"GitHub rate limit: no {self._unit} left to retry" + self._hint)
            self._remaining = None if left is None else left - 1

    def spare(self) -> bool:
        """Reserve one optional request, if the budget is known and has room beyond the run."""
        with self._lock:
            self._forget_past_window()
            if self._remaining is None or self._remaining <= self.pending + RESERVE:
                return False
            self._remaining -= 1
            return True

    def spent(self, error: FetchError) -> bool:
        """Whether `error` is GitHub refusing a request because the budget is spent."""
        with self._lock:
            return error.status in (403, 429, None) and self._reported == 0

    def waiting(self, count: int) -> str:
        """The run's one line about the `count` repositories left for a later run."""
        with self._lock:
            left, reset = max(0, self._remaining or 0), self._reset
        when = "at an unknown time"
        if reset is not None:
            when = "at " + datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC")
        return (
            f"github: {count} repositories wait for a later run (rate limit: {left} "
            f"{self._unit} left, resets {when}), oldest values first{self._hint}"
        )

    def _forget_past_window(self) -> None:
        if self._reset is not None and self._now().timestamp() >= self._reset:
            self._remaining, self._reported, self._reset = None, None, None


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
