"""Stage 5, for people: what to fix (`report.md`). What a refresh changed is `changes.py`.

Derived from the dataset only — a pure function, deterministic text, no run timestamps —
so it can be committed. `report.md` lists every data problem a maintainer should fix, each
with the seed's `file:line` and a suggested fix, then the links discovery suggests for empty
Code and Model Card cells (`suggest.py`), and the papers to consider per section, which
Semantic Scholar recommends and the list does not have (`papers.py`), for review.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from enrich.columns import Facts, RowFacts
from enrich.metadata import (
    HubMeta,
    PageMeta,
    PaperMeta,
    RecommendedPaper,
    RepoMeta,
    ScholarMeta,
)
from enrich.models import (
    REF,
    Dataset,
    Entities,
    Identifier,
    Kind,
    Link,
    Result,
    RowRecord,
    Severity,
    Status,
)
from enrich.papers import SectionPapers, paper_url, to_consider
from enrich.render import escape_cell
from enrich.roles import column_role, row_year
from enrich.suggest import Suggestion, suggestions
from enrich.venues import published_doi, published_venue


@dataclass(frozen=True, order=True)
class Problem:
    """A data problem: where, what, and what to do."""

    file: str
    line: int
    code: str
    message: str
    fix: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


# ------------------------------------------------------------------------------ report.md


def problems(dataset: Dataset, facts: Facts | None = None) -> list[Problem]:
    """Every data problem in the dataset (its rows' `facts`, when worked out already),
    sorted by place."""
    facts = facts or Facts(dataset.results)
    found = [
        Problem(d.file, d.line, d.code, d.message, d.hint)
        for d in dataset.diagnostics
        if d.severity is not Severity.INFO or d.code == "duplicate-entity"
    ]
    down = _failed_sources(dataset)
    found.extend(down.values())
    for record in dataset.records:
        found.extend(_year(record, facts))
        found.extend(_venue(record, facts))
        found.extend(_entity_problems(record, dataset.results, frozenset(down)))
        found.extend(_model_card(record))
    return sorted(set(found), key=_place)


def _failed_sources(dataset: Dataset) -> dict[str, Problem]:
    """One problem per source none of whose linked entities (two or more) could be fetched
    (a network down, a host that does not answer): said once, not once per link."""
    by_source: dict[str, dict[Identifier, Result]] = {}
    for record in dataset.records:
        for link in record.links:
            result = dataset.results.get(link.id)
            if result is not None:
                by_source.setdefault(result.provenance.source, {})[link.id] = result
    down: dict[str, Problem] = {}
    for source, results in sorted(by_source.items()):
        failed = {i: r for i, r in results.items() if r.status in (Status.ERROR, Status.STALE)}
        if len(results) < 2 or len(failed) < len(results):
            continue
        stale = sum(1 for r in failed.values() if r.status is Status.STALE)
        first = failed[min(failed, key=REF)].provenance.error
        down[source] = Problem(
            source,
            0,
            "source-failed",
            f"none of the {len(failed)} links {source} serves could be fetched "
            f"({stale} keep their last known value), e.g. {first}",
            "check the network or the service (run with --offline without one); "
            "they are retried on the next refresh",
        )
    return down


def _place(problem: Problem) -> tuple[str, int, str, str, str]:
    """The order of `Problem`s (their fields in turn), as a key: a tuple compares in C, where
    the dataclass's generated comparison methods build two tuples in Python each time."""
    return (problem.file, problem.line, problem.code, problem.message, problem.fix)


def _year(record: RowRecord, facts: Facts) -> Iterator[Problem]:
    """A Year (or Date, Time, Published) cell that disagrees with the year the row's paper
    was first published: on arXiv, else (a paper with no arXiv record) as its landing page
    dates it."""
    dated = row_year(record)
    if dated is None:
        return
    said, year = f"{dated[0]} cell says {dated[1]}", dated[2]
    known = facts.of(record)
    found = known.paper
    if found is None or not isinstance(found.data, PaperMeta):
        yield from _page_year(record, known, said, year)
        return
    published = found.data.published
    if year != published.year:
        linked = record.arxiv_link() is not None
        via = "" if linked else " (found through Semantic Scholar: the row links no arXiv page)"
        yield Problem(
            record.file,
            record.line,
            "year-mismatch",
            f"{said}, but arXiv {found.data.arxiv_id} was first published {published:%Y-%m}{via}",
            f"write {published.year}, unless {year} is a deliberate venue year",
        )


def _page_year(record: RowRecord, known: RowFacts, said: str, year: int) -> Iterator[Problem]:
    """The Year check of a paper with no arXiv record, against its PMLR or OpenReview page."""
    found = known.landing
    data = found.data if found is not None else None
    if found is None or not isinstance(data, PageMeta) or data.year in (None, year):
        return
    landing = known.ids.landing
    site = "OpenReview" if landing is not None and landing.kind is Kind.OPENREVIEW else "PMLR"
    when = f"{data.publication_date:%Y-%m}" if data.publication_date else str(data.year)
    yield Problem(
        record.file,
        record.line,
        "year-mismatch",
        f"{said}, but its {site} page dates it {when} (no arXiv record of it)",
        f"write {data.year}, unless {year} is a deliberate venue year",
    )


def _venue(record: RowRecord, facts: Facts) -> Iterator[Problem]:
    """A paper the row links as a preprint that has since been published: say where, and
    what to link instead."""
    link = record.arxiv_link()
    if link is None or any(k.kind in _PUBLISHED_KINDS for k in record.links):
        return
    row = facts.of(record)
    found, known = row.paper, row.scholar
    arxiv = found.data if found is not None and isinstance(found.data, PaperMeta) else None
    record_ = known.data if known is not None and isinstance(known.data, ScholarMeta) else None
    venue = published_venue(arxiv, record_)
    if venue is None:
        return
    doi = published_doi(arxiv, record_)
    name = arxiv.arxiv_id if arxiv is not None else link.key
    column = link.column
    fix = (
        f"link https://doi.org/{doi} in the {column} column" if doi else f"note the venue: {venue}"
    )
    yield Problem(
        record.file,
        record.line,
        "venue-upgrade",
        f"arXiv {name} has since been published: {venue}" + (f" (DOI {doi})" if doi else ""),
        fix,
    )


_PUBLISHED_KINDS = frozenset({Kind.DOI, Kind.ACL, Kind.PMLR, Kind.OPENREVIEW})


def _entity_problems(
    record: RowRecord, entities: Entities, down: frozenset[str]
) -> Iterator[Problem]:
    """The problems of `record`'s links; a failed fetch only when its source was not
    `down` as a whole (`_failed_sources` says that once)."""
    for link in record.links:
        result = entities.get(link.id)
        if result is None:
            continue
        if result.status is Status.NOT_FOUND:
            yield Problem(
                record.file,
                record.line,
                "not-found",
                f"{link.url} no longer exists ({link.kind.value} not found)",
                "remove the link or replace it with the new address",
            )
        elif result.status is Status.MOVED and result.moved_to:
            yield _moved(record, link, result, result.moved_to)
        if isinstance(result.data, RepoMeta) and result.data.archived:
            yield Problem(
                record.file,
                record.line,
                "archived",
                f"repository {result.data.full_name} is archived",
                "keep it if the code is still the reference; consider a maintained fork",
            )
        if result.status in (Status.ERROR, Status.STALE) and result.provenance.source not in down:
            yield Problem(
                record.file,
                record.line,
                result.status.value,
                f"{link.id.ref} could not be fetched: {result.provenance.error}",
                "it is retried on the next refresh; check the link if it persists",
            )


_HOMES = {
    Kind.GITHUB_REPO: "https://github.com/",
    Kind.HF_MODEL: "https://huggingface.co/",
    Kind.HF_DATASET: "https://huggingface.co/datasets/",
    Kind.HF_SPACE: "https://huggingface.co/spaces/",
}


def _moved(record: RowRecord, link: Link, result: Result, moved_to: str) -> Problem:
    """The new name, as the provider spells it now, and the link to use instead."""
    new = moved_to.split(":", 1)[-1]  # a `kind:key` ref, or a bare key
    if isinstance(result.data, RepoMeta):
        new = result.data.full_name
    elif isinstance(result.data, HubMeta):
        new = result.data.id
    home = _HOMES.get(link.kind, "")
    return Problem(
        record.file,
        record.line,
        "moved",
        f"{link.url} moved to {new}",
        f"link {home}{new} instead" if home else f"link the new address of {new} instead",
    )


def _model_card(record: RowRecord) -> Iterator[Problem]:
    for link in record.links:
        if column_role(link.column) != "model":  # a Model Card column, as gaps finds it
            continue
        what = {
            Kind.HF_DOCS: "a documentation page",
            Kind.HF_ORG: "an organisation or user page",
            Kind.GITHUB_USER: "a GitHub user page",
            Kind.HF_PAPER: "a paper page",
        }.get(link.kind)
        if what is not None:
            yield Problem(
                record.file,
                record.line,
                "not-a-model",
                f"{link.column} cell points to {what}: {link.url}",
                "link the model itself (huggingface.co/ORG/MODEL)",
            )


@functools.lru_cache(maxsize=4096)  # the fixes repeat
def _prose(text: str) -> str:
    """Problem text, part fetched: escaped like a cell, but a URL may stay a link."""
    return escape_cell(text, 300, autolinks=True)


def report_markdown(dataset: Dataset, facts: Facts | None = None) -> str:
    """`report.md`: the problems to fix, grouped by kind, each with file:line and a fix; then
    the suggestions, when there are any. `facts`: the rows' facts, when worked out already."""
    found = problems(dataset, facts)
    lines = ["# Report", "", f"{len(found)} problem(s) to look at.", ""]
    groups: dict[str, list[Problem]] = {}
    for p in found:
        groups.setdefault(p.code, []).append(p)
    for code, group in sorted(groups.items()):
        lines += [f"## {code} ({len(group)})", ""]
        lines += [f"- `{p.where}`: {_prose(p.message)} — {_prose(p.fix)}" for p in group]
        lines.append("")
    lines += _suggestions(suggestions(dataset.records, dataset.results))
    lines += _papers(to_consider(dataset.records, dataset.results))
    return "\n".join(lines)


def _suggestions(found: list[Suggestion]) -> list[str]:
    """The Suggestions section: one item per candidate link, with the row and why."""
    if not found:
        return []
    lines = [
        f"## Suggestions ({len(found)})",
        "",
        "Links found for empty Code and Model Card cells; none is written into the seed until "
        "reviewed: `python -m enrich suggest` lists them, `python -m enrich suggest --apply` "
        "writes the first of each cell (or those chosen with `--only`/`--pick`).",
        "",
    ]
    for s in found:  # the row by id, what `suggest --only` takes to choose it
        row, column = _prose(s.row), escape_cell(s.column)
        lines.append(f"- `{s.where}` ({row}): {column} <{s.url}> — {_prose(s.reason)}")
    lines.append("")
    return lines


SEEDS_SHOWN = 3
"""A section's papers named in its "related to" line; the rest are counted."""


def _papers(found: list[SectionPapers]) -> list[str]:
    """The Papers to consider section: per section, its candidates and what they relate to."""
    if not found:
        return []
    count = sum(len(s.papers) for s in found)
    lines = [
        f"## Papers to consider ({count})",
        "",
        "Papers Semantic Scholar recommends for each section's papers that the list does not "
        "have, newest and most cited first; none is written into a seed (add a row by hand): "
        "`python -m enrich suggest --papers [SECTION]` lists them.",
        "",
    ]
    for section in found:
        names = [_prose(name) for name in section.seeds[:SEEDS_SHOWN]]
        more = len(section.seeds) - len(names)
        related = ", ".join(names) + (f" and {more} more" if more > 0 else "")
        lines += [f"### {_prose(section.section) or '(no heading)'}", ""]
        lines.append(f"Related to the section's papers: {related}.")
        lines.append("")
        for paper in section.papers:
            lines.append(f"- {_paper_line(paper)}")
        lines.append("")
    return lines


def _paper_line(paper: RecommendedPaper) -> str:
    """A paper to consider on one line: linked title, year and venue, citations."""
    title = escape_cell(paper.title or paper.paper_id)
    when = ", ".join(
        p for p in (str(paper.year) if paper.year else "", escape_cell(paper.venue or "")) if p
    )
    cited = f"{paper.citations:,} citations" if paper.citations is not None else "citations unknown"
    return f"[{title}]({paper_url(paper)})" + (f" ({when})" if when else "") + f" — {cited}"
