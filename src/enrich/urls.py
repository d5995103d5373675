"""Stage 2, the heart of it: a URL -> a typed `Identifier` with a canonical key. Pure.

The URL alone decides the kind: an arXiv link in a Code column is still a paper (and is
reported as misplaced by `links`). Each host family has one small classifier; anything no
classifier claims is a generic `url`, keyed by its normalised form. Only http(s) URLs are
accepted; `identify` raises `UnsupportedURL` for anything else, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple
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
# The shape most links have, `http(s)://host/path` with no port, user, query, fragment, escape
# or space: `urlsplit` would find the scheme, the host and the path that this match finds.
_PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9.-]+)(/[^\s?#%]*)?")


class UnsupportedURL(ValueError):
    """A link that is not an absolute http(s) URL. `str()` says why."""


class Named(NamedTuple):
    """What a URL names: the fields of its `Identifier`, as the classifiers find them.

    A plain tuple, because resolving a list makes a `Link` of it directly: a validated
    `Identifier` made only to be copied into the link was 0.03 s of resolving 10,000 rows.
    """

    kind: Kind
    key: str
    version: str | None = None
    subpath: str | None = None
    display: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind.value}:{self.key}"


def identify(url: str) -> Named:
    """What `url` names. Raises `UnsupportedURL` for non-http(s) or hostless URLs."""
    scheme, netloc, path, query = _split(url.strip())
    if scheme not in ("http", "https"):
        what = f"scheme '{scheme}:'" if scheme else "no scheme"
        raise UnsupportedURL(f"{what} in link '{_short(url)}': only http(s) links are resolved")
    host = _host(netloc)
    if not host:
        raise UnsupportedURL(f"link '{_short(url)}' has no host")
    classifier = _CLASSIFIER_OF_HOST.get(host)
    found = classifier(unquote(path), query) if classifier is not None else None
    return Named(Kind.URL, normalise_url(url)) if found is None else found


def _split(url: str) -> tuple[str, str, str, str]:
    """Scheme (lower case), netloc, path and query, as `urlsplit(url)` finds them; a plain
    URL split by one match: `urlsplit` costs a few microseconds a URL past the 128 it
    caches, half of classifying a list's links."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is None:
        return urlsplit(url)[:4]
    return plain[1], plain[2], plain[3] or "", ""


@lru_cache(maxsize=1024)
def _host(netloc: str) -> str:
    """The host of a URL's `netloc`, lower case, without `www.`; a list links a few hosts
    thousands of times."""
    return (SplitResult("", netloc, "", "", "").hostname or "").lower().removeprefix("www.")


def parse_arxiv_id(text: str) -> Identifier | None:
    """`2306.17256v4` -> arXiv identifier with key `2306.17256` and version `v4`."""
    found = _arxiv_id(text)
    return (
        None if found is None else Identifier(kind=found.kind, key=found.key, version=found.version)
    )


def _arxiv_id(text: str) -> Named | None:
    match = ARXIV_ID.match(text.strip())
    if match is None:
        return None
    return Named(Kind.ARXIV, match["id"], version=match["version"])


def normalise_url(url: str) -> str:
    """Lowercase scheme and host, no fragment, no trailing slash on the path."""
    scheme, netloc, path, query = _split(url.strip())
    return urlunsplit((scheme, netloc.lower(), path.rstrip("/") or "", query, ""))


def _short(url: str, limit: int = 80) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def _arxiv(path: str, query: str) -> Named | None:
    match = _ARXIV_PATH.match(path) or _ARXIV_FTP.match(path)
    if match is None:
        return None
    return Named(Kind.ARXIV, match["id"], version=match["version"])


