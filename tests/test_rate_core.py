"""The one window-quota core (`rate.Window`) and the two policies on it: GitHub's run budget
(`github_budget.Budget`) and the Hub's quota (`huggingface.Quota`). Every test runs on an
injected clock that moves only when told: no sleeps, no wall-clock bounds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from enrich.errors import FetchError, PermanentError, TransientError
from enrich.rate import Window, github_said, hub_said
from enrich.sources import SourceStats
from enrich.sources.github_budget import RESERVE, Budget, BudgetStop, NotSent, RateLimit
from enrich.sources.huggingface import Quota


class Ticks:
    """A clock that moves only when told."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def window(lowest: bool, clock: Ticks | None = None) -> Window:
    return Window(clock or Ticks(), lowest=lowest)


def spend_all(w: Window, keep: int = 0) -> int:
    """How many requests `w` reserves before it refuses (bounded, so a bug cannot hang)."""
    for n in range(10_000):
        if not w.reserve(keep):
            return n
    raise AssertionError("never refused")


# --------------------------------------------------------------------------- the core


@pytest.mark.parametrize("lowest", [True, False])
@pytest.mark.parametrize("keep", [0, 5])
def test_an_unknown_window_lets_every_request_go_uncounted(lowest: bool, keep: int) -> None:
    w = window(lowest)
    assert all(w.reserve(keep) for _ in range(50))
    w.spend()
    assert (w.left, w.reported, w.reset_at) == (None, None, None)
    assert not w.known()


@pytest.mark.parametrize("lowest", [True, False])
@pytest.mark.parametrize(("left", "keep", "sent"), [(1, 0, 1), (10, 0, 10), (10, 5, 5), (3, 5, 0)])
def test_a_report_is_counted_down_to_what_is_kept(
    lowest: bool, left: int, keep: int, sent: int
) -> None:
    w = window(lowest)
    w.report(left, reset_at=2_000.0)
    assert spend_all(w, keep) == sent
    assert w.left == left - sent
    assert w.reported == left  # the server's word, not this run's count


@pytest.mark.parametrize("lowest", [True, False])
@pytest.mark.parametrize("refused", [1, 2, 4])
def test_an_answer_that_cost_nothing_gives_its_reservation_back(lowest: bool, refused: int) -> None:
    w = window(lowest)
    w.report(10, reset_at=2_000.0)
    for _ in range(refused):
        assert w.reserve()
    for _ in range(refused):
        w.report(None, None, cost=0)  # a refusal or a server error, saying nothing of the window
    assert w.left == 10
    w.report(None, None, cost=1)  # an answer that did cost: nothing given back
    assert w.left == 10


def test_a_refund_of_an_unknown_window_stays_unknown() -> None:
    w = window(lowest=True)
    w.report(None, None, cost=0)
    assert w.left is None


@pytest.mark.parametrize("order", list(itertools.permutations([57, 58, 59])))
def test_lowest_keeps_the_lowest_report_of_a_window_whatever_the_order(
    order: tuple[int, ...],
) -> None:
    """GitHub: answers of concurrent requests arrive in any order; the lowest is the newest."""
    w = window(lowest=True)
    for remaining in order:
        w.report(remaining, reset_at=2_000.0)
    assert (w.reported, w.left) == (57, 57)


@pytest.mark.parametrize(("reserved", "reported", "left"), [(3, 58, 57), (1, 55, 55), (0, 59, 59)])
def test_lowest_keeps_the_reservations_made_since_the_lowest_report(
    reserved: int, reported: int, left: int
) -> None:
    """Requests sent after the first report and not yet counted by the server stay counted:
    what is left is the lower of this run's count and the server's."""
    w = window(lowest=True)
    w.report(60, reset_at=2_000.0)
    for _ in range(reserved):
        assert w.reserve()
    w.report(reported, reset_at=2_000.0)
    assert w.left == left


@pytest.mark.parametrize("lowest", [True, False])
@pytest.mark.parametrize("later", [1.0, 3_600.0])
def test_a_later_reset_is_a_new_window_that_forgets_the_old(lowest: bool, later: float) -> None:
    w = window(lowest)
    w.report(0, reset_at=2_000.0)
    w.report(60, reset_at=2_000.0 + later)
    assert (w.reported, w.left, w.reset_at) == (60, 60, 2_000.0 + later)


def test_lowest_a_late_answer_of_an_older_window_starts_no_window() -> None:
    """A report whose reset is earlier than the window's is no new window (its count can
    only lower what is left: the pessimistic reading)."""
    w = window(lowest=True)
    w.report(40, reset_at=2_000.0)
    w.report(50, reset_at=1_500.0)
    assert (w.reported, w.reset_at) == (40, 2_000.0)


