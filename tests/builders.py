"""The records tests build by hand: one home for each, so a change to a record's shape
(`Link`, `Result`, `Provenance`, ...) is made here once, not in every test file.

Each builder takes the few facts a test varies and fills the rest with plain defaults.
Records read from a seed come from `parse` + `resolve`, not from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from enrich.config import Settings
from enrich.metadata import Author, EntityData, HubMeta, PaperMeta, RepoMeta, TaggedModels
from enrich.models import (
    Change,
    Dataset,
    Entities,
    Identifier,
    Kind,
    Link,
    Provenance,
    Result,
    RowRecord,
    Status,
)
from enrich.net import RetryPolicy
from enrich.sources import FetchContext, SourceStats

MOMENT = datetime(2024, 2, 3, tzinfo=UTC)
"""The default time of a fetch and of a paper's publication."""

USABLE = (Status.OK, Status.STALE, Status.MOVED)
"""The statuses whose results carry data."""


def result(
    ref: str | Identifier,
    data: EntityData | None = None,
    status: Status = Status.OK,
    *,
    source: str = "test",
    fetched_at: datetime | None = None,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    moved_to: str | None = None,
    changes: Sequence[Change] = (),
) -> Result:
    """The result for `ref` (an entity, or its `kind:key` text): `data` with a provenance of
    `source` and `status`."""
    provenance = Provenance(
        source=source,
        status=status,
        fetched_at=fetched_at,
        error=error,
        etag=etag,
        last_modified=last_modified,
    )
    return Result(
        ref=ref if isinstance(ref, str) else ref.ref,
        provenance=provenance,
        data=data,
        moved_to=moved_to,
        changes=list(changes),
    )


def ident(ref: str) -> Identifier:
    """The identifier named `ref` (`kind:key`): how a test names the entity it looks up."""
    return Identifier.of_ref(ref)


def by_id(*results: Result) -> dict[Identifier, Result]:
    """`results` keyed as every stage keys them in memory: by `Identifier`."""
    return {ident(r.ref): r for r in results}


def paper_meta(
    arxiv_id: str,
    title: str = "A paper",
    published: datetime = MOMENT,
    authors: Iterable[str] = (),
    **extra: object,
) -> PaperMeta:
    """arXiv's facts on `arxiv_id`, published and updated at `published`."""
    return PaperMeta(
        arxiv_id=arxiv_id,
        title=title,
        authors=[Author(name=a) for a in authors],
        abstract="",
        published=published,
        updated=published,
        **extra,
    )


def paper(
    arxiv_id: str,
    title: str = "A paper",
    published: datetime = MOMENT,
    *,
    fetched_at: datetime | None = MOMENT,
) -> Result:
    """arXiv's result for `arxiv_id` (status ok)."""
    data = paper_meta(arxiv_id, title, published)
    return result(f"arxiv:{arxiv_id}", data, source="arxiv", fetched_at=fetched_at)


def repo(
    name: str,
    stars: int,
    status: Status = Status.OK,
    *,
    ref: str | None = None,
    fetched_at: datetime | None = None,
    error: str | None = None,
    etag: str | None = None,
    moved_to: str | None = None,
    **extra: object,
) -> Result:
    """GitHub's result for the repository `name` (data only where `status` carries it)."""
    data = RepoMeta(full_name=name, stars=stars, **extra) if status in USABLE else None
    return result(
        ref or f"github_repo:{name.lower()}",
        data,
        status,
        source="github",
        fetched_at=fetched_at,
        error=error,
        etag=etag,
        moved_to=moved_to,
    )


def hub(ref: str, status: Status = Status.OK, **data: object) -> Result:
    """The Hub's result for `ref`: a paper page (`hf_paper:`) or a paper's tagged models."""
    key = ref.split(":", 1)[1]
    meta = (
        HubMeta(hub_kind="paper", id=key, **data)
        if ref.startswith("hf_paper:")
        else TaggedModels(arxiv_id=key, **data)
    )
    return result(
        ref, meta if status in (Status.OK, Status.STALE) else None, status, source="huggingface"
    )


def link(
    url: str,
    kind: Kind,
    key: str,
    *,
    column: str = "Code",
    text: str = "Link",
    also: Iterable[str] = (),
    subpath: str | None = None,
) -> Link:
    """A link of `kind` to `key`, found at `url` in `column`."""
    return Link(
        url=url, text=text, column=column, kind=kind, key=key, also=list(also), subpath=subpath
    )


def record(
    *links: Link,
    id: str = "r",
    file: str = "list.md",
    line: int = 3,
    section: Sequence[str] = (),
    cells: dict[str, str] | None = None,
    table: int = 0,
) -> RowRecord:
    """A row holding `links`, with `cells` (by default one cell)."""
    return RowRecord(
        id=id,
        file=file,
        line=line,
        section=list(section),
        table=table,
        cells={"A": "x"} if cells is None else cells,
        links=list(links),
    )


def dataset(
    records: Iterable[RowRecord] = (), *results: Result, seeds: Sequence[str] = ("list.md",)
) -> Dataset:
    """A dataset of `records` and the entities `results`."""
    return Dataset(
        seeds=list(seeds),
        records=list(records),
        entities={r.ref: r for r in results},
        diagnostics=[],
    )


def context(
    settings: Settings,
    policy: RetryPolicy | None = None,
    *,
    now: Callable[[], datetime] | None = None,
    keep: Callable[[Entities], None] | None = None,
) -> tuple[FetchContext, list[int]]:
    """What a source is handed for one call with `settings`: `policy` (by default no waits,
    three attempts), fresh counters, and progress recorded in the list returned beside it;
    `now` (the clock of `fetched_at`) and `keep` (each settled batch) where a test sets them."""
    advanced: list[int] = []
    ctx = FetchContext(
        settings=settings,
        policy=policy or RetryPolicy(wait=False, attempts=3),
        stats=SourceStats(),
        advance=advanced.append,
    )
    if now is not None:
        ctx = replace(ctx, now=now)
    if keep is not None:
        ctx = replace(ctx, keep=keep)
    return ctx, advanced
