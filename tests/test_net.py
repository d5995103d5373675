"""`enrich.net`: what is retried, how HTTP errors map, how long the server asks to wait,
and how `RetryPolicy.call` counts, gives up and waits. No test sleeps for a backoff: waits
are either switched off (`wait=False`), recorded instead of slept, or a few milliseconds."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable

import httpx2
import pytest
import requests

from enrich.config import Settings
from enrich.errors import (
    FetchError,
    InputError,
    PermanentError,
    TimedOut,
    TransientError,
    Unreachable,
)
from enrich.net import (
    RETRYABLE_STATUS,
    CircuitOpen,
    OutOfTime,
    RetryPolicy,
    TooLarge,
    cannot_connect,
    http_error,
    server_wait,
    should_retry,
    tls,
)
from enrich.rate import Pacer
from enrich.sources.huggingface import Quota
from tests.conftest import Sleeps

NOW = 1_700_000_000.0  # a fixed "now" for every header computation


def http_date(moment: float) -> str:
    return email.utils.formatdate(moment, usegmt=True)


# --------------------------------------------------------------------------- should_retry


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_transient_http_errors_are_retried(status: int) -> None:
    assert status in RETRYABLE_STATUS
    assert should_retry(http_error(status, {}, "GET x"))
    assert should_retry(TransientError("x", status=status))


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_permanent_http_errors_are_not_retried(status: int) -> None:
    assert not should_retry(http_error(status, {}, "GET x"))
    assert not should_retry(PermanentError("x", status=status))


def test_a_bare_fetch_error_is_not_retried() -> None:
    assert not should_retry(FetchError("malformed answer"))


@pytest.mark.parametrize(
    "exc",
    [
        httpx2.ConnectTimeout("connect timed out"),
        httpx2.ReadTimeout("read timed out"),
        httpx2.RemoteProtocolError("peer closed connection"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.Timeout("timed out"),
        requests.exceptions.ReadTimeout("timed out"),
        requests.exceptions.ChunkedEncodingError("broken chunk"),
        TimeoutError(),
        ConnectionResetError(),
    ],
    ids=lambda e: type(e).__module__.split(".")[0] + "." + type(e).__name__,
)
def test_network_failures_are_retried(exc: BaseException) -> None:
    assert should_retry(exc)
    assert not cannot_connect(exc)


@pytest.mark.parametrize(
    "exc",
    [
        httpx2.ConnectError("[Errno -2] Name or service not known"),
        httpx2.ConnectError("[Errno 111] Connection refused"),
        requests.exceptions.ConnectionError("connection refused"),
        ConnectionRefusedError(111, "refused"),
        socket.gaierror(-2, "Name or service not known"),
        Unreachable("GET /x: connection failed (ConnectError)"),
    ],
    ids=lambda e: type(e).__module__.split(".")[0] + "." + type(e).__name__,
)
def test_a_connection_that_cannot_be_made_is_not_retried(exc: BaseException) -> None:
    """A name that does not resolve or a refused connection: a fact about the host that
    the next attempt meets too (a dead network must cost seconds, not a backoff per item)."""
    assert cannot_connect(exc)
    assert not should_retry(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad json"),
        KeyError("missing"),
        RuntimeError("bug"),
        requests.exceptions.HTTPError("404"),
        httpx2.DecodingError("bad gzip"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_other_exceptions_are_not_retried(exc: BaseException) -> None:
    assert not should_retry(exc)


# --------------------------------------------------------------------------- http_error


@pytest.mark.parametrize(
    ("status", "headers", "kind", "wait", "says"),
    [
        pytest.param(
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 600)},
            TransientError,
            600.0,
            "rate limited (HTTP 403)",
            id="403-github-rate-limit-exhausted-waits-until-reset",
        ),
        pytest.param(  # GitHub's secondary rate limit
            403,
            {"Retry-After": "60"},
            TransientError,
            60.0,
            "rate limited (HTTP 403)",
            id="403-with-retry-after",
        ),
        pytest.param(
            403,
            {"x-ratelimit-remaining": "4999"},
            PermanentError,
            None,
            "HTTP 403",
            id="403-without-rate-limit-is-permanent",
        ),
        pytest.param(
            429, {"Retry-After": "30"}, TransientError, 30.0, "HTTP 429", id="429-retry-after-s"
        ),
        pytest.param(
            429,
            {"Retry-After": http_date(NOW + 90)},
            TransientError,
            90.0,
            "HTTP 429",
            id="429-retry-after-http-date",
        ),
        pytest.param(503, {}, TransientError, None, "HTTP 503", id="503-without-headers-no-wait"),
        pytest.param(400, {}, PermanentError, None, "HTTP 400", id="400-permanent"),
        pytest.param(404, {}, PermanentError, None, "HTTP 404", id="404-permanent"),
    ],
)
def test_http_error_is_transient_or_permanent_with_the_server_s_wait(
    status: int, headers: dict[str, str], kind: type[FetchError], wait: float | None, says: str
) -> None:
    err = http_error(status, headers, "GET /repos/a/b", now=NOW)
    assert isinstance(err, kind)
    assert err.status == status
    assert err.retry_after == (None if wait is None else pytest.approx(wait))
    assert str(err) == f"GET /repos/a/b: {says}"


# --------------------------------------------------------------------------- server_wait


def test_no_headers_no_wait() -> None:
    assert server_wait({}, now=NOW) is None
    assert server_wait({"content-type": "application/json"}, now=NOW) is None


@pytest.mark.parametrize("value", ["120", " 120 ", "0"])
def test_retry_after_seconds(value: str) -> None:
    assert server_wait({"Retry-After": value}, now=NOW) == float(value)


def test_retry_after_http_date() -> None:
    assert server_wait({"Retry-After": http_date(NOW + 45)}, now=NOW) == pytest.approx(45.0)


def test_retry_after_http_date_in_the_past_is_no_wait() -> None:
    assert server_wait({"Retry-After": http_date(NOW - 45)}, now=NOW) == 0.0


@pytest.mark.parametrize("value", ["soon", "", "-5"])
def test_unparseable_retry_after_is_ignored(value: str) -> None:
    assert server_wait({"Retry-After": value}, now=NOW) is None


def test_header_names_are_case_insensitive() -> None:
    assert server_wait({"RETRY-AFTER": "7"}, now=NOW) == 7.0
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 5)}
    assert server_wait(headers, now=NOW) == pytest.approx(5.0)


def test_github_reset_when_remaining_is_zero() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 300)}
    assert server_wait(headers, now=NOW) == pytest.approx(300.0)


@pytest.mark.parametrize("remaining", ["1", "4999", ""])
def test_github_reset_ignored_while_requests_remain(remaining: str) -> None:
    headers = {"x-ratelimit-remaining": remaining, "x-ratelimit-reset": str(int(NOW) + 300)}
    assert server_wait(headers, now=NOW) is None


def test_github_reset_in_the_past_is_no_wait() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 300)}
    assert server_wait(headers, now=NOW) == 0.0


def test_hub_ratelimit_exhausted() -> None:
    assert server_wait({"RateLimit": '"api";r=0;t=42'}, now=NOW) == 42.0


@pytest.mark.parametrize("value", ['"api";r=5;t=42', '"api";t=42', '"api";r=0', "garbage"])
def test_hub_ratelimit_not_exhausted_or_incomplete(value: str) -> None:
    assert server_wait({"RateLimit": value}, now=NOW) is None


def test_the_longest_of_several_waits_wins() -> None:
    headers = {
        "Retry-After": "10",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int(NOW) + 300),
        "RateLimit": '"api";r=0;t=42',
    }
    assert server_wait(headers, now=NOW) == pytest.approx(300.0)
    headers["Retry-After"] = "900"
    assert server_wait(headers, now=NOW) == pytest.approx(900.0)


# --------------------------------------------------------------------------- RetryPolicy.call


class Flaky:
    """An async callable that raises the given exceptions in turn, then returns `value`."""

    def __init__(self, failures: list[BaseException], value: str = "ok") -> None:
        self.failures = list(failures)
        self.value = value
        self.calls = 0
        self.raised: list[BaseException] = []

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            exc = self.failures.pop(0)
            self.raised.append(exc)
            raise exc
        return self.value


def run(policy: RetryPolicy, fn: Callable[[], Awaitable[str]]) -> tuple[str, int]:
    return asyncio.run(policy.call(fn))


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the seconds tenacity asks asyncio to sleep, and do not sleep them."""
    recorded: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float, result: object = None) -> object:
        recorded.append(seconds)
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    return recorded


