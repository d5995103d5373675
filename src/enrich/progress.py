"""What a person sees during and after a run: progress bars and the summary.

Part of the CLI edge: it reads a finished `RunResult`, it computes nothing the dataset needs.
Progress bars show only on a terminal; with `-q` or when piped, nothing is drawn.

The summary is worked out once (`Summary.of`: `headline`, `source_rows`, `hints`) and
exists in two forms: a table printed by `print_summary` (drawn with rich on a terminal; plain text,
every column whole, in a log: a CI job's, `| tee`, a redirect) and a markdown table
(`summary_markdown`) for a CI job's summary page, e.g. `$GITHUB_STEP_SUMMARY`. The markdown
may carry the run's start time and wall time: it is a log, never part of `output/`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from enrich.config import Settings
from enrich.fetch import Progress as ProgressCallback
from enrich.models import Severity, Status
from enrich.pipeline import RunResult

COLUMNS = (
    "source",
    "items",
    "cached",
    "refreshed",
    "revalidated",
    "not found",
    "moved",
    "failed",
    "requests",
    "rate limit left",
)
"""The summary table's headers, one per field of `SourceRow`, in order."""


@contextmanager
def progress_bars(console: Console) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing one bar per source, or None when not on a terminal."""
    if console.quiet or not console.is_terminal:
        yield None
        return
    bars = Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def advance(source: str, n: int, total: int) -> None:
        if source not in tasks:
            tasks[source] = bars.add_task(source, total=total)
        bars.advance(tasks[source], n)

    with bars:
        yield advance


# --------------------------------------------------------------------------- shared numbers


@dataclass(frozen=True)
class SourceRow:
    """One source's line of the summary: what it served and how (fields follow `COLUMNS`)."""

    source: str
    items: int
    cached: int
    refreshed: int
    revalidated: int
    not_found: int
    moved: int
    failed: int
    requests: int
    rate_limit_left: int | None

    def cells(self) -> tuple[str, ...]:
        """The row as text, one cell per column; an unknown rate limit is an empty cell."""
        return tuple("" if value is None else str(value) for value in astuple(self))


def source_rows(result: RunResult, settings: Settings) -> list[SourceRow]:
    """One row per source that served items this run, sorted by source name.

    Offline, nothing was asked: every item was served from its last known value (the cache
    or the previous output), and nothing was refreshed or failed, whatever the statuses
    carried over from the run that fetched them say."""
    rows = []
    for source, served in sorted(result.fetch.served.items()):
        mine = [r for r in result.fetch.results.values() if r.provenance.source == source]
        statuses = Counter(r.status for r in mine)
        stats = result.fetch.stats.get(source)
        # `ok` and asked now: not a cache hit, nor a value kept as it was (rate limit)
        answers = stats.answers if stats else {}
        fetched_ok = sum(
            1
            for r in mine
            if r.status is Status.OK and (a := answers.get(r.ref)) is not None and a.attempts
        )
        cached = served if settings.offline else result.fetch.from_cache.get(source, 0)
        revalidated = stats.revalidated if stats else 0
        refreshed = 0 if settings.offline else max(0, fetched_ok - revalidated)
        rows.append(
            SourceRow(
                source=source,
                items=served,
                cached=cached,
                refreshed=refreshed,
                revalidated=revalidated,
                not_found=statuses[Status.NOT_FOUND],
                moved=statuses[Status.MOVED],
                failed=0 if settings.offline else sum(failures(result, source)),
                requests=stats.requests if stats else 0,
                rate_limit_left=stats.rate_limit_remaining if stats else None,
            )
        )
    return rows


def failures(result: RunResult, source: str) -> tuple[int, int]:
    """The linked items of `source` whose fetch failed this run: how many kept their last
    known value (`stale`), and how many have none yet (`error`).

    Both are counted in one population, the results of what the list links (and of the
    papers Semantic Scholar names). Discovery lookups are not in it: their failures fail
    nothing and are told apart (`FetchReport.optional_failed`). So "none yet" is a count of
    its own, never a difference between two populations that could go below zero."""
    optional = result.fetch.optional
    statuses = Counter(
        r.status
        for ref, r in result.fetch.results.items()
        if r.provenance.source == source and ref not in optional
    )
    return statuses[Status.STALE], statuses[Status.ERROR]


def headline(result: RunResult, settings: Settings, seconds: float) -> str:
    """`1 seed(s), 75 rows, 122 links, 1.2 s.`, and offline, what that run did instead."""
    rows = len(result.dataset.records)
    links = sum(len(r.links) for r in result.dataset.records)
    line = f"{len(result.seeds)} seed(s), {rows} rows, {links} links, {seconds:.1f} s."
    if settings.offline:
        served = sum(result.fetch.served.values())
        unknown = sum(
            1
            for r in result.fetch.results.values()
            if r.status is Status.SKIPPED and r.provenance.source in result.fetch.served
        )
        line += (
            f" Offline: 0 requests; {served} item(s) served from the cache or the previous "
            "output" + (f", {unknown} of them not known yet (skipped)." if unknown else ".")
        )
    return line


