"""GitHub REST v3 replies: repositories, contents, redirects, conditional requests, limits.

Shapes and headers follow the PyGithub replays in `shared/api-samples/github/`: a weak ETag
over the body hash, `Last-Modified`, the X-RateLimit-* set, and a 304 that repeats the ETag in
its strong form (as recorded). A 304 costs nothing only when the request carried an
`Authorization` header; an anonymous one is charged like a 200 (docs.github.com, "Best
practices for using the REST API": conditional requests are free "if the request was made
while correctly authorized with an Authorization header").
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from .fixtures import Repo
from .github_json import repo_json
from .wire import Reply, Request, compact_json, http_date

CANONICAL_BASE = "https://api.github.com"
API_VERSION = "2022-11-28"
_EXPOSE = (
    "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining,"
    " X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes,"
    " X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO,"
    " X-GitHub-Request-Id, Deprecation, Sunset"
)
DOC_GET_REPO = "https://docs.github.com/rest/repos/repos#get-a-repository"
DOC_CONTENTS = "https://docs.github.com/rest/repos/contents#get-repository-content"
DOC_RATE = "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
RATE_LIMITED_MESSAGE = (
    "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get"
    " a higher rate limit. Check out the documentation for more details.)"
)


@dataclass
class Budget:
    """One X-RateLimit bucket (per resource, anonymous vs token)."""

    limit: int
    remaining: int
    reset: int
    resource: str = "core"

    def refresh(self) -> None:
        now = int(time.time())
        if now >= self.reset:
            self.remaining, self.reset = self.limit, now + 3600

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
            ("X-RateLimit-Used", str(self.limit - self.remaining)),
            ("X-RateLimit-Resource", self.resource),
        ]

    def as_json(self) -> dict[str, int]:
        used = self.limit - self.remaining
        return {"limit": self.limit, "used": used, "remaining": self.remaining, "reset": self.reset}


def new_budget(limit: int, resource: str = "core") -> Budget:
    return Budget(limit, limit, int(time.time()) + 3600, resource)


def common_headers(request: Request) -> list[tuple[str, str]]:
    token = "authorization" in request.headers
    cache = "private" if token else "public"
    vary = "Accept, Authorization, Cookie, X-GitHub-OTP," if token else "Accept,"
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Cache-Control", f"{cache}, max-age=60, s-maxage=60"),
        ("Vary", f"{vary}Accept-Encoding, Accept, X-Requested-With"),
        ("X-GitHub-Media-Type", "github.v3; format=json"),
        ("x-github-api-version-selected", API_VERSION),
        ("Access-Control-Expose-Headers", _EXPOSE),
        ("Access-Control-Allow-Origin", "*"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "default-src 'none'"),
    ]
    if token:
        headers += [("X-OAuth-Scopes", "repo"), ("X-Accepted-OAuth-Scopes", "repo")]
    return headers


def request_id(request: Request) -> tuple[str, str]:
    seed = f"{time.time_ns()}{request.path}".encode()
    h = hashlib.sha1(seed).hexdigest().upper()
    return ("X-GitHub-Request-Id", f"{h[:4]}:{h[4:9]}:{h[9:16]}:{h[16:23]}:{h[23:31]}")


def json_reply(
    request: Request,
    status: int,
    body: Any,
    budget: Budget | None,
    extra: list[tuple[str, str]] | None = None,
) -> Reply:
    headers = common_headers(request) + (extra or [])
    if budget is not None:
        headers += budget.headers()
    headers.append(request_id(request))
    return Reply(status, headers, compact_json(body), server="github.com")


def not_found(
    request: Request, budget: Budget | None, doc: str = DOC_GET_REPO, message: str = "Not Found"
) -> Reply:
    body = {"message": message, "documentation_url": doc, "status": "404"}
    return json_reply(request, 404, body, budget)


def rate_limited(request: Request, budget: Budget) -> Reply:
    body = {"message": RATE_LIMITED_MESSAGE, "documentation_url": DOC_RATE}
    snapshot = Budget(budget.limit, 0, budget.reset, budget.resource)
    return json_reply(request, 403, body, snapshot)


def server_error(request: Request, status: int, budget: Budget | None) -> Reply:
    """5xx bodies: GitHub answers 500 with `{"error": "Server Error"}` (recorded)."""
    body: dict[str, str] = (
        {"error": "Server Error"}
        if status == 500
        else {"message": "Server Error" if status == 502 else "Service Unavailable"}
    )
    return json_reply(request, status, body, budget)


def moved(request: Request, budget: Budget, repo: Repo, suffix: str) -> Reply:
    location = f"{request.base}/repositories/{repo.id}{suffix}"
    if request.query:
        location += "?" + "&".join(f"{k}={v[-1]}" for k, v in request.query.items())
    body = {
        "message": "Moved Permanently",
        "url": location,
        "documentation_url": "https://docs.github.com/v3/#http-redirects",
    }
    return json_reply(request, 301, body, budget, [("Location", location)])


def etag_matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match")
    if not sent:
        return False
    weak = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") in (weak, "*") for tag in sent.split(","))


def conditional_hit(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110: If-None-Match wins; otherwise If-Modified-Since is checked."""
    if "if-none-match" in request.headers:
        return etag_matches(request, etag)
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        return parsedate_to_datetime(since) >= last_modified.replace(microsecond=0)
    except (TypeError, ValueError):
        return False


