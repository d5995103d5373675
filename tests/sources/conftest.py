"""The sources' tests start from an empty loopback API: each test registers what it needs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeapi import FakeAPI


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """A running loopback API that knows nothing yet (the root `api` knows the seed)."""
    with FakeAPI() as server:
        yield server
