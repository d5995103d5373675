"""How a batching source takes its requests (`sources.by_query`): grouped by the id its queries
name them by, and a result at once, unasked, for each it cannot name."""

from __future__ import annotations

import pytest

from enrich.config import Settings
from enrich.models import Identifier, Kind, Status
from enrich.net import RetryPolicy
from enrich.sources import FetchContext, Request, SourceStats, by_query


def context(advanced: list[int]) -> FetchContext:
    return FetchContext(Settings(), RetryPolicy(wait=False), SourceStats(), advance=advanced.append)


def upper(key: str) -> str | None:
    """A query id that folds case (two keys, one query), and none for a key with a space."""
    return None if " " in key else key.upper()


def refused(key: str) -> tuple[Status, str]:
    return Status.SKIPPED, f"cannot ask {key!r}"


@pytest.mark.parametrize(
    ("keys", "groups", "unasked"),
    [
        (["a", "b"], {"A": ["a"], "B": ["b"]}, []),
        (["b", "a", "B"], {"B": ["b", "B"], "A": ["a"]}, []),  # order of first request
        (["x y", "a", "p q"], {"A": ["a"]}, ["x y", "p q"]),
        (["x y"], {}, ["x y"]),
        ([], {}, []),
    ],
)
def test_requests_are_grouped_by_query_id_and_the_rest_end_unasked(
    keys: list[str], groups: dict[str, list[str]], unasked: list[str]
) -> None:
    advanced: list[int] = []
    ctx = context(advanced)
    requests = [Request(Identifier(Kind.URL, key)) for key in keys]

    wanted, results = by_query(requests, ctx, "test", upper, refused)

    assert {q: [r.identifier.key for r in rs] for q, rs in wanted.items()} == groups
    assert list(wanted) == list(groups)
    assert [ident.key for ident in results] == unasked
    for ident, found in results.items():
        assert found.status is Status.SKIPPED
        assert found.provenance.source == "test"
        assert found.provenance.error == f"cannot ask {ident.key!r}"
        assert ctx.stats.answers[ident].attempts == 0  # no request made for it
    assert advanced == [len(unasked)]  # progress moves by what is settled now, once
