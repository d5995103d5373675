"""The dataset contract: the records that flow between the stages. No I/O here.

`Link`, `Diagnostic`, `RowRecord`, `Result`, `Dataset` (and the entity data a `Result`
holds, `metadata.py`) are frozen pydantic models, because `output/enriched.schema.json` is
generated from them and consumers validate against it. `Identifier`, an entity's one
identity from resolve to render, is a frozen, hashable dataclass that `Link.id` holds; its
`kind:key` text (`ref`) is the JSON's name for it. (The parsed document, frozen dataclasses,
is in `document.py`.)

Records are immutable: a later stage builds new records, it never mutates earlier ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, Self

from pydantic import AwareDatetime, Field

from enrich.metadata import EntityData
from enrich.record import Record

SCHEMA_VERSION = 2
"""Bumped on any incompatible change of `output/enriched.json`; `migrate.py` brings a dataset
of every earlier version to this one. 2: the models tagged with a paper are a record of their
own (`TaggedModels`), no longer a kind of `HubMeta`."""

# --------------------------------------------------------------------------- dataset contract


class Kind(StrEnum):
    """What a link points to. Decided by the URL alone, never by the column it sits in."""

    ARXIV = "arxiv"
    GITHUB_REPO = "github_repo"
    GITHUB_USER = "github_user"
    HF_MODEL = "hf_model"
    HF_DATASET = "hf_dataset"
    HF_SPACE = "hf_space"
    HF_COLLECTION = "hf_collection"
    HF_PAPER = "hf_paper"
    HF_ORG = "hf_org"
    HF_DOCS = "hf_docs"
    DOI = "doi"
    ACL = "acl"
    PMLR = "pmlr"
    OPENREVIEW = "openreview"
    URL = "url"
    SCHOLAR = "scholar"
    """Semantic Scholar's record of a paper; the key is the paper's own ref, e.g.
    `arxiv:2305.14314` or `doi:10.5555/3666122.3666563`. Not a link kind: every paper link
    names one in `Link.also`."""
    HF_PAPER_MODELS = "hf_paper_models"
    """The Hub's models tagged `arxiv:<key>`, most downloaded first. Not a link kind: it is
    fetched for rows with an arXiv paper and an empty Model Card cell (`suggest.py`)."""
    RECOMMENDED = "recommended"
    """Semantic Scholar's recommendations for a section's papers; the key is the section's
    papers as their Semantic Scholar keys, sorted, space-separated (`plan.recommendation`).
    Not a link kind: discovery asks it once per section (`papers.py`)."""


PAPER_KINDS = frozenset({Kind.ARXIV, Kind.DOI, Kind.ACL, Kind.PMLR, Kind.OPENREVIEW, Kind.HF_PAPER})
CODE_KINDS = frozenset({Kind.GITHUB_REPO, Kind.GITHUB_USER})
LANDING_KINDS = frozenset({Kind.PMLR, Kind.OPENREVIEW})
"""Papers whose facts come from their landing page (`sources/landing.py`)."""
HUB_KINDS = frozenset(
    {
        Kind.HF_MODEL,
        Kind.HF_DATASET,
        Kind.HF_SPACE,
        Kind.HF_COLLECTION,
        Kind.HF_ORG,
        Kind.HF_DOCS,
    }
)
HUB_FETCHED = (HUB_KINDS - {Kind.HF_DOCS}) | {Kind.HF_PAPER, Kind.HF_PAPER_MODELS}
"""What the Hub source fetches: every Hub kind but docs pages, and discovery's lookups."""


