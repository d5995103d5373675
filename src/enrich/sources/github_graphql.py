"""GitHub GraphQL batches, and the normalisation both GitHub transports share.

REST bodies go through PyGithub's own `Repository`/`License` models (`meta_from_rest`);
GraphQL nodes are mapped by hand (`meta_from_node`); both end in `build_meta`.

One query asks for up to `GITHUB_GRAPHQL_BATCH` repositories, each under an alias
(`r0: repository(owner: $o0, name: $n0) { ...repo }`), plus `rateLimit { cost remaining
resetAt }`. Every value travels as a variable, never spliced into the query text. Linked
subpaths ride along in the same query (`s0: object(expression: "main:docs") { __typename }`):
checking them costs nothing extra.

A GraphQL answer can be partial: `data.r3 = null` plus an error whose `path` is `["r3"]`.
So the answer is read alias by alias (`parse_batch`), never through PyGithub's
`graphql_query`, which raises on the first error and would lose the whole batch.

Everything a provider sends is untrusted: strings are cleaned (no control or bidi-override
characters, whitespace collapsed) and capped, names are checked, and the record is validated
by `RepoMeta` before it leaves this module.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from github import Github, GithubException
from github.GithubException import BadAttributeException
from github.License import License
from github.Repository import Repository
from pydantic import ValidationError

from enrich.errors import FetchError, PermanentError, TransientError
from enrich.models import RepoMeta, Status, utc
from enrich.net import http_error, server_wait
from enrich.text import one_line

# Caps on untrusted strings: GitHub's own limits where it has them, a repository has at most
# 20 topics of at most 50 characters each (docs.github.com, "Classifying your repository with
# topics"), an account name at most 39 characters, a repository name 100; the project's
# ceiling elsewhere (a description of 1,000 characters is already a paragraph).
MAX_DESCRIPTION = 1_000
MAX_HOMEPAGE = 500
MAX_SHORT = 200
MAX_TOPICS = 20
MAX_TOPIC = 50
_FULL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# The GraphQL errors that mean "that name resolves to nothing": `NOT_FOUND` (GitHub's type).
_NOT_FOUND = "NOT_FOUND"
# GitHub answers an exhausted GraphQL budget with 200 and an error of type RATE_LIMITED.
_RATE_LIMITED = frozenset({"RATE_LIMITED", "RATE_LIMIT"})

REPO_FIELDS = """
fragment repo on Repository {
  nameWithOwner description homepageUrl stargazerCount forkCount
  watchers { totalCount }
  issues(states: OPEN) { totalCount }
  pullRequests(states: OPEN) { totalCount }
  licenseInfo { spdxId name }
  isArchived isFork createdAt pushedAt updatedAt
  defaultBranchRef { name }
  repositoryTopics(first: 20) { nodes { topic { name } } }
  primaryLanguage { name }
}"""


# ------------------------------------------------------------------------- shared helpers


def clean(value: object, limit: int) -> str | None:
    """An untrusted string made safe to store and render: None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PermanentError(f"malformed answer: expected text, got {type(value).__name__}")
    return one_line(value, limit) or None


def clean_homepage(value: object) -> str | None:
    """A homepage, unless it names a scheme other than http(s) (`javascript:`, `data:`)."""
    text = clean(value, MAX_HOMEPAGE)
    if text and _SCHEME.match(text) and not text.lower().startswith(("http://", "https://")):
        return None
    return text


def split_subpath(subpath: str) -> tuple[str, str] | None:
    """`tree/<ref>/<path>` or `blob/<ref>/<path>` -> (ref, path); None for other subpaths.

    A ref containing `/` (`feature/x`) cannot be told from a path by the URL alone; the
    first segment is taken as the ref, as the common case (`main`, `master`, a tag).
    """
    parts = [unquote(p) for p in subpath.strip("/").split("/")]
    if len(parts) < 2 or parts[0] not in ("tree", "blob") or not parts[1]:
        return None
    return parts[1], "/".join(parts[2:])


def checkable(subpaths: Sequence[str]) -> list[str]:
    """The subpaths whose existence can be checked, in order, without duplicates."""
    return [s for s in dict.fromkeys(subpaths) if split_subpath(s) is not None]


def split_key(key: str) -> tuple[str, str]:
    """`owner/name` -> (owner, name); PermanentError when the key is not one."""
    if not _FULL_NAME.match(key):
        raise PermanentError(f"not a GitHub owner/name: {key[:MAX_SHORT]!r}")
    owner, name = key.split("/", 1)
    return owner, name


