"""GitHub over GraphQL, with a token: repositories in aliased batches.

One query asks for up to `GITHUB_GRAPHQL_BATCH` repositories, each under an alias
(`r0: repository(owner: $o0, name: $n0) { ...repo }`), plus `rateLimit { cost remaining
resetAt }`: 50 repositories for one point of the 5,000/hour GraphQL budget. Every value
travels as a variable, never spliced into the query text. Linked subpaths ride along in the
same query (`s0: object(expression: "main:docs") { __typename }`): checking them costs
nothing extra. ETags do not apply: every batch is asked in full. Batches are made oldest
values first and sent while the budget (`github_budget`) lasts; the rest wait.

A GraphQL answer can be partial: `data.r3 = null` plus an error whose `path` is `["r3"]`.
So the answer is read alias by alias (`parse_batch`), never through PyGithub's
`graphql_query`, which raises on the first error and would lose the whole batch. Nodes are
mapped by hand (`meta_from_node`) and end in `github_meta.build_meta`, as REST bodies do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from github import Github

from enrich.config import GITHUB_GRAPHQL_BATCH, Settings
from enrich.errors import FetchError, PermanentError, TransientError
from enrich.metadata import RepoMeta
from enrich.models import Identifier, Result, Status
from enrich.net import http_error, server_wait
from enrich.sources import FetchContext, Request
from enrich.sources import github_run as gr
from enrich.sources.github_budget import Budget, NotSent, RateLimit
from enrich.sources.github_client import exchange, graphql_url
from enrich.sources.github_meta import (
    MAX_SHORT,
    build_meta,
    checkable,
    json_object,
    moved_to,
    split_key,
    split_subpath,
)
from enrich.text import clean

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


# --------------------------------------------------------------------------- transport


async def fetch(
    settings: Settings, models: Github, requests: Sequence[Request], ctx: FetchContext
) -> dict[Identifier, Result]:
    """One result per request, in batches of `GITHUB_GRAPHQL_BATCH` while the budget lasts."""
    ordered = gr.oldest_first(requests)
    size = GITHUB_GRAPHQL_BATCH
    batches = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    run = gr.Run(ctx, settings, Budget(ctx.stats, ctx.now, len(batches), "points", ""))
    url = graphql_url(models)
    out: dict[Identifier, Result] = {}

    async def work(batch: Sequence[Request]) -> None:
        out.update(await _batch(run, url, batch))
        ctx.advance(len(batch))

    try:
        await gr.in_order(batches, work)
    finally:
        run.close()
    return out


async def _batch(run: gr.Run, url: str, batch: Sequence[Request]) -> dict[Identifier, Result]:
    keys = [r.identifier.key for r in batch]
    subpaths = [checkable(r.subpaths) for r in batch]
    try:
        outcomes, n = await gr.call(run, gr.take(run), partial(_post, run, url, keys, subpaths))
    except NotSent:
        return {r.identifier: run.wait(r) for r in batch}
    except gr.Failed as failed:
        return {r.identifier: run.failed(r, failed) for r in batch}
    return {
        r.identifier: run.result(r, o.status, http_status=200, attempts=n, **o.fields())
        for r, o in zip(batch, outcomes, strict=True)
    }


def _post(run: gr.Run, url: str, keys: list[str], subpaths: list[list[str]]) -> list[Outcome]:
    """One attempt at one aliased query (in a worker thread)."""
    query, variables = build_query(keys, subpaths)
    payload = {"query": query, "variables": variables}
    run.ctx.stats.count_request()
    answer = exchange(run.clients.mine(), "POST", url, "POST /graphql", input=payload)
    try:
        data = decode(*answer)
    except FetchError:
        run.budget.observe(answer[1], 0)
        raise
    limit = rate_limit(data)
    run.budget.observe(answer[1], limit.cost or 1, limit)
    return parse_batch(data, keys, subpaths)


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
        return RateLimit()
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
        message = clean(error.get("message"), MAX_SHORT)
        return Outcome(Status.ERROR, error=f"{key}: GraphQL {kind}: {message}".rstrip(": "))
    if not isinstance(node, dict):
        raise PermanentError("malformed answer: a repository is not an object")
    meta = meta_from_node(node, subpaths)
    moved = moved_to(meta, key)
    return Outcome(Status.MOVED, meta, moved_to=moved) if moved else Outcome(Status.OK, meta)


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