@dataclass(frozen=True, slots=True)
class Identifier:
    """An entity's one identity, from resolve to render: `(kind, key)`, hashable.

    `version` (an arXiv version as linked) and `subpath` (what a URL adds to the entity, e.g.
    `tree/master/adalm`) say how a link names it; they are not part of the identity. `ref`,
    the `kind:key` text, is made once, here: it is the entity's name in `enriched.json` and
    in the cache (the JSON boundary), and `Identifier.of_ref` reads it back.
    """

    kind: Kind
    key: str
    version: str | None = field(default=None, compare=False)
    subpath: str | None = field(default=None, compare=False)
    ref: str = field(init=False, compare=False, repr=False)
    """`kind:key`, the entity's name across the dataset."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", f"{self.kind.value}:{self.key}")

    def __hash__(self) -> int:
        # The hash of `ref`, which names (kind, key) one to one and keeps its hash: a lookup
        # hashes one string, not a tuple and an enum member (a year of history is half a
        # million lookups).
        return hash(self.ref)

    @classmethod
    def of_ref(cls, ref: str) -> Identifier:
        """The identifier named `kind:key` (raises ValueError for an unknown kind)."""
        kind, _, key = ref.partition(":")
        return cls(Kind(kind), key)


REF: Callable[[Identifier], str] = attrgetter("ref")
"""The one order of entities wherever it shows (`enriched.json`, the fetch's batches,
CHANGES.md): by their `kind:key` text. A sort key, not `Identifier.__lt__`: strings compare
in C, several times faster than a method called for each comparison."""


class Link(Record):
    """One link found in a cell, resolved."""

    # `id` is the entity it names. The flat fields `kind`, `key`, `version`, `subpath` and
    # `also` are its JSON form (`enriched.json` keeps that shape, and this docstring is the
    # schema's description): `Link.to` writes them from the identifier, `id` is made from
    # them once (`_identifier`), and code reads `link.id` (and `plan.companions(link.id)`,
    # not `also`).

    url: str
    text: str = Field(description="The link's visible text.")
    column: str
    kind: Kind
    key: str
    version: str | None = None
    subpath: str | None = None
    also: list[str] = Field(
        default_factory=list,
        description="Other entities this link names, as 'kind:key' (a Hub paper page names "
        "an arXiv paper).",
    )
    misplaced: bool = Field(default=False, description="The link's kind does not fit its column.")

    @classmethod
    def to(
        cls,
        ident: Identifier,
        also: tuple[Identifier, ...] = (),
        *,
        url: str,
        text: str,
        column: str,
        misplaced: bool = False,
    ) -> Link:
        """The link at `url` to `ident`, naming `also` besides (`plan.companions`)."""
        return cls(
            url=url,
            text=text,
            column=column,
            kind=ident.kind,
            key=ident.key,
            version=ident.version,
            subpath=ident.subpath,
            also=[other.ref for other in also],
            misplaced=misplaced,
        )

    @property
    def id(self) -> Identifier:
        """The entity this link names: one `Identifier` for every link with these fields."""
        return _identifier(self.kind, self.key, self.version, self.subpath)


@functools.lru_cache(maxsize=1 << 16)  # a list links a few thousand entities, many twice
def _identifier(kind: Kind, key: str, version: str | None, subpath: str | None) -> Identifier:
    """The identifier a link's JSON fields spell, made once: not a field of `Link`, so that
    a link costs what its JSON does to read (half as much as with a private attribute)."""
    return Identifier(kind, key, version, subpath)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Diagnostic(Record):
    """A problem in a seed, with where it is and what to do about it."""

    file: str
    line: int = Field(ge=0, description="1-based line; 0 when it concerns the whole file.")
    severity: Severity
    code: str = Field(description="Stable machine-readable name, e.g. 'misplaced-link'.")
    message: str
    hint: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.where}: {self.severity.value}: {self.message} [{self.code}]{hint}"


class RowRecord(Record):
    """A curated row of a seed table, with its resolved links."""

    id: str = Field(description="Stable id derived from what the row is, not where it sits.")
    file: str
    line: int
    section: list[str] = Field(description="Heading path the table sits under.")
    table: int = Field(description="0-based index of the table in its file.")
    cells: dict[str, str] = Field(description="Curated cell text by column name.")
    columns: list[str] = Field(
        default_factory=list,
        description="The column names in table order (the JSON sorts `cells` by name).",
    )
    links: list[Link]

    def arxiv_link(self) -> Link | None:
        """The row's first link to an arXiv paper: an arXiv page, or a Hub paper page (whose
        key is the arXiv id)."""
        return next((k for k in self.links if k.kind in (Kind.ARXIV, Kind.HF_PAPER)), None)

    def cell(self, column: str) -> str:
        """The text of the cell whose column is called `column` (any case), else empty."""
        name = column_named(tuple(self.cells), column)
        return self.cells[name] if name is not None else ""


@functools.lru_cache(maxsize=1024)  # a list has a few dozen column names
def _folded(column: str) -> str:
    return column.strip().lower()


@functools.lru_cache(maxsize=1024)  # a list has a few tables' worth of column orders
def column_named(order: tuple[str, ...], name: str) -> str | None:
    """The first column of `order` called `name` (any case, spaces around ignored)."""
    folded = _folded(name)
    return next((c for c in order if _folded(c) == folded), None)


class Status(StrEnum):
    """How fetching an entity ended. Every entity of a run ends in exactly one of these."""

    OK = "ok"
    """Fetched (or revalidated, or served fresh from the cache); `data` is current."""
    NOT_FOUND = "not_found"
    """The provider says it does not exist (404, or left out of a batch answer). A fact."""
    MOVED = "moved"
    """It exists under another name (a renamed or transferred repository); `data` holds the
    facts under the new name and `moved_to` the new key. A fact."""
    ERROR = "error"
    """Fetching failed and no earlier value is known; `error` says why."""
    STALE = "stale"
    """Fetching failed (after the retry policy gave up, or the rate-limit budget ran out),
    and `data` is the last known value, from the cache or the previous dataset, with its old
    `fetched_at`; `error` says what failed."""
    SKIPPED = "skipped"
    """Not fetched by design, and nothing earlier is known: no source serves this kind (a
    docs page, a generic URL), the run was `--offline`, or `--only`/`--skip` left the source
    out. (When something earlier is known, such a run keeps it as it was.)"""


class Provenance(Record):
    """Where a value comes from and how fetching it ended. (How this run's requests went,
    which differs between two runs that found the same facts, is the run's: the source's
    `SourceStats.answers`, and the fetch report's counts.)"""

    source: str
    status: Status
    fetched_at: AwareDatetime | None = Field(
        default=None,
        description="UTC time of the network call that produced `data`; kept while the "
        "value does not change, so an unchanged refresh rewrites no byte.",
    )
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None


Scalar = int | float | str | bool | None


class Change(Record):
    """One field that changed between two refreshes."""

    field: str
    old: Scalar
    new: Scalar


class Result(Record):
    """What fetching one identifier gave: provenance, and data iff usable."""

    ref: str = Field(description="'kind:key' of the entity.")
    provenance: Provenance
    data: EntityData | None = None
    moved_to: str | None = None
    changes: list[Change] = Field(
        default_factory=list,
        description="What changed the last time the facts changed, against the facts before "
        "(kept while they stay the same).",
    )

    @property
    def status(self) -> Status:
        return self.provenance.status


Entities = Mapping[Identifier, Result]
"""Fetched facts by entity, in memory: keyed by `Identifier`, from the sources' answers
through fetch, merge and every renderer. Only `Dataset.entities` (the JSON) and the cache
name an entity by its `ref`."""


def by_ref(results: Entities) -> dict[str, Result]:
    """`results` as `enriched.json` holds them: by `ref`, in order of ref (the JSON
    boundary, one way)."""
    return {ident.ref: results[ident] for ident in sorted(results, key=REF)}


class Dataset(Record):
    """`output/enriched.json`."""

    schema_version: int = SCHEMA_VERSION
    seeds: list[str]
    records: list[RowRecord]
    entities: dict[str, Result] = Field(
        default_factory=dict, description="Fetched facts by entity ('kind:key')."
    )
    diagnostics: list[Diagnostic]

    @functools.cached_property
    def results(self) -> Entities:
        """`entities` by `Identifier` (the JSON boundary, the other way): what the stages
        read. Worked out once per dataset (a frozen record: `entities` never changes)."""
        return {Identifier.of_ref(ref): result for ref, result in self.entities.items()}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy (`update`d); `results` is worked out again from its own `entities`:
        pydantic copies the instance's `__dict__`, where the cached value lives."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("results", None)
        return copied


def utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (naive values are taken to be UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