def build_meta(fields: Mapping[str, Any]) -> RepoMeta:
    """A validated `RepoMeta` from raw provider values; PermanentError when malformed."""
    full_name = fields.get("full_name")
    if not isinstance(full_name, str) or not _FULL_NAME.match(full_name):
        raise PermanentError("malformed answer: no valid full_name")
    topics = fields.get("topics") or []
    if not isinstance(topics, list):
        raise PermanentError("malformed answer: topics is not a list")
    cleaned = {
        **fields,
        "description": clean(fields.get("description"), MAX_DESCRIPTION),
        "homepage": clean_homepage(fields.get("homepage")),
        "license_spdx": clean(fields.get("license_spdx"), MAX_SHORT),
        "license_name": clean(fields.get("license_name"), MAX_SHORT),
        "default_branch": clean(fields.get("default_branch"), MAX_SHORT),
        "language": clean(fields.get("language"), MAX_SHORT),
        "topics": [t for t in (clean(t, MAX_TOPIC) for t in topics[:MAX_TOPICS]) if t],
        **{k: _moment(fields.get(k)) for k in ("created_at", "pushed_at", "updated_at")},
    }
    try:
        return RepoMeta.model_validate(cleaned)
    except ValidationError as exc:
        problems = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise PermanentError(f"malformed answer: bad {problems}") from None


def meta_from_rest(models: Github, data: dict[str, Any], headers: Mapping[str, str]) -> RepoMeta:
    """A REST repository body through PyGithub's `Repository` model, normalised."""
    repo = models.create_from_raw_data(Repository, data, dict(headers))
    raw = data.get("license")
    # Built complete, so reading it never sends a request; `repo.license` would be
    # incomplete and fill a missing field with a request of its own.
    lic = models.create_from_raw_data(License, raw) if isinstance(raw, dict) else None
    try:
        fields: dict[str, Any] = {
            "full_name": repo.full_name,
            "description": repo.description,
            "stars": repo.stargazers_count,
            "forks": repo.forks_count,
            "watchers": repo.subscribers_count,
            "open_issues": repo.open_issues_count,
            "license_spdx": lic.spdx_id if lic else None,
            "license_name": lic.name if lic else None,
            "archived": bool(repo.archived),
            "fork": bool(repo.fork),
            "created_at": repo.created_at,
            "pushed_at": repo.pushed_at,
            "updated_at": repo.updated_at,
            "default_branch": repo.default_branch,
            "topics": repo.topics,
            "homepage": repo.homepage,
            "language": repo.language,
        }
    except (GithubException, BadAttributeException):
        raise PermanentError("malformed answer: a field has the wrong type") from None
    return build_meta(fields)


