"""What both GitHub transports share: keys, subpaths, and the one way to a `RepoMeta`.

REST bodies are read through PyGithub's own models (`github_client.meta_from_rest`), GraphQL
nodes by hand (`github_graphql.meta_from_node`); both end in `build_meta` here.

Everything a provider sends is untrusted: strings are cleaned (`text.clean`: no control or
bidi-override characters, whitespace collapsed, capped; a value that is not a string is
absent), names are checked, and the record is validated by `RepoMeta` before it leaves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from enrich.errors import PermanentError
from enrich.metadata import RepoMeta
from enrich.models import utc
from enrich.text import clean

# Caps on untrusted strings: GitHub's own limits where it has them, a repository has at most
# 20 topics of at most 50 characters each (docs.github.com, "Classifying your repository with
# topics"), an account name at most 39 characters, a repository name 100; the project's
# ceiling elsewhere (a description of 1,000 characters is already a paragraph).
MAX_DESCRIPTION = 1_000
MAX_HOMEPAGE = 500
MAX_SHORT = 200
MAX_TOPICS = 20
MAX_TOPIC = 50
_FULL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$")
_SHORT = ("license_spdx", "license_name", "default_branch", "language")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def split_key(key: str) -> tuple[str, str]:
    """`owner/name` -> (owner, name); PermanentError when the key is not one."""
    if not _FULL_NAME.match(key):
        raise PermanentError(f"not a GitHub owner/name: {key[:MAX_SHORT]!r}")
    owner, name = key.split("/", 1)
    return owner, name


def split_subpath(subpath: str) -> tuple[str, str] | None:
    """`tree/<ref>/<path>` or `blob/<ref>/<path>` -> (ref, path); None for other subpaths.

    A ref containing `/` (`feature/x`) cannot be told from a path by the URL alone; the
    first segment is taken as the ref, as the common case (`main`, `master`, a tag).
    """
    parts = [unquote(p) for p in subpath.strip("/").split("/")]
    if len(parts) < 2 or parts[0] not in ("tree", "blob") or not parts[1]:
        return None
    return parts[1], "/".join(parts[2:])


def checkable(subpaths: Sequence[str]) -> list[str]:
    """The subpaths whose existence can be checked, in order, without duplicates."""
    return [s for s in dict.fromkeys(subpaths) if split_subpath(s) is not None]


def moved_to(meta: RepoMeta, key: str) -> str | None:
    """The ref a repository asked as `key` moved to, or None when its name is the same
    (ignoring case: GitHub names are case-insensitive)."""
    same = meta.full_name.lower() == key.lower()
    return None if same else f"github_repo:{meta.full_name.lower()}"


def json_object(body: str, what: str) -> dict[str, Any]:
    """The JSON object `body` holds; PermanentError when it holds anything else."""
    try:
        data = json.loads(body)
    except ValueError:
        raise PermanentError(f"{what}: malformed answer (not JSON)") from None
    if not isinstance(data, dict):
        raise PermanentError(f"{what}: malformed answer (not an object)")
    return data


def build_meta(fields: Mapping[str, Any]) -> RepoMeta:
    """A validated `RepoMeta` from raw provider values; PermanentError when malformed."""
    full_name = fields.get("full_name")
    if not isinstance(full_name, str) or not _FULL_NAME.match(full_name):
        raise PermanentError("malformed answer: no valid full_name")
    topics = fields.get("topics") or []
    if not isinstance(topics, list):
        raise PermanentError("malformed answer: topics is not a list")
    cleaned = {
        **fields,
        "description": clean(fields.get("description"), MAX_DESCRIPTION) or None,
        "homepage": _homepage(fields.get("homepage")),
        **{k: clean(fields.get(k), MAX_SHORT) or None for k in _SHORT},
        "topics": [t for t in (clean(t, MAX_TOPIC) for t in topics[:MAX_TOPICS]) if t],
        **{k: _moment(fields.get(k)) for k in ("created_at", "pushed_at", "updated_at")},
    }
    try:
        return RepoMeta.model_validate(cleaned)
    except ValidationError as exc:
        problems = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise PermanentError(f"malformed answer: bad {problems}") from None


def _homepage(value: object) -> str | None:
    """A homepage, unless it names a scheme other than http(s) (`javascript:`, `data:`)."""
    text = clean(value, MAX_HOMEPAGE)
    if text and _SCHEME.match(text) and not text.lower().startswith(("http://", "https://")):
        return None
    return text or None


def _moment(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return utc(value) if value is not None else None
    if not isinstance(value, str):
        raise PermanentError("malformed answer: a date is not text")
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise PermanentError("malformed answer: a date is not ISO 8601") from None
