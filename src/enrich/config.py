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
# connections: 16 at a time spends it no faster per item, and the source stops before 429s.
# Discovery (`suggest.py`) asks for up to two calls per row with an empty cell: 16 keeps a
# cold run of the seed (95 calls) within its 2 s. Calls cannot be batched: the Hub API looks
# repositories up one id at a time (`list_models` filters by author, tag or search text, not
# by a list of ids).
HF_CONCURRENCY = 16

# Semantic Scholar Graph API: the batch endpoint takes "up to 500 ids" per request; "1 request
# per second" for an API key, and without one a pool shared by every anonymous caller that
# answers 429 when busy (api.semanticscholar.org/api-docs, "Rate limits"). One request at a
# time, a second apart, with or without a key.
S2_BATCH_SIZE = 500
S2_DELAY_SECONDS = 1.0
# Semantic Scholar's recommendations for a section's papers (`sources/recommend.py`): one
# request per section, on the same host and under the same pace as the batch endpoint. The
# API returns up to 500; 30 leave room for the papers the list already has (filtered out)
# while keeping a section's answer small in enriched.json (`papers.PER_SECTION` are shown).
# A section's first 100 papers are its positive examples: a list's largest sections fit.
S2_RECOMMEND_LIMIT = 30
S2_RECOMMEND_SEEDS = 100

# Discovery (suggestions for empty cells) asks the Hub at most this many lookups a run that
# the cache cannot answer, oldest first: a fifth of the anonymous quota of 500 calls per 5
# minutes, so it never crowds out the linked entities; a long list is covered over several
# runs (each lookup then stays fresh for the Hub's TTL).
DISCOVERY_PER_RUN = 100
# Landing pages (PMLR's static proceedings, OpenReview's forum pages): neither site publishes
# a rule for crawlers reading a page per paper, so ask as a polite reader would: one page
# at a time from each site, each request starting at least half a second after the last
# answer from that site was read.
LANDING_DELAY_SECONDS = 0.5

# What one request may cost (`transport.Bounds`): the whole exchange (connect, send, headers,
# body) within DEADLINE_SECONDS, whatever the server does (the per-read `timeout` alone lets a
# server that drips a byte at a time hold a request forever); ENRICH_DEADLINE sets it.
DEADLINE_SECONDS = 60.0
# The bytes of one answer a source reads at most (after decompression); a larger answer is
# malformed. Each is sized from the largest genuine answer (shared/api-samples) with ample
# room: an arXiv feed is about 2.5 KB an entry, 1.3 MB for a page of 500 (the most asked),
# a few entries with thousands of authors add 0.4 MB each; a Semantic Scholar batch of 500
# is about 0.9 MB (1.7 KB a paper); a GitHub REST repository is 16 KB, a GraphQL batch of 50
# under 0.1 MB, a contents listing under 1 MB; a Hub model's info (its card's metadata
# included) is a few KB, the largest cards' metadata a few hundred KB; a PMLR page 30 KB, an
# OpenReview forum page a few hundred KB (a subpath's contents listing over the cap only
# leaves that subpath unchecked). An answer is held twice while it is read (its pieces,
# then joined), and the Hub has 16 requests in flight, GitHub 8, the landing pages 4: at
# most 160 MB in all, so a run answered by 3 GB everywhere stays under 300 MB
# (tests/test_hostile.py measures it).
MB = 1 << 20
ANSWER_BYTES: Mapping[str, int] = {
    "arxiv": 16 * MB,
    "github": 2 * MB,
    "huggingface": 2 * MB,
    "scholar": 8 * MB,
    "landing": 2 * MB,
    "recommendations": 2 * MB,
}
# The fetch stage starts no request after RUN_LIMIT_SECONDS (ENRICH_RUN_LIMIT); requests in
# flight end within their deadline. So a run's fetching ends within RUN_LIMIT_SECONDS +
# DEADLINE_SECONDS whatever the servers do; the items not asked keep their last known values.
# Half an hour covers a cold 10,000-row list with room (docs/performance.md).
RUN_LIMIT_SECONDS = 1800.0