@pytest.mark.parametrize(("first", "then"), [(0, 2), (5, 300), (100, 99)])
def test_last_believes_each_report(first: int, then: int) -> None:
    """The Hub: a report names no window, so the last is believed, higher or lower."""
    w = window(lowest=False)
    w.report(first, reset_at=1_060.0)
    w.report(then, reset_at=1_060.0)
    assert (w.reported, w.left) == (then, then)


@pytest.mark.parametrize("lowest", [True, False])
@pytest.mark.parametrize("past", [0.0, 0.5, 600.0])
def test_a_window_whose_reset_has_passed_is_forgotten(lowest: bool, past: float) -> None:
    clock = Ticks()
    w = window(lowest, clock)
    w.report(0, reset_at=1_060.0)
    assert w.resets_in() == pytest.approx(60.0)
    clock.now = 1_060.0 + past
    assert w.reserve()  # unknown again: it goes, uncounted
    assert (w.left, w.reported, w.reset_at, w.resets_in()) == (None, None, None, None)


def test_a_window_is_not_forgotten_before_its_reset() -> None:
    clock = Ticks()
    w = window(lowest=True, clock=clock)
    w.report(0, reset_at=1_060.0)
    clock.now = 1_059.9
    assert not w.reserve()
    assert w.known()


@pytest.mark.parametrize("times", [1, 3])
def test_spend_counts_below_zero(times: int) -> None:
    w = window(lowest=False)
    w.report(0, reset_at=2_000.0)
    for _ in range(times):
        w.spend()
    assert w.left == -times
    assert w.reported == 0


def test_a_report_without_a_reset_is_kept_until_one_comes() -> None:
    w = window(lowest=True)
    w.report(7, None)
    assert w.known()
    assert w.resets_in() is None
    assert spend_all(w) == 7


# ----------------------------------------------------------------- GitHub's run budget

RESET = 1_700_000_000  # epoch seconds: the window's end as GitHub says it


def budget(pending: int, clock: Ticks, stats: SourceStats | None = None) -> Budget:
    def now() -> datetime:
        return datetime.fromtimestamp(clock(), UTC)

    return Budget(stats or SourceStats(), now, pending, "requests", " (hint)")


def sends(b: Budget) -> int:
    """How many first requests `b` lets go before `NotSent` (bounded)."""
    for n in range(10_000):
        try:
            b.take(first=True)
        except NotSent:
            return n
    raise AssertionError("never stopped")


def headers(remaining: int, reset: int = RESET) -> dict[str, str]:
    return {"x-ratelimit-remaining": str(remaining), "x-ratelimit-reset": str(reset)}


@pytest.mark.parametrize("remaining", [6, 8, 30])
def test_budget_after_a_report_of_r_sends_r_less_the_reserve(remaining: int) -> None:
    b = budget(pending=100, clock=Ticks(RESET - 600))
    b.take(first=True)  # the probe: unknown, it goes
    b.observe(headers(remaining), spent=1)
    assert sends(b) == remaining - RESERVE


def test_budget_a_retry_without_points_is_a_budget_stop() -> None:
    b = budget(pending=3, clock=Ticks(RESET - 600))
    b.observe(headers(RESERVE + 1), spent=1)
    b.take(first=True)
    with pytest.raises(BudgetStop, match="no requests left to retry \\(hint\\)"):
        b.take(first=False)


def test_budget_a_refusal_gives_its_point_back_for_the_retry() -> None:
    b = budget(pending=2, clock=Ticks(RESET - 600))
    b.observe(headers(RESERVE + 1), spent=1)
    b.take(first=True)
    b.observe({}, spent=0)  # a 503: cost nothing
    b.take(first=False)  # the point came back: the retry goes


@pytest.mark.parametrize(("remaining", "pending", "spares"), [(20, 0, 15), (20, 10, 5), (12, 7, 0)])
def test_budget_spares_only_what_the_pending_units_do_not_need(
    remaining: int, pending: int, spares: int
) -> None:
    b = budget(pending=pending, clock=Ticks(RESET - 600))
    assert not b.spare()  # unknown: no optional request
    b.observe(headers(remaining), spent=1)
    assert sum(b.spare() for _ in range(50)) == spares


def test_budget_a_new_hour_forgets_the_spent_one() -> None:
    clock = Ticks(RESET - 10)
    b = budget(pending=5, clock=clock)
    b.observe(headers(0), spent=0)
    with pytest.raises(NotSent):
        b.take(first=True)
    clock.now = RESET  # the window reset: unknown again, the next request learns the new one
    b.take(first=True)
    b.observe(headers(60, RESET + 3_600), spent=1)
    b.take(first=True)


