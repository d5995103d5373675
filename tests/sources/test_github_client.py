"""The contract of the PyGithub adapter (`enrich.sources.github_client`) with the installed
PyGithub: each way the project bends the library, checked against the loopback API.

An upgrade of PyGithub that breaks one of these fails here, by name, not in a run. The
version these tests pass with is the lower bound in `pyproject.toml`, the next minor its
upper bound.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from github import Github
from github import Requester as requester_module

from enrich.config import Endpoints, Secret, Settings
from enrich.errors import TimedOut
from enrich.sources.github_client import (
    API_VERSION,
    USER_AGENT,
    Clients,
    exchange,
    graphql_url,
    make_client,
    meta_from_rest,
)
from enrich.sources.github_meta import json_object
from tests.fakeapi import FakeAPI

TOKEN = "ghp_FAKE_contract_token_not_real"


def settings(api: FakeAPI, **overrides: Any) -> Settings:
    base = Settings(endpoints=Endpoints(github=api.base_url), github_token=Secret(""))
    return dataclasses.replace(base, **overrides)


@pytest.fixture
def client(api: FakeAPI) -> Iterator[Github]:
    made = make_client(settings(api))
    yield made
    made.close()


def test_request_json_answers_status_lowercase_headers_and_body_without_raising(
    api: FakeAPI, client: Github
) -> None:
    api.add_repo("con/tract")
    status, headers, body = exchange(client, "GET", "/repos/con/tract", "GET")
    assert status == 200
    assert headers["etag"].startswith('W/"')  # lowercase keys: read as `headers.get("etag")`
    assert headers["x-ratelimit-remaining"] == "59"
    assert json_object(body, "GET")["full_name"] == "con/tract"
    for missing in ("/repos/no/such", "/repos/no/such/contents/x"):
        assert exchange(client, "GET", missing, "GET")[0] == 404  # an answer, not an exception


def test_no_urllib3_retries_an_error_answer_comes_back_at_once(
    api: FakeAPI, client: Github
) -> None:
    """`retry=0`: a 5xx or a rate-limit 403 reaches the project's policy, not urllib3's."""
    api.add_repo("con/tract")
    api.fault("github", "502", times=1)
    assert exchange(client, "GET", "/repos/con/tract", "GET")[0] == 502
    api.fault("github", "403_rate_limit", times=1, reset=2_000_000_000)
    assert exchange(client, "GET", "/repos/con/tract", "GET")[0] == 403
    assert api.count("github") == 2


def test_no_throttle_between_requests(
    api: FakeAPI, client: Github, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`seconds_between_requests=None`: PyGithub never sleeps between requests (its default
    is 0.25 s); pacing is the project's."""
    slept: list[float] = []
    monkeypatch.setattr(requester_module.time, "sleep", slept.append)
    api.add_repo("con/tract")
    for _ in range(3):
        exchange(client, "GET", "/repos/con/tract", "GET")
    assert slept == []


@pytest.mark.parametrize("given", [0.3, 0.01, 1.0, 1.5, 20.0])
def test_the_timeout_is_the_one_given_not_whole_seconds(api: FakeAPI, given: float) -> None:
    """PyGithub's constructor takes whole seconds only; the connections are made with the
    timeout as given all the same (the requester's `kwargs` are what it makes each
    connection with, its `timeout` included)."""
    made = make_client(settings(api, timeout=given))
    try:
        assert made.requester.kwargs["timeout"] == given
    finally:
        made.close()


def test_a_timeout_raises_timed_out_after_the_timeout(api: FakeAPI) -> None:
    """A request that gets no answer within the timeout ends in `TimedOut` (retryable), and
    after the timeout the connection was made with (0.3 s here, not rounded up to 1 s), not
    the 3 s the server holds the answer."""
    api.add_repo("slow/repo")
    api.fault("github", "timeout", times=1, seconds=3)
    made = make_client(settings(api, timeout=0.3))
    started = time.monotonic()
    try:
        with pytest.raises(TimedOut, match="timed out"):
            exchange(made, "GET", "/repos/slow/repo", "GET /repos/slow/repo")
    finally:
        made.close()
    assert 0.3 <= time.monotonic() - started < 0.9


def test_headers_sent_api_version_user_agent_and_the_token(api: FakeAPI) -> None:
    api.add_repo("con/tract")
    made = make_client(settings(api), TOKEN)
    try:
        exchange(made, "GET", "/repos/con/tract", "GET")
    finally:
        made.close()
    (sent,) = api.requests
    assert sent.headers["x-github-api-version"] == API_VERSION
    assert sent.headers["user-agent"] == USER_AGENT
    assert TOKEN in sent.headers["authorization"]


def test_a_301_is_followed_by_pygithub_itself(api: FakeAPI, client: Github) -> None:
    api.add_repo("Old/Name")
    api.rename_repo("Old/Name", "New/Name")
    status, _, body = exchange(client, "GET", "/repos/old/name", "GET")
    assert status == 200
    assert json_object(body, "GET")["full_name"] == "New/Name"
    assert api.count("github") == 2  # the 301 and the request it pointed to


def test_graphql_url_is_the_base_urls(api: FakeAPI, client: Github) -> None:
    assert graphql_url(client) == api.base_url + "/graphql"


def test_models_built_from_a_body_are_complete_and_send_nothing(
    api: FakeAPI, client: Github
) -> None:
    """`create_from_raw_data` gives a complete `Repository` (and `License`): reading every
    field the project maps sends no request."""
    api.add_repo("con/tract", license_spdx="MIT", topics=["a", "b"], language="Python")
    _, headers, body = exchange(client, "GET", "/repos/con/tract", "GET")
    api.reset_requests()
    meta = meta_from_rest(client, json_object(body, "GET"), headers)
    assert api.count() == 0
    assert (meta.full_name, meta.license_spdx, meta.license_name) == (
        "con/tract",
        "MIT",
        "MIT License",
    )
    assert meta.topics == ["a", "b"]
    assert meta.language == "Python"


def test_one_client_per_thread_and_all_closed(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `Requester` is not thread-safe: `Clients` gives each worker thread its own, and
    concurrent requests each get their own answer; `close` closes every one."""
    names = [f"thread/repo-{i}" for i in range(8)]
    for name in names:
        api.add_repo(name)
    clients = Clients(settings(api), "")
    seen: dict[str, tuple[int, str]] = {}
    barrier = threading.Barrier(len(names))

    def work(name: str) -> None:
        mine = clients.mine()
        assert clients.mine() is mine
        barrier.wait()  # all at once
        _, _, body = exchange(mine, "GET", f"/repos/{name}", "GET")
        seen[name] = (id(mine), json_object(body, "GET")["full_name"])

    threads = [threading.Thread(target=work, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {name: full for name, (_, full) in seen.items()} == {n: n for n in names}
    assert len({ident for ident, _ in seen.values()}) == len(names)

    closed: list[int] = []
    real_close = Github.close

    def close(self: Github) -> None:
        closed.append(id(self))
        real_close(self)

    monkeypatch.setattr(Github, "close", close)
    clients.close()
    assert sorted(closed) == sorted(ident for ident, _ in seen.values())