DAY = 24 * 3600
# Papers change rarely (a new version, a journal ref): a week. Stars and downloads: a day.
# Citations: a day, like stars. Proceedings pages do not change once published: a week.
# Recommendations (papers the list may be missing) move slowly: a week.
DEFAULT_TTLS: Mapping[str, int] = {
    "arxiv": 7 * DAY,
    "github": DAY,
    "huggingface": DAY,
    "scholar": DAY,
    "landing": 7 * DAY,
    "recommendations": 7 * DAY,
}


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
    scholar: str = "https://api.semanticscholar.org"
    pmlr: str = "https://proceedings.mlr.press"
    openreview: str = "https://openreview.net"


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
    s2_api_key: Secret = field(default_factory=lambda: Secret(""))
    s2_delay: float = S2_DELAY_SECONDS
    landing_delay: float = LANDING_DELAY_SECONDS
    arxiv_delay: float = ARXIV_DELAY_SECONDS
    arxiv_batch: int = ARXIV_BATCH_SIZE
    ttls: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TTLS))
    timeout: float = 20.0  # per socket operation; the whole request: `deadline`
    deadline: float = DEADLINE_SECONDS
    answer_bytes: Mapping[str, int] = field(default_factory=lambda: dict(ANSWER_BYTES))
    run_limit: float = RUN_LIMIT_SECONDS
    retry_attempts: int = 4
    retry_max_seconds: float = 60.0
    retry_wait: bool = True  # False: the retry policy does not sleep (tests; ENRICH_RETRY_WAIT=0)
    columns: tuple[str, ...] = ("stars", "downloads", "published")
    headers: Mapping[str, str] = field(default_factory=dict)
    discover: bool = True  # ask the Hub for links to suggest for empty cells (`suggest.py`)
    discover_limit: int = DISCOVERY_PER_RUN

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from `env` (default: the process environment) and explicit overrides."""
        env = os.environ if env is None else env
        endpoints = Endpoints(
            arxiv=env.get("ENRICH_ARXIV_URL") or Endpoints.arxiv,
            github=(env.get("ENRICH_GITHUB_URL") or Endpoints.github).rstrip("/"),
            huggingface=(env.get("HF_ENDPOINT") or Endpoints.huggingface).rstrip("/"),
            scholar=(env.get("ENRICH_S2_URL") or Endpoints.scholar).rstrip("/"),
            pmlr=(env.get("ENRICH_PMLR_URL") or Endpoints.pmlr).rstrip("/"),
            openreview=(env.get("ENRICH_OPENREVIEW_URL") or Endpoints.openreview).rstrip("/"),
        )
        settings = cls(
            endpoints=endpoints,
            github_token=_secret(env, "GITHUB_TOKEN"),
            hf_token=_secret(env, "HF_TOKEN"),
            s2_api_key=_secret(env, "S2_API_KEY"),
            s2_delay=_float(env, "ENRICH_S2_DELAY", S2_DELAY_SECONDS),
            landing_delay=_float(env, "ENRICH_LANDING_DELAY", LANDING_DELAY_SECONDS),
            arxiv_delay=_float(env, "ENRICH_ARXIV_DELAY", ARXIV_DELAY_SECONDS),
            arxiv_batch=_batch(env.get("ENRICH_ARXIV_BATCH")),
            deadline=_float(env, "ENRICH_DEADLINE", DEADLINE_SECONDS) or DEADLINE_SECONDS,
            run_limit=_float(env, "ENRICH_RUN_LIMIT", RUN_LIMIT_SECONDS),
            discover=env.get("ENRICH_DISCOVER", "1") != "0",
            # For tests only: `0` keeps the retry policy's decisions and skips its sleeps.
            retry_wait=env.get("ENRICH_RETRY_WAIT", "1") != "0",
        )
        return replace(settings, **overrides)  # type: ignore[arg-type]

    def with_project_config(self, folder: Path) -> Settings:
        """Settings with `[tool.enrich]` of `folder`'s `enrich.toml` or `pyproject.toml`.

        `columns = ["stars", "downloads", "published"]` picks the generated columns and their
        order; `[tool.enrich.headers]` (or `[headers]` in enrich.toml) renames their headers;
        `[tool.enrich.ttl_hours]` sets a source's cache time-to-live in hours;
        `discover = false` turns discovery (suggestions for empty cells) off.
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
        discover = table.get("discover", self.discover)
        if not isinstance(discover, bool):
            raise InputError("[tool.enrich] discover must be true or false")
        return replace(
            self,
            columns=tuple(columns),
            headers={**self.headers, **headers},
            ttls=ttls,
            discover=discover,
        )

    def wants(self, source: str) -> bool:
        """Whether `--only`/`--skip` leave `source` in this run."""
        return (not self.only or source in self.only) and source not in self.skip


def _secret(env: Mapping[str, str], name: str) -> Secret:
    """A token from `env`, refused (without showing it) when an HTTP header cannot carry it:
    the client would fail later with an error that quotes the offending character."""
    value = env.get(name, "").strip()
    if not all(" " < char < "\x7f" for char in value):
        raise InputError(f"{name} holds characters a token cannot have (not printable ASCII)")
    return Secret(value)


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
