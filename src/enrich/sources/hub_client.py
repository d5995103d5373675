"""The adapter to huggingface_hub: every way this project bends the library lives here.

huggingface_hub is the project's Hub client, used for its calls (`HfApi.model_info` and the
rest), its auth headers, its models and its errors. What it does by itself, and how this
module keeps it in check:

* Its shared httpx2 client has no timeout; only the `*_info` calls take one. `install`
  replaces, once and process-wide, the library's client factory (the documented
  `set_client_factory`) with one whose request hook hands each request to the run that made
  it (`hooked`, a `ContextVar` set in the worker thread): the run applies the timeout and
  the bounds of `enrich.transport` (`confine`), counts the request against its quota, and
  reads each answer's `RateLimit` header (`rate_limit`). Requests made outside a run (other
  code in the process) keep the library's own hook and behaviour.
* The calls used send one request and raise (`hf_raise_for_status`): only the project's
  policy retries. Not `list_models`: its pages go through `http_backoff`, which retries
  5 times by itself, sleeping up to the whole `RateLimit` reset in the worker thread; so the
  tagged models of a paper are asked the way `paper_info` asks (`tagged_models`: the shared
  session, HfApi's headers through the private `_build_hf_headers`, `hf_raise_for_status`).
* Its own request hook fails every request (a retryable `ConnectionError`) when
  `HF_HUB_OFFLINE` is set; it does not run for this project's requests: `--offline` governs.
* Building headers may fetch an "agent harness" registry from the import-time endpoint;
  `confine` refuses any request but the Hub API paths used here on the configured endpoint.
* The library reads `HF_ENDPOINT` once, at import, so the endpoint is explicit (`make_api`),
  and `token=False` keeps it from using `HF_TOKEN` or `~/.cache/huggingface/token`.

`tests/sources/test_hub_client.py` checks each of these against the installed
huggingface_hub: an upgrade that breaks one fails there, not in a run. `pyproject.toml`
bounds the version.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final, Protocol, get_args

import httpx2
from huggingface_hub import HfApi, hf_api
from huggingface_hub.utils import _http as hub_http

from enrich import __version__
from enrich.errors import PermanentError
from enrich.rate import hub_said
from enrich.transport import BOUNDS, Bounds, Transport

# The properties read, asked with `expand=`; each repo type gets those its API accepts
# (`downloadsAllTime` only comes back when asked for).
_WANTED = frozenset(
    "downloads downloadsAllTime likes lastModified pipeline_tag library_name cardData gated "
    "tags sdk".split()
)
MODEL_EXPAND: Final[list[hf_api.ExpandModelProperty_T]] = [
    p for p in get_args(hf_api.ExpandModelProperty_T) if p in _WANTED
]
DATASET_EXPAND: Final[list[hf_api.ExpandDatasetProperty_T]] = [
    p for p in get_args(hf_api.ExpandDatasetProperty_T) if p in _WANTED
]
SPACE_EXPAND: Final[list[hf_api.ExpandSpaceProperty_T]] = [
    p for p in get_args(hf_api.ExpandSpaceProperty_T) if p in _WANTED
]
# The only requests this project makes, relative to the endpoint.
_API_PATH = re.compile(
    r"/api/(?:(?:models|datasets|spaces|collections|papers|organizations|users)/|models$)"
)


class Hooks(Protocol):
    """What a run does with each request its worker threads send, and each answer."""

    def admit(self, request: httpx2.Request) -> None: ...

    def observe(self, response: httpx2.Response) -> None: ...


def make_api(endpoint: str, token: str) -> HfApi:
    """An `HfApi` on `endpoint` with `token`, or with none at all (see the module docstring)."""
    return HfApi(
        endpoint=endpoint.rstrip("/"),
        token=token or False,
        library_name="enrich",
        library_version=__version__,
    )


_HOOKS: ContextVar[Hooks | None] = ContextVar("enrich_hub_run", default=None)
_INSTALL_LOCK = threading.Lock()


def _on_request(request: httpx2.Request) -> None:
    hooks = _HOOKS.get()
    if hooks is None:
        hub_http.hf_request_event_hook(request)  # someone else's request: the library's behaviour
    else:
        hooks.admit(request)


def _on_response(response: httpx2.Response) -> None:
    hooks = _HOOKS.get()
    if hooks is not None:
        hooks.observe(response)


def _client() -> httpx2.Client:
    """The library's default client (no default timeout, redirects followed) + our hooks and
    our transport (which bounds the requests `confine` marks, and only those)."""
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [_on_request]}
    hooks["response"] = [_on_response]
    return httpx2.Client(
        event_hooks=hooks, follow_redirects=True, timeout=None, transport=Transport()
    )


def install() -> None:
    """Make the library's shared client ours, once per process."""
    with _INSTALL_LOCK:
        if _on_request not in hub_http.get_session().event_hooks["request"]:
            hub_http.set_client_factory(_client)


@contextmanager
def hooked(hooks: Hooks) -> Iterator[None]:
    """Within: the library's requests from this thread go to `hooks`."""
    install()
    token = _HOOKS.set(hooks)
    try:
        yield
    finally:
        _HOOKS.reset(token)


def confine(
    request: httpx2.Request, endpoint: str, timeout: httpx2.Timeout, limits: Bounds
) -> None:
    """Refuse a request outside the Hub API on `endpoint` (as httpx2 spells URLs); give the
    others the timeout and the transport's bounds."""
    target = str(request.url.copy_with(query=None, fragment=None))
    local = target[len(endpoint) :] if target.startswith(endpoint) else ""
    if not _API_PATH.match(local):
        raise PermanentError(f"refused a request outside the Hub API ({request.url.host})")
    extensions = {"timeout": timeout.as_dict(), BOUNDS: limits}
    request.extensions = {**request.extensions, **extensions}


def rate_limit(response: httpx2.Response) -> tuple[int, float] | None:
    """The calls left and the seconds until the window resets, from the `RateLimit` header
    (`"api";r=<left>;t=<reset s>`), or None without one: read by `rate.hub_said`, the one
    reading, which the retry policy's wait uses too."""
    return hub_said(response.headers)


def tagged_models(api: HfApi, arxiv_id: str, limit: int) -> Any:
    """The JSON of `GET /api/models?filter=arxiv:<id>&sort=downloads&direction=-1&limit=`,
    the request `list_models` sends, sent as `paper_info` sends its own (one request)."""
    params: dict[str, str | int] = {
        "filter": f"arxiv:{arxiv_id}",
        "sort": "downloads",
        "direction": -1,
        "limit": limit,
    }
    answer = hub_http.get_session().get(
        f"{api.endpoint}/api/models",
        params=params,
        headers=api._build_hf_headers(),  # the token (or none), as HfApi's calls
    )
    hub_http.hf_raise_for_status(answer)
    return answer.json()
