"""The fake world's records, their deterministic default facts, and link extraction.

Every record is a plain dataclass; the wire formats live in `arxiv_feed`, `github`, `graphql`
and `hub`. Default facts come from a SHA-256 of the entity's id (never from the clock or a
global RNG), so the same seed file always yields byte-identical responses: benchmarks and
golden tests can rely on them.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

T = TypeVar("T")
HubKind = Literal["model", "dataset", "space"]

EPOCH_START = datetime(2019, 1, 1, tzinfo=UTC)
EPOCH_END = datetime(2026, 1, 31, tzinfo=UTC)
ARXIV_NEW_ID = re.compile(r"^(\d{4})\.(\d{4,5})(?:v(\d+))?$")
ARXIV_OLD_ID = re.compile(r"^([a-z\-]+(?:\.[A-Z]{2})?)/(\d{7})(?:v(\d+))?$")

_FIRST = ("Ada", "Bo", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kemal")
_LAST = ("Lovelace", "Zhang", "Okafor", "Silva", "Novak", "Kim", "Haddad", "Moreau", "Ivanova")
_CATEGORIES = ("cs.CL", "cs.LG", "cs.AI", "cs.CV", "stat.ML", "cs.DC", "cs.AR")
_LANGUAGES = ("Python", "C++", "Cuda", "Jupyter Notebook", "Rust", None)
_LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0", "NOASSERTION", None)
_HUB_LICENSES = ("apache-2.0", "mit", "llama2", "cc-by-4.0", "other", "openrail")
_PIPELINES = ("text-generation", "text2text-generation", "fill-mask", "feature-extraction")


@functools.lru_cache(maxsize=1 << 16)
def _draw(key: str, label: str) -> int:
    """The number `Facts` draws for `label` of `key`: a pure function, so cached (a test suite
    builds the same seed's entities in hundreds of fakes, thousands of draws each)."""
    return int.from_bytes(hashlib.sha256(f"{key}\x00{label}".encode()).digest()[:8], "big")


class Facts:
    """Deterministic pseudo-random facts keyed by an entity id."""

    def __init__(self, *key: str) -> None:
        self._key = "\x00".join(key)

    def num(self, label: str, lo: int, hi: int) -> int:
        return lo + _draw(self._key, label) % (hi - lo + 1)

    def choice(self, label: str, options: Sequence[T]) -> T:
        return options[self.num(label, 0, len(options) - 1)]

    def hexdigits(self, label: str, length: int) -> str:
        return hashlib.sha256(f"{self._key}\x00{label}".encode()).hexdigest()[:length]

    def date(
        self, label: str, start: datetime = EPOCH_START, end: datetime = EPOCH_END
    ) -> datetime:
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.num(label, 0, max(span, 0)))


# ---------------------------------------------------------------------------------- arXiv


@dataclass
class Author:
    name: str
    affiliation: str | None = None


@dataclass
class Paper:
    arxiv_id: str  # without version, e.g. "2306.07629" or "astro-ph/0601001"
    title: str
    authors: list[Author]
    summary: str
    published: datetime
    updated: datetime
    version: int = 1  # latest version
    primary_category: str = "cs.CL"
    categories: list[str] = field(default_factory=lambda: ["cs.CL"])
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None


def split_arxiv_id(raw: str) -> tuple[str, int | None] | None:
    """`2306.07629v2` -> ("2306.07629", 2); None when the id is not well formed."""
    for pattern in (ARXIV_NEW_ID, ARXIV_OLD_ID):
        m = pattern.match(raw)
        if m:
            base = raw.split("v")[0] if pattern is ARXIV_NEW_ID else f"{m[1]}/{m[2]}"
            return base, int(m[3]) if m[3] else None
    return None


def _arxiv_month(arxiv_id: str) -> datetime | None:
    digits = arxiv_id.split("/")[-1][:4]
    yy, mm = int(digits[:2]), int(digits[2:])
    if not 1 <= mm <= 12:
        return None
    return datetime(2000 + yy if yy < 90 else 1900 + yy, mm, 1, tzinfo=UTC)


