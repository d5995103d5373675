"""GitHub over REST, without a token: one `GET /repos/{owner}/{repo}` per repository.

Out of 60 requests an hour, so the budget (`github_budget`) decides how many repositories a
run fetches, oldest values first; the rest wait for a later run. Each request is
conditional on the last known ETag (`If-None-Match`): a 304 ("unchanged") returns the
previous data as `ok`, validators kept. It saves the body, not the budget: without a token
GitHub charges a 304 like a 200.

Moves: PyGithub follows a 301 itself (a second request, charged); an answer whose
`full_name` differs from the name asked, ignoring case, is `moved` with the facts under the
new name. Linked subpaths are checked with one contents request each, only while the budget
has room beyond the repositories still to fetch; otherwise their existence stays unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from urllib.parse import quote

from github import Github

from enrich.config import Settings
from enrich.metadata import RepoMeta
from enrich.models import Identifier, Result, Status
from enrich.net import http_error
from enrich.rate import github_said
from enrich.sources import FetchContext, Request
from enrich.sources import github_run as gr
from enrich.sources.github_budget import TOKEN_HINT, Budget, NotSent
from enrich.sources.github_client import exchange, meta_from_rest
from enrich.sources.github_meta import checkable, json_object, moved_to, split_subpath

_Repo = tuple[int, dict[str, str], RepoMeta | None]  # status, headers, data (200 only)


async def fetch(
    settings: Settings, models: Github, requests: Sequence[Request], ctx: FetchContext
) -> dict[Identifier, Result]:
    """One result per request, each repository a REST request while the budget lasts."""
    budget = Budget(ctx.stats, ctx.now, len(requests), "requests", TOKEN_HINT)
    run = gr.Run(ctx, settings, budget)
    out: dict[Identifier, Result] = {}

    async def work(request: Request) -> None:
        out[request.identifier] = await _item(run, models, request)
        ctx.advance(1)

    try:
        await gr.in_order(gr.oldest_first(requests), work)
    finally:
        run.close()
    return out


async def _item(run: gr.Run, models: Github, request: Request) -> Result:
    try:
        get = partial(_get_repo, run, models, request)
        answer, attempts = await gr.call(run, gr.take(run), get)
    except NotSent:
        return run.wait(request)
    except gr.Failed as failed:
        return run.failed(request, failed)
    status, headers, meta = answer
    if status == 404:
        return run.result(request, Status.NOT_FOUND, http_status=404, attempts=attempts)
    if meta is None:
        return await _revalidated(run, request, attempts)
    meta = await _with_subpaths(run, meta, request.subpaths, {})
    moved = moved_to(meta, request.identifier.key)
    return run.result(
        request,
        Status.MOVED if moved else Status.OK,
        data=meta,
        http_status=301 if moved else 200,
        attempts=attempts,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        moved_to=moved,
    )


def _get_repo(run: gr.Run, models: Github, request: Request) -> _Repo:
    """One attempt at `GET /repos/{owner}/{repo}` (in a worker thread)."""
    key = request.identifier.key
    url = f"/repos/{key}"
    what = f"GET {url}"
    run.ctx.stats.count_request()
    answer = exchange(run.clients.mine(), "GET", url, what, headers=_validators(request))
    status, headers, body = answer[0], dict(answer[1]), answer[2]
    run.budget.observe(headers, _spent(status, headers))
    if status in (304, 404):
        return status, headers, None
    if status != 200:
        raise http_error(status, headers, what)
    meta = meta_from_rest(models, json_object(body, what), headers)
    if moved_to(meta, key):
        # PyGithub followed a 301: that was a second request, and it was charged.
        run.ctx.stats.count_request()
        run.ctx.stats.rate_limit(None, 1)
    return status, headers, meta


def _spent(status: int, headers: dict[str, str]) -> int:
    """What an answer costs: nothing for a rate-limit refusal (primary: remaining 0;
    secondary: Retry-After) or a server error, one request for any other, a 304 too
    (without a token GitHub charges it like a 200)."""
    limited = github_said(headers)[0] == 0 or "retry-after" in headers
    return 0 if status >= 500 or (status in (403, 429) and limited) else 1


def _validators(request: Request) -> dict[str, str]:
    """`If-None-Match` when the last known result has data and an ETag (a fresh dict:
    PyGithub adds its own headers to the one it is given)."""
    previous = request.previous
    if previous is None or not isinstance(previous.data, RepoMeta):
        return {}
    etag = previous.provenance.etag
    return {"If-None-Match": etag} if etag else {}


async def _revalidated(run: gr.Run, request: Request, attempts: int) -> Result:
    """A 304: the last known data is current; its validators stay as they were."""
    previous = request.previous
    assert previous is not None
    assert isinstance(previous.data, RepoMeta)
    run.ctx.stats.count_revalidated()
    linked = {s: v for s, v in previous.data.subpaths.items() if s in request.subpaths}
    meta = await _with_subpaths(run, previous.data, request.subpaths, linked)
    return run.result(
        request,
        Status.MOVED if previous.moved_to else Status.OK,
        data=meta,
        http_status=304,
        attempts=attempts,
        etag=previous.provenance.etag,
        last_modified=previous.provenance.last_modified,
        moved_to=previous.moved_to,
    )


async def _with_subpaths(
    run: gr.Run, meta: RepoMeta, subpaths: Sequence[str], known: dict[str, bool]
) -> RepoMeta:
    """`meta` with `subpaths` checked (one contents request each)."""
    found = dict(known)
    for subpath in checkable(subpaths):
        # Optional requests: made only when the budget is known and has room beyond
        # what the run's repositories need. Otherwise skipped silently: the subpath's
        # existence stays unknown, which is no error.
        if subpath in found or not run.budget.spare():
            continue
        check = partial(_get_contents, run, meta.full_name, subpath)
        try:
            found[subpath], _ = await gr.call(run, gr.spare(run), check)
        except gr.Failed:
            continue
    return meta if found == meta.subpaths else meta.model_copy(update={"subpaths": found})


def _get_contents(run: gr.Run, full_name: str, subpath: str) -> bool:
    """`GET /repos/{o}/{r}/contents/{path}?ref=` exists? (one attempt, worker thread)."""
    ref, path = split_subpath(subpath) or ("", "")
    url = f"/repos/{full_name}/contents" + (f"/{quote(path)}" if path else "")
    what = f"GET {url}"
    run.ctx.stats.count_request()
    status, headers, _ = exchange(run.clients.mine(), "GET", url, what, parameters={"ref": ref})
    run.budget.observe(headers, _spent(status, dict(headers)))
    if status in (200, 404):
        return status == 200
    raise http_error(status, headers, what)