def test_budget_graphql_rate_limit_wins_over_headers_and_reaches_the_stats() -> None:
    stats = SourceStats()
    b = budget(pending=1, clock=Ticks(RESET - 600), stats=stats)
    b.observe(headers(4_000), spent=1, limit=RateLimit(cost=1, remaining=4_990, reset=RESET))
    b.observe(headers(4_995), spent=1)  # an earlier answer, arriving late: the lowest stays
    assert (stats.rate_limit_remaining, stats.rate_limit_spent) == (4_990, 2)


@pytest.mark.parametrize(
    ("reported", "error", "spent"),
    [
        (0, PermanentError("403", status=403), True),
        (0, TransientError("429", status=429), True),
        (0, TransientError("reset"), True),
        (0, TransientError("503", status=503), False),
        (1, PermanentError("403", status=403), False),
    ],
)
def test_budget_tells_a_refusal_for_a_spent_window(
    reported: int, error: FetchError, spent: bool
) -> None:
    b = budget(pending=1, clock=Ticks(RESET - 600))
    b.observe(headers(reported), spent=0)
    assert b.spent(error) is spent


@pytest.mark.parametrize(("remaining", "left"), [(3, 3), (0, 0)])
def test_budget_waiting_line(remaining: int, left: int) -> None:
    b = budget(pending=0, clock=Ticks(RESET - 600))
    assert "resets at an unknown time" in b.waiting(4)
    b.observe(headers(remaining), spent=1)
    line = b.waiting(4)
    reset = datetime.fromtimestamp(RESET, UTC).strftime("%H:%M UTC")
    assert line == (
        f"github: 4 repositories wait for a later run (rate limit: {left} requests left, "
        f"resets at {reset}), oldest values first (hint)"
    )


# ------------------------------------------------------------------ the Hub's quota


@pytest.mark.parametrize("patience", [0.0, 30.0])
def test_quota_far_reset_refuses_near_reset_sends_and_counts(patience: float) -> None:
    clock = Ticks()
    quota = Quota(clock=clock)
    quota.report(0, resets_in=60.0)
    assert quota.take(patience=patience) == pytest.approx(60.0)
    clock.now += 60.0 - patience  # now the reset is within patience
    assert quota.take(patience=patience) is None
    assert quota.left == (None if patience == 0.0 else -1)


def test_quota_a_429_with_a_header_is_believed_not_refunded() -> None:
    quota = Quota(clock=Ticks())
    quota.report(5, resets_in=60.0)
    assert quota.take(patience=0.0) is None
    quota.report(0, resets_in=30.0, cost=0)
    assert quota.left == 0
    assert quota.take(patience=0.0) == pytest.approx(30.0)


# ------------------------------------------------------- what an answer says of its window


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({"x-ratelimit-remaining": "59", "x-ratelimit-reset": "1700000000"}, (59, 1_700_000_000)),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000000"}, (0, 1_700_000_000)),
        ({"x-ratelimit-remaining": "4999"}, (4_999, None)),
        ({"x-ratelimit-remaining": "", "x-ratelimit-reset": "soon"}, (None, None)),
        ({"x-ratelimit-remaining": "inf", "x-ratelimit-reset": "nan"}, (None, None)),
        ({"content-type": "application/json"}, (None, None)),
    ],
)
def test_github_said_reads_the_x_ratelimit_headers(
    headers: dict[str, str], said: tuple[int | None, int | None]
) -> None:
    assert github_said(headers) == said


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('"api";r=3;t=42', (3, 42.0)),
        ('"api";r=0;t=1', (0, 1.0)),
        ('"resolvers"; r=2999; t=300', (2_999, 300.0)),
        ('"api";t=42;r=7', (7, 42.0)),
        ('"api";r=5', None),
        ('"api";t=42', None),
        ("garbage", None),
        ("", None),
    ],
)
def test_hub_said_reads_the_ratelimit_header(value: str, said: tuple[int, float] | None) -> None:
    assert hub_said({"RateLimit": value}) == said
    assert hub_said({"ratelimit": value}) == said


@pytest.mark.parametrize("value", ['"api";r=3;t=42', '"api";r=0;t=1', '"pages";r=99;t=299'])
def test_hub_said_agrees_with_the_hub_client_on_the_documented_form(value: str) -> None:
    """The Hub's documented header, `"<bucket>";r=<left>;t=<seconds>`, reads as
    huggingface_hub's own parser reads it."""
    from huggingface_hub.utils import parse_ratelimit_headers

    info = parse_ratelimit_headers({"ratelimit": value})
    assert info is not None
    assert hub_said({"RateLimit": value}) == (info.remaining, info.reset_in_seconds)
