"""The sources' tests start from an empty loopback API: each test registers what it needs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeapi import FakeAPI, RecordedRequest


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """A running loopback API that knows nothing yet (the root `api` knows the seed)."""
    with FakeAPI() as server:
        yield server


def tagged_models_request(api: FakeAPI, arxiv_id: str, limit: int) -> RecordedRequest:
    """The one request `api` saw, checked to be huggingface_hub's listing of the `limit`
    most downloaded models tagged with `arxiv_id`; returned for its headers."""
    (sent,) = api.requests
    assert sent.path == "/api/models"
    assert sent.query == {
        "filter": f"arxiv:{arxiv_id}",
        "sort": "downloads",
        "direction": "-1",
        "limit": str(limit),
    }
    return sent
