"""Shared fixtures: the loopback API and the environment that points `enrich` at it."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

sys.dont_write_bytecode = False
"""The suite writes its bytecode caches (`__pycache__/`, git-ignored) even where the
environment says not to (`PYTHONDONTWRITEBYTECODE`): each xdist worker imports every test
module (pytest rewrites their asserts), every `python -m enrich` a test starts imports the
package, and compiling all of that again each time more than doubled the CPU of collecting
(6.5 s, not 2.5 s, a worker) and cost each process 0.1 s more to start (`--help`: 0.48 s, not
0.38 s). Those processes read the caches this one writes; they never write any themselves."""

from enrich.cli import main  # noqa: E402  (after the switch above)
from enrich.config import Endpoints, Settings  # noqa: E402
from tests.fakeapi import FakeAPI  # noqa: E402

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
        "references.bib",
        "trends.svg",
    }
)
"""The files a run on the seed writes into its output folder (the regenerated seed among them);
a run that fetched facts also writes their history (`history/<year>.csv`, `HISTORY`)."""
HISTORY = re.compile(r"history/[0-9]{4}\.csv")


def files_below(folder: Path) -> dict[str, Path]:
    """Every file below `folder` (hidden ones, and the history's, included), by its POSIX path
    in it, in that order."""
    found = (p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p for p in sorted(found)}


def without_history(names: Iterable[str]) -> set[str]:
    """`names`, the history's files left out (`HISTORY`)."""
    return {name for name in names if not HISTORY.fullmatch(name)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `slow` first, each group in its order: xdist hands the first tests out
    first, so a test of seconds starts while the short ones fill the other workers, instead of
    starting last and running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """A running loopback API that knows every entity the seed links."""
    with FakeAPI() as server:
        server.populate_from_markdown(SEED.read_text(encoding="utf-8"))
        yield server


TOKENS = ("GITHUB_TOKEN", "HF_TOKEN", "S2_API_KEY")
"""The credentials a test run never has."""


def api_vars(base_url: str) -> dict[str, str]:
    """The variables that point a run at the API at `base_url`, without pacing.

    Retries decide as in production but do not sleep (`ENRICH_RETRY_WAIT=0`, the testing
    switch): a test that wants the real waits sets `ENRICH_RETRY_WAIT="1"`."""
    return {
        "ENRICH_ARXIV_URL": f"{base_url}/api/query",
        "ENRICH_GITHUB_URL": base_url,
        "HF_ENDPOINT": base_url,
        "ENRICH_S2_URL": base_url,
        "ENRICH_PMLR_URL": base_url,
        "ENRICH_OPENREVIEW_URL": base_url,
        "ENRICH_ARXIV_DELAY": "0",
        "ENRICH_S2_DELAY": "0",
        "ENRICH_LANDING_DELAY": "0",
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "ENRICH_RETRY_WAIT": "0",
    }


def api_env(base_url: str, **extra: str) -> dict[str, str]:
    """The process environment of a run against the API at `base_url`, with no token
    (`api_vars`, then `extra`)."""
    env = {k: v for k, v in os.environ.items() if k not in TOKENS}
    return {**env, **api_vars(base_url), **extra}


class Sleeps(list[float]):
    """What a `RetryPolicy(sleep=Sleeps())` is asked to wait, in seconds, none of it slept:
    the injected clock of the tests that check how long a policy waits."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def point_at(api: FakeAPI | str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this process's runs (`main`, `Settings.from_env`) at `api` (or at the base URL
    given), with no token."""
    for name in TOKENS:
        monkeypatch.delenv(name, raising=False)
    base_url = api if isinstance(api, str) else api.base_url
    for name, value in api_vars(base_url).items():
        monkeypatch.setenv(name, value)


def fake_settings(
    api: FakeAPI, root: Path, seeds: Path | None = None, **overrides: object
) -> Settings:
    """Settings of a run against `api`: every endpoint at it, no retry waits nor delays
    between requests, `output/` and `cache/` in `root`, the seeds `seeds` (`root/seeds`
    unless given); `overrides` on top."""
    base = api.base_url
    chosen = Settings(
        seeds=root / "seeds" if seeds is None else seeds,
        out=root / "output",
        cache=root / "cache",
        endpoints=Endpoints(f"{base}/api/query", base, base, base, pmlr=base, openreview=base),
        retry_wait=False,
        arxiv_delay=0.0,
        s2_delay=0.0,
        landing_delay=0.0,
    )
    return replace(chosen, **overrides)  # type: ignore[arg-type]


def working_copy(made: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`folder`, a copy of `made` (a run a module made once), as the working folder: a test
    that goes on from a shared run changes its own copy, never the run the others read."""
    shutil.copytree(made, folder)
    monkeypatch.chdir(folder)
    return folder


def first_run(folder: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m enrich run` in `folder`, a checkout of the seed (made here), against `api`
    (in this process: `enrich.cli.main`)."""
    point_at(api, monkeypatch)
    api.set_rate_limit(5000)  # several anonymous runs in the same hour
    monkeypatch.chdir(folder)
    (folder / "seeds").mkdir()
    shutil.copy(SEED, folder / "seeds" / SEED.name)

    assert main(["run", "-q"]) == 0
