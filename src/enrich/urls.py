"""Stage 2, the heart of it: a URL -> a typed `Identifier` with a canonical key. Pure.

The URL alone decides the kind: an arXiv link in a Code column is still a paper (and is
reported as misplaced by `checks`). Each host family has one small classifier; anything no
classifier claims is a generic `url`, keyed by its normalised form: a GitHub attachment
(`github.com/user-attachments/...`) or a Hugging Face site page is not a repository, a Hub
documentation page (`/docs`, `/transformers`, `/blog`, `/learn`, `/course`) is `hf_docs`.
Empty path segments are ignored (`arxiv.org/abs//2306.08707` is the paper). Only http(s)
URLs are accepted; `identify` raises `UnsupportedURL` for anything else, with the reason.
A URL of a paper host that has the shape of a paper link but no valid id is a generic `url`
that `malformed` explains; an in-page anchor (`#x`, `./#x`) is no URL at all (`in_page`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit, urlunsplit

from enrich.models import Identifier, Kind

NEW_ARXIV = r"\d{4}\.\d{4,5}"
OLD_ARXIV = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID = re.compile(rf"^(?P<id>{NEW_ARXIV}|{OLD_ARXIV})(?P<version>v\d+)?$")

_ARXIV_PATH = re.compile(
    rf"^/(?:abs|pdf|html|format|ps)/(?P<id>{NEW_ARXIV}|{OLD_ARXIV})(?P<version>v\d+)?"
    r"(?:\.pdf)?(?:/.*)?$"
)
_ARXIV_FTP = re.compile(rf"^/ftp/arxiv/papers/\d{{4}}/(?P<id>{NEW_ARXIV})(?P<version>v\d+)?\.pdf$")
_DOI = re.compile(r"(10\.\d{4,9}/\S+)")
SAFE_DOI = re.compile(r"10\.\d{4,9}/[A-Za-z0-9._;:/+-]+")
"""A DOI made of the characters DOIs use in practice: one fetched from an API may become a
link (`https://doi.org/<doi>`) only when it is one."""
# An Anthology paper id: new style `2023.findings-emnlp.1033`, old style `N19-1423`.
_ACL_ID = re.compile(
    r"^(?P<id>\d{4}\.[a-z0-9]+(?:-[a-z0-9]+)*\.\d+|[A-Z]\d{2}-\d{4})(?P<version>v\d+)?"
    r"(?:\.pdf|\.bib)?$"
)
_GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-_.]*)$")
# What looks like a paper link of a paper host but holds no valid id, by host.
_ARXIV_SHAPE = re.compile(r"^/(?:abs|pdf|html)/(?P<id>[^/]+?)(?:\.pdf)?/?$")
_SLASHES = re.compile(r"//+")
_IN_PAGE = re.compile(r"^(?:\./)*#")

# First path segments of github.com that are site pages, not users or organisations.
_GITHUB_RESERVED = frozenset(
    """about account apps blog collections contact customer-stories dashboard enterprise
    events explore features issues login marketplace new notifications orgs organizations
    pricing pulls search security settings site sponsors stars topics trending users
    codespaces copilot readme team user-attachments""".split()
)
# First path segments of huggingface.co that are site pages, not users or organisations.
_HF_RESERVED = frozenset(
    """api chat join login models pricing privacy settings tasks terms
    enterprise inference-endpoints organizations posts changelog""".split()
)
_HF_REPO_TAIL = frozenset(
    """tree blob resolve raw commit commits discussions viewer blame edit settings
    sql-console""".split()
)
# First path segments of huggingface.co that are documentation: `/docs/<library>/...`, the
# legacy `/transformers/...`, the blog, the courses.
_HF_DOCS = frozenset({"docs", "transformers", "blog", "learn", "course"})
# The shape most links have, `http(s)://host/path` with no port, user, query, fragment, escape
# or space: `urlsplit` would find the scheme, the host and the path that this match finds.
_PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9.-]+)(/[^\s?#%]*)?")


class UnsupportedURL(ValueError):
    """A link that is not an absolute http(s) URL. `str()` says why."""


def identify(url: str) -> Identifier:
    """What `url` names. Raises `UnsupportedURL` for non-http(s) or hostless URLs."""
    scheme, netloc, path, query = _split(url.strip())
    if scheme not in ("http", "https"):
        what = f"scheme '{scheme}:'" if scheme else "no scheme"
        raise UnsupportedURL(f"{what} in link '{_short(url)}': only http(s) links are resolved")
    host = _host(netloc)
    if not host:
        raise UnsupportedURL(f"link '{_short(url)}' has no host")
    classifier = _CLASSIFIER_OF_HOST.get(host)
    found = classifier(_path(path), query) if classifier is not None else None
    return Identifier(Kind.URL, normalise_url(url)) if found is None else found


def _split(url: str) -> tuple[str, str, str, str]:
    """Scheme (lower case), netloc, path and query, as `urlsplit(url)` finds them; a plain
    URL split by one match, cheaper than `urlsplit` (which caches only 128 URLs) for the
    thousands of distinct URLs of a large list."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is None:
        return urlsplit(url)[:4]
    return plain[1], plain[2], plain[3] or "", ""