def test_success_at_first_attempt() -> None:
    fn = Flaky([])
    assert run(RetryPolicy(wait=False), fn) == ("ok", 1)
    assert fn.calls == 1


@pytest.mark.parametrize("failures", [1, 2, 3])
def test_success_after_transient_failures(failures: int) -> None:
    fn = Flaky([TransientError("503", status=503) for _ in range(failures)])
    assert run(RetryPolicy(attempts=4, wait=False), fn) == ("ok", failures + 1)
    assert fn.calls == failures + 1


def test_success_after_network_errors() -> None:
    fn = Flaky([httpx2.ReadTimeout("slow"), requests.exceptions.ChunkedEncodingError("reset")])
    assert run(RetryPolicy(wait=False), fn) == ("ok", 3)


def test_gives_up_after_attempts_with_the_last_error() -> None:
    fn = Flaky([TransientError(f"503 #{i}", status=503) for i in range(10)])
    with pytest.raises(TransientError) as info:
        run(RetryPolicy(attempts=3, wait=False), fn)
    assert fn.calls == 3
    assert info.value is fn.raised[-1]


def test_a_permanent_error_is_not_retried() -> None:
    fn = Flaky([PermanentError("404", status=404)])
    with pytest.raises(PermanentError):
        run(RetryPolicy(attempts=4, wait=False), fn)
    assert fn.calls == 1


