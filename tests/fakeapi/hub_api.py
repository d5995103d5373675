"""Hugging Face Hub state and router (`/api/...` except arXiv's `/api/query`).

The Hub's anonymous API budget is a fixed window (500 requests / 300 s, as its
`RateLimit-Policy` header announces); every answered request spends one and reports the rest in
`RateLimit`. An exhausted window answers 429 with `r=0`, which huggingface_hub turns into a
"you have reached your 'api' rate limit" HfHubHTTPError.
"""

from __future__ import annotations

import re
import time
from urllib.parse import unquote, urlencode

from . import hub
from .fixtures import Collection, HubKind, HubRepo, Org, PaperPage
from .wire import Reply, Request

_INFO = re.compile(r"^/api/(models|datasets|spaces)/([^/]+(?:/[^/]+)?)(?:/revision/([^/]+))?/?$")
_LIST = re.compile(r"^/api/(models|datasets|spaces)/?$")
_COLLECTION = re.compile(r"^/api/collections/([^/]+/[^/]+)/?$")
_PAPER = re.compile(r"^/api/papers/([^/]+(?:/\d{7})?)/?$")
_OVERVIEW = re.compile(r"^/api/(organizations|users)/([^/]+)/overview/?$")
_KINDS: dict[str, HubKind] = {"models": "model", "datasets": "dataset", "spaces": "space"}
_SORT_KEYS = {
    "downloads": "downloads",
    "likes": "likes",
    "createdAt": "created_at",
    "created_at": "created_at",
    "lastModified": "last_modified",
    "last_modified": "last_modified",
    "trendingScore": "likes",
}


class HubAPI:
    def __init__(self, limit: int = 500, window: int = 300) -> None:
        self.repos: dict[tuple[HubKind, str], HubRepo] = {}
        self.collections: dict[str, Collection] = {}
        self.papers: dict[str, PaperPage] = {}
        self.orgs: dict[str, Org] = {}
        self.limit, self.window = limit, window
        self.remaining, self.window_end = limit, time.time() + window

    # ------------------------------------------------------------------------- state
    def find(self, kind: HubKind, repo_id: str) -> HubRepo | None:
        found = self.repos.get((kind, repo_id))
        if found is None:  # the Hub resolves ids case-insensitively
            lowered = repo_id.lower()
            found = next(
                (r for (k, i), r in self.repos.items() if k == kind and i.lower() == lowered), None
            )
        return found

    def rate(self, spend: bool) -> tuple[int, int, int, int]:
        now = time.time()
        if now >= self.window_end:
            self.remaining, self.window_end = self.limit, now + self.window
        if spend and self.remaining > 0:
            self.remaining -= 1
        return self.remaining, max(int(self.window_end - now), 0), self.limit, self.window

    # ------------------------------------------------------------------------ routing
    def route(self, request: Request) -> Reply:
        if self.rate(spend=False)[0] <= 0:
            return self.too_many(request)
        rate = self.rate(spend=True)
        if request.method not in ("GET", "HEAD"):
            return hub.error_reply(405, "Method not allowed", rate)
        path = unquote(request.path)
        if m := _INFO.match(path):
            return self._info(request, _KINDS[m[1]], m[2], rate)
        if m := _LIST.match(path):
            return self._list(request, _KINDS[m[1]], rate)
        if m := _COLLECTION.match(path):
            col = self.collections.get(m[1])
            if col is None:
                return hub.error_reply(404, "Collection not found", rate)
            return hub.json_reply(200, hub.collection_body(col, self.repos, self.papers), rate)
        if m := _PAPER.match(path):
            page = self.papers.get(m[1])
            if page is None:
                return hub.error_reply(404, "Paper not found", rate)
            return hub.json_reply(200, hub.paper_body(page), rate)
        if m := _OVERVIEW.match(path):
            return self._overview(m[1], m[2], rate)
        return hub.error_reply(404, "Sorry, we can't find the page you are looking for.", rate)

    def too_many(self, request: Request, retry_after: int | None = None) -> Reply:
        _, reset, limit, window = self.rate(spend=False)
        wait = reset if retry_after is None else retry_after
        message = (
            "We had to rate limit you, you hit the quota of 500 api requests per 5 minutes"
            " period. Upgrade to a PRO account or authenticate for higher limits."
        )
        reply = hub.error_reply(429, message, (0, wait, limit, window))
        reply.headers.append(("Retry-After", str(wait)))
        return reply

    def _info(
        self, request: Request, kind: HubKind, repo_id: str, rate: tuple[int, int, int, int]
    ) -> Reply:
        repo = self.find(kind, repo_id)
        if repo is None or repo.private:
            return hub.repo_not_found(rate)
        expand = _expand_args(request)
        unknown = [e for e in expand if e not in hub.EXPANDABLE[kind]]
        if unknown:
            allowed = ", ".join(f'"{e}"' for e in sorted(hub.EXPANDABLE[kind]))
            return hub.error_reply(400, f'"expand" must be one of {allowed}', rate)
        reply = hub.json_reply(200, hub.repo_body(repo, expand or None), rate)
        if request.headers.get("if-none-match") == reply.header("ETag"):
            reply.status, reply.body = 304, b""
        return reply

    def _list(self, request: Request, kind: HubKind, rate: tuple[int, int, int, int]) -> Reply:
        found = [r for (k, _), r in self.repos.items() if k == kind and not r.private]
        author = request.arg("author")
        if author:
            found = [r for r in found if (r.author or "").lower() == author.lower()]
        for wanted in request.query.get("filter", []):
            found = [r for r in found if wanted in hub.repo_properties(r)["tags"]]
        search = (request.arg("search") or "").lower()
        found = [r for r in found if search in r.repo_id.lower()]
        sort_key = _SORT_KEYS.get(request.arg("sort") or "", "")
        if sort_key:
            reverse = request.arg("direction", "-1") == "-1"
            found.sort(key=lambda r: (getattr(r, sort_key), r.repo_id), reverse=reverse)
        limit = min(int(request.arg("limit") or 1000), 1000)
        offset = int(request.arg("cursor") or 0)
        page = found[offset : offset + limit]
        full = request.arg("full") in ("1", "true", "True")
        expand = _expand_args(request) or None
        body = [
            hub.repo_body(r, expand)
            if full and not expand
            else hub.repo_body(r, expand, listing=True)
            for r in page
        ]
        extra: list[tuple[str, str]] = []
        if offset + limit < len(found):
            query = {k: v[-1] for k, v in request.query.items()} | {"cursor": offset + limit}
            extra.append(("Link", f'<{request.base}{request.path}?{urlencode(query)}>; rel="next"'))
        return hub.json_reply(200, body, rate, extra)

    def _overview(self, section: str, name: str, rate: tuple[int, int, int, int]) -> Reply:
        org = self.orgs.get(name)
        wanted = "org" if section == "organizations" else "user"
        if org is None or org.kind != wanted:
            what = "Organization" if wanted == "org" else "User"
            return hub.error_reply(404, f"{what} not found", rate)
        counts: dict[HubKind, int] = {"model": 0, "dataset": 0, "space": 0}
        for repo in self.repos.values():
            if (repo.author or "").lower() == name.lower() and not repo.private:
                counts[repo.kind] += 1
        return hub.json_reply(200, hub.overview_body(org, counts), rate)


def _expand_args(request: Request) -> list[str]:
    values: list[str] = []
    for key in ("expand", "expand[]"):
        for raw in request.query.get(key, []):
            values += [v for v in raw.split(",") if v]
    return list(dict.fromkeys(values))
