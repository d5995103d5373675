"""The contract of the huggingface_hub adapter (`enrich.sources.hub_client`) with the
installed huggingface_hub: each way the project bends the library, checked against the
loopback API.

An upgrade of huggingface_hub that breaks one of these fails here, by name, not in a run.
The version these tests pass with is the lower bound in `pyproject.toml`, the next minor its
upper bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.utils import _http as hub_http

from enrich.errors import PermanentError
from enrich.sources.hub_client import (
    DATASET_EXPAND,
    MODEL_EXPAND,
    SPACE_EXPAND,
    confine,
    hooked,
    install,
    make_api,
    rate_limit,
    tagged_models,
)
from enrich.transport import BOUNDS, Bounds
from tests.fakeapi import FakeAPI
from tests.sources.conftest import tagged_models_request

TOKEN = "hf_fake-contract-token-not-real"  # no real token's shape: the leak check stays quiet
LIMITS = Bounds(deadline=5.0, max_bytes=1 << 20)


@dataclass
class Recorder:
    """Hooks that confine every request as a run does and keep what they saw."""

    endpoint: str
    timeout: float = 0.5
    sent: list[httpx2.Request] = field(default_factory=list)
    answers: list[httpx2.Response] = field(default_factory=list)

    def admit(self, request: httpx2.Request) -> None:
        confine(request, self.endpoint, httpx2.Timeout(self.timeout), LIMITS)
        self.sent.append(request)

    def observe(self, response: httpx2.Response) -> None:
        self.answers.append(response)


def recorder(api: FakeAPI) -> Recorder:
    return Recorder(str(httpx2.URL(api.base_url)))


def test_install_replaces_the_shared_client_once() -> None:
    """`set_client_factory` + `get_session`: the library's calls all use one shared client,
    and it is ours after `install`; installing again keeps it."""
    install()
    first = hub_http.get_session()
    install()
    assert hub_http.get_session() is first
    assert len(first.event_hooks["request"]) == 1
    assert len(first.event_hooks["response"]) == 1
    assert first.timeout == httpx2.Timeout(None)  # no default: the run's request hook sets it
    assert first.follow_redirects  # as the library's own client: a renamed repo redirects


def test_hooked_calls_go_to_the_run_with_its_timeout_and_bounds(api: FakeAPI) -> None:
    api.add_model("acme/tiny-lm")
    hooks = recorder(api)
    with hooked(hooks):
        info = make_api(api.base_url, "").model_info("acme/tiny-lm", expand=MODEL_EXPAND)
    assert info.id == "acme/tiny-lm"
    (request,) = hooks.sent
    assert request.extensions["timeout"] == httpx2.Timeout(0.5).as_dict()
    assert request.extensions[BOUNDS] == LIMITS
    assert [r.status_code for r in hooks.answers] == [200]


def test_outside_a_run_the_librarys_own_hook_runs(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other code in the process keeps the library's behaviour (here: its offline switch,
    which its request hook `hf_request_event_hook` enforces); a run's requests do not."""
    api.add_model("acme/tiny-lm")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    hub = make_api(api.base_url, "")
    install()
    with pytest.raises(OfflineModeIsEnabled):
        hub.model_info("acme/tiny-lm")
    with hooked(recorder(api)):
        assert hub.model_info("acme/tiny-lm").id == "acme/tiny-lm"
    assert api.count("hub") == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://elsewhere.example/api/models/acme/x",  # another host
        "{base}/api/agent-harnesses",  # a path the project never asks
        "{base}/acme/x/resolve/main/config.json",  # a file download
    ],
)
def test_confine_refuses_what_is_not_the_hub_api(api: FakeAPI, url: str) -> None:
    hooks = recorder(api)
    request = httpx2.Request("GET", url.format(base=api.base_url))
    with pytest.raises(PermanentError, match="outside the Hub API"):
        hooks.admit(request)
    assert BOUNDS not in request.extensions


@pytest.mark.parametrize(
    "call",
    [
        lambda hub: hub.model_info("acme/m", expand=MODEL_EXPAND),
        lambda hub: hub.dataset_info("acme/d", expand=DATASET_EXPAND),
        lambda hub: hub.space_info("acme/s", expand=SPACE_EXPAND),
        lambda hub: hub.get_collection("acme/c-0123456789abcdef01234567"),
        lambda hub: hub.paper_info("2306.07629"),
        lambda hub: hub.get_organization_overview("acme"),
        lambda hub: tagged_models(hub, "2306.07629", 5),
    ],
)
def test_each_call_sends_one_request_and_raises(api: FakeAPI, call: Callable[[Any], Any]) -> None:
    """No retry inside the library (no `http_backoff`): a 503 raises at once, with the answer
    (its headers give the policy's wait)."""
    api.fault("hub", "503")
    with hooked(recorder(api)), pytest.raises(HfHubHTTPError) as raised:
        call(make_api(api.base_url, ""))
    assert raised.value.response.status_code == 503
    assert api.count("hub") == 1


def test_tagged_models_is_the_list_models_request(api: FakeAPI) -> None:
    api.add_model("acme/tagged", tags=["arxiv:2306.07629"], downloads=7)
    with hooked(recorder(api)):
        items = tagged_models(make_api(api.base_url, TOKEN), "2306.07629", 5)
    assert [item["id"] for item in items] == ["acme/tagged"]
    sent = tagged_models_request(api, "2306.07629", 5)
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"  # HfApi's headers


def test_token_is_explicit_never_taken_from_the_environment(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert "authorization" not in make_api(api.base_url, "")._build_hf_headers()
    headers = make_api(api.base_url, "hf_other")._build_hf_headers()
    assert headers["authorization"] == "Bearer hf_other"
    assert make_api(api.base_url + "/", "").endpoint == api.base_url


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"api";r=3;t=42', (3, 42.0)),
        ('"api";r=0;t=1', (0, 1.0)),
        (None, None),
    ],
)
def test_rate_limit_reads_the_ratelimit_header(
    header: str | None, expected: tuple[int, float] | None
) -> None:
    headers = {"RateLimit": header, "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
    response = httpx2.Response(200, headers={k: v for k, v in headers.items() if v})
    assert rate_limit(response) == expected


def test_every_property_read_can_be_expanded() -> None:
    """The library's `Expand*Property_T` literals still name what `hub_records` reads."""
    common = {"downloads", "downloadsAllTime", "likes", "lastModified", "cardData", "gated"}
    assert set(MODEL_EXPAND) == common | {"pipeline_tag", "library_name", "tags"}
    assert set(DATASET_EXPAND) == common | {"tags"}
    assert set(SPACE_EXPAND) == {"likes", "lastModified", "cardData", "tags", "sdk"}
