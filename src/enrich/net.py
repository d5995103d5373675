"""The one retry policy and the one predicate of what is retryable. The only tenacity import.

What is retried (`should_retry`): 408, 425, 429 and 5xx answers, timeouts (a request's
deadline passed is one: `enrich.transport`) and connections broken mid-answer — failures
that a later attempt can cure. Everything else (other 4xx, a malformed or oversized answer)
fails at once: retrying a 404 or a 400 only burns rate limit. A connection that cannot be
made at all (a name that does not resolve, a refused connection: `cannot_connect`) is not
retried either: it opens the host's circuit breaker at once, so a dead network costs one
attempt per source, not a backoff per item.

How long to wait (`RetryPolicy`): what the server asked for when it said so — `Retry-After`,
GitHub's `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, the Hub's `RateLimit` header
(`"api";r=0;t=42`) — else exponential backoff with jitter. Bounded twice: in attempts and in
total seconds. A wait the server asks for that does not fit in the time left is not waited:
the call fails at once with the reason, and the item keeps its last known value.

`RetryPolicy(wait=False)` is the testing switch: same decisions, no sleeping. A test that
wants to see the waits themselves injects what they are slept on (`RetryPolicy(sleep=...)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import httpx2
import requests
import tenacity

from enrich.errors import FetchError, PermanentError, TransientError, Unreachable
from enrich.rate import github_said, hub_said

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 425, 429, *range(500, 600)})

_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    ConnectionError,
    httpx2.TimeoutException,
    httpx2.NetworkError,
    httpx2.RemoteProtocolError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def cannot_connect(exc: BaseException) -> bool:
    """True when no connection could be made: the name did not resolve, or the host refused
    it. A connection that timed out is a timeout (a silent host), not this."""
    if isinstance(exc, requests.exceptions.Timeout):
        return False
    return isinstance(exc, _CANNOT_CONNECT)


def should_retry(exc: BaseException) -> bool:
    """True for failures a later attempt can cure."""
    if cannot_connect(exc):
        return False
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, FetchError):
        return False
    return isinstance(exc, _NETWORK_ERRORS)


def http_error(
    status: int, headers: Mapping[str, str], what: str, now: float | None = None
) -> FetchError:
    """The `FetchError` for an HTTP error answer, transient or permanent, with its wait."""
    wait = server_wait(headers, now)
    if status == 403 and wait is not None:
        # GitHub answers an exhausted rate limit with 403 (primary) or 403 + Retry-After
        # (secondary): it is a wait, not a refusal.
        return TransientError(f"{what}: rate limited (HTTP 403)", status=status, retry_after=wait)
    if status in RETRYABLE_STATUS:
        return TransientError(f"{what}: HTTP {status}", status=status, retry_after=wait)
    return PermanentError(f"{what}: HTTP {status}", status=status)


def server_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, from any rate-limit header it sent, else None."""
    lower = {k.lower(): v for k, v in headers.items()}
    now = time.time() if now is None else now
    waits = [
        w
        for w in (
            _retry_after(lower.get("retry-after"), now),
            _github_reset(lower, now),
            _hub_ratelimit(lower),
        )
        if w is not None
    ]
    return max(waits) if waits else None


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def _github_reset(headers: Mapping[str, str], now: float) -> float | None:
    remaining, reset = github_said(headers)
    return max(0.0, reset - now) if remaining == 0 and reset is not None else None


def _hub_ratelimit(headers: Mapping[str, str]) -> float | None:
    said = hub_said(headers)
    return said[1] if said is not None and said[0] == 0 else None


_CANNOT_CONNECT: tuple[type[BaseException], ...] = (
    Unreachable,
    ConnectionRefusedError,
    socket.gaierror,
    httpx2.ConnectError,
    requests.exceptions.ConnectionError,
)


def unanswered(exc: BaseException) -> bool:
    """True when an attempt got no HTTP answer: it could not connect, timed out, or the
    connection broke before the answer was whole (what the circuit breaker counts)."""
    if isinstance(exc, CircuitOpen):
        return False
    if isinstance(exc, FetchError):
        return isinstance(exc, TransientError) and exc.status is None
    return isinstance(exc, _NETWORK_ERRORS)


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS context every HTTP client of the run shares: what httpx2 makes for
    `verify=True` (its CA bundle; `SSL_CERT_FILE` and `SSL_CERT_DIR` honoured). Making one
    reads and parses the whole bundle (docs/performance.md): once a process, not once a
    client."""
    return httpx2.create_ssl_context()


class TooLarge(PermanentError):
    """An answer larger than its source ever needs (`enrich.transport`): malformed, not read
    further, not retried; and counted by the circuit breaker, since a host that sends them
    is broken or hostile, and each one costs a cap's worth of transfer."""


class CircuitOpen(TransientError):
    """Raised at once, without a request, once a host has proved unreachable."""