def hints(result: RunResult, settings: Settings) -> Iterator[str]:
    """What to do about this run's failures, one line each."""
    failed = result.failed_sources()
    if failed and result.fetch.unanswered and not settings.offline:
        yield (
            "some sources could not be reached; their items keep any last known values. "
            "If this machine has no network, run with --offline."
        )
    if result.fetch.late:
        yield (
            f"the run's time limit ({result.fetch.run_limit:g} s, ENRICH_RUN_LIMIT) was reached: "
            f"{sum(result.fetch.late.values())} request(s) not made; retried next run"
        )
    for source, stats in sorted(result.fetch.stats.items()):
        for note in stats.notes:
            yield note if note.startswith(f"{source}:") else f"{source}: {note}"
    if failed.get("github") and not settings.github_token:
        yield (
            "github: no GITHUB_TOKEN, so 60 requests per hour and no GraphQL batching; "
            "set GITHUB_TOKEN for 5,000 per hour"
        )
    for source, count in sorted(result.fetch.optional_failed.items()):
        yield f"{source}: {count} discovery lookup(s) failed; retried next run (not a failure)"
    if result.fetch.deferred:
        yield (
            f"discovery: {result.fetch.deferred} lookup(s) left for later runs "
            f"({settings.discover_limit} a run, oldest first)"
        )
    for source in sorted(failed):
        kept, none = failures(result, source)
        yield (
            f"{source}: {kept + none} item(s) failed; {kept} kept their last known value "
            f"(stale), {none} have none yet (error)"
        )


@dataclass(frozen=True)
class Summary:
    """A finished run's summary, worked out once for both of its forms."""

    headline: str
    rows: tuple[SourceRow, ...]
    """One per source; empty when nothing was served."""
    todo: tuple[str, ...]
    """The run's warnings, then its hints (`hints`)."""
    warnings: int
    """How many of `todo` are warnings (printed as `warning:` by the CLI, not again here)."""
    seeds: Counter[Severity]
    written: tuple[str, ...]
    out: str

    @classmethod
    def of(cls, result: RunResult, settings: Settings, seconds: float) -> Summary:
        return cls(
            headline=headline(result, settings, seconds),
            rows=tuple(source_rows(result, settings)) if result.fetch.served else (),
            todo=(*result.warnings, *hints(result, settings)),
            warnings=len(result.warnings),
            seeds=Counter(d.severity for d in result.diagnostics),
            written=tuple(p.as_posix() for p in result.written),
            out=settings.out.as_posix(),
        )


# --------------------------------------------------------------------------- terminal


def print_summary(console: Console, summary: Summary) -> None:
    """The per-source table, what to do about failures, and what was written."""
    console.print(summary.headline, markup=False)
    if summary.rows:
        rows = summary.rows
        console.print(_table(rows) if console.is_terminal else plain_table(rows), markup=False)
    for hint in summary.todo[summary.warnings :]:
        console.print(hint, style="yellow", markup=False)
    if summary.written:
        console.print("wrote " + ", ".join(summary.written), markup=False)
    else:
        console.print(f"{summary.out}/ is up to date", markup=False)


def _table(rows: Sequence[SourceRow]) -> Table:
    table = Table(title="fetch summary", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "source" else "right")
    for row in rows:
        table.add_row(*row.cells())
    return table


def plain_table(rows: Sequence[SourceRow]) -> str:
    """The table as plain text, every column as wide as its widest cell: for a log (a CI
    job's, `| tee`, a redirect), which has no width to fit, so nothing is cut."""
    lines = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    text = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    ]
    return "\n".join(["fetch summary", *text])


# --------------------------------------------------------------------------- markdown


def summary_markdown(summary: Summary, started: datetime | None = None) -> str:
    """The summary as markdown: headline with wall time, table per source, hints, files."""
    when = f" Started {started:%Y-%m-%d %H:%M:%S %Z}." if started else ""
    lines = ["### enrich run", "", f"{summary.headline}{when}", ""]
    errors, warnings = summary.seeds[Severity.ERROR], summary.seeds[Severity.WARNING]
    if errors or warnings:
        lines += [
            f"Seeds: {errors} error(s), {warnings} warning(s) (see `{summary.out}/report.md`).",
            "",
        ]
    if summary.rows:
        lines += [
            _markdown_row(COLUMNS),
            _markdown_row(tuple(":--" if c == "source" else "--:" for c in COLUMNS)),
            *(_markdown_row(row.cells()) for row in summary.rows),
            "",
        ]
    if summary.todo:
        lines += ["**To do**", "", *(f"- {_escape(item)}" for item in summary.todo), ""]
    if summary.written:
        lines.append("Wrote " + ", ".join(f"`{p}`" for p in summary.written) + ".")
    else:
        lines.append(f"`{summary.out}/` is up to date.")
    return "\n".join(lines) + "\n"


def _markdown_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(_escape(c).replace("|", "\\|") for c in cells) + " |"


def _escape(text: str) -> str:
    """Text safe in a markdown page that renders HTML (a step summary does)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
