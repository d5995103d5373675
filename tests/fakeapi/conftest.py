"""The fake's own tests start from an empty loopback API (the root `api` knows the seed);
a module whose tests all ask for the same few entities uses `stocked`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeapi import FakeAPI


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """A running loopback API that knows nothing yet."""
    with FakeAPI() as server:
        yield server


@pytest.fixture
def stocked(api: FakeAPI) -> FakeAPI:
    """`api`, knowing one of each: the paper 2306.07629, the repository a/b, the model a/b."""
    api.add_paper("2306.07629")
    api.add_repo("a/b")
    api.add_model("a/b")
    return api