def test_an_unexpected_exception_is_not_retried() -> None:
    fn = Flaky([ValueError("malformed")])
    with pytest.raises(ValueError, match="malformed"):
        run(RetryPolicy(attempts=4, wait=False), fn)
    assert fn.calls == 1


def test_wait_false_never_sleeps_a_backoff(sleeps: list[float]) -> None:
    fn = Flaky([TransientError("503", status=503) for _ in range(3)])
    assert run(RetryPolicy(attempts=4, wait=False), fn) == ("ok", 4)
    assert all(s == 0 for s in sleeps)


@pytest.mark.parametrize("recorded", [True, False], ids=["sleeps-recorded", "real-sleeps"])
def test_a_retry_after_beyond_max_seconds_fails_at_once(
    request: pytest.FixtureRequest, recorded: bool
) -> None:
    """Recorded: no sleep is even asked for. Real: nothing else waits (an hour would show)."""
    sleeps: list[float] | None = request.getfixturevalue("sleeps") if recorded else None
    policy = RetryPolicy(attempts=4, max_seconds=60, wait=True)
    fn = Flaky([TransientError("429", status=429, retry_after=3600) for _ in range(4)])
    started = time.monotonic()
    with pytest.raises(TransientError):
        run(policy, fn)
    assert time.monotonic() - started < 2.0
    assert fn.calls == 1
    assert sleeps in (None, [])


def test_the_wait_the_server_asks_for_is_honoured(sleeps: list[float]) -> None:
    policy = RetryPolicy(attempts=3, max_seconds=60, initial=1.0, jitter=0.0, wait=True)
    fn = Flaky([TransientError("429", status=429, retry_after=7) for _ in range(2)])
    assert run(policy, fn) == ("ok", 3)
    assert sleeps == [7.0, 7.0]


@pytest.mark.parametrize("asked", [7, 0.25])
def test_an_injected_sleep_gets_every_wait_and_asyncio_none(
    sleeps: list[float], asked: float
) -> None:
    """The seam tests use to see a policy's waits (`tests.conftest.Sleeps`)."""
    slept = Sleeps()
    policy = RetryPolicy(attempts=3, max_seconds=60, initial=0.5, jitter=0.0, sleep=slept)
    fn = Flaky([TransientError("429", status=429, retry_after=asked) for _ in range(2)])
    assert run(policy, fn) == ("ok", 3)
    assert slept == [max(asked, 0.5), max(asked, 1.0)]  # what the server asked, or the backoff
    assert sleeps == []