def default_paper(arxiv_id: str) -> Paper:
    f = Facts("arxiv", arxiv_id)
    month = _arxiv_month(arxiv_id) or f.date("month")
    published = month + timedelta(seconds=f.num("published", 0, 27 * 86400))
    version = f.num("version", 1, 3)
    updated = published + timedelta(days=f.num("updated", 0, 200) if version > 1 else 0)
    categories = sorted({f.choice("cat1", _CATEGORIES), f.choice("cat2", _CATEGORIES)})
    authors = [
        Author(f"{f.choice(f'first{i}', _FIRST)} {f.choice(f'last{i}', _LAST)}")
        for i in range(f.num("n_authors", 1, 6))
    ]
    if f.num("affiliated", 0, 1):
        authors[0].affiliation = "Fake University"
    return Paper(
        arxiv_id=arxiv_id,
        title=f"Paper title for {arxiv_id}",
        authors=authors,
        summary=f"Abstract of {arxiv_id}. We study small language models & report results.",
        published=published,
        updated=updated,
        version=version,
        primary_category=categories[0],
        categories=categories,
        comment=f"{f.num('pages', 4, 40)} pages" if f.num("has_comment", 0, 2) else None,
        journal_ref=None,
        doi=f"10.48550/fake.{arxiv_id.replace('/', '.')}" if f.num("has_doi", 0, 3) == 0 else None,
    )


# --------------------------------------------------------------------------------- GitHub


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    description: str | None
    stars: int
    forks: int
    subscribers: int
    open_issues: int
    language: str | None
    license_spdx: str | None
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime
    homepage: str | None = None
    archived: bool = False
    disabled: bool = False
    fork: bool = False
    topics: list[str] = field(default_factory=list)
    default_branch: str = "main"
    owner_type: Literal["Organization", "User"] = "User"
    owner_id: int = 1
    size: int = 1024
    paths: set[str] = field(default_factory=set)  # registered content paths (files or dirs)
    refs: set[str] = field(default_factory=set)  # extra refs besides default_branch

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def default_repo(full_name: str) -> Repo:
    owner, name = full_name.split("/", 1)
    f = Facts("github", full_name.lower())
    created = f.date("created", EPOCH_START, datetime(2025, 6, 1, tzinfo=UTC))
    pushed = f.date("pushed", created, EPOCH_END)
    stars = f.num("stars", 0, 40000)
    return Repo(
        id=f.num("id", 100_000_000, 999_999_999),
        owner=owner,
        name=name,
        description=f"Code for {name}" if f.num("has_desc", 0, 4) else None,
        stars=stars,
        forks=stars // f.num("fork_ratio", 5, 20),
        subscribers=stars // 50 + 1,
        open_issues=f.num("issues", 0, 300),
        language=f.choice("language", _LANGUAGES),
        license_spdx=f.choice("license", _LICENSES),
        created_at=created,
        updated_at=max(pushed, f.date("updated", created, EPOCH_END)),
        pushed_at=pushed,
        archived=f.num("archived", 0, 9) == 0,
        topics=sorted({f"topic-{f.num('t1', 1, 9)}", "llm"}) if f.num("has_topics", 0, 1) else [],
        default_branch=f.choice("branch", ("main", "master")),
        owner_type=f.choice("owner_type", ("Organization", "User")),
        owner_id=Facts("github-owner", owner.lower()).num("id", 1_000, 99_999_999),
        size=f.num("size", 10, 500_000),
    )


# ---------------------------------------------------------------------- Hugging Face Hub


