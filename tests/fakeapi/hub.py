"""Hugging Face Hub bodies and headers: repo info, lists, collections, papers, overviews.

Key order and header set follow `shared/api-samples/huggingface/model_info_*`. The ETag is the
Express form the Hub sends (`W/"<hex length>-<27 chars of base64 SHA-1>"`). The IETF
`RateLimit` / `RateLimit-Policy` pair is the one `huggingface_hub.utils.parse_ratelimit_headers`
reads (`"api";r=<remaining>;t=<seconds to reset>` and `"fixed window";"api";q=<limit>;w=<window>`).
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any, cast

from .fixtures import Collection, HubKind, HubRepo, Org, PaperPage
from .wire import Reply, compact_json, iso_ms

EXPOSE = (
    "X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,"
    "Accept-Ranges,Content-Range,X-Xet-Access-Token,X-Xet-Token-Expiration,"
    "X-Xet-Refresh-Route,X-Xet-Cas-Url,X-Xet-Hash"
)
# The properties `expand=` accepts per repo type (huggingface_hub 2.4.0 Expand*Property_T).
_MODEL_EXPAND = """author baseModels cardData childrenModelCount config createdAt disabled
downloads downloadsAllTime evalResults gated gguf inference inferenceProviderMapping lastModified
library_name likes mask_token model-index pipeline_tag private resourceGroup safetensors sha
siblings spaces tags transformersInfo trendingScore usedStorage widgetData"""
_DATASET_EXPAND = """author cardData citation createdAt description disabled downloads
downloadsAllTime gated lastModified likes mainSize paperswithcode_id private resourceGroup sha
siblings tags trendingScore usedStorage"""
_SPACE_EXPAND = """author cardData createdAt datasets disabled lastModified likes models private
region resourceGroup runtime sdk sha siblings subdomain tags trendingScore usedStorage"""
EXPANDABLE: dict[HubKind, frozenset[str]] = {
    "model": frozenset(_MODEL_EXPAND.split()),
    "dataset": frozenset(_DATASET_EXPAND.split()),
    "space": frozenset(_SPACE_EXPAND.split()),
}


def etag(body: bytes) -> str:
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
    return f'W/"{len(body):x}-{digest}"'


def request_id() -> str:
    now = int(time.time())
    tail = hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:24]
    return f"Root=1-{now:08x}-{tail}"


def headers(rate: tuple[int, int, int, int] | None) -> list[tuple[str, str]]:
    """Common headers; `rate` is (remaining, seconds to reset, limit, window)."""
    out = [
        ("Access-Control-Allow-Origin", "https://huggingface.co"),
        ("Access-Control-Expose-Headers", EXPOSE),
        ("Content-Type", "application/json; charset=utf-8"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Vary", "Origin"),
        ("X-Powered-By", "huggingface-moon"),
        ("X-Request-Id", request_id()),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if rate is not None:
        remaining, reset, limit, window = rate
        out += [
            ("RateLimit", f'"api";r={remaining};t={reset}'),
            ("RateLimit-Policy", f'"fixed window";"api";q={limit};w={window}'),
        ]
    return out


def json_reply(
    status: int,
    body: Any,
    rate: tuple[int, int, int, int] | None,
    extra: list[tuple[str, str]] | None = None,
) -> Reply:
    raw = compact_json(body)
    return Reply(status, [*headers(rate), ("ETag", etag(raw)), *(extra or [])], raw, server="")


def error_reply(
    status: int, message: str, rate: tuple[int, int, int, int] | None, code: str | None = None
) -> Reply:
    extra = (
        [("X-Error-Code", code), ("X-Error-Message", message)]
        if code
        else [("X-Error-Message", message)]
    )
    return json_reply(status, {"error": message}, rate, extra)


def repo_not_found(rate: tuple[int, int, int, int] | None) -> Reply:
    """What `hf_raise_for_status` maps to RepositoryNotFoundError (X-Error-Code: RepoNotFound)."""
    return error_reply(404, "Repository not found", rate, "RepoNotFound")


def _tags(repo: HubRepo) -> list[str]:
    lead = {
        "model": [repo.library_name or "", "safetensors", repo.pipeline_tag or ""],
        "dataset": ["size_categories:1K<n<10K", "format:parquet"],
        "space": [repo.sdk or ""],
    }[repo.kind]
    tags = [*lead, *repo.tags, *(f"arxiv:{a}" for a in repo.arxiv_ids)]
    if repo.license:
        tags.append(f"license:{repo.license}")
    return list(dict.fromkeys(t for t in [*tags, "region:us"] if t))


def _card(repo: HubRepo) -> dict[str, Any]:
    card: dict[str, Any] = {"license": repo.license} if repo.license else {}
    if repo.kind == "model":
        card["tags"] = list(repo.tags)
    if repo.kind == "space":
        card.update(
            title=repo.repo_id.split("/")[-1],
            emoji="🚀",
            colorFrom="blue",
            colorTo="green",
            sdk=repo.sdk,
            app_file="app.py",
            pinned=False,
        )
    return card


def _subdomain(repo_id: str) -> str:
    return repo_id.replace("/", "-").replace("_", "-").replace(".", "-").lower()


def repo_properties(repo: HubRepo) -> dict[str, Any]:
    """Every property the fake knows, keys in the Hub's order (model_info sample first)."""
    props: dict[str, Any] = {
        "_id": repo.object_id,
        "id": repo.repo_id,
        "private": repo.private,
        "pipeline_tag": repo.pipeline_tag,
        "library_name": repo.library_name,
        "tags": _tags(repo),
        "downloads": repo.downloads,
        "likes": repo.likes,
        "modelId": repo.repo_id,
        "author": repo.author,
        "sha": repo.sha,
        "lastModified": iso_ms(repo.last_modified),
        "gated": repo.gated,
        "disabled": repo.disabled,
        "config": {},
        "cardData": _card(repo),
        "siblings": [{"rfilename": s} for s in repo.siblings],
        "spaces": [],
        "createdAt": iso_ms(repo.created_at),
        "usedStorage": repo.used_storage,
        "downloadsAllTime": repo.downloads_all_time,
        "trendingScore": 0,
        "description": f"Dataset card of {repo.repo_id}",
        "citation": None,
        "paperswithcode_id": None,
        "sdk": repo.sdk,
        "subdomain": _subdomain(repo.repo_id),
        "host": f"https://{_subdomain(repo.repo_id)}.hf.space",
        "runtime": {
            "stage": "RUNNING",
            "hardware": {"current": "cpu-basic", "requested": "cpu-basic"},
            "storage": None,
            "gcTimeout": 172800,
            "replicas": {"requested": 1, "current": 1},
            "devMode": False,
        },
        "models": [],
        "datasets": [],
    }
    if repo.author is None:
        del props["author"]
    return props


