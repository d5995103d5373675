"""GitHub state (repos, renames, rate budgets) and its router: REST + `POST /graphql`.

Rate budgets are per caller class: anonymous (no `Authorization`, 60/h) and token (5000/h),
like GitHub's primary limits; a 304 is free only to a token caller (an anonymous one pays for
it like a 200), `/rate_limit` is free; GraphQL has its own
bucket (`X-RateLimit-Resource: graphql`) and needs a token.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from . import github as gh
from .fixtures import Repo
from .github_json import LICENSES, node_id
from .graphql import Context, Field, execute
from .wire import Reply, Request, compact_json, iso_z

_AUTH_DOC = (
    "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"
)


def _choosealicense(spdx: str | None) -> dict[str, Any] | None:
    if spdx is None:
        return None
    key, name, number = LICENSES.get(spdx, (spdx.lower(), spdx, 0))
    url = None if key == "other" else f"http://choosealicense.com/licenses/{key}/"
    return {
        "__typename": "License",
        "spdxId": spdx,
        "name": name,
        "key": key,
        "url": url,
        "nickname": None,
        "id": node_id("07:License", number),
    }


def _object_value(repo: Repo, args: dict[str, Any]) -> dict[str, Any] | None:
    ref, _, path = str(args.get("expression", "")).partition(":")
    ref = repo.default_branch if ref in ("HEAD", "") else ref
    kind = gh.path_kind(repo, path) if ref in repo.refs | {repo.default_branch} else None
    if kind is None:
        return None
    oid = hashlib.sha1(f"{repo.full_name}:{ref}:{path}".encode()).hexdigest()
    return {
        "__typename": "Tree" if kind == "dir" else "Blob",
        "oid": oid,
        "id": oid,
        "abbreviatedOid": oid[:7],
        "byteSize": 42,
        "isBinary": False,
        "text": f"fake {path}\n",
        "entries": [],
    }


def repo_value(repo: Repo) -> dict[str, Any]:
    """The Repository object for the GraphQL executor (callables receive field arguments)."""
    html = f"https://github.com/{repo.full_name}"
    topics = [{"topic": {"name": t}, "url": f"https://github.com/topics/{t}"} for t in repo.topics]
    return {
        "__typename": "Repository",
        "id": node_id("010:Repository", repo.id),
        "databaseId": repo.id,
        "name": repo.name,
        "nameWithOwner": repo.full_name,
        "owner": {
            "__typename": repo.owner_type,
            "login": repo.owner,
            "url": f"https://github.com/{repo.owner}",
            "id": node_id("04:User", repo.owner_id),
            "avatarUrl": f"https://avatars.githubusercontent.com/u/{repo.owner_id}?v=4",
        },
        "url": html,
        "description": repo.description,
        "homepageUrl": repo.homepage,
        "stargazerCount": repo.stars,
        "forkCount": repo.forks,
        "watchers": {"totalCount": repo.subscribers},
        "stargazers": {"totalCount": repo.stars},
        "forks": {"totalCount": repo.forks},
        "issues": lambda a: {"totalCount": repo.open_issues * (1 if a.get("states") else 3)},
        "pullRequests": lambda a: {"totalCount": repo.open_issues // 2},
        "licenseInfo": _choosealicense(repo.license_spdx),
        "isArchived": repo.archived,
        "isFork": repo.fork,
        "isDisabled": repo.disabled,
        "isPrivate": False,
        "isTemplate": False,
        "isMirror": False,
        "isEmpty": False,
        "isLocked": False,
        "visibility": "PUBLIC",
        "createdAt": iso_z(repo.created_at),
        "pushedAt": iso_z(repo.pushed_at),
        "updatedAt": iso_z(repo.updated_at),
        "archivedAt": iso_z(repo.updated_at) if repo.archived else None,
        "diskUsage": repo.size,
        "defaultBranchRef": {"name": repo.default_branch, "prefix": "refs/heads/"},
        "repositoryTopics": lambda a: {
            "totalCount": len(topics),
            "nodes": topics[: a.get("first", 100)],
        },
        "primaryLanguage": {"name": repo.language, "color": "#3572A5"} if repo.language else None,
        "object": lambda a: _object_value(repo, a),
    }


class GitHubAPI:
    def __init__(self) -> None:
        self.repos: dict[int, Repo] = {}
        self.by_name: dict[str, int] = {}  # lowercase current full name -> id
        self.renamed: dict[str, int] = {}  # lowercase former full name -> id
        self.core = {False: gh.new_budget(60), True: gh.new_budget(5000)}
        self.graphql = gh.new_budget(5000, "graphql")

    # ------------------------------------------------------------------------- state
    def add(self, repo: Repo) -> None:
        old = self.repos.get(repo.id)
        if old is not None:
            self.by_name.pop(old.full_name.lower(), None)
        self.repos[repo.id] = repo
        self.by_name[repo.full_name.lower()] = repo.id
        self.renamed.pop(repo.full_name.lower(), None)

    def rename(self, old: str, new: str) -> None:
        repo = self.find(old)
        if repo is None:
            raise KeyError(f"unknown repository {old!r}")
        self.by_name.pop(repo.full_name.lower(), None)
        repo.owner, repo.name = new.split("/", 1)
        self.by_name[new.lower()] = repo.id
        self.renamed[old.lower()] = repo.id
        self.renamed.pop(new.lower(), None)

    def find(self, full_name: str, follow_renames: bool = True) -> Repo | None:
        key = full_name.lower()
        repo_id = self.by_name.get(key)
        if repo_id is None and follow_renames:
            repo_id = self.renamed.get(key)
        return self.repos.get(repo_id) if repo_id is not None else None

    # ------------------------------------------------------------------------ routing
    def route(self, request: Request) -> Reply:
        token = "authorization" in request.headers
        budget = self.core[token]
        budget.refresh()
        self.graphql.refresh()
        if request.path == "/graphql" and request.method == "POST":
            return self.graphql_reply(request)
        if request.path == "/rate_limit":
            return gh.rate_limit_reply(request, budget, self.graphql, token)
        if request.method == "GET" and (m := gh.REPO_PATH.match(request.path)):
            name = f"{unquote(m[1])}/{unquote(m[2])}"
            repo = self.find(name, follow_renames=False)
            if repo is None and name.lower() in self.renamed:
                return self._counted(request, budget) or gh.moved(
                    request, budget, self.repos[self.renamed[name.lower()]], m[3] or ""
                )
            return self._serve(request, budget, repo, m[3], m[4])
        if request.method == "GET" and (m := gh.REPOSITORIES_PATH.match(request.path)):
            return self._serve(request, budget, self.repos.get(int(m[1])), m[2], m[3])
        return self._counted(request, budget) or gh.not_found(
            request, budget, "https://docs.github.com/rest"
        )

    def _counted(self, request: Request, budget: gh.Budget) -> Reply | None:
        """Spend one request; a 403 reply when the budget is empty."""
        if budget.remaining <= 0:
            return gh.rate_limited(request, budget)
        budget.remaining -= 1
        return None

    def _serve(
        self,
        request: Request,
        budget: gh.Budget,
        repo: Repo | None,
        contents: str | None,
        path: str | None,
    ) -> Reply:
        if repo is None:
            return self._counted(request, budget) or gh.not_found(request, budget)
        if contents:
            return gh.contents_reply(request, budget, repo, unquote(path or ""))
        return gh.repo_reply(request, budget, repo)

    # ------------------------------------------------------------------------ GraphQL
    def graphql_reply(self, request: Request) -> Reply:
        headers = [("X-GitHub-Media-Type", "github.v4; format=json")]
        body: dict[str, Any]
        if "authorization" not in request.headers:
            body = {
                "message": "This endpoint requires you to be authenticated.",
                "documentation_url": _AUTH_DOC,
                "status": "401",
            }
            return gh.json_reply(request, 401, body, None, headers)
        budget = self.graphql
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            body = {
                "message": "Problems parsing JSON",
                "documentation_url": "https://docs.github.com/graphql",
                "status": "400",
            }
            return gh.json_reply(request, 400, body, budget, headers)
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str):
            body = {
                "errors": [{"message": "A query attribute must be specified and must be a string."}]
            }
            return gh.json_reply(request, 200, body, budget, headers)
        if budget.remaining <= 0:
            body = {
                "errors": [
                    {
                        "type": "RATE_LIMIT",
                        "code": "graphql_rate_limit",
                        "message": "API rate limit already exceeded for user ID 1.",
                    }
                ]
            }
            return gh.json_reply(request, 200, body, budget, headers)
        budget.remaining -= 1
        result = execute(
            query,
            payload.get("variables") or {},
            {
                "repository": self._gql_repository,
                "rateLimit": lambda f, ctx: self._gql_rate_limit(),
                "viewer": lambda f, ctx: {
                    "login": "fakeapi-user",
                    "id": node_id("04:User", 1),
                    "url": "https://github.com/fakeapi-user",
                },
            },
        )
        reply = gh.json_reply(request, 200, {}, budget, headers)
        reply.body = compact_json(result)
        return reply

    def _gql_repository(self, f: Field, ctx: Context) -> dict[str, Any] | None:
        owner, name = f.args.get("owner"), f.args.get("name")
        repo = self.find(f"{owner}/{name}")
        if repo is None:
            ctx.errors.append(
                {
                    "type": "NOT_FOUND",
                    "path": [f.key],
                    "locations": [{"line": f.line, "column": f.column}],
                    "message": f"Could not resolve to a Repository with the name '{owner}/{name}'.",
                }
            )
            return None
        return repo_value(repo)

    def _gql_rate_limit(self) -> dict[str, Any]:
        b = self.graphql
        reset_at = iso_z(datetime.fromtimestamp(b.reset, UTC))
        return {
            "__typename": "RateLimit",
            "cost": 1,
            "limit": b.limit,
            "remaining": b.remaining,
            "resetAt": reset_at,
            "used": b.limit - b.remaining,
            "nodeCount": 1,
        }
