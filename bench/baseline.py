"""A naive refresher, written the way a typical script would be: the benchmark's baseline.

Every paper, repository and Hub page linked in the list (found with regular expressions) is
asked for with one call, one after the other, using the client libraries `enrich` uses with
their defaults: `arxiv` one request per paper and its own 3-second spacing, PyGithub one REST
call per repository, huggingface_hub one call per link. No cache, no batching, no concurrency.

    python -m bench.baseline seeds/slm-survey.md --out facts.json

Endpoints come from the variables `enrich` reads (ENRICH_ARXIV_URL, ENRICH_GITHUB_URL,
HF_ENDPOINT), so it can be pointed at the loopback fake; ENRICH_ARXIV_DELAY sets the spacing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import arxiv
import requests
from github import Github, GithubException
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})")
GITHUB = re.compile(r"github\.com/([A-Za-z0-9][\w-]*)/([\w.-]+?)(?:\.git)?(?=[/)\s#?\"'|]|$)")
HUB = re.compile(
    r"huggingface\.co/(?:(datasets|spaces|collections|papers)/)?([\w.-]+)(?:/([\w.-]+))?"
)
NOT_OWNERS = {"orgs", "topics", "docs", "blog", "models", "tasks", "organizations"}
FAILURES = (arxiv.ArxivError, GithubException, HfHubHTTPError, requests.RequestException, OSError)


def links(text: str) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Distinct arXiv ids, repositories and (Hub section, id) pairs linked in `text`."""
    papers = list(dict.fromkeys(ARXIV.findall(text)))
    repos = [f"{o}/{n}" for o, n in dict.fromkeys(GITHUB.findall(text)) if o not in NOT_OWNERS]
    hub = [page for found in HUB.findall(text) if (page := hub_page(*found)) is not None]
    return papers, list(dict.fromkeys(repos)), list(dict.fromkeys(hub))


def hub_page(section: str, first: str, second: str) -> tuple[str, str] | None:
    """(what, id) of a Hub link: a model, dataset, space, collection, paper page or org."""
    if first in NOT_OWNERS:
        return None
    if section == "papers":
        return section, first
    if second:
        return section or "model", f"{first}/{second}"
    return None if section else ("org", first)


def papers_facts(ids: list[str], endpoint: str, delay: float) -> dict[str, Any]:
    client = arxiv.Client(delay_seconds=delay)  # one request at a time, `delay` s apart
    client.query_url_format = endpoint + "?{}"
    facts: dict[str, Any] = {}
    for paper_id in ids:
        try:
            found = next(client.results(arxiv.Search(id_list=[paper_id])), None)
            facts[paper_id] = found.title if found else None
        except FAILURES as exc:
            facts[paper_id] = f"error: {type(exc).__name__}"
    return facts


def repos_facts(names: list[str], base_url: str) -> dict[str, Any]:
    client = Github(base_url=base_url)  # PyGithub's defaults: its retries, 0.25 s spacing
    facts: dict[str, Any] = {}
    for name in names:
        try:
            repo = client.get_repo(name)
            facts[name] = {"stars": repo.stargazers_count, "pushed": str(repo.pushed_at)}
        except FAILURES as exc:
            facts[name] = f"error: {type(exc).__name__}"
    client.close()
    return facts


def hub_facts(pages: list[tuple[str, str]], endpoint: str) -> dict[str, Any]:
    api = HfApi(endpoint=endpoint, token=False)
    calls: dict[str, Callable[[str], Any]] = {
        "model": api.model_info,
        "datasets": api.dataset_info,
        "spaces": api.space_info,
        "collections": api.get_collection,
        "papers": api.paper_info,
        "org": api.get_organization_overview,
    }
    facts: dict[str, Any] = {}
    for section, page in pages:
        try:
            facts[f"{section}/{page}"] = str(calls[section](page))[:80]
        except FAILURES as exc:
            facts[f"{section}/{page}"] = f"error: {type(exc).__name__}"
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("seed", type=Path)
    parser.add_argument("--out", type=Path, default=Path("baseline-facts.json"))
    args = parser.parse_args(argv)
    papers, repos, pages = links(args.seed.read_text(encoding="utf-8"))
    env = os.environ
    facts = {
        "papers": papers_facts(
            papers,
            env.get("ENRICH_ARXIV_URL", "https://export.arxiv.org/api/query"),
            float(env.get("ENRICH_ARXIV_DELAY", "3")),
        ),
        "repos": repos_facts(repos, env.get("ENRICH_GITHUB_URL", "https://api.github.com")),
        "hub": hub_facts(pages, env.get("HF_ENDPOINT", "https://huggingface.co")),
    }
    args.out.write_text(json.dumps(facts, indent=2, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