def test_backoff_is_exponential_and_capped(sleeps: list[float]) -> None:
    policy = RetryPolicy(
        attempts=6, max_seconds=60, initial=1.0, max_backoff=5.0, jitter=0.0, wait=True
    )
    fn = Flaky([TransientError("503", status=503) for _ in range(5)])
    assert run(policy, fn) == ("ok", 6)
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_backoff_jitter_stays_within_bounds(sleeps: list[float]) -> None:
    policy = RetryPolicy(
        attempts=8, max_seconds=60, initial=1.0, max_backoff=20.0, jitter=0.5, wait=True
    )
    fn = Flaky([TransientError("503", status=503) for _ in range(7)])
    assert run(policy, fn) == ("ok", 8)
    assert len(sleeps) == 7
    for n, seconds in enumerate(sleeps):
        base = min(2.0**n, 20.0)
        assert base <= seconds <= min(base + 0.5, 20.0)


def test_a_server_wait_shorter_than_the_backoff_does_not_shorten_it(sleeps: list[float]) -> None:
    policy = RetryPolicy(attempts=2, initial=1.0, jitter=0.0, wait=True)
    fn = Flaky([TransientError("503", status=503, retry_after=0.1)])
    assert run(policy, fn) == ("ok", 2)
    assert sleeps == [1.0]


def test_default_backoff_starts_at_half_a_second(sleeps: list[float]) -> None:
    fn = Flaky([TransientError("503", status=503) for _ in range(3)])
    assert run(RetryPolicy(jitter=0.0), fn) == ("ok", 4)
    assert sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("initial", "max_backoff", "low", "high"),
    [
        # Uncapped, these waits would be 1 + 2 + 4 s: the cap holds each to 10 ms.
        pytest.param(1.0, 0.01, [0.01] * 3, [0.01] * 3, id="capped-by-max-backoff"),
        # 0.01, 0.02, 0.04 s plus at most 0.01 s of jitter each. Also: no warning (tenacity
        # deprecated `initial=` for `multiplier=`; warnings are errors here).
        pytest.param(0.01, 20.0, [0.01, 0.02, 0.04], [0.02, 0.03, 0.05], id="small-initial"),
    ],
)
def test_waits_are_bounded(
    sleeps: list[float], initial: float, max_backoff: float, low: list[float], high: list[float]
) -> None:
    policy = RetryPolicy(
        attempts=4, max_seconds=60, initial=initial, max_backoff=max_backoff, jitter=0.01
    )
    fn = Flaky([TransientError("503", status=503) for _ in range(3)])
    assert run(policy, fn) == ("ok", 4)
    assert len(sleeps) == 3
    assert all(a - 1e-9 <= s <= b + 1e-9 for a, s, b in zip(low, sleeps, high, strict=True))


def test_wait_false_makes_the_same_give_up_decision_as_wait_true() -> None:
    policy = RetryPolicy(attempts=4, max_seconds=60, wait=False)
    fn = Flaky([TransientError("429", status=429, retry_after=3600) for _ in range(4)])
    with pytest.raises(TransientError):
        run(policy, fn)
    assert fn.calls == 1


def test_backoff_waits_respect_max_seconds(sleeps: list[float]) -> None:
    """A backoff (0.2 s) that would end past `max_seconds` (0.02 s) is not slept: give up."""
    policy = RetryPolicy(
        attempts=10, max_seconds=0.02, initial=1.0, max_backoff=0.2, jitter=0.0, wait=True
    )
    fn = Flaky([TransientError("503", status=503) for _ in range(10)])
    with pytest.raises(TransientError):
        run(policy, fn)
    assert (fn.calls, sleeps) == (1, [])


# --------------------------------------------------------------------------- circuit breaker


class Always:
    """An async callable that raises a fresh `make()` on every call, or returns "ok"."""

    def __init__(self, make: Callable[[], BaseException] | None) -> None:
        self.make = make
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.make is not None:
            raise self.make()
        return "ok"


