"""Shared fixtures: the loopback API and the environment that points `enrich` at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeapi import FakeAPI

ROOT = Path(__file__).parents[1]
SEED = ROOT / "seeds" / "slm-survey.md"
OUTPUTS = frozenset(
    {
        "CHANGES.md",
        "enriched.json",
        "enriched.schema.json",
        "index.html",
        "report.md",
        SEED.name,
        "timeline.svg",
    }
)
"""The files a run on the seed writes into its output folder (the regenerated seed among them)."""


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """A running loopback API that knows every entity the seed links."""
    with FakeAPI() as server:
        server.populate_from_markdown(SEED.read_text(encoding="utf-8"))
        yield server


def api_env(base_url: str, **extra: str) -> dict[str, str]:
    """The process environment of a run against the API at `base_url`, with no token.

    Retries decide as in production but do not sleep (`ENRICH_RETRY_WAIT=0`, the testing
    switch): a test that wants the real waits passes `ENRICH_RETRY_WAIT="1"`."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "HF_TOKEN", "S2_API_KEY")
    }
    env.update(
        ENRICH_ARXIV_URL=f"{base_url}/api/query",
        ENRICH_GITHUB_URL=base_url,
        HF_ENDPOINT=base_url,
        ENRICH_S2_URL=base_url,
        ENRICH_PMLR_URL=base_url,
        ENRICH_OPENREVIEW_URL=base_url,
        ENRICH_ARXIV_DELAY="0",
        ENRICH_S2_DELAY="0",
        ENRICH_LANDING_DELAY="0",
        HF_HUB_OFFLINE="0",
        HF_HUB_DISABLE_TELEMETRY="1",
        ENRICH_RETRY_WAIT="0",
    )
    env.update(extra)
    return env
