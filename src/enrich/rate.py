"""How fast a source asks: the one pacer (a provider's stated spacing) and the one quota (the
calls a server says are left in its window). The retry policy that waits out what a server
asks for is `enrich.net`'s.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


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


class Quota:
    """A server's rate limit as one run spends it: the calls left in the window it last
    reported, counted down by each request sent since (requests in flight when the report
    was sent may make it optimistic by a few), and when that window resets. Used where a
    provider states a quota per window in its answers (the Hub's `RateLimit` header);
    `Pacer` is the one mechanism for a stated spacing. GitHub's budget
    (`sources/github_budget.py`) is its own: it plans a whole run against the hour's points.

    Shared by worker threads (which `report` and `take`), hence the lock. `clock` is
    `time.monotonic` unless a test gives its own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.left: int | None = None  # unknown until the first report
        self._reset_at = 0.0

    def report(self, left: int, resets_in: float) -> None:
        """What an answer said: `left` calls, the window resetting in `resets_in` seconds."""
        with self._lock:
            self.left = left
            self._reset_at = self._clock() + resets_in

    def take(self, patience: float) -> float | None:
        """Count a request about to be sent. When no call is left and the window resets in
        more than `patience` seconds (longer than a retry would wait), nothing is counted
        and the seconds until the reset are returned: the request must not be sent. An
        unknown quota, or a window already past, lets every request go."""
        with self._lock:
            wait = self._reset_at - self._clock()
            if self.left is None or wait <= 0:
                return None
            if self.left <= 0 and wait > patience:
                return wait
            self.left -= 1
            return None
