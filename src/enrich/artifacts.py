"""Stage 5 for a whole run: the merged dataset -> every output file's bytes. Pure.

Each output is rendered by its own module (`jsonout`, `report`, `page`, `timeline`,
`changes`, `render`, `bib`); this one puts them together under the names `folders` gives
them, with the rows' facts asked of one `columns.Facts` by all of them (which knows each
row's keys in `references.bib`, for the `bib` column and the page). Nothing is read or
written here: `pipeline` reads the inputs, then writes these files as one change
(`output.commit`) or compares them with the files there (`check`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from enrich.bib import Bibliography, bibliography
from enrich.changes import changes_markdown
from enrich.columns import Column, Facts
from enrich.document import Document
from enrich.folders import (
    BIB_NAME,
    CHANGES_NAME,
    DATASET_NAME,
    PAGE_NAME,
    REPORT_NAME,
    SCHEMA_NAME,
    TIMELINE_NAME,
    TRENDS_NAME,
)
from enrich.history import HISTORY_DIR, History, appended, seeded
from enrich.jsonout import dataset_schema, json_bytes
from enrich.models import Dataset, Identifier
from enrich.page import render_page
from enrich.render import render_document
from enrich.report import report_markdown
from enrich.timeline import render_timeline
from enrich.trendchart import render_trends
from enrich.trends import Trends


@dataclass(frozen=True)
class Regenerated:
    """A seed's document, and where its regenerated copy goes."""

    document: Document
    path: Path
    link_base: str
    """The seed's folder seen from the folder of `path` (e.g. "../seeds")."""
    timeline: str
    """The timeline image seen from the folder of `path`."""


def facts_and_references(
    dataset: Dataset, published: Mapping[Identifier, str]
) -> tuple[Facts, Bibliography]:
    """The rows' facts, knowing each row's keys in `references.bib`, and that file's
    entries (keyed as `published`, the previous file's keys, says)."""
    bib = bibliography(dataset.records, Facts(dataset.results), published)
    return Facts(dataset.results, bib.rows), bib


def output_files(
    out: Path,
    dataset: Dataset,
    previous: Dataset | None,
    columns: Sequence[Column],
    documents: Sequence[Regenerated],
    published: Mapping[Identifier, str] | None = None,
    history: History | None = None,
) -> dict[Path, bytes]:
    """Every output file's path (in `out`, and each regenerated document's) and content
    (UTF-8); CHANGES.md only when `previous` gives it something to say. The dataset is kept
    as the bytes its serializer wrote: no text copy of it is made on the way to disk.
    `published`: the keys the previous `references.bib` gave its papers
    (`bib.published_keys`). `history` is the one read before the run: seeded from `previous`
    when empty, this dataset's changes appended (`history.py`), each year's file written."""
    before = seeded(history or History(), previous.results if previous else None)
    after = appended(before, dataset.results)
    trends = Trends.of(after)
    facts, bib = facts_and_references(dataset, published or {})  # report, timeline: no trends
    trended = facts.with_trends(trends)  # the page's and the documents' columns
    files: dict[Path, bytes] = {
        out / DATASET_NAME: json_bytes(dataset),
        out / SCHEMA_NAME: json_bytes(dataset_schema()),
        out / REPORT_NAME: report_markdown(dataset, facts).encode(),
        out / PAGE_NAME: render_page(dataset, trended, bib.texts()).encode(),
        out / TIMELINE_NAME: render_timeline(dataset, facts).encode(),
        out / BIB_NAME: bib.text().encode(),
        out / TRENDS_NAME: render_trends(trends, dataset.results).encode(),
        **{out / HISTORY_DIR / name: data for name, data in after.files().items()},
    }
    changes = changes_markdown(previous, dataset, trends, before.last_day)
    if changes is not None:
        files[out / CHANGES_NAME] = changes.encode()
    for target in documents:
        document = target.document
        records = [r for r in dataset.records if r.file == document.path]
        timeline = target.timeline if records else None  # a document with rows shows it
        files[target.path] = render_document(
            document, records, dataset.results, columns, target.link_base, timeline, trended
        ).encode()
    return files
