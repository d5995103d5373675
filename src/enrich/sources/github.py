"""GitHub repositories through PyGithub: GraphQL batches with a token, REST without.

The source checks each key, then hands the valid requests to one transport: with a token,
aliased GraphQL queries of 50 repositories (`github_graphql`); without one, a conditional
REST request per repository (`github_rest`). Both share the run's machinery
(`github_run`: retries, order, results), its budget (`github_budget`: as many repositories
as the rate limit allows, oldest values first, the rest waiting for a later run), the
normalisation into `RepoMeta` (`github_meta`) and the adapter that holds every way
PyGithub is bent to this project's control (`github_client`).

Secrets. The token goes to `Auth.Token` only; errors are rebuilt from what they mean
(status, exception type), never from exception text or headers, and are scrubbed anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from enrich.config import Settings
from enrich.errors import PermanentError
from enrich.models import Identifier, Kind, Result, Status
from enrich.sources import FetchContext, Request, github_graphql, github_rest, result
from enrich.sources.github_client import make_client
from enrich.sources.github_meta import split_key
from enrich.sources.github_run import NAME


class GitHubSource:
    """GitHub repositories: `github_repo` identifiers -> `RepoMeta`."""

    name = NAME
    kinds = frozenset({Kind.GITHUB_REPO})

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Builds PyGithub objects from answers; never sends a request (objects are complete).
        self._models = make_client(settings)
        # PyGithub logs at INFO to its own stderr handler (each redirect it follows); moves
        # are reported as results, so keep its chatter out of the progress display.
        logging.getLogger("github").setLevel(logging.WARNING)

    async def fetch(
        self, requests: Sequence[Request], ctx: FetchContext
    ) -> dict[Identifier, Result]:
        out: dict[Identifier, Result] = {}
        valid: list[Request] = []
        for request in requests:
            try:
                split_key(request.identifier.key)
                valid.append(request)
            except PermanentError as exc:
                out[request.identifier] = result(request, ctx, NAME, Status.ERROR, error=str(exc))
                ctx.advance(1)
        transport = github_graphql if self._settings.github_token else github_rest
        out.update(await transport.fetch(self._settings, self._models, valid, ctx))
        return out