@dataclass
class HubRepo:
    kind: HubKind
    repo_id: str
    object_id: str
    sha: str
    likes: int
    downloads: int  # last 30 days, like the Hub's `downloads`
    downloads_all_time: int
    created_at: datetime
    last_modified: datetime
    license: str | None = "apache-2.0"
    arxiv_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # extra tags besides arxiv:/license:
    pipeline_tag: str | None = None
    library_name: str | None = None
    sdk: str | None = None  # spaces only
    gated: bool | str = False
    disabled: bool = False
    private: bool = False
    siblings: list[str] = field(default_factory=lambda: [".gitattributes", "README.md"])
    used_storage: int = 0

    @property
    def author(self) -> str | None:
        return self.repo_id.split("/")[0] if "/" in self.repo_id else None


def default_hub_repo(kind: HubKind, repo_id: str) -> HubRepo:
    f = Facts("hub", kind, repo_id)
    created = f.date("created", datetime(2021, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC))
    downloads = f.num("downloads", 0, 2_000_000) if kind != "space" else 0
    siblings = [".gitattributes", "README.md"]
    siblings += {
        "model": ["config.json", "model.safetensors"],
        "dataset": ["data/train.parquet"],
        "space": ["app.py", "requirements.txt"],
    }[kind]
    return HubRepo(
        kind=kind,
        repo_id=repo_id,
        object_id=f.hexdigits("object_id", 24),
        sha=f.hexdigits("sha", 40),
        likes=f.num("likes", 0, 5000),
        downloads=downloads,
        downloads_all_time=downloads * f.num("all_time_factor", 1, 30),
        created_at=created,
        last_modified=f.date("modified", created, EPOCH_END),
        license=f.choice("license", _HUB_LICENSES),
        pipeline_tag=f.choice("pipeline", _PIPELINES) if kind == "model" else None,
        library_name="transformers" if kind == "model" else None,
        sdk=f.choice("sdk", ("gradio", "streamlit", "docker")) if kind == "space" else None,
        siblings=siblings,
        used_storage=f.num("storage", 10_000, 50_000_000_000),
    )


@dataclass
class CollectionItem:
    item_type: Literal["model", "dataset", "space", "paper", "collection"]
    item_id: str
    note: str | None = None


@dataclass
class Collection:
    slug: str  # "<namespace>/<title-slug>-<24 hex>"
    title: str
    owner: str
    items: list[CollectionItem]
    last_updated: datetime
    upvotes: int = 0
    description: str | None = None
    private: bool = False
    theme: str = "indigo"
    position: int = 0
    owner_type: Literal["org", "user"] = "org"


def default_collection(slug: str) -> Collection:
    f = Facts("hub-collection", slug)
    owner, rest = slug.split("/", 1)
    title = re.sub(r"-[0-9a-f]{24}$", "", rest).replace("-", " ").strip() or rest
    items = [CollectionItem("model", f"{owner}/{title.replace(' ', '-')}-{i}") for i in range(2)]
    return Collection(
        slug=slug,
        title=title,
        owner=owner,
        items=items,
        last_updated=f.date("updated"),
        upvotes=f.num("upvotes", 0, 300),
        description=f"Collection {title}",
    )


@dataclass
class PaperPage:
    arxiv_id: str
    title: str
    authors: list[str]
    summary: str
    published_at: datetime
    upvotes: int = 0
    github_repo: str | None = None  # full URL, like the Hub's `githubRepo`
    github_stars: int | None = None
    project_page: str | None = None
    num_comments: int = 0


def default_paper_page(arxiv_id: str) -> PaperPage:
    paper = default_paper(arxiv_id)
    f = Facts("hub-paper", arxiv_id)
    return PaperPage(
        arxiv_id=arxiv_id,
        title=paper.title,
        authors=[a.name for a in paper.authors],
        summary=paper.summary,
        published_at=paper.published,
        upvotes=f.num("upvotes", 0, 400),
        num_comments=f.num("comments", 0, 12),
    )


@dataclass
class Org:
    name: str
    kind: Literal["org", "user"] = "org"
    fullname: str | None = None
