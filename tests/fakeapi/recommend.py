"""Semantic Scholar's recommendations endpoint, on the Graph API's host as on the real service.

`POST /recommendations/v1/papers?fields=a,b&limit=n` with `{"positivePaperIds": [...],
"negativePaperIds": [...]}` answers `{"recommendedPapers": [...]}`, each paper carrying
`paperId` and the fields asked for (the documented shape). Ids are those the batch endpoint
takes (`ARXIV:<id>`, `DOI:<doi>`, ...). A body without a list of positive ids, a `limit`
outside 1..500 or an unknown field answer 400 with `{"error": ...}`.

The answer is deterministic, a function of the positive ids: first the papers registered
with `ScholarAPI.recommended` (every answer has them, unless they are positives), then up
to three registered papers that are not among the positives (papers a list may already
have, which a client must filter out), then new papers made up from the ids (some known by
arXiv id, some by DOI only, some by neither), up to `limit`. Positive papers are never
recommended back, as on the real API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fixtures import Facts
from .scholar import ScholarPaper, default_paper, error, normalise, read_post, reply
from .wire import Reply, Request

if TYPE_CHECKING:
    from .scholar import ScholarAPI

PATH = "/recommendations/v1/papers"
MAX_LIMIT = 500
LISTED = 3  # registered papers (a list's own, likely) in each answer


def route(api: ScholarAPI, request: Request) -> Reply:
    asked = read_post(
        request, "positivePaperIds", '{"positivePaperIds": [...], "negativePaperIds": [...]}'
    )
    if isinstance(asked, Reply):
        return asked
    fields, positive = asked
    limit_text = request.arg("limit") or "100"
    limit = int(limit_text) if limit_text.isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        return error(400, f"limit must be between 1 and {MAX_LIMIT}")
    papers = recommended(api, [normalise(i) for i in positive], limit)
    return reply(200, {"recommendedPapers": [p.json(fields) for p in papers]})


def recommended(api: ScholarAPI, positive: list[str], limit: int) -> list[ScholarPaper]:
    """The answer for these (normalised) positive ids: see the module."""
    seeds = {p.paper_id for i in positive if (p := api.papers.get(i)) is not None}
    facts = Facts("s2-recommend", *sorted(positive))
    found: dict[str, ScholarPaper] = {}
    for paper in api.recommended:
        if paper.paper_id not in seeds:
            found.setdefault(paper.paper_id, paper)
    others = {p.paper_id: p for p in api.papers.values() if p.paper_id not in seeds}
    ranked = sorted(others, key=lambda pid: facts.hexdigits(pid, 16))
    for pid in ranked[:LISTED]:
        found.setdefault(pid, others[pid])
    made = 0
    while len(found) < limit:
        paper = made_up(facts, made)
        found.setdefault(paper.paper_id, paper)
        made += 1
    return list(found.values())[:limit]


def made_up(facts: Facts, n: int) -> ScholarPaper:
    """The `n`th made-up paper of an answer: by arXiv id, every third by DOI only, every
    seventh by neither (a Semantic Scholar id alone)."""
    label = f"paper-{n}"
    name = facts.hexdigits(label, 6)
    arxiv_id = f"{facts.num(label + 'yy', 20, 25)}{facts.num(label + 'mm', 1, 12):02d}." + (
        f"{facts.num(label + 'num', 0, 99999):05d}"
    )
    if n % 7 == 6:
        paper = default_paper(f"ARXIV:{arxiv_id}", title=f"Unindexed study {name}")
        paper.external = {}
        paper.venue, paper.venue_type, paper.journal = "", None, None
        return paper
    if n % 3 == 2:
        doi = f"10.1234/rec.{facts.hexdigits(label, 10)}"
        return default_paper(f"DOI:{doi}", title=f"Journal study {name}")
    return default_paper(f"ARXIV:{arxiv_id}", title=f"Related preprint {arxiv_id}")