def _github(path: str, query: str) -> Named | None:
    segments = [s for s in path.split("/") if s]
    if not segments or not _GITHUB_NAME.match(segments[0]):
        return None
    owner = segments[0]
    if owner.lower() in _GITHUB_RESERVED:
        if owner.lower() in ("orgs", "users") and len(segments) >= 2:
            return Named(Kind.GITHUB_USER, segments[1].lower(), display=segments[1])
        return None
    if len(segments) == 1:
        return Named(Kind.GITHUB_USER, owner.lower(), display=owner)
    repo = segments[1].removesuffix(".git")
    if not _GITHUB_NAME.match(repo):
        return None
    subpath = "/".join(segments[2:]) or None
    full = f"{owner}/{repo}"
    return Named(Kind.GITHUB_REPO, full.lower(), display=full, subpath=subpath)


def _huggingface(path: str, query: str) -> Named | None:
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    head = segments[0]
    if head == "docs":
        return Named(Kind.HF_DOCS, "/".join(segments[1:]) or "docs")
    if head == "papers" and len(segments) >= 2:
        return _hf_paper(segments[1])
    if head in ("datasets", "spaces"):
        kind = Kind.HF_DATASET if head == "datasets" else Kind.HF_SPACE
        return _hf_repo(kind, segments[1:])
    if head == "collections" and len(segments) >= 3:
        key = f"{segments[1]}/{segments[2]}"
        return Named(Kind.HF_COLLECTION, key, display=key)
    if head in _HF_RESERVED or head in ("papers", "collections"):
        return None
    if len(segments) == 1:
        return Named(Kind.HF_ORG, head, display=head)
    return _hf_repo(Kind.HF_MODEL, segments)


def _hf_paper(text: str) -> Named | None:
    paper = _arxiv_id(text)
    return None if paper is None else paper._replace(kind=Kind.HF_PAPER)


def _hf_repo(kind: Kind, segments: list[str]) -> Named | None:
    """`org/name[/tree/...]` (or a legacy `name` without org) as a Hub repo id."""
    if not segments:
        return None
    if len(segments) >= 2 and segments[1] not in _HF_REPO_TAIL:
        repo_id, rest = "/".join(segments[:2]), segments[2:]
    else:
        repo_id, rest = segments[0], segments[1:]
    return Named(kind, repo_id, display=repo_id, subpath="/".join(rest) or None)


def _doi(path: str, query: str) -> Named | None:
    match = _DOI.search(path)
    if match is None:
        return None
    doi = match.group(1).rstrip(".")
    return Named(Kind.DOI, doi.lower(), display=doi)


def _acl(path: str, query: str) -> Named | None:
    """A paper page or PDF; event, volume and people pages are not papers."""
    segments = [s for s in path.split("/") if s]
    match = _ACL_ID.match(segments[-1]) if segments else None
    if match is None:
        return None
    return Named(Kind.ACL, match["id"], version=match["version"])


def _pmlr(path: str, query: str) -> Named | None:
    match = re.match(r"^/(v\d+)/([A-Za-z0-9\-_]+)(?:\.html|\.pdf|/.*)?$", path)
    if match is None:
        return None
    return Named(Kind.PMLR, f"{match[1]}/{match[2]}")


def _openreview(path: str, query: str) -> Named | None:
    ids = parse_qs(query).get("id")
    if not ids or path.rstrip("/") not in ("/forum", "/pdf", "/attachment"):
        return None
    return Named(Kind.OPENREVIEW, ids[0])


_CLASSIFIERS: tuple[tuple[frozenset[str], Callable[[str, str], Named | None]], ...] = (
    (frozenset({"arxiv.org", "export.arxiv.org", "ar5iv.org", "ar5iv.labs.arxiv.org"}), _arxiv),
    (frozenset({"github.com"}), _github),
    (frozenset({"huggingface.co", "hf.co"}), _huggingface),
    (frozenset({"doi.org", "dx.doi.org", "dl.acm.org"}), _doi),
    (frozenset({"aclanthology.org", "aclweb.org"}), _acl),
    (frozenset({"proceedings.mlr.press"}), _pmlr),
    (frozenset({"openreview.net"}), _openreview),
)
_CLASSIFIER_OF_HOST = {host: classifier for hosts, classifier in _CLASSIFIERS for host in hosts}
