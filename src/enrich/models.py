"""The records that flow between the stages. No I/O here.

Two families:

* the parsed document (`Document`, `Block`, `Table`, `TableLine`): frozen dataclasses that keep
  the original source text, so rendering an untouched document reproduces it byte for byte;
* the dataset contract (`Link`, `Identifier`, `Diagnostic`, `RowRecord`, `Dataset`): frozen
  pydantic models, because `output/enriched.schema.json` is generated from them and consumers
  validate against it.

Records are immutable: a later stage builds new records, it never mutates earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
"""Bumped on any incompatible change of `output/enriched.json`."""


# --------------------------------------------------------------------------- parsed document


@dataclass(frozen=True, slots=True)
class TableLine:
    """One source line of a table: its raw text and the cells split out of it.

    `raw` is the line exactly as in the file, including its line ending (which is empty only
    for a last line without a final newline). `cells` hold each cell's raw text between the
    pipes, whitespace included; `values` the stripped, unescaped text a reader sees.
    """

    line: int
    raw: str
    cells: tuple[str, ...]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(cell.strip().replace("\\|", "|") for cell in self.cells)


@dataclass(frozen=True, slots=True)
class Table:
    """A GFM table: header line, alignment line, body lines, and where it sits."""

    index: int
    heading_path: tuple[str, ...]
    header: TableLine
    delimiter: TableLine
    rows: tuple[TableLine, ...]
    prefix: str = ""  # container prefix (indentation, `> `) on continuation lines

    @property
    def columns(self) -> tuple[str, ...]:
        return unique_columns(self.header.values)

    @property
    def raw(self) -> str:
        return self.header.raw + self.delimiter.raw + "".join(r.raw for r in self.rows)

    @property
    def alignments(self) -> tuple[str, ...]:
        return tuple(alignment(cell) for cell in self.delimiter.values)


@dataclass(frozen=True, slots=True)
class Prose:
    """Anything that is not a table, kept verbatim."""

    line: int
    raw: str


Block = Prose | Table


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed markdown file: its blocks in order. `"".join(b.raw ...)` is the source."""

    path: str
    blocks: tuple[Block, ...]
    references: dict[str, str] = field(default_factory=dict)

    @property
    def tables(self) -> tuple[Table, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Table))

    @property
    def text(self) -> str:
        return "".join(b.raw for b in self.blocks)


def alignment(delimiter_cell: str) -> str:
    """`:---` left, `:---:` center, `---:` right, `---` none."""
    cell = delimiter_cell.strip()
    left, right = cell.startswith(":"), cell.endswith(":")
    if left and right:
        return "center"
    return "left" if left else "right" if right else "none"


def unique_columns(names: tuple[str, ...]) -> tuple[str, ...]:
    """Column names made unique (`Notebook`, `Notebook 2`) and never empty (`Column 1`)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for position, name in enumerate(names, start=1):
        base = name or f"Column {position}"
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base} {seen[base]}")
    return tuple(out)


# --------------------------------------------------------------------------- dataset contract


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


PAPER_KINDS = frozenset({Kind.ARXIV, Kind.DOI, Kind.ACL, Kind.PMLR, Kind.OPENREVIEW, Kind.HF_PAPER})
CODE_KINDS = frozenset({Kind.GITHUB_REPO, Kind.GITHUB_USER})
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


class Identifier(_Record):
    """A typed, canonical name of an entity: `(kind, key)` is its identity."""

    kind: Kind
    key: str = Field(description="Canonical key, e.g. '2306.07629' or 'mit-han-lab/llm-awq'.")
    version: str | None = Field(default=None, description="arXiv version as linked, e.g. 'v4'.")
    subpath: str | None = Field(
        default=None, description="What the URL adds to the entity, e.g. 'tree/master/adalm'."
    )
    display: str | None = Field(default=None, description="The key as spelled in the URL.")

    @property
    def ref(self) -> str:
        """`kind:key`, the entity's name across the dataset."""
        return f"{self.kind.value}:{self.key}"


class Link(_Record):
    """One link found in a cell, resolved."""

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

    @property
    def ref(self) -> str:
        return f"{self.kind.value}:{self.key}"


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
    links: list[Link]


class Dataset(_Record):
    """`output/enriched.json`."""

    schema_version: int = SCHEMA_VERSION
    seeds: list[str]
    records: list[RowRecord]
    diagnostics: list[Diagnostic]
