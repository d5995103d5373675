"""The records say one thing each: a fact's provenance holds no run telemetry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from enrich.config import Settings
from enrich.models import Identifier, Kind, Provenance, Status
from enrich.net import RetryPolicy
from enrich.sources import Answer, FetchContext, Request, SourceStats, result

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_a_provenance_holds_facts_not_how_this_run_went() -> None:
    """How a run's requests went (HTTP status, attempts, served from the cache) differs
    between two runs that found the same facts: it is the run's (`SourceStats.answers`,
    the fetch report's counts), not a field of the fact, dumped or not."""
    assert set(Provenance.model_fields) == {
        "source",
        "status",
        "fetched_at",
        "error",
        "etag",
        "last_modified",
    }
    for telemetry in ({"http_status": 200}, {"attempts": 3}, {"from_cache": True}):
        with pytest.raises(ValidationError):
            Provenance.model_validate({"source": "arxiv", "status": "ok", **telemetry})


@pytest.mark.parametrize(
    ("status", "http_status", "attempts"),
    [(Status.OK, 200, 1), (Status.NOT_FOUND, 404, 2), (Status.ERROR, None, 0)],
)
def test_how_the_requests_went_goes_to_the_sources_stats(
    status: Status, http_status: int | None, attempts: int
) -> None:
    ctx = FetchContext(
        settings=Settings(), policy=RetryPolicy(wait=False), stats=SourceStats(), now=lambda: WHEN
    )
    request = Request(Identifier(kind=Kind.ARXIV, key="2306.07629"))
    found = result(request, ctx, "arxiv", status, http_status=http_status, attempts=attempts)
    assert ctx.stats.answers == {request.identifier: Answer(http_status, attempts)}
    assert found.provenance == Provenance(
        source="arxiv", status=status, fetched_at=None if status is Status.ERROR else WHEN
    )