_REPO_HEAD = ("_id", "id", "author", "sha", "lastModified", "private", "gated", "disabled")
"""The keys a dataset's and a Space's info body lead with, and a dataset's listing."""

_DEFAULT_KEYS: dict[HubKind, tuple[str, ...]] = {
    "model": (
        "_id",
        "id",
        "private",
        "pipeline_tag",
        "library_name",
        "tags",
        "downloads",
        "likes",
        "modelId",
        "author",
        "sha",
        "lastModified",
        "gated",
        "disabled",
        "config",
        "cardData",
        "siblings",
        "spaces",
        "createdAt",
        "usedStorage",
    ),
    "dataset": (
        *_REPO_HEAD,
        "tags",
        "description",
        "citation",
        "downloads",
        "likes",
        "cardData",
        "siblings",
        "createdAt",
        "usedStorage",
    ),
    "space": (
        *_REPO_HEAD,
        "host",
        "subdomain",
        "likes",
        "sdk",
        "tags",
        "runtime",
        "siblings",
        "createdAt",
        "usedStorage",
        "cardData",
        "models",
        "datasets",
    ),
}
_LIST_KEYS: dict[HubKind, tuple[str, ...]] = {
    "model": (
        "_id",
        "id",
        "likes",
        "trendingScore",
        "private",
        "downloads",
        "tags",
        "pipeline_tag",
        "library_name",
        "createdAt",
        "modelId",
    ),
    "dataset": (
        *_REPO_HEAD,
        "tags",
        "downloads",
        "likes",
        "trendingScore",
        "createdAt",
        "description",
    ),
    "space": ("_id", "id", "likes", "trendingScore", "private", "sdk", "tags", "createdAt"),
}


