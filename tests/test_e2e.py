"""`python -m enrich run` as a whole process against the loopback API (real HTTP)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import SEED, api_env
from tests.fakeapi import FakeAPI

FETCHED_KINDS = (
    "arxiv",
    "scholar",
    "github_repo",
    "hf_model",
    "hf_dataset",
    "hf_space",
    "hf_collection",
    "hf_paper",
    "hf_org",
    "pmlr",
    "openreview",
)


def run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    seeds = tmp_path / "seeds"
    if not seeds.exists():
        seeds.mkdir()
        shutil.copy(SEED, seeds / SEED.name)
    command = [
        sys.executable,
        "-m",
        "enrich",
        "run",
        "--seeds",
        str(seeds),
        "--out",
        str(tmp_path / "output"),
        "--cache",
        str(tmp_path / "cache"),
        *args,
    ]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )


def dataset(tmp_path: Path) -> dict[str, Any]:
    text = (tmp_path / "output" / "enriched.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_run_enriches_every_fetchable_link_then_a_warm_run_makes_no_request(
    tmp_path: Path, api: FakeAPI
) -> None:
    done = run(tmp_path, api_env(api.base_url))
    assert done.returncode == 0, done.stderr
    entities = dataset(tmp_path)["entities"]
    fetchable = {r: e for r, e in entities.items() if r.split(":")[0] in FETCHED_KINDS}
    # 60 linked, and 3 that Semantic Scholar names for papers linked by DOI or ACL id
    assert len([r for r in fetchable if r.startswith("arxiv:")]) == 63
    assert len([r for r in fetchable if r.startswith("github_repo:")]) == 28
    assert len([r for r in fetchable if r.startswith("scholar:")]) == 65
    assert [r for r in fetchable if r.startswith(("pmlr:", "openreview:"))] == ["pmlr:v235/guo24g"]
    assert {e["provenance"]["status"] for e in fetchable.values()} == {"ok"}
    assert api.count("arxiv") == 1  # 63 ids, one id_list batch, after Semantic Scholar's
    assert api.count("scholar") == 1  # 65 ids, one batch
    assert api.count("landing") == 1  # the PMLR paper's page
    before = api.count()
    snapshot = {p.name: p.read_bytes() for p in (tmp_path / "output").iterdir()}

    again = run(tmp_path, api_env(api.base_url))
    assert again.returncode == 0, again.stderr
    assert api.count() == before  # everything fresh in the cache: no request at all
    assert {p.name: p.read_bytes() for p in (tmp_path / "output").iterdir()} == snapshot
    assert "is up to date" in again.stderr


def test_a_failing_source_keeps_last_known_values_stale_and_exits_1(
    tmp_path: Path, api: FakeAPI
) -> None:
    assert run(tmp_path, api_env(api.base_url)).returncode == 0
    first = dataset(tmp_path)["entities"]
    api.fault("github", "500")
    done = run(tmp_path, api_env(api.base_url), "--refresh")
    assert done.returncode == 1
    entities = dataset(tmp_path)["entities"]
    repo = entities["github_repo:mit-han-lab/llm-awq"]
    assert repo["provenance"]["status"] == "stale"
    assert repo["data"] == first["github_repo:mit-han-lab/llm-awq"]["data"]
    assert (
        repo["provenance"]["fetched_at"]
        == first["github_repo:mit-han-lab/llm-awq"]["provenance"]["fetched_at"]
    )
    assert entities["arxiv:2306.07629"]["provenance"]["status"] == "ok"
    assert len(dataset(tmp_path)["records"]) == 75
    assert "github" in done.stderr


def test_unreachable_network_finishes_quickly_and_suggests_offline(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    env = api_env(dead)
    started = time.monotonic()
    done = run(tmp_path, env)
    assert time.monotonic() - started < 60
    assert done.returncode == 1
    assert "--offline" in done.stderr
    assert len(dataset(tmp_path)["records"]) == 75


def test_offline_makes_no_request(tmp_path: Path, api: FakeAPI) -> None:
    assert run(tmp_path, api_env(api.base_url)).returncode == 0
    before = api.count()
    snapshot = (tmp_path / "output" / "enriched.json").read_bytes()
    shutil.rmtree(tmp_path / "cache")
    done = run(tmp_path, api_env(api.base_url), "--offline")
    assert done.returncode == 0, done.stderr
    assert api.count() == before
    assert (tmp_path / "output" / "enriched.json").read_bytes() == snapshot
