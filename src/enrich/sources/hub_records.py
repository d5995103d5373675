"""Hugging Face Hub answers normalised into `HubMeta`: the values of huggingface_hub's info
objects (and of the models list) cleaned, capped and checked; its error answers as the
project's `FetchError`s. Pure; `huggingface.py` fetches.

Values are untrusted: strings are cleaned (`text.one_line`) and capped, ids and terms must
match the Hub's own patterns, counts must be non-negative integers, links must be GitHub
repositories.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final, cast

from huggingface_hub import CardData
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

from enrich.errors import FetchError, PermanentError
from enrich.metadata import HubKind, HubMeta, TaggedModel
from enrich.models import Identifier, Kind, utc
from enrich.net import http_error
from enrich.text import clean
from enrich.urls import ARXIV_ID

SLUG = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,200}")
_REPO_ID = re.compile(r"[\w.-]{1,96}(?:/[\w.-]{1,96})?")
_TERM = re.compile(r"[\w.+:-]{1,64}")
_GITHUB = re.compile(r"https?://(?:www\.)?github\.com/([A-Za-z0-9][\w-]*)/([\w.-]+?)(?:\.git)?/?")
_MAX_TITLE: Final = 300
_MAX_IDS: Final = 50
BAD_TOKEN: Final = "Invalid credentials in Authorization header"


class Missing(PermanentError):
    """The Hub says the entity does not exist (or no reader may see it)."""


def hub_kind(kind: Kind) -> HubKind:
    return cast(HubKind, kind.value.removeprefix("hf_"))


def what(ident: Identifier) -> str:
    """How messages name the entity `ident`."""
    if ident.kind is Kind.HF_PAPER_MODELS:
        return f"Hub models tagged arxiv:{ident.key[:120]}"
    return f"Hub {hub_kind(ident.kind)} {ident.key[:120]}"


def check(pattern: re.Pattern[str], key: str, what: str) -> None:
    if not pattern.fullmatch(key):
        raise PermanentError(f"{key[:120]!r} is not a valid {what}")


def failure(exc: HfHubHTTPError, what: str) -> FetchError:
    """The `FetchError` for an error answer the library raised."""
    response = exc.response
    status = response.status_code
    if isinstance(exc, GatedRepoError):
        return PermanentError(f"{what}: gated, metadata refused (HTTP {status})", status=status)
    if isinstance(exc, RepositoryNotFoundError) or status == 404:
        return Missing(f"{what}: not found (HTTP {status})", status=status)
    if status == 401 and response.headers.get("X-Error-Message") == BAD_TOKEN:
        return PermanentError(f"{what}: the Hub refused the token (HTTP 401)", status=status)
    if status == 401:
        return Missing(f"{what}: private or missing (HTTP 401)", status=status)
    return http_error(status, response.headers, what)


def repo_meta(kind: HubKind, info: Any) -> HubMeta:
    """A model, dataset or space info object, normalised."""
    tags = [t for t in (getattr(info, "tags", None) or []) if isinstance(t, str)]
    card = getattr(info, "card_data", None)
    library = getattr(info, "library_name", None) or getattr(info, "sdk", None)
    repo_id = info.id if isinstance(info.id, str) and _REPO_ID.fullmatch(info.id) else None
    if repo_id is None:
        raise ValueError("no valid repo id")
    return HubMeta(
        hub_kind=kind,
        id=repo_id,
        title=text(_card(card, "title")) if kind == "space" else None,
        downloads=count(getattr(info, "downloads", None)),
        downloads_all_time=count(getattr(info, "downloads_all_time", None)),
        likes=count(getattr(info, "likes", None)),
        last_modified=moment(getattr(info, "last_modified", None)),
        pipeline_tag=_term(getattr(info, "pipeline_tag", None)),
        library=_term(library),
        license=_license(card, tags),
        gated=_gated(getattr(info, "gated", None)),
        arxiv_ids=_arxiv_ids(tags),
    )


def tagged_model(item: object) -> TaggedModel | None:
    """A listed model (`id`, `downloads`, `likes` of the list answer) with a valid
    `owner/name` id, else None (never an org page)."""
    if not isinstance(item, dict):
        raise TypeError("a listed model is not an object")
    repo_id = item.get("id")
    if not isinstance(repo_id, str) or not SLUG.fullmatch(repo_id):
        return None
    return TaggedModel(
        id=repo_id, downloads=count(item.get("downloads")), likes=count(item.get("likes"))
    )


def text(value: object, cap: int = _MAX_TITLE) -> str | None:
    """A display string: controls removed, whitespace collapsed, capped; None if empty."""
    return clean(value, cap) or None


def _term(value: object) -> str | None:
    return value if isinstance(value, str) and _TERM.fullmatch(value) else None


def count(value: object) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return value if isinstance(value, int) and ok and 0 <= value < 10**15 else None


def moment(value: object) -> datetime | None:
    return utc(value) if isinstance(value, datetime) else None


def _gated(value: object) -> bool | str | None:
    return value if isinstance(value, bool) else _term(value)


def _card(card: object, name: str) -> object:
    return card.get(name) if isinstance(card, CardData) else None


def _license(card: object, tags: list[str]) -> str | None:
    """The card's license (the first, for a list), else the `license:` tag."""
    value = _card(card, "license")
    if isinstance(value, list):
        value = value[0] if value else None
    found = _term(value)
    if found is None:
        found = next((_term(t[8:]) for t in tags if t.startswith("license:")), None)
    return found


def _arxiv_ids(tags: list[str]) -> list[str]:
    ids = [t[6:] for t in tags if t.startswith("arxiv:") and ARXIV_ID.fullmatch(t[6:])]
    return list(dict.fromkeys(ids))[:_MAX_IDS]


def github_repo(value: object) -> str | None:
    """A linked GitHub repository as `https://github.com/<owner>/<name>`, else None."""
    match = _GITHUB.fullmatch(value.strip()) if isinstance(value, str) else None
    return f"https://github.com/{match[1]}/{match[2]}" if match else None