UNREACHABLE: list[Callable[[], BaseException]] = [
    lambda: httpx2.ConnectError("name resolution failed"),
    lambda: requests.exceptions.ConnectionError("connection refused"),
    lambda: ConnectionRefusedError(111, "refused"),
]


@pytest.mark.parametrize("make", UNREACHABLE, ids=["httpx2", "requests", "builtin"])
def test_the_breaker_opens_at_the_first_attempt_that_could_not_connect(
    make: Callable[[], BaseException],
) -> None:
    policy = RetryPolicy(attempts=4, wait=False)
    fn = Always(make)
    with pytest.raises(type(make())):
        run(policy, fn)
    assert fn.calls == 1  # not retried
    assert policy.breaker.open
    assert policy.breaker.unreachable
    assert policy.breaker.unanswered == 1
    with pytest.raises(CircuitOpen, match="could not connect"):
        run(policy, fn)
    assert fn.calls == 1  # no request once open
    assert isinstance(CircuitOpen("x"), TransientError)


SILENT: list[Callable[[], BaseException]] = [
    lambda: httpx2.ReadTimeout("slow"),
    lambda: requests.exceptions.ReadTimeout("slow"),
    lambda: TimedOut("GET /x: timed out"),
]


@pytest.mark.parametrize("make", SILENT, ids=["httpx2", "requests", "timed-out"])
def test_the_breaker_opens_after_five_attempts_that_timed_out(
    make: Callable[[], BaseException],
) -> None:
    policy = RetryPolicy(attempts=2, wait=False)
    fn = Always(make)
    for _ in range(3):  # attempts 1-2, 3-4, then 5 opens the breaker and stops retrying
        with pytest.raises(type(make())):
            run(policy, fn)
    assert fn.calls == 5
    assert policy.breaker.open
    assert not policy.breaker.unreachable
    with pytest.raises(CircuitOpen, match="no answer"):
        run(policy, fn)
    assert fn.calls == 5


def test_answers_too_large_to_read_open_the_breaker() -> None:
    """A host that answers 3 GB to every request is broken or hostile: each answer costs a
    cap's worth of transfer, so five in a row stop the source (another answer resets)."""
    policy = RetryPolicy(attempts=4, wait=False)
    huge = Always(lambda: TooLarge("answer of h: malformed (larger than 2 bytes)", status=200))
    for _ in range(4):
        with pytest.raises(TooLarge):
            run(policy, huge)
    assert not policy.breaker.open
    assert huge.calls == 4  # not retried
    with pytest.raises(PermanentError):
        run(policy, Always(lambda: PermanentError("404", status=404)))
    for _ in range(5):
        with pytest.raises(TooLarge):
            run(policy, huge)
    assert policy.breaker.open
    assert policy.breaker.unanswered == 0  # the host answered: no network hint
    with pytest.raises(CircuitOpen, match="too large"):
        run(policy, huge)


def test_a_success_closes_the_row() -> None:
    policy = RetryPolicy(attempts=1, wait=False)
    down, up = Always(SILENT[0]), Always(None)
    for fn in (down, down, down, down, up, down, down, down, down):
        with contextlib.suppress(httpx2.ReadTimeout):
            run(policy, fn)
    assert not policy.breaker.open
    assert run(policy, up) == ("ok", 1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: httpx2.ReadTimeout("slow"),
        lambda: requests.exceptions.ReadTimeout("slow"),
        lambda: TimedOut("GET /x: timed out"),
    ],
    ids=["httpx2-timeout", "requests-timeout", "timed-out"],
)
def test_hosts_that_never_answer_open_the_breaker(make: Callable[[], BaseException]) -> None:
    """A host that accepts connections and never answers costs seconds, not minutes."""
    policy = RetryPolicy(attempts=1, wait=False)
    fn = Always(make)
    for _ in range(5):
        with pytest.raises(type(make())):
            run(policy, fn)
    assert policy.breaker.open


@pytest.mark.parametrize(
    "make",
    [
        lambda: TransientError("503", status=503),
        lambda: PermanentError("404", status=404),
    ],
    ids=["http-503", "http-404"],
)
def test_http_errors_do_not_open_the_breaker(
    make: Callable[[], BaseException],
) -> None:
    policy = RetryPolicy(attempts=1, wait=False)
    fn = Always(make)
    for _ in range(5):
        with pytest.raises(type(make())):
            run(policy, fn)
    assert fn.calls == 5
    assert not policy.breaker.open


