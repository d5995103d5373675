"""One frozen settings object: paths, endpoints, tokens, per-source limits and TTLs.

The environment is read here and only here (`Settings.from_env`), once per run; every other
module receives a `Settings`. Tokens are wrapped in `Secret`, whose `str` and `repr` never
show the value, so a token cannot leak into a log line, an exception message or `--help`.

Defaults that come from a provider's rule cite it next to the constant.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from enrich.errors import InputError

# arXiv API terms of use: "make no more than one request every three seconds"
# (https://info.arxiv.org/help/api/tou.html).
ARXIV_DELAY_SECONDS = 3.0
# arXiv's id_list answers up to 2,000 entries per page (arxiv.py `Client.page_size`); 100
# ids keep each feed small and a failed batch cheap to split, and still needs one request
# for the whole seed. Above ~500 ids the GET URL nears the ~8 KB arXiv's front end accepts
# (it answers 414 from about 640 ids: arxiv.py issue #15), so ENRICH_ARXIV_BATCH caps at 500.
ARXIV_BATCH_SIZE = 100
# GitHub GraphQL: at most 100 nodes per connection; 50 aliased repositories per query
# keeps each query's cost at 1 point (docs.github.com, "Rate limits and node limits").
GITHUB_GRAPHQL_BATCH = 50
# GitHub REST: "make requests for a single user or client ID serially" is the rule for
# mutations; reads may be concurrent, but GitHub's secondary limits count concurrent
# requests (no more than 100), so stay far below (docs.github.com, "Best practices").
GITHUB_CONCURRENCY = 8
# Hugging Face Hub: 500 API calls per 5 minutes anonymous, 1,000 with a token
# (huggingface.co/docs/hub/rate-limits). The rule is a quota per window, not a number of
# connections: 8 at a time spends it no faster per item, and the source stops before 429s.
# More would not be faster where it matters: 8 calls of 80 ms make 2,000 links (a 10,000-row
# list; more than one window allows anyway) in about 22 s, inside the 30 s arXiv's spacing
# takes for that list's 5,000 papers; it would only spend a window's quota in a shorter
# burst. Nor can calls be batched: the Hub API looks repositories up one id at a time
# (`list_models` filters by author, tag or search text, not by a list of ids).
HF_CONCURRENCY = 8

DAY = 24 * 3600
# Papers change rarely (a new version, a journal ref): a week. Stars and downloads: a day.
DEFAULT_TTLS: Mapping[str, int] = {"arxiv": 7 * DAY, "github": DAY, "huggingface": DAY}


class Secret:
    """A token. `str()` and `repr()` hide it; `reveal()` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the APIs; each one configurable so tests and mirrors can point anywhere."""

    arxiv: str = "https://export.arxiv.org/api/query"
    github: str = "https://api.github.com"
    huggingface: str = "https://huggingface.co"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once."""

    seeds: Path = Path("seeds")
    out: Path = Path("output")
    cache: Path = Path("cache")
    offline: bool = False
    refresh: bool = False
    only: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    endpoints: Endpoints = field(default_factory=Endpoints)
    github_token: Secret = field(default_factory=lambda: Secret(""))
    hf_token: Secret = field(default_factory=lambda: Secret(""))
    arxiv_delay: float = ARXIV_DELAY_SECONDS
    arxiv_batch: int = ARXIV_BATCH_SIZE
    ttls: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TTLS))
    timeout: float = 20.0
    retry_attempts: int = 4
    retry_max_seconds: float = 60.0
    retry_wait: bool = True  # False: the retry policy does not sleep (tests)
    columns: tuple[str, ...] = ("stars", "downloads", "published")
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from `env` (default: the process environment) and explicit overrides."""
        env = os.environ if env is None else env
        endpoints = Endpoints(
            arxiv=env.get("ENRICH_ARXIV_URL") or Endpoints.arxiv,
            github=(env.get("ENRICH_GITHUB_URL") or Endpoints.github).rstrip("/"),
            huggingface=(env.get("HF_ENDPOINT") or Endpoints.huggingface).rstrip("/"),
        )
        settings = cls(
            endpoints=endpoints,
            github_token=Secret(env.get("GITHUB_TOKEN", "")),
            hf_token=Secret(env.get("HF_TOKEN", "")),
            arxiv_delay=_float(env, "ENRICH_ARXIV_DELAY", ARXIV_DELAY_SECONDS),
            arxiv_batch=_batch(env.get("ENRICH_ARXIV_BATCH")),
        )
        return replace(settings, **overrides)  # type: ignore[arg-type]

    def with_project_config(self, folder: Path) -> Settings:
        """Settings with `[tool.enrich]` of `folder`'s `enrich.toml` or `pyproject.toml`.

        `columns = ["stars", "downloads", "published"]` picks the generated columns and their
        order; `[tool.enrich.headers]` (or `[headers]` in enrich.toml) renames their headers;
        `[tool.enrich.ttl_hours]` sets a source's cache time-to-live in hours.
        """
        table = read_project_config(folder)
        columns = table.get("columns", list(self.columns))
        headers = table.get("headers", {})
        ttl_hours = table.get("ttl_hours", {})
        if not isinstance(ttl_hours, dict) or not all(
            isinstance(v, int | float) and v >= 0 for v in ttl_hours.values()
        ):
            raise InputError("[tool.enrich.ttl_hours] must map source names to hours (>= 0)")
        ttls = {**self.ttls, **{k: int(v * 3600) for k, v in ttl_hours.items()}}
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise InputError("[tool.enrich] columns must be a list of column names")
        if not isinstance(headers, dict):
            raise InputError("[tool.enrich.headers] must map column names to header text")
        return replace(self, columns=tuple(columns), headers={**self.headers, **headers}, ttls=ttls)

    def wants(self, source: str) -> bool:
        """Whether `--only`/`--skip` leave `source` in this run."""
        return (not self.only or source in self.only) and source not in self.skip


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{name}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise InputError(f"{name}={raw!r} must not be negative")
    return value


def read_project_config(folder: Path) -> dict[str, object]:
    """`enrich.toml` (whole file) or `pyproject.toml`'s `[tool.enrich]`, else empty."""
    for name, path in (("enrich.toml", ()), ("pyproject.toml", ("tool", "enrich"))):
        file = folder / name
        if not file.is_file():
            continue
        try:
            data: object = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"{file}: cannot read: {exc}") from None
        for key in path:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if isinstance(data, dict) and (data or name == "enrich.toml"):
            return data
    return {}


def _batch(raw: str | None) -> int:
    """`ENRICH_ARXIV_BATCH`: ids per arXiv request, 100 to 500 (see ARXIV_BATCH_SIZE)."""
    if not raw:
        return ARXIV_BATCH_SIZE
    if not raw.isdigit() or not 100 <= int(raw) <= 500:
        raise InputError(f"ENRICH_ARXIV_BATCH={raw!r} must be a whole number from 100 to 500")
    return int(raw)
