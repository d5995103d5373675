"""How fast a source asks: the project's one rate-limit mechanism, in two parts.

* `Pacer`: a provider's stated spacing (one request at a time, so many seconds apart):
  arXiv, Semantic Scholar, the landing pages.
* `Window`: a provider's stated quota (so many requests per window, what is left said in
  its answers), as one run spends it: GitHub (`x-ratelimit-*`, GraphQL's `rateLimit`) and
  the Hub (`RateLimit`). What to do when the window runs short is each provider's policy
  on top of it, beside its source: GitHub's run budget (`sources/github_budget.Budget`:
  oldest values first, a reserve, the rest wait for a later run) and the Hub's quota
  (`sources/huggingface.Quota`: wait when spent and the reset is near, else stop).

What an answer says of its window is read here too, once per provider: `github_said`
(`x-ratelimit-*`) and `hub_said` (`RateLimit`), for the windows and for the retry policy
that waits out what a server asks for (`enrich.net`'s).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

T = TypeVar("T")

_HUB_LEFT = re.compile(r"(?:^|;)\s*r=(\d+)")
_HUB_RESET = re.compile(r"(?:^|;)\s*t=(\d+)")


class Pacer:
    """One request at a time, each starting at least `delay` seconds after the last one
    ended. Used where a provider states a rate in requests per second (arXiv, Semantic
    Scholar); keep one per source so it holds across calls. Two ways in, around every
    attempt (retries included):

    * `async with pacer:` around an async request: the pause is awaited, so the event loop
      serves other sources meanwhile;
    * `await pacer.run(func, ...)` for a blocking client: `func` runs in a worker thread,
      and the pause is slept in that thread and the end taken there, so a request is not
      held back by an event loop busy with other sources' answers (a 10,000-row run
      started an arXiv request late that way: docs/performance.md). A request ends when
      `func` returns,
      or when it calls `answered()`: the answer is in, and reading it is not the
      provider's time (the arxiv package spaces its own requests from there too).
    """

    def __init__(
        self,
        delay: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`clock`, `sleep` (in a worker thread) and `asleep` (on the event loop) are the
        clock and the two ways of waiting on it: tests give a clock of their own."""
        self._delay = delay
        self._clock, self._sleep, self._asleep = clock, sleep, asleep
        self._free_at = 0.0
        self._answered: float | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        pause = self._free_at - self._clock()
        if pause > 0:
            await self._asleep(pause)

    async def __aexit__(self, *exc: object) -> None:
        self._free_at = self._clock() + self._delay
        self._lock.release()

    async def run(self, func: Callable[..., T], /, *args: object) -> T:
        """`func(*args)` in a worker thread, in its turn (see the class docstring)."""

        def paced() -> T:
            pause = self._free_at - self._clock()
            if pause > 0:
                self._sleep(pause)
            self._answered = None
            try:
                return func(*args)
            finally:
                self._free_at = (self._answered or self._clock()) + self._delay

        async with self._lock:
            return await asyncio.to_thread(paced)

    def answered(self) -> None:
        """Within `run`'s `func`: the answer is in; the next request is spaced from now."""
        self._answered = self._clock()


