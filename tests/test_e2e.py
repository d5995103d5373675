"""`enrich run` end to end against the loopback API (real HTTP): the first test as whole
`python -m enrich` processes, the others through the CLI's `main` in this process (what the
process adds, its exit code and all its output, is pinned by
`test_cli.test_python_dash_m_passes_on_the_exit_code_and_all_its_output`)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from enrich.cli import main
from enrich.fetch import discovery
from enrich.models import Kind
from enrich.pipeline import load_seed
from tests.conftest import SEED, api_env, files_below, point_at
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


def run_args(tmp_path: Path, *args: str) -> list[str]:
    """`run` on the seed, copied into `tmp_path/seeds`, writing into `tmp_path`."""
    seeds = tmp_path / "seeds"
    if not seeds.exists():
        seeds.mkdir()
        shutil.copy(SEED, seeds / SEED.name)
    paths = ["--seeds", str(seeds), "--out", str(tmp_path / "output")]
    return ["run", *paths, "--cache", str(tmp_path / "cache"), *args]


def run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m enrich run ...` as a whole process."""
    command = [sys.executable, "-m", "enrich", *run_args(tmp_path, *args)]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )


@dataclass(frozen=True)
class Done:
    """A command of the CLI run in this process: its exit code and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Done]:
    """`cli(*args)`: `enrich run` on the seed in `tmp_path` (the working folder) with
    `args`, in this process; `cli("suggest", ...)` another command."""
    monkeypatch.chdir(tmp_path)

    def call(*args: str) -> Done:
        command = list(args) if args and args[0] == "suggest" else run_args(tmp_path, *args)
        capsys.readouterr()
        code = main(command)
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return call


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder after a cold `enrich run` of the seed in it (the working folder), made once:
    tests that go on from it copy it (`after_cold`) and run against their own `api`, which
    knows the same facts (fixed per id)."""
    root = tmp_path_factory.mktemp("cold")
    with FakeAPI() as api, pytest.MonkeyPatch.context() as patch:
        api.populate_from_markdown(SEED.read_text(encoding="utf-8"))
        point_at(api, patch)
        patch.chdir(root)
        assert main([*run_args(root), "-q"]) == 0
    return root


@pytest.fixture
def after_cold(cold: Path, tmp_path: Path, cli: Callable[..., Done]) -> Path:
    """`tmp_path` (`cli`'s working folder) holding a copy of `cold`."""
    shutil.copytree(cold, tmp_path, dirs_exist_ok=True)
    return tmp_path