def _moment(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return utc(value) if value is not None else None
    if not isinstance(value, str):
        raise PermanentError("malformed answer: a date is not text")
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise PermanentError("malformed answer: a date is not ISO 8601") from None


# ----------------------------------------------------------------------------- the query


def build_query(
    keys: Sequence[str], subpaths: Sequence[Sequence[str]]
) -> tuple[str, dict[str, str]]:
    """The aliased query for `keys` (owner/name) and its variables."""
    params: list[str] = []
    parts: list[str] = []
    variables: dict[str, str] = {}
    for i, key in enumerate(keys):
        owner, name = split_key(key)
        variables[f"o{i}"], variables[f"n{i}"] = owner, name
        params += [f"$o{i}: String!", f"$n{i}: String!"]
        objects = ""
        for j, subpath in enumerate(subpaths[i]):
            ref, path = split_subpath(subpath) or ("", "")
            variables[f"e{i}_{j}"] = f"{ref}:{path}"
            params.append(f"$e{i}_{j}: String!")
            objects += f" s{j}: object(expression: $e{i}_{j}) {{ __typename }}"
        parts.append(f"  r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...repo{objects} }}")
    body = "\n".join(parts)
    query = (
        f"query Repos({', '.join(params)}) {{\n  rateLimit {{ cost remaining resetAt }}\n"
        f"{body}\n}}\n{REPO_FIELDS}"
    )
    return query, variables


# ----------------------------------------------------------------------------- the answer


@dataclass(frozen=True)
class Outcome:
    """How one repository of a batch ended."""

    status: Status
    meta: RepoMeta | None = None
    moved_to: str | None = None
    error: str | None = None

    def fields(self) -> dict[str, Any]:
        return {"data": self.meta, "moved_to": self.moved_to, "error": self.error}


@dataclass(frozen=True)
class RateLimit:
    cost: int | None
    remaining: int | None
    reset: int | None  # epoch seconds


def json_object(body: str, what: str) -> dict[str, Any]:
    """The JSON object `body` holds; PermanentError when it holds anything else."""
    try:
        data = json.loads(body)
    except ValueError:
        raise PermanentError(f"{what}: malformed answer (not JSON)") from None
    if not isinstance(data, dict):
        raise PermanentError(f"{what}: malformed answer (not an object)")
    return data


def decode(status: int, headers: Mapping[str, str], body: str) -> dict[str, Any]:
    """The JSON object of a GraphQL answer; FetchError for an error status or a bad body."""
    if status != 200:
        raise http_error(status, headers, "POST /graphql")
    payload = json_object(body, "POST /graphql")
    if not isinstance(payload.get("data"), dict):
        raise _whole_batch_error(payload.get("errors"), headers)
    return payload


def _whole_batch_error(errors: object, headers: Mapping[str, str]) -> FetchError:
    """No `data`: the query as a whole failed (rate limit, validation, server trouble)."""
    first = errors[0] if isinstance(errors, list) and errors else {}
    first = first if isinstance(first, dict) else {}
    message = clean(first.get("message"), MAX_SHORT) or "no data"
    if first.get("type") in _RATE_LIMITED:
        wait = server_wait(headers)
        return TransientError(f"POST /graphql: rate limited: {message}", retry_after=wait)
    return PermanentError(f"POST /graphql: {message}")


def rate_limit(payload: Mapping[str, Any]) -> RateLimit:
    """`rateLimit { cost remaining resetAt }` of an answer (None where absent)."""
    data = payload.get("data")
    node = data.get("rateLimit") if isinstance(data, dict) else None
    if not isinstance(node, dict):
        return RateLimit(None, None, None)
    cost, remaining = node.get("cost"), node.get("remaining")
    reset = None
    with contextlib.suppress(ValueError):
        reset = int(datetime.fromisoformat(str(node.get("resetAt"))).timestamp())
    return RateLimit(
        cost if isinstance(cost, int) else None,
        remaining if isinstance(remaining, int) else None,
        reset,
    )


def parse_batch(
    payload: Mapping[str, Any], keys: Sequence[str], subpaths: Sequence[Sequence[str]]
) -> list[Outcome]:
    """One `Outcome` per key, in order, read alias by alias."""
    data: dict[str, Any] = payload["data"]
    errors = _errors_by_alias(payload.get("errors"))
    outcomes: list[Outcome] = []
    for i, key in enumerate(keys):
        alias = f"r{i}"
        try:
            outcomes.append(_outcome(key, data, alias, errors.get(alias), subpaths[i]))
        except FetchError as exc:
            outcomes.append(Outcome(Status.ERROR, error=f"{key}: {exc}"))
    return outcomes


def _outcome(
    key: str,
    data: Mapping[str, Any],
    alias: str,
    error: Mapping[str, Any] | None,
    subpaths: Sequence[str],
) -> Outcome:
    if alias not in data:
        return Outcome(Status.ERROR, error=f"{key}: missing from the GraphQL answer")
    node = data[alias]
    if node is None:
        if error is None or error.get("type") == _NOT_FOUND:
            return Outcome(Status.NOT_FOUND)
        kind = clean(error.get("type"), MAX_SHORT) or "error"
        message = clean(error.get("message"), MAX_SHORT) or ""
        return Outcome(Status.ERROR, error=f"{key}: GraphQL {kind}: {message}".rstrip(": "))
    if not isinstance(node, dict):
        raise PermanentError("malformed answer: a repository is not an object")
    meta = meta_from_node(node, subpaths)
    if meta.full_name.lower() != key.lower():
        return Outcome(Status.MOVED, meta, moved_to=f"github_repo:{meta.full_name.lower()}")
    return Outcome(Status.OK, meta)


def _errors_by_alias(errors: object) -> dict[str, Mapping[str, Any]]:
    """The first error of each top-level alias it names in its `path`."""
    found: dict[str, Mapping[str, Any]] = {}
    for error in errors if isinstance(errors, list) else []:
        path = error.get("path") if isinstance(error, dict) else None
        if isinstance(path, list) and path and isinstance(path[0], str):
            found.setdefault(path[0], error)
    return found


def meta_from_node(node: Mapping[str, Any], subpaths: Sequence[str]) -> RepoMeta:
    """A `Repository` node (the `repo` fragment) as `RepoMeta`."""
    issues = _count(node, "issues")
    pulls = _count(node, "pullRequests")
    license_info = _object(node, "licenseInfo")
    topics = [
        _object(n, "topic").get("name")
        for n in _object(node, "repositoryTopics").get("nodes") or []
        if isinstance(n, dict)
    ]
    return build_meta(
        {
            "full_name": node.get("nameWithOwner"),
            "description": node.get("description"),
            "stars": node.get("stargazerCount"),
            "forks": node.get("forkCount"),
            "watchers": _count(node, "watchers"),
            # REST's `open_issues_count` counts open pull requests too; so does this.
            "open_issues": None if issues is None else issues + (pulls or 0),
            "license_spdx": license_info.get("spdxId"),
            "license_name": license_info.get("name"),
            "archived": bool(node.get("isArchived")),
            "fork": bool(node.get("isFork")),
            "created_at": node.get("createdAt"),
            "pushed_at": node.get("pushedAt"),
            "updated_at": node.get("updatedAt"),
            "default_branch": _object(node, "defaultBranchRef").get("name"),
            "topics": topics,
            "homepage": node.get("homepageUrl"),
            "language": _object(node, "primaryLanguage").get("name"),
            "subpaths": {s: node.get(f"s{j}") is not None for j, s in enumerate(subpaths)},
        }
    )


def _object(node: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = node.get(name)
    return value if isinstance(value, dict) else {}


def _count(node: Mapping[str, Any], name: str) -> int | None:
    value = _object(node, name).get("totalCount")
    return value if isinstance(value, int) else None
