"""Stage 2, the heart of it: a URL -> a typed `Identifier` with a canonical key. Pure.

The URL alone decides the kind: an arXiv link in a Code column is still a paper (and is
reported as misplaced by `links`). Each host family has one small classifier; anything no
classifier claims is a generic `url`, keyed by its normalised form. Only http(s) URLs are
accepted; `classify` raises `UnsupportedURL` for anything else, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

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
# An Anthology paper id: new style `2023.findings-emnlp.1033`, old style `N19-1423`.
_ACL_ID = re.compile(
    r"^(?P<id>\d{4}\.[a-z0-9]+(?:-[a-z0-9]+)*\.\d+|[A-Z]\d{2}-\d{4})(?P<version>v\d+)?"
    r"(?:\.pdf|\.bib)?$"
)
_GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-_.]*)$")

# First path segments of github.com that are site pages, not users or organisations.
_GITHUB_RESERVED = frozenset(
    """about account apps blog collections contact customer-stories dashboard enterprise
    events explore features issues login marketplace new notifications orgs organizations
    pricing pulls search security settings site sponsors stars topics trending users
    codespaces copilot readme team""".split()
)
# First path segments of huggingface.co that are site pages, not users or organisations.
_HF_RESERVED = frozenset(
    """api blog chat docs join learn login models pricing privacy settings tasks terms
    enterprise inference-endpoints organizations posts changelog""".split()
)
_HF_REPO_TAIL = frozenset({"tree", "blob", "resolve", "raw", "commit", "commits", "discussions"})


class UnsupportedURL(ValueError):
    """A link that is not an absolute http(s) URL. `str()` says why."""


def classify(url: str) -> Identifier:
    """The identifier `url` names. Raises `UnsupportedURL` for non-http(s) or hostless URLs."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        what = f"scheme '{scheme}:'" if scheme else "no scheme"
        raise UnsupportedURL(f"{what} in link '{_short(url)}': only http(s) links are resolved")
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        raise UnsupportedURL(f"link '{_short(url)}' has no host")
    path = unquote(parts.path)
    for hosts, classifier in _CLASSIFIERS:
        if host in hosts:
            found = classifier(path, parts.query)
            if found is not None:
                return found
    return Identifier(kind=Kind.URL, key=normalise_url(url))


def parse_arxiv_id(text: str) -> Identifier | None:
    """`2306.17256v4` -> arXiv identifier with key `2306.17256` and version `v4`."""
    match = ARXIV_ID.match(text.strip())
    if match is None:
        return None
    return Identifier(kind=Kind.ARXIV, key=match["id"], version=match["version"])


def normalise_url(url: str) -> str:
    """Lowercase scheme and host, no fragment, no trailing slash on the path."""
    parts = urlsplit(url.strip())
    netloc = parts.netloc.lower()
    path = parts.path.rstrip("/") or ""
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


def _short(url: str, limit: int = 80) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def _arxiv(path: str, query: str) -> Identifier | None:
    match = _ARXIV_PATH.match(path) or _ARXIV_FTP.match(path)
    if match is None:
        return None
    return Identifier(kind=Kind.ARXIV, key=match["id"], version=match["version"])


def _github(path: str, query: str) -> Identifier | None:
    segments = [s for s in path.split("/") if s]
    if not segments or not _GITHUB_NAME.match(segments[0]):
        return None
    owner = segments[0]
    if owner.lower() in _GITHUB_RESERVED:
        if owner.lower() in ("orgs", "users") and len(segments) >= 2:
            return Identifier(kind=Kind.GITHUB_USER, key=segments[1].lower(), display=segments[1])
        return None
    if len(segments) == 1:
        return Identifier(kind=Kind.GITHUB_USER, key=owner.lower(), display=owner)
    repo = segments[1].removesuffix(".git")
    if not _GITHUB_NAME.match(repo):
        return None
    subpath = "/".join(segments[2:]) or None
    full = f"{owner}/{repo}"
    return Identifier(kind=Kind.GITHUB_REPO, key=full.lower(), display=full, subpath=subpath)


def _huggingface(path: str, query: str) -> Identifier | None:
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    head = segments[0]
    if head == "docs":
        return Identifier(kind=Kind.HF_DOCS, key="/".join(segments[1:]) or "docs")
    if head == "papers" and len(segments) >= 2:
        return _hf_paper(segments[1])
    if head in ("datasets", "spaces"):
        kind = Kind.HF_DATASET if head == "datasets" else Kind.HF_SPACE
        return _hf_repo(kind, segments[1:])
    if head == "collections" and len(segments) >= 3:
        key = f"{segments[1]}/{segments[2]}"
        return Identifier(kind=Kind.HF_COLLECTION, key=key, display=key)
    if head in _HF_RESERVED or head in ("papers", "collections"):
        return None
    if len(segments) == 1:
        return Identifier(kind=Kind.HF_ORG, key=head, display=head)
    return _hf_repo(Kind.HF_MODEL, segments)


def _hf_paper(text: str) -> Identifier | None:
    paper = parse_arxiv_id(text)
    if paper is None:
        return None
    return Identifier(kind=Kind.HF_PAPER, key=paper.key, version=paper.version)


def _hf_repo(kind: Kind, segments: list[str]) -> Identifier | None:
    """`org/name[/tree/...]` (or a legacy `name` without org) as a Hub repo id."""
    if not segments:
        return None
    if len(segments) >= 2 and segments[1] not in _HF_REPO_TAIL:
        repo_id, rest = "/".join(segments[:2]), segments[2:]
    else:
        repo_id, rest = segments[0], segments[1:]
    return Identifier(kind=kind, key=repo_id, display=repo_id, subpath="/".join(rest) or None)


def _doi(path: str, query: str) -> Identifier | None:
    match = _DOI.search(path)
    if match is None:
        return None
    doi = match.group(1).rstrip(".")
    return Identifier(kind=Kind.DOI, key=doi.lower(), display=doi)


def _acl(path: str, query: str) -> Identifier | None:
    """A paper page or PDF; event, volume and people pages are not papers."""
    segments = [s for s in path.split("/") if s]
    match = _ACL_ID.match(segments[-1]) if segments else None
    if match is None:
        return None
    return Identifier(kind=Kind.ACL, key=match["id"], version=match["version"])


def _pmlr(path: str, query: str) -> Identifier | None:
    match = re.match(r"^/(v\d+)/([A-Za-z0-9\-_]+)(?:\.html|\.pdf|/.*)?$", path)
    if match is None:
        return None
    return Identifier(kind=Kind.PMLR, key=f"{match[1]}/{match[2]}")


def _openreview(path: str, query: str) -> Identifier | None:
    ids = parse_qs(query).get("id")
    if not ids or path.rstrip("/") not in ("/forum", "/pdf", "/attachment"):
        return None
    return Identifier(kind=Kind.OPENREVIEW, key=ids[0])


_CLASSIFIERS: tuple[tuple[frozenset[str], Callable[[str, str], Identifier | None]], ...] = (
    (frozenset({"arxiv.org", "export.arxiv.org", "ar5iv.org", "ar5iv.labs.arxiv.org"}), _arxiv),
    (frozenset({"github.com"}), _github),
    (frozenset({"huggingface.co", "hf.co"}), _huggingface),
    (frozenset({"doi.org", "dx.doi.org", "dl.acm.org"}), _doi),
    (frozenset({"aclanthology.org", "aclweb.org"}), _acl),
    (frozenset({"proceedings.mlr.press"}), _pmlr),
    (frozenset({"openreview.net"}), _openreview),
)