def _path(path: str) -> str:
    """A URL's path, unquoted, without empty segments (`/abs//2306.08707`)."""
    path = unquote(path)
    return _SLASHES.sub("/", path) if "//" in path else path


def in_page(url: str) -> bool:
    """Whether `url` is an anchor in the page it is written in (`#x`, `./#x`)."""
    return _IN_PAGE.match(url.strip()) is not None


def malformed(url: str) -> str | None:
    """Why a generic `url` (one `identify` finds no entity in) is a broken link to a paper
    host, e.g. a mistyped arXiv id; None when it is not."""
    _, netloc, path, _ = _split(url.strip())
    if _host(netloc) in _ARXIV_HOSTS:
        shape = _ARXIV_SHAPE.match(_path(path))
        if shape is not None and parse_arxiv_id(shape["id"]) is None:
            return f"malformed arXiv id '{shape['id']}' in link '{_short(url)}'"
    return None


@lru_cache(maxsize=1024)
def _host(netloc: str) -> str:
    """The host of a URL's `netloc`, lower case, without `www.`; a list links a few hosts
    thousands of times."""
    return (SplitResult("", netloc, "", "", "").hostname or "").lower().removeprefix("www.")


def parse_arxiv_id(text: str) -> Identifier | None:
    """`2306.17256v4` -> arXiv identifier with key `2306.17256` and version `v4`."""
    match = ARXIV_ID.match(text.strip())
    return None if match is None else Identifier(Kind.ARXIV, match["id"], match["version"])


def normalise_url(url: str) -> str:
    """Lowercase scheme and host, no fragment, no trailing slash on the path."""
    scheme, netloc, path, query = _split(url.strip())
    return urlunsplit((scheme, netloc.lower(), path.rstrip("/") or "", query, ""))


def _short(url: str, limit: int = 80) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def _arxiv(path: str, query: str) -> Identifier | None:
    match = _ARXIV_PATH.match(path) or _ARXIV_FTP.match(path)
    if match is None:
        return None
    return Identifier(Kind.ARXIV, match["id"], version=match["version"])


def _github(path: str, query: str) -> Identifier | None:
    segments = [s for s in path.split("/") if s]
    if not segments or not _GITHUB_NAME.match(segments[0]):
        return None
    owner = segments[0]
    if owner.lower() in _GITHUB_RESERVED:
        if owner.lower() in ("orgs", "users") and len(segments) >= 2:
            return Identifier(Kind.GITHUB_USER, segments[1].lower())
        return None
    if len(segments) == 1:
        return Identifier(Kind.GITHUB_USER, owner.lower())
    repo = segments[1].removesuffix(".git")
    if not _GITHUB_NAME.match(repo):
        return None
    subpath = "/".join(segments[2:]) or None
    full = f"{owner}/{repo}"
    return Identifier(Kind.GITHUB_REPO, full.lower(), subpath=subpath)


