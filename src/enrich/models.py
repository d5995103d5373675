"""The dataset contract: the records that flow between the stages. No I/O here.

`Link`, `Diagnostic`, `RowRecord`, `Result`, `Dataset` are frozen pydantic models, because
`output/enriched.schema.json` is generated from them and consumers validate against it.
`Identifier`, an entity's one identity from resolve to render, is a frozen, hashable
dataclass that `Link.id` holds; its `kind:key` text (`ref`) is the JSON's name for it. (The
parsed document, frozen dataclasses, is in `document.py`.)

Records are immutable: a later stage builds new records, it never mutates earlier ones.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 2
"""Bumped on any incompatible change of `output/enriched.json`; `migrate.py` brings a dataset
of every earlier version to this one. 2: the models tagged with a paper are a record of their
own (`TaggedModels`), no longer a kind of `HubMeta`."""

# --------------------------------------------------------------------------- dataset contract


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_post_init(self, context: Any, /) -> None:
        """Share the set of explicitly set field names with every record of the same type
        and fields: pydantic gives each instance its own (about 700 bytes for 5 or more
        fields, a third of a 10,000-row dataset's memory). The records are frozen, and
        pydantic copies the set before changing it (`model_copy(update=...)`), so a shared
        set is never changed."""
        key = (type(self), frozenset(self.__pydantic_fields_set__))
        shared = _FIELDS_SETS.get(key)
        if shared is None:
            shared = _FIELDS_SETS.setdefault(key, set(key[1]))
        object.__setattr__(self, "__pydantic_fields_set__", shared)


_FIELDS_SETS: dict[tuple[type, frozenset[str]], set[str]] = {}
"""One set per (record type, fields set): a few dozen in all."""


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

    @classmethod
    def of_ref(cls, ref: str) -> Identifier:
        """The identifier named `kind:key` (raises ValueError for an unknown kind)."""
        kind, _, key = ref.partition(":")
        return cls(Kind(kind), key)


class Link(_Record):
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

    @property
    def ref(self) -> str:
        return self.id.ref


@functools.lru_cache(maxsize=1 << 16)  # a list links a few thousand entities, many twice
def _identifier(kind: Kind, key: str, version: str | None, subpath: str | None) -> Identifier:
    """The identifier a link's JSON fields spell, made once: not a field of `Link`, so that
    a link costs what its JSON does to read (half as much as with a private attribute)."""
    return Identifier(kind, key, version, subpath)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Diagnostic(_Record):
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


class RowRecord(_Record):
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


class Author(_Record):
    name: str
    affiliations: list[str] = Field(default_factory=list)


class PaperMeta(_Record):
    """An arXiv paper, normalised."""

    type: Literal["paper"] = "paper"
    arxiv_id: str
    latest_version: str | None = None
    title: str
    authors: list[Author]
    abstract: str
    published: AwareDatetime
    updated: AwareDatetime
    primary_category: str | None = None
    categories: list[str] = Field(default_factory=list)
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    pdf_url: str | None = None


class RepoMeta(_Record):
    """A GitHub repository, normalised."""

    type: Literal["repo"] = "repo"
    full_name: str = Field(description="Canonical owner/name as GitHub spells it now.")
    description: str | None = None
    stars: int
    forks: int | None = None
    watchers: int | None = None
    open_issues: int | None = None
    license_spdx: str | None = None
    license_name: str | None = None
    archived: bool = False
    fork: bool = False
    created_at: AwareDatetime | None = None
    pushed_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    default_branch: str | None = None
    topics: list[str] = Field(default_factory=list)
    homepage: str | None = None
    language: str | None = None
    subpaths: dict[str, bool] = Field(
        default_factory=dict, description="Linked /tree or /blob subpaths and whether they exist."
    )


class TaggedModel(_Record):
    """A Hub model tagged with a paper's arXiv id."""

    id: str = Field(description="The model's repo id, e.g. 'TinyLlama/TinyLlama-1.1B'.")
    downloads: int | None = Field(default=None, description="Downloads in the last 30 days.")
    likes: int | None = None


HubKind = Literal["model", "dataset", "space", "collection", "paper", "org"]


class HubMeta(_Record):
    """A Hugging Face Hub model, dataset, space, collection, paper page or org, normalised."""

    type: Literal["hub"] = "hub"
    hub_kind: HubKind
    id: str
    title: str | None = None
    downloads: int | None = Field(default=None, description="Downloads in the last 30 days.")
    downloads_all_time: int | None = None
    likes: int | None = None
    upvotes: int | None = None
    last_modified: AwareDatetime | None = None
    pipeline_tag: str | None = None
    library: str | None = None
    license: str | None = None
    gated: bool | str | None = None
    arxiv_ids: list[str] = Field(default_factory=list)
    items: int | None = Field(default=None, description="Items of a collection.")
    github_repo: str | None = Field(default=None, description="A paper page's linked repository.")
    models: int | None = Field(default=None, description="Public models of an org or user.")


class TaggedModels(_Record):
    """The Hub's models tagged `arxiv:<id>` (`hf_paper_models:<id>`), most downloaded first."""

    type: Literal["paper_models"] = "paper_models"
    arxiv_id: str
    models: list[TaggedModel] = Field(
        default_factory=list, description="Models tagged arxiv:<id>, most downloaded first."
    )


class ScholarMeta(_Record):
    """A paper as Semantic Scholar knows it: citations, venue, and its other identifiers."""

    type: Literal["scholar"] = "scholar"
    paper_id: str = Field(description="Semantic Scholar's paper id.")
    title: str | None = None
    authors: list[Author] = Field(default_factory=list)
    year: int | None = None
    publication_date: date | None = None
    venue: str | None = Field(default=None, description="Where it was published, if anywhere.")
    journal: str | None = Field(default=None, description="Journal name, volume and pages.")
    publication_types: list[str] = Field(default_factory=list)
    arxiv_id: str | None = Field(default=None, description="Its arXiv id, when it has one.")
    doi: str | None = None
    acl_id: str | None = None
    citations: int | None = None
    influential_citations: int | None = None
    url: str | None = None


class PageMeta(_Record):
    """A paper as its landing page describes it (PMLR, OpenReview): the Highwire Press
    `citation_*` meta tags that Google Scholar reads."""

    type: Literal["page"] = "page"
    title: str
    authors: list[Author] = Field(default_factory=list)
    year: int | None = None
    publication_date: date | None = Field(
        default=None, description="The page's publication (or online) date, when it gives a day."
    )
    venue: str | None = Field(default=None, description="Conference or journal title.")
    pdf_url: str | None = None
    url: str = Field(description="The landing page.")


EntityData = Annotated[
    PaperMeta | RepoMeta | HubMeta | TaggedModels | ScholarMeta | PageMeta,
    Field(discriminator="type"),
]


class Provenance(_Record):
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


class Change(_Record):
    """One field that changed between two refreshes."""

    field: str
    old: Scalar
    new: Scalar


class Result(_Record):
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


class Dataset(_Record):
    """`output/enriched.json`."""

    schema_version: int = SCHEMA_VERSION
    seeds: list[str]
    records: list[RowRecord]
    entities: dict[str, Result] = Field(
        default_factory=dict, description="Fetched facts by entity ('kind:key')."
    )
    diagnostics: list[Diagnostic]


def utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (naive values are taken to be UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