class OutOfTime(FetchError):
    """Raised at once, without a request, once the run's time limit has passed."""


@dataclass
class Breaker:
    """Stops calling a host that does not answer: after `threshold` attempts in a row got no
    answer (`unanswered`: timed out, connection broken), or one could not connect at all
    (`cannot_connect`), retries stop and every further
    attempt fails at once. A machine without network, or a host that accepts connections
    and never answers, then costs seconds instead of a backoff for every item.

    Mutated on the event loop only (by the policy, between attempts)."""

    threshold: int = 5
    failures: int = 0
    unanswered: int = 0  # attempts of the whole run that got no answer, for the summary
    unreachable: bool = False  # an attempt could not connect at all (DNS, refused)
    late: int = 0  # calls not made because the run's time limit had passed
    reason: str = "got no answer"  # what the attempts that opened it met
    troubled: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    """Set at the first failed attempt: work waiting on this host's answers need not wait."""

    @property
    def open(self) -> bool:
        return self.failures >= self.threshold

    def record(self, exc: BaseException | None) -> None:
        """Count an attempt that got no answer (or one too large to read); any other answer,
        even an error, resets."""
        answered = isinstance(exc, FetchError) and exc.status is not None
        if exc is not None:
            self.troubled.set()
        if isinstance(exc, TooLarge):
            self.failures += 1
            self.reason = "sent answers too large to read"
        elif exc is None or answered:
            self.failures = 0
        elif unanswered(exc):
            self.unanswered += 1
            self.failures += 1
            self.reason = "got no answer"
            if cannot_connect(exc):
                self.unreachable = True
                self.reason = "could not connect"
                self.failures = max(self.failures, self.threshold)


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in attempts and total time.

    Each source gets its own policy, and so its own `Breaker`. `until` (a `time.monotonic`
    moment) is the run's time limit, shared by every policy of the run: past it, no attempt
    starts (`OutOfTime`), and the item keeps its last known value. `sleep` is what a wait
    is slept on: a seam for tests, which record the waits instead of sleeping them.
    """

    attempts: int = 4
    max_seconds: float = 60.0
    initial: float = 0.5
    max_backoff: float = 20.0
    jitter: float = 0.5
    wait: bool = True
    breaker: Breaker = field(default_factory=Breaker, compare=False)
    until: float | None = None
    sleep: Callable[[float], Awaitable[None]] = field(default=_sleep, compare=False, repr=False)

    def _asked(self, state: tenacity.RetryCallState) -> float | None:
        exc = state.outcome.exception() if state.outcome else None
        return exc.retry_after if isinstance(exc, FetchError) else None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        if not self.wait:
            return 0.0
        asked = self._asked(state)
        backoff = tenacity.wait_exponential_jitter(
            multiplier=self.initial, max=self.max_backoff, jitter=self.jitter
        )(state)
        return max(backoff, asked) if asked is not None else backoff

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        """Stop after `attempts`, or when the next wait would end past `max_seconds`.

        The same decision with and without `wait`: the testing switch only skips sleeping.
        """
        if state.attempt_number >= self.attempts or self.breaker.open or self._late():
            return True
        backoff = min(self.max_backoff, self.initial * 2 ** (state.attempt_number - 1))
        planned = max(backoff + self.jitter, self._asked(state) or 0.0)
        elapsed = state.seconds_since_start or 0.0
        return bool(elapsed + planned > self.max_seconds)

    def _late(self) -> bool:
        return self.until is not None and time.monotonic() >= self.until

    def admit(self) -> None:
        """Raise, without a request, when no attempt may start now: the host has proved
        unreachable (`CircuitOpen`), or the run's time limit has passed (`OutOfTime`)."""
        if self._late():
            self.breaker.late += 1
            raise OutOfTime("not asked: the run's time limit passed (ENRICH_RUN_LIMIT)")
        if self.breaker.open:
            raise CircuitOpen(f"not tried: the host {self.breaker.reason} on earlier attempts")

    async def call(
        self, fn: Callable[[], Awaitable[T]], gate: asyncio.Semaphore | None = None
    ) -> tuple[T, int]:
        """Await `fn()` under the policy; return its value and the number of attempts.

        Each attempt is admitted (`admit`) when it starts — inside `gate`, the source's
        concurrency slots, when given: an attempt queued for a slot while the breaker
        opened is not sent. Raises the last exception when the policy gives up or the
        failure is not retryable.
        """

        async def attempt() -> T:
            async with gate if gate is not None else contextlib.nullcontext():
                self.admit()
                try:
                    value = await fn()
                except Exception as exc:
                    self.breaker.record(exc)
                    raise
                self.breaker.record(None)
                return value

        self.admit()
        return await self._call(attempt)

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(should_retry),
            stop=self._stop,
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        attempts = 0
        async for attempt in retrying:
            with attempt:
                attempts = attempt.retry_state.attempt_number
                value = await fn()
        return value, attempts