def repo_body(repo: HubRepo, expand: list[str] | None, listing: bool = False) -> dict[str, Any]:
    """Info body: default keys, list keys, or `_id` + `id` + exactly the expanded properties."""
    props = repo_properties(repo)
    if expand:
        keys: tuple[str, ...] = ("_id", "id", *expand)
    else:
        keys = (_LIST_KEYS if listing else _DEFAULT_KEYS)[repo.kind]
    if repo.pipeline_tag is None and repo.kind == "model":
        keys = tuple(k for k in keys if k != "pipeline_tag")
    return {k: props[k] for k in keys if k in props}


def collection_body(
    col: Collection, repos: dict[tuple[HubKind, str], HubRepo], papers: dict[str, PaperPage]
) -> dict[str, Any]:
    items = []
    for position, item in enumerate(col.items):
        obj_id = hashlib.sha1(f"{col.slug}:{item.item_id}".encode()).hexdigest()[:24]
        entry: dict[str, Any] = {"_id": obj_id, "id": item.item_id}
        kind = cast("HubKind", item.item_type)  # "paper"/"collection" simply miss
        repo = repos.get((kind, item.item_id))
        if repo is not None:
            entry.update(repo_body(repo, None, listing=True))
            entry.update(
                _id=obj_id,
                author=repo.author,
                repoType=repo.kind,
                lastModified=iso_ms(repo.last_modified),
            )
        if item.item_type == "paper" and item.item_id in papers:
            page = papers[item.item_id]
            entry.update(
                title=page.title, publishedAt=iso_ms(page.published_at), upvotes=page.upvotes
            )
        entry.update(type=item.item_type, position=position)
        if item.note:
            entry["note"] = {"html": item.note, "text": item.note}
        items.append(entry)
    return {
        "slug": col.slug,
        "title": col.title,
        "description": col.description,
        "gating": False,
        "lastUpdated": iso_ms(col.last_updated),
        "owner": owner_json(Org(col.owner, col.owner_type)),
        "items": items,
        "position": col.position,
        "private": col.private,
        "theme": col.theme,
        "upvotes": col.upvotes,
        "isUpvotedByUser": False,
        "shareUrl": f"https://huggingface.co/collections/{col.slug}",
    }


def owner_json(org: Org) -> dict[str, Any]:
    oid = hashlib.sha1(f"owner:{org.name}".encode()).hexdigest()[:24]
    return {
        "_id": oid,
        "avatarUrl": f"https://cdn-avatars.huggingface.co/v1/{oid}.png",
        "fullname": org.fullname or org.name,
        "name": org.name,
        "type": org.kind,
        "isHf": False,
        "isHfAdmin": False,
        "isMod": False,
        "isEnterprise": False,
        "followerCount": 0,
    }


def paper_body(page: PaperPage) -> dict[str, Any]:
    def author_id(name: str) -> str:
        return hashlib.sha1(f"{page.arxiv_id}:{name}".encode()).hexdigest()[:24]

    body: dict[str, Any] = {
        "id": page.arxiv_id,
        "authors": [{"_id": author_id(n), "name": n, "hidden": False} for n in page.authors],
        "mediaUrls": [],
        "publishedAt": iso_ms(page.published_at),
        "title": page.title,
        "summary": page.summary,
        "upvotes": page.upvotes,
        "discussionId": author_id("discussion"),
        "ai_summary": f"Summary of {page.arxiv_id}.",
        "ai_keywords": ["small language models"],
        "numComments": page.num_comments,
    }
    if page.github_repo:
        body["githubRepo"] = page.github_repo
        body["githubStars"] = page.github_stars if page.github_stars is not None else 0
    if page.project_page:
        body["projectPage"] = page.project_page
    return body


def overview_body(org: Org, counts: dict[HubKind, int]) -> dict[str, Any]:
    base = owner_json(org)
    common = {
        "numModels": counts["model"],
        "numDatasets": counts["dataset"],
        "numSpaces": counts["space"],
        "numFollowers": 0,
        "numPapers": 0,
        "isFollowing": False,
        "avatarUrl": base["avatarUrl"],
        "fullname": base["fullname"],
    }
    if org.kind == "org":
        return {"_id": base["_id"], "name": org.name, "isVerified": False, "numUsers": 1, **common}
    return {"_id": base["_id"], "user": org.name, "type": "user", "isPro": False, **common}