def _huggingface(path: str, query: str) -> Identifier | None:
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    head = segments[0]
    if head in _HF_DOCS:
        return _hf_docs(segments)
    if head == "papers" and len(segments) >= 2:
        return _hf_paper(segments[1])
    if head in ("datasets", "spaces"):
        kind = Kind.HF_DATASET if head == "datasets" else Kind.HF_SPACE
        return _hf_repo(kind, segments[1:])
    if head == "collections" and len(segments) >= 3:
        key = f"{segments[1]}/{segments[2]}"
        return Identifier(Kind.HF_COLLECTION, key)
    if head in _HF_RESERVED or head in ("papers", "collections"):
        return None
    if len(segments) == 1:
        return Identifier(Kind.HF_ORG, head)
    return _hf_repo(Kind.HF_MODEL, segments)


def _hf_docs(segments: list[str]) -> Identifier:
    """A documentation page: keyed by its path below `/docs` (`transformers/index`), or by
    its whole path elsewhere (`blog/llama2`, `transformers/model_doc/bert.html`)."""
    if segments[0] == "docs":
        return Identifier(Kind.HF_DOCS, "/".join(segments[1:]) or "docs")
    return Identifier(Kind.HF_DOCS, "/".join(segments))


def _hf_paper(text: str) -> Identifier | None:
    paper = parse_arxiv_id(text)
    return None if paper is None else Identifier(Kind.HF_PAPER, paper.key, paper.version)


def _hf_repo(kind: Kind, segments: list[str]) -> Identifier | None:
    """`org/name[/tree/...]` (or a legacy `name` without org) as a Hub repo id."""
    if not segments:
        return None
    if len(segments) >= 2 and segments[1] not in _HF_REPO_TAIL:
        repo_id, rest = "/".join(segments[:2]), segments[2:]
    else:
        repo_id, rest = segments[0], segments[1:]
    return Identifier(kind, repo_id, subpath="/".join(rest) or None)


def _doi(path: str, query: str) -> Identifier | None:
    match = _DOI.search(path)
    if match is None:
        return None
    doi = match.group(1).rstrip(".")
    return Identifier(Kind.DOI, doi.lower())


def _acl(path: str, query: str) -> Identifier | None:
    """A paper page or PDF; event, volume and people pages are not papers."""
    segments = [s for s in path.split("/") if s]
    match = _ACL_ID.match(segments[-1]) if segments else None
    if match is None:
        return None
    return Identifier(Kind.ACL, match["id"], version=match["version"])


def _pmlr(path: str, query: str) -> Identifier | None:
    match = re.match(r"^/(v\d+)/([A-Za-z0-9\-_]+)(?:\.html|\.pdf|/.*)?$", path)
    if match is None:
        return None
    return Identifier(Kind.PMLR, f"{match[1]}/{match[2]}")


def _openreview(path: str, query: str) -> Identifier | None:
    ids = parse_qs(query).get("id")
    if not ids or path.rstrip("/") not in ("/forum", "/pdf", "/attachment"):
        return None
    return Identifier(Kind.OPENREVIEW, ids[0])


_ARXIV_HOSTS = frozenset({"arxiv.org", "export.arxiv.org", "ar5iv.org", "ar5iv.labs.arxiv.org"})
_CLASSIFIERS: tuple[tuple[frozenset[str], Callable[[str, str], Identifier | None]], ...] = (
    (_ARXIV_HOSTS, _arxiv),
    (frozenset({"github.com"}), _github),
    (frozenset({"huggingface.co", "hf.co"}), _huggingface),
    (frozenset({"doi.org", "dx.doi.org", "dl.acm.org"}), _doi),
    (frozenset({"aclanthology.org", "aclweb.org"}), _acl),
    (frozenset({"proceedings.mlr.press"}), _pmlr),
    (frozenset({"openreview.net"}), _openreview),
)
_CLASSIFIER_OF_HOST = {host: classifier for hosts, classifier in _CLASSIFIERS for host in hosts}
