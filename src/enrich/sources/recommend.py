"""Semantic Scholar's recommendations: the papers most related to a section's papers.

What it serves. Entities `recommended:<keys>`, one per section with a paper Semantic Scholar
can look up (`plan.recommendation`): the key is the section's papers as Semantic Scholar
keys (`arxiv:2305.14314 doi:10.1145/3477495.3531986`). They are discovery's lookups: asked
within its budget, and a failure fails nothing (`fetch.fetch_all`).

How it asks. `POST {ENRICH_S2_URL}/recommendations/v1/papers?fields=...&limit=30` with
`{"positivePaperIds": [...], "negativePaperIds": []}`, the ids as the batch endpoint spells
them (`scholar.s2_id`: `ARXIV:<id>`, `DOI:<doi>`, `ACL:<id>`). The real service has the
recommendations API on the Graph API's host (api.semanticscholar.org/recommendations/v1
beside /graph/v1), so one base URL serves both. One request per section, under the pace of
the batch endpoint (one `Pacer` for the two: the API's rule is one request per second for
a key), the same transport bounds, deadline and retry policy as every source; `S2_API_KEY`
in the `x-api-key` header only.

How answers are read. `{"recommendedPapers": [{"paperId", "title", "year", "externalIds",
"citationCount", "publicationDate", "venue"}, ...]}`, each paper read like a batch answer's
item (`scholar.record`); a paper that does not validate is left out, not the answer, and
papers beyond the `limit` asked for are not kept. A body of another shape is a malformed
answer: the lookup ends `error` (its last known value kept). Which of the papers the list
has already is the report's to say (`papers.py`): the answer is kept as the API gave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import httpx2

from enrich.config import S2_RECOMMEND_LIMIT
from enrich.errors import FetchError, PermanentError
from enrich.metadata import Recommendations, RecommendedPaper, ScholarMeta
from enrich.models import Identifier, Kind, Result, Status
from enrich.sources import FetchContext, Request, result
from enrich.sources.scholar import Endpoint, describe, post_json, record, s2_id

NAME: Final = "recommendations"
WHAT: Final = "Semantic Scholar recommendations"
PATH: Final = "/recommendations/v1/papers"
FIELDS: Final = "title,year,externalIds,citationCount,publicationDate,venue"


class RecommendSource(Endpoint):
    """The papers Semantic Scholar recommends for each section's papers: one request each."""

    name = NAME
    kinds = frozenset({Kind.RECOMMENDED})

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> dict[Identifier, Result]:
        """One result per request, keyed by its `Identifier`. Never raises for an item."""
        results: dict[Identifier, Result] = {}
        async with self.client() as client:
            for request in requests:
                got = {request.identifier: await self._one(client, request, ctx)}
                results.update(got)
                ctx.settled(got)
        return results

    async def _one(self, client: httpx2.AsyncClient, request: Request, ctx: FetchContext) -> Result:
        ids = [i for i in (s2_id(key) for key in request.identifier.key.split()) if i]
        if not ids:
            error = "no paper Semantic Scholar can look up"
            return result(request, ctx, self.name, Status.SKIPPED, attempts=0, error=error)
        paced = self.paced(ctx)
        try:
            answer = await paced.call(lambda: _post(client, ids))
        except Exception as exc:  # noqa: BLE001 - a lookup never raises: it ends `error`
            status = exc.status if isinstance(exc, FetchError) else None
            return result(
                request,
                ctx,
                self.name,
                Status.ERROR,
                http_status=status,
                attempts=paced.attempts,
                error=describe(exc, WHAT),
            )
        data = Recommendations(papers=papers(answer))
        return result(
            request, ctx, self.name, Status.OK, data=data, http_status=200, attempts=paced.attempts
        )


async def _post(client: httpx2.AsyncClient, ids: list[str]) -> list[Any]:
    """One request: the answer's papers, or the `FetchError` the policy judges."""
    body = {"positivePaperIds": ids, "negativePaperIds": []}
    params = {"fields": FIELDS, "limit": str(S2_RECOMMEND_LIMIT)}
    answer = await post_json(client, PATH, params, body, WHAT)
    found = answer.get("recommendedPapers") if isinstance(answer, dict) else None
    if not isinstance(found, list):
        raise PermanentError(f"{WHAT}: malformed answer (no list of papers)", status=200)
    return found


def papers(items: list[Any]) -> list[RecommendedPaper]:
    """The answer's papers that validate, in its order, each once (by paper id), at most
    as many as asked for; each read as a batch answer's item is (`scholar.record`), and
    kept with the fields asked for."""
    found: dict[str, RecommendedPaper] = {}
    for item in items[:S2_RECOMMEND_LIMIT]:
        try:
            paper = record(item)
        except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
            continue  # one unusable paper is left out, not the answer
        found.setdefault(paper.paper_id, _asked(paper))
    return list(found.values())


def _asked(paper: ScholarMeta) -> RecommendedPaper:
    return RecommendedPaper(
        paper_id=paper.paper_id,
        title=paper.title,
        year=paper.year,
        publication_date=paper.publication_date,
        venue=paper.venue,
        arxiv_id=paper.arxiv_id,
        doi=paper.doi,
        acl_id=paper.acl_id,
        citations=paper.citations,
    )
