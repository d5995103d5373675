"""Find what a markdown text links to: arXiv ids, GitHub repos (+ tree/blob paths), Hub pages,
DOIs, ACL, PMLR and OpenReview papers.

Deliberately simple regexes (the project's own resolver is the real thing); good enough to
populate the fake from a seed file so that every link has something to answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .fixtures import HubKind, split_arxiv_id

_ARXIV_LINK = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?"
)
_GITHUB_LINK = re.compile(
    r"github\.com/([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+?)(?:\.git)?"
    r"(?:/(?:tree|blob)/([^/\s)\]#?\"'<>|]+)(?:/([^\s)\]#?\"'<>|]+))?)?"
    r"(?=[.,;]?(?:[/\s)\]#?\"'<>|]|$))"
)
_HF_LINK = re.compile(
    r"huggingface\.co/(?:(datasets|spaces|collections|papers)/)?"
    r"([A-Za-z0-9][\w.-]*)(?:/([A-Za-z0-9][\w.-]*))?"
)
_DOI_LINK = re.compile(
    r"(?:doi\.org|dl\.acm\.org/doi(?:/abs|/full|/pdf|/epdf)?)/(10\.\d{4,9}/[^\s)\]>\"'|?#]+)"
)
_PMLR_LINK = re.compile(r"proceedings\.mlr\.press/(v\d+)/([A-Za-z0-9_-]+)")
_OPENREVIEW_LINK = re.compile(r"openreview\.net/(?:forum|pdf)\?(?:[^\s)\]#]*&)?id=([A-Za-z0-9_-]+)")
_ACL_LINK = re.compile(r"aclanthology\.org/([A-Za-z0-9][\w.-]*?\d)(?:\.pdf)?/?(?=[\s)\]>\"'|?#]|$)")
_GITHUB_RESERVED = {
    "orgs",
    "topics",
    "features",
    "settings",
    "sponsors",
    "marketplace",
    "about",
    "login",
    "apps",
    "collections",
    "users",
    "search",
    "site",
    "pricing",
}
_HF_RESERVED = {
    "docs",
    "blog",
    "models",
    "tasks",
    "learn",
    "pricing",
    "join",
    "login",
    "settings",
    "organizations",
    "posts",
    "chat",
    "spaces",
    "datasets",
    "collections",
    "papers",
    "api",
    "new",
    "enterprise",
    "huggingface",
}


@dataclass
class Extracted:
    """Everything a markdown text links to, keyed the way the fake registers it."""

    papers: dict[str, int | None] = field(default_factory=dict)  # arxiv id -> version seen
    repos: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # name -> {(ref, path)}
    hub: dict[tuple[HubKind, str], None] = field(default_factory=dict)
    collections: dict[str, None] = field(default_factory=dict)
    paper_pages: dict[str, None] = field(default_factory=dict)
    orgs: dict[str, None] = field(default_factory=dict)
    dois: dict[str, None] = field(default_factory=dict)  # lower case
    acl: dict[str, None] = field(default_factory=dict)
    pmlr: dict[str, None] = field(default_factory=dict)  # "v235/guo24g"
    openreview: dict[str, None] = field(default_factory=dict)  # forum ids


def extract_links(text: str) -> Extracted:
    out = Extracted()
    for m in _ARXIV_LINK.finditer(text):
        seen = int(m[2]) if m[2] else None
        out.papers[m[1]] = max(filter(None, (out.papers.get(m[1]), seen)), default=None)
    for m in _GITHUB_LINK.finditer(text):
        if m[1].lower() in _GITHUB_RESERVED:
            continue
        targets = out.repos.setdefault(f"{m[1]}/{m[2]}", set())
        if m[3]:
            targets.add((m[3], (m[4] or "").rstrip("/")))
    for m in _HF_LINK.finditer(text):
        _add_hub_link(out, m[1], m[2], m[3])
    for m in _DOI_LINK.finditer(text):
        out.dois[m[1].lower()] = None
    for m in _ACL_LINK.finditer(text):
        out.acl[m[1]] = None
    for m in _PMLR_LINK.finditer(text):
        out.pmlr[f"{m[1]}/{m[2]}"] = None
    for m in _OPENREVIEW_LINK.finditer(text):
        out.openreview[m[1]] = None
    return out


def _add_hub_link(out: Extracted, section: str | None, first: str, second: str | None) -> None:
    if section == "papers":
        if split_arxiv_id(first):
            out.paper_pages[first] = None
    elif section == "collections":
        if second:
            out.collections[f"{first}/{second}"] = None
    elif section in ("datasets", "spaces"):
        if second:
            out.hub[("dataset" if section == "datasets" else "space", f"{first}/{second}")] = None
    elif first.lower() not in _HF_RESERVED:
        if second:
            out.hub[("model", f"{first}/{second}")] = None
        else:
            out.orgs[first] = None
