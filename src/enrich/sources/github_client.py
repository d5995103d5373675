"""The adapter to PyGithub: every way this project bends the library lives here.

PyGithub is the project's GitHub client, used for its transport (`Requester.requestJson`:
status, headers and body without raising), its authentication (`Auth.Token`) and its
response models (`Repository`, `License`). Four things are set up on purpose:

- no urllib3 retries (`retry=0`: its `GithubRetry` sleeps through 403s) and no 0.25 s
  throttle (`seconds_between_requests=None`), so `ctx.policy`, `GITHUB_CONCURRENCY` and the
  budget alone decide when a request goes out;
- the timeout as given (`settings.timeout`, a float): PyGithub's constructor insists on
  whole seconds, so it is given them rounded up (never 0, which would be none) and the
  `Requester`'s own timeout, private since PyGithub 2.0 and what every connection is made
  with, is then set to the exact value (the contract test fails if that changes). A
  sub-second timeout thus holds as it does for the other sources;
- one client per worker thread (`Clients`): a `Requester` is not thread-safe (one shared
  connection object whose `request()` stores what `getresponse()` sends), all closed when
  the fetch ends;
- a REST body becomes a `Repository` through `create_from_raw_data` (complete, so reading
  it never sends a request), its license through a `License` built the same way, since
  `repo.license` would fill a missing field with a request of its own.

`tests/sources/test_github_client.py` checks each of these against the installed PyGithub:
an upgrade that breaks one fails there, not in a run. `pyproject.toml` bounds the version.

Requests-level failures become the project's errors by their type, never their text (which
may carry a URL): timeouts and connection failures are retryable, the rest permanent.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from github import Auth, Github, GithubException
from github.GithubException import BadAttributeException
from github.License import License
from github.Repository import Repository
from requests import exceptions as http_errors

from enrich import __version__
from enrich.config import Settings
from enrich.errors import PermanentError, TimedOut, TransientError, Unreachable
from enrich.metadata import RepoMeta
from enrich.sources.github_meta import build_meta
from enrich.transport import Bounds, bounds, mount

# Pins the REST answer shape (docs.github.com, "API Versions"); the version GitHub selects
# by default and the one the recordings in shared/api-samples/github answer with.
API_VERSION = "2022-11-28"
USER_AGENT = f"enrich/{__version__} (PyGithub)"
Answer = tuple[int, Mapping[str, str], str]  # status, lowercase headers, body


def make_client(settings: Settings, token: str = "") -> Github:
    """A PyGithub client configured for this project (see the module docstring)."""
    client = Github(
        auth=Auth.Token(token) if token else None,
        base_url=settings.endpoints.github,
        # Whole seconds, as PyGithub insists, rounded up, never 0; then the exact value.
        timeout=max(1, math.ceil(settings.timeout)),
        user_agent=USER_AGENT,
        retry=0,  # no urllib3 retries: `ctx.policy` decides
        pool_size=1,  # a client serves one thread
        seconds_between_requests=None,  # pacing is GITHUB_CONCURRENCY and the budget
        seconds_between_writes=None,
        api_version=API_VERSION,
    )
    client.requester._Requester__timeout = settings.timeout  # type: ignore[attr-defined]
    _bound(client, bounds(settings, "github"))
    return client


def _bound(client: Github, limits: Bounds) -> None:
    """Every connection the client makes sends through `enrich.transport` under `limits`
    (a total deadline, a size cap). PyGithub makes its connection objects from a class its
    `Requester` keeps (private since PyGithub 2.0; the contract test and the hostile-server
    tests of this source fail if that changes): a subclass mounts the adapter on each one's
    session."""
    requester = client.requester
    base = requester._Requester__connectionClass  # type: ignore[attr-defined]

    class Bounded(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            mount(self.session, limits)

    requester._Requester__connectionClass = Bounded  # type: ignore[attr-defined]


class Clients:
    """One PyGithub client per worker thread, made on first use; `close` closes them all."""

    def __init__(self, settings: Settings, token: str) -> None:
        self._settings, self._token = settings, token
        self._local = threading.local()
        self._opened: list[Github] = []
        self._lock = threading.Lock()

    def mine(self) -> Github:
        """The calling thread's client."""
        client: Github | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = make_client(self._settings, self._token)
            with self._lock:
                self._opened.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for client in opened:
            client.close()


def exchange(client: Github, verb: str, url: str, what: str, **kwargs: Any) -> Answer:
    """One HTTP request through `client` (in a worker thread): status, headers, body."""
    try:
        return client.requester.requestJson(verb, url, **kwargs)
    except http_errors.Timeout:
        raise TimedOut(f"{what}: timed out") from None
    except http_errors.ChunkedEncodingError as exc:
        raise TransientError(f"{what}: connection failed ({type(exc).__name__})") from None
    except http_errors.ConnectionError as exc:
        raise Unreachable(f"{what}: connection failed ({type(exc).__name__})") from None
    except (http_errors.RequestException, RuntimeError, ValueError, AssertionError) as exc:
        # e.g. a redirect to another host, which PyGithub refuses to follow
        raise PermanentError(f"{what}: failed ({type(exc).__name__})") from None


def graphql_url(models: Github) -> str:
    """Where PyGithub sends GraphQL queries for this client's base URL."""
    url: str = models.requester.graphql_url
    return url


def meta_from_rest(models: Github, data: dict[str, Any], headers: Mapping[str, str]) -> RepoMeta:
    """A REST repository body through PyGithub's `Repository` model, normalised."""
    repo = models.create_from_raw_data(Repository, data, dict(headers))
    raw = data.get("license")
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