def repo_reply(request: Request, budget: Budget, repo: Repo) -> Reply:
    """200 or 304 for a resolved repository. Every answer costs one request of the budget,
    but a 304 to a request with an `Authorization` header; a spent budget answers 403."""
    body = compact_json(repo_json(repo, request.base))
    # Over the body as api.github.com would send it: the same facts have the same ETag on any
    # port the fake happens to listen on (a golden run compares the ETags it stores).
    digest = hashlib.sha256(compact_json(repo_json(repo, CANONICAL_BASE))).hexdigest()
    etag, last_modified = f'W/"{digest}"', repo.updated_at
    validators = [("ETag", etag), ("Last-Modified", http_date(last_modified))]
    hit = conditional_hit(request, etag, last_modified)
    if not (hit and "authorization" in request.headers):
        if budget.remaining <= 0:
            return rate_limited(request, budget)
        budget.remaining -= 1
    if hit:
        headers = [h for h in common_headers(request) if h[0] != "Content-Type"]
        headers += [("ETag", f'"{digest}"'), validators[1], *budget.headers(), request_id(request)]
        return Reply(304, headers, b"", server="github.com")
    headers = common_headers(request) + validators + budget.headers() + [request_id(request)]
    return Reply(200, headers, body, server="github.com")


def _children(repo: Repo, path: str) -> list[tuple[str, bool]]:
    """Immediate children (name, is_dir) of directory `path` among registered paths."""
    prefix = f"{path}/" if path else ""
    found: dict[str, bool] = {"README.md": False} if not path else {}
    for registered in repo.paths:
        if registered.startswith(prefix) and registered != path:
            head, _, rest = registered[len(prefix) :].partition("/")
            found[head] = found.get(head, False) or bool(rest) or "." not in head
    return sorted(found.items())


def _content_item(
    request: Request, repo: Repo, path: str, ref: str, is_dir: bool
) -> dict[str, Any]:
    sha = hashlib.sha1(f"{repo.full_name}:{ref}:{path}".encode()).hexdigest()
    api = f"{request.base}/repos/{repo.full_name}"
    html = f"https://github.com/{repo.full_name}/{'tree' if is_dir else 'blob'}/{ref}/{path}"
    git = f"{api}/git/{'trees' if is_dir else 'blobs'}/{sha}"
    raw = None if is_dir else f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{path}"
    item: dict[str, Any] = {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": 0 if is_dir else 42,
        "url": f"{api}/contents/{path}?ref={ref}",
        "html_url": html,
        "git_url": git,
        "download_url": raw,
        "type": "dir" if is_dir else "file",
    }
    if not is_dir:
        item.update(
            content=base64.encodebytes(f"fake {path}\n".encode()).decode(), encoding="base64"
        )
    item["_links"] = {"self": item["url"], "git": git, "html": html}
    return item


def path_kind(repo: Repo, path: str) -> str | None:
    """ "file", "dir" or None: registered paths exist on every ref; their prefixes are dirs."""
    path = path.strip("/")
    if not path or _children(repo, path):
        return "dir"
    if path in repo.paths:
        return "file" if "." in path.rsplit("/", 1)[-1] else "dir"
    return None


def contents_reply(request: Request, budget: Budget, repo: Repo, path: str) -> Reply:
    """A file answers an object, a directory a list (as GitHub does)."""
    path = path.strip("/")
    ref = request.arg("ref") or repo.default_branch
    if budget.remaining <= 0:
        return rate_limited(request, budget)
    budget.remaining -= 1
    if ref not in repo.refs | {repo.default_branch}:
        return not_found(request, budget, DOC_CONTENTS, f"No commit found for the ref {ref}")
    kind = path_kind(repo, path)
    if kind is None:
        return not_found(request, budget, DOC_CONTENTS)
    if kind == "file":
        body: Any = _content_item(request, repo, path, ref, is_dir=False)
    else:
        body = [
            _content_item(request, repo, f"{path}/{name}".strip("/"), ref, is_dir)
            for name, is_dir in _children(repo, path)
        ]
    return json_reply(request, 200, body, budget)


def rate_limit_reply(request: Request, core: Budget, graphql: Budget, token: bool) -> Reply:
    reset = core.reset
    fixed = {
        "search": (30 if token else 10),
        "integration_manifest": 5000,
        "source_import": 100,
        "code_scanning_upload": 1000,
        "actions_runner_registration": 10000,
        "scim": 15000,
        "dependency_snapshots": 100,
    }
    resources: dict[str, Any] = {"core": core.as_json()}
    for name, limit in fixed.items():
        resources[name] = {"limit": limit, "used": 0, "remaining": limit, "reset": reset}
    resources["graphql"] = (
        graphql.as_json() if token else {"limit": 0, "used": 0, "remaining": 0, "reset": reset}
    )
    return json_reply(request, 200, {"resources": resources, "rate": core.as_json()}, core)


REPO_PATH = re.compile(r"^/repos/([^/]+)/([^/]+)(/contents(?:/(.*))?)?/?$")
REPOSITORIES_PATH = re.compile(r"^/repositories/(\d+)(/contents(?:/(.*))?)?/?$")


def now_epoch() -> int:
    return int(datetime.now(UTC).timestamp())