def dataset(tmp_path: Path) -> dict[str, Any]:
    text = (tmp_path / "output" / "enriched.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.mark.slow
def test_run_enriches_every_fetchable_link_then_a_warm_run_makes_no_request(
    tmp_path: Path, api: FakeAPI
) -> None:
    done = run(tmp_path, api_env(api.base_url))
    assert done.returncode == 0, done.stderr
    data = dataset(tmp_path)
    linked = {f"{k['kind']}:{k['key']}" for r in data["records"] for k in r["links"]}
    linked |= {ref for r in data["records"] for k in r["links"] for ref in k["also"]}
    named = {
        f"arxiv:{e['data']['arxiv_id']}"
        for e in data["entities"].values()
        if e["data"] and e["data"]["type"] == "scholar" and e["data"]["arxiv_id"]
    }
    entities = {ref: e for ref, e in data["entities"].items() if ref in linked | named}
    fetchable = {r: e for r, e in entities.items() if r.split(":")[0] in FETCHED_KINDS}
    # 60 linked, and 3 that Semantic Scholar names for papers linked by DOI or ACL id
    assert len([r for r in fetchable if r.startswith("arxiv:")]) == 63
    assert len([r for r in fetchable if r.startswith("github_repo:")]) == 28
    assert len([r for r in fetchable if r.startswith("scholar:")]) == 65
    assert [r for r in fetchable if r.startswith(("pmlr:", "openreview:"))] == ["pmlr:v235/guo24g"]
    assert {e["provenance"]["status"] for e in fetchable.values()} == {"ok"}
    assert api.count("arxiv") == 1  # 63 ids, one id_list batch, after Semantic Scholar's
    assert api.count("scholar", "/graph/v1/") == 1  # 65 ids, one batch
    assert api.count("scholar", "/recommendations/v1/") == 14  # one per section with a paper
    out = tmp_path / "output"
    document = (out / "slm-survey.md").read_text(encoding="utf-8")
    assert "Published<!-- enrich -->" in document  # the default columns (no pyproject here)
    assert '<img src="timeline.svg"' in document
    timeline = (out / "timeline.svg").read_text(encoding="utf-8")
    assert timeline.count("<circle") >= 63  # every dated paper (arXiv, DOI, PMLR) drawn
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count('"citations":{"n":') >= 60  # the page sorts by citations
    assert api.count("landing") == 1  # the PMLR paper's page
    before = api.count()
    snapshot = {n: p.read_bytes() for n, p in files_below(tmp_path / "output").items()}

    again = run(tmp_path, api_env(api.base_url))
    assert again.returncode == 0, again.stderr
    assert api.count() == before  # everything fresh in the cache: no request at all
    assert {n: p.read_bytes() for n, p in files_below(tmp_path / "output").items()} == snapshot
    assert "is up to date" in again.stderr


@pytest.mark.slow
def test_a_failing_source_keeps_last_known_values_stale_and_exits_1(
    after_cold: Path,
    tmp_path: Path,
    api: FakeAPI,
    cli: Callable[..., Done],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_at(api, monkeypatch)
    first = dataset(tmp_path)["entities"]
    api.fault("github", "500")
    # The retry policy's decisions, without its sleeps (point_at sets ENRICH_RETRY_WAIT=0).
    done = cli("--refresh")
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


def test_unreachable_network_finishes_quickly_and_suggests_offline(
    tmp_path: Path, cli: Callable[..., Done], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    point_at(f"http://127.0.0.1:{port}", monkeypatch)
    # (how long a dead network may cost: test_hostile.test_a_dead_network_costs_seconds)
    done = cli()
    assert done.returncode == 1
    assert "--offline" in done.stderr
    assert len(dataset(tmp_path)["records"]) == 75


def test_offline_makes_no_request(
    after_cold: Path,
    tmp_path: Path,
    api: FakeAPI,
    cli: Callable[..., Done],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_at(api, monkeypatch)
    before = api.count()
    snapshot = (tmp_path / "output" / "enriched.json").read_bytes()
    shutil.rmtree(tmp_path / "cache")
    done = cli("--offline")
    assert done.returncode == 0, done.stderr
    assert api.count() == before
    assert (tmp_path / "output" / "enriched.json").read_bytes() == snapshot


def test_suggestions_from_the_hub_reach_the_report_and_suggest_apply_writes_them(
    tmp_path: Path, api: FakeAPI, cli: Callable[..., Done], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = "https://github.com/xuyuzhuang11/OneBit"
    api.add_paper_page("2402.11295", github_repo=repo)
    api.add_repo("xuyuzhuang11/OneBit")
    api.add_model("community/onebit-gguf", arxiv_ids=["2402.11295"], downloads=15_000)
    api.add_model("onebit/OneBit-7B", arxiv_ids=["2402.11295"], downloads=1_200)
    point_at(api, monkeypatch)
    done = cli()
    assert done.returncode == 0, done.stderr

    report = (tmp_path / "output" / "report.md").read_text(encoding="utf-8")
    _, _, section = report.partition("## Suggestions (6)\n")
    for line in (53, 102):
        assert f"- `seeds/slm-survey.md:{line}` (arxiv:2402.11295@" in section
    assert f"): Code <{repo}> — the paper's Hugging Face page" in section
    gguf = "): Model Card <https://huggingface.co/community/onebit-gguf> — tagged arxiv:2402.11295"
    assert section.count(gguf) == 2
    assert section.index("community/onebit-gguf") < section.index("onebit/OneBit-7B")

    # Only rows lacking a cell cost requests: one paper page per empty Code cell's paper (the
    # linked pages aside), one list per empty Model Card cell's paper.
    records = load_seed(SEED).records
    wanted = discovery(records)
    linked = {link.key for r in records for link in r.links if link.kind is Kind.HF_PAPER}
    pages = {r.path.rsplit("/", 1)[1] for r in api.requests if r.path.startswith("/api/papers/")}
    lists = [r.query["filter"] for r in api.requests if r.path == "/api/models"]
    assert pages == linked | {i.key for i in wanted if i.kind is Kind.HF_PAPER}
    assert sorted(lists) == sorted(
        f"arxiv:{i.key}" for i in wanted if i.kind is Kind.HF_PAPER_MODELS
    )
    assert len(lists) < len(records)
    entities = dataset(tmp_path)["entities"]
    assert entities["hf_paper:2402.11295"]["data"]["github_repo"] == repo
    assert entities["hf_paper:2405.14852"]["provenance"]["status"] == "not_found"  # no page
    models = entities["hf_paper_models:2402.11295"]["data"]["models"]
    assert [m["id"] for m in models] == ["community/onebit-gguf", "onebit/OneBit-7B"]

    applied = cli("suggest", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.count("\n+| OneBit ") == 2
    again = cli()
    assert again.returncode == 0, again.stderr
    report = (tmp_path / "output" / "report.md").read_text(encoding="utf-8")
    assert "## Suggestions" not in report  # the cells are filled now
    entities = dataset(tmp_path)["entities"]
    assert entities["github_repo:xuyuzhuang11/onebit"]["provenance"]["status"] == "ok"
    assert "hf_paper_models:2402.11295" not in entities  # no longer asked for