class Window:
    """A server's rate-limit window as one run spends it; the one home of these rules:

    * what is left (`left`) is what the server last said is left (`reported`), less the
      requests this run reserved since (`reserve`); unknown (None) until a report;
    * an answer that cost nothing (`report` with `cost` 0: a rate-limit refusal, a server
      error) gives its reservation back; should the server have counted it after all, its
      next report says so;
    * a window whose reset has passed is forgotten: what is left is unknown again;
    * which reports count (`lowest`), a parameter because providers differ (below).

    `lowest=True`: the lowest count reported in a window is kept, and a report with a later
    reset starts a new window. For a provider whose reset names its window: GitHub's
    `x-ratelimit-reset` (and GraphQL's `rateLimit.resetAt`) is the window's end in epoch
    seconds, the same in every answer of one window, and `x-ratelimit-remaining` only falls
    within it (docs.github.com, "Rate limits for the REST API", "Rate limits and query
    limits for the GraphQL API"); answers to concurrent requests arrive in any order, so
    the lowest is the newest.

    `lowest=False`: each report replaces the last. For a provider whose reports name no
    window: the Hub's `RateLimit: "api";r=<left>;t=<seconds>` follows the IETF draft
    (huggingface.co/docs/hub/rate-limits; draft-ietf-httpapi-ratelimit-headers), whose `t`
    is seconds counted from when the answer was made, and which lets the server change
    `t` between requests and lower `r` at will. Two answers of one window give resets
    apart by their latency, and a later reset need not be a new window, so "the lowest of
    this window" has no window to go by: the last report is the best knowledge (optimistic
    by the requests in flight when it was made).

    `clock` is the clock resets are given on (`time.monotonic` unless told: a provider's
    epoch resets need the wall clock, a test its own). Shared by worker threads and the
    event loop, hence the lock; a policy that decides on several readings at once holds
    `lock` (reentrant) around them.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, lowest: bool) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._lowest = lowest
        self._left: int | None = None
        self._reported: int | None = None
        self._reset_at: float | None = None

    @property
    def left(self) -> int | None:
        """What is left after this run's reservations (None: unknown)."""
        return self._left

    @property
    def reported(self) -> int | None:
        """What the server said is left: the lowest of this window, or the last (`lowest`)."""
        return self._reported

    @property
    def reset_at(self) -> float | None:
        """When the window resets, on `clock` (None: not said)."""
        return self._reset_at

    def report(self, left: int | None, reset_at: float | None, cost: int = 1) -> None:
        """What an answer said: `left` requests, the window resetting at `reset_at` (either
        None where the answer did not say); `cost` 0: the answer cost nothing."""
        with self.lock:
            new = left is not None and not self._lowest
            if new or (reset_at is not None and reset_at > (self._reset_at or 0)):
                self._reset_at, self._reported, self._left = reset_at, None, None
            if not cost and self._left is not None:
                self._left += 1
            if left is not None:
                low = left if self._reported is None else min(self._reported, left)
                mine = self._left
                self._reported, self._left = low, low if mine is None else min(mine, low)

    def reserve(self, keep: int = 0) -> bool:
        """Reserve a request if more than `keep` are left (True), else nothing (False). An
        unknown window (no report yet, or its reset past) lets it go, uncounted (True)."""
        with self.lock:
            left = self._current()
            if left is not None and left <= keep:
                return False
            self._left = None if left is None else left - 1
            return True

    def spend(self) -> None:
        """Count a request sent whatever is left (the count may fall below zero)."""
        with self.lock:
            left = self._current()
            self._left = None if left is None else left - 1

    def known(self) -> bool:
        """Whether what is left is known: a report came, and its window's reset is not past."""
        with self.lock:
            return self._current() is not None

    def resets_in(self) -> float | None:
        """Seconds until the window resets, None when unknown."""
        with self.lock:
            return None if self._reset_at is None else self._reset_at - self.clock()

    def _current(self) -> int | None:
        """What is left, a window whose reset has passed forgotten first."""
        if self._reset_at is not None and self.clock() >= self._reset_at:
            self._reset_at, self._reported, self._left = None, None, None
        return self._left


def github_said(headers: Mapping[str, str]) -> tuple[int | None, int | None]:
    """What a GitHub answer's headers say of its window: `x-ratelimit-remaining` and
    `x-ratelimit-reset` (epoch seconds), each None where absent or not a number."""
    lower = {name.lower(): value for name, value in headers.items()}
    return _int(lower.get("x-ratelimit-remaining")), _int(lower.get("x-ratelimit-reset"))


def hub_said(headers: Mapping[str, str]) -> tuple[int, float] | None:
    """What a Hub answer's `RateLimit` header says (the IETF draft's
    `"api";r=<left>;t=<seconds to reset>`): the calls left and the seconds until the
    window resets; None unless it says both."""
    value = next((v for name, v in headers.items() if name.lower() == "ratelimit"), "")
    left, reset = _HUB_LEFT.search(value), _HUB_RESET.search(value)
    if left is None or reset is None:
        return None
    return int(left.group(1)), float(reset.group(1))


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except (ValueError, OverflowError):
        return None