def test_each_policy_has_its_own_breaker() -> None:
    first, second = RetryPolicy(attempts=1, wait=False), RetryPolicy(attempts=1, wait=False)
    with pytest.raises(httpx2.ConnectError):
        run(first, Always(UNREACHABLE[0]))
    assert first.breaker.open
    assert not second.breaker.open
    assert run(second, Always(None)) == ("ok", 1)


def test_an_http_answer_breaks_the_row() -> None:
    policy = RetryPolicy(attempts=1, wait=False)
    down, answering = Always(SILENT[0]), Always(lambda: PermanentError("404", status=404))
    for fn in (down, down, down, down, answering, down, down, down, down):
        with contextlib.suppress(httpx2.ReadTimeout, PermanentError):
            run(policy, fn)
    assert not policy.breaker.open


# ------------------------------------------------------------------------------ the pacer


class Clock:
    """A clock for the pacer: time passes only when someone waits on it or works."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[tuple[float, bool]] = []  # (seconds, waited in a worker thread)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.waits.append((seconds, threading.current_thread() is not threading.main_thread()))
        self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def paced(clock: Clock, delay: float) -> Pacer:
    return Pacer(delay, clock=clock, sleep=clock.sleep, asleep=clock.asleep)


@pytest.mark.parametrize("work", [0.0, 0.05, 1.0])
def test_the_pacer_spaces_calls_from_the_end_of_the_previous_one(work: float) -> None:
    clock = Clock()
    spans: list[tuple[float, float]] = []

    def call() -> None:
        started = clock()
        clock.advance(work)
        spans.append((started, clock()))

    async def main() -> None:
        pacer = paced(clock, 0.2)
        await asyncio.gather(pacer.run(call), pacer.run(call), pacer.run(call))

    asyncio.run(main())
    gaps = [later[0] - earlier[1] for earlier, later in itertools.pairwise(spans)]
    assert gaps == pytest.approx([0.2, 0.2])


def test_the_pacer_spaces_async_blocks_from_their_end() -> None:
    clock = Clock()
    spans: list[tuple[float, float]] = []

    async def main() -> None:
        pacer = paced(clock, 0.5)
        for work in (0.1, 0.7, 0.0):
            async with pacer:
                started = clock()
                clock.advance(work)
                spans.append((started, clock()))

    asyncio.run(main())
    gaps = [later[0] - earlier[1] for earlier, later in itertools.pairwise(spans)]
    assert gaps == pytest.approx([0.5, 0.5])
    assert all(not in_thread for _, in_thread in clock.waits)  # awaited on the loop


def test_the_pause_before_a_blocking_call_is_slept_in_its_thread() -> None:
    """So a loop busy meanwhile (other sources' answers being read) does not delay it."""
    clock = Clock()

    async def main() -> None:
        pacer = paced(clock, 0.3)
        await pacer.run(lambda: None)
        clock.advance(0.1)
        await pacer.run(lambda: None)

    asyncio.run(main())
    assert clock.waits == [(pytest.approx(0.2), True)]


def test_a_call_that_says_its_answer_is_in_is_spaced_from_then() -> None:
    """Reading an answer is not the provider's time: the next call counts from `answered`."""
    clock = Clock()
    moments: list[float] = []

    async def main() -> None:
        pacer = paced(clock, 0.3)

        def call() -> None:
            moments.append(clock())
            pacer.answered()
            clock.advance(0.25)  # reading the answer

        await pacer.run(call)
        await pacer.run(call)

    asyncio.run(main())
    assert moments[1] - moments[0] == pytest.approx(0.3)  # not 0.55: 0.25 of reading + 0.3


def test_the_shared_tls_context_verifies_certificates_and_hostnames() -> None:
    context = tls()
    assert context is tls()  # made once a process
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


# ------------------------------------------------------------------- the run's time limit


def test_past_the_run_limit_no_attempt_starts() -> None:
    policy = RetryPolicy(wait=False, until=time.monotonic() - 1)
    fn = Always(None)
    with pytest.raises(OutOfTime, match="time limit"):
        run(policy, fn)
    assert fn.calls == 0
    assert policy.breaker.late == 1
    assert not should_retry(OutOfTime("x"))


def test_the_run_limit_stops_retries_in_progress() -> None:
    """The limit passes during an item's first attempt: no retry follows it."""
    policy = RetryPolicy(attempts=4, wait=False, until=time.monotonic() + 0.05)

    async def slow() -> str:
        await asyncio.sleep(0.1)  # outlives the limit (a short real wait: no backoff)
        raise TransientError("503", status=503)

    calls = []

    async def counted() -> str:
        calls.append(1)
        return await slow()

    with pytest.raises(TransientError):
        run(policy, counted)
    assert len(calls) == 1


# ------------------------------------------------------------------------ the settings


@pytest.mark.parametrize(
    ("env", "field", "value"),
    [
        ({}, "deadline", 60.0),
        ({"ENRICH_DEADLINE": "2.5"}, "deadline", 2.5),
        ({"ENRICH_DEADLINE": "0"}, "deadline", 60.0),  # no deadline is not an option
        ({}, "run_limit", 1800.0),
        ({"ENRICH_RUN_LIMIT": "90"}, "run_limit", 90.0),
        ({}, "retry_wait", True),
        ({"ENRICH_RETRY_WAIT": "0"}, "retry_wait", False),
        ({"ENRICH_RETRY_WAIT": "1"}, "retry_wait", True),
    ],
)
def test_network_settings_from_the_environment(
    env: dict[str, str], field: str, value: object
) -> None:
    assert getattr(Settings.from_env(env), field) == value


@pytest.mark.parametrize("name", ["ENRICH_DEADLINE", "ENRICH_RUN_LIMIT"])
@pytest.mark.parametrize("raw", ["soon", "-1"])
def test_bad_network_settings_are_refused(name: str, raw: str) -> None:
    with pytest.raises(InputError, match=name):
        Settings.from_env({name: raw})


def test_every_source_has_an_answer_cap() -> None:
    from enrich.sources import registry

    settings = Settings()
    assert {s.name for s in registry(settings)} == set(settings.answer_bytes)
    assert all(0 < cap <= 16 << 20 for cap in settings.answer_bytes.values())


# ---------------------------------------------------------------------- the quota


class Ticks:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_quota_unknown_lets_every_request_go() -> None:
    quota = Quota(clock=Ticks())
    assert [quota.take(patience=0.0) for _ in range(3)] == [None, None, None]
    assert quota.left is None


@pytest.mark.parametrize("left", [1, 3, 10])
def test_quota_counts_down_then_refuses_until_the_reset(left: int) -> None:
    clock = Ticks()
    quota = Quota(clock=clock)
    quota.report(left, resets_in=60.0)
    assert [quota.take(patience=5.0) for _ in range(left)] == [None] * left
    assert quota.left == 0
    clock.now += 20.0
    assert quota.take(patience=5.0) == pytest.approx(40.0)  # the seconds to the reset
    assert quota.left == 0  # a refused request is not counted
    clock.now += 40.0  # the window is past: requests go again
    assert quota.take(patience=5.0) is None


@pytest.mark.parametrize(("resets_in", "patience"), [(5.0, 5.0), (3.0, 10.0)])
def test_quota_spent_but_resetting_within_patience_lets_the_request_go(
    resets_in: float, patience: float
) -> None:
    """The server will answer 429 and say how long to wait; the retry policy waits it out."""
    quota = Quota(clock=Ticks())
    quota.report(0, resets_in=resets_in)
    assert quota.take(patience=patience) is None
    assert quota.left == -1


def test_quota_report_replaces_the_count() -> None:
    quota = Quota(clock=Ticks())
    quota.report(0, resets_in=60.0)
    assert quota.take(patience=1.0) == pytest.approx(60.0)
    quota.report(2, resets_in=60.0)  # the server says otherwise: it is believed
    assert quota.take(patience=1.0) is None
    assert quota.left == 1
