"""What a person sees during and after a run: progress bars and the summary.

Part of the CLI edge: it reads a finished `RunResult`, it computes nothing the dataset needs.
Progress bars show only on a terminal; with `-q` or when piped, nothing is drawn.

The summary exists in two forms that share one computation (`source_rows`, `headline`,
`hints`): a rich table for the terminal (`print_summary`) and a markdown table
(`summary_markdown`) for a CI job's summary page, e.g. `$GITHUB_STEP_SUMMARY`. The markdown
may carry the run's start time and wall time: it is a log, never part of `output/`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
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


def source_rows(result: RunResult) -> list[SourceRow]:
    """One row per source that served items this run, sorted by source name."""
    rows = []
    for source, served in sorted(result.fetch.served.items()):
        statuses = Counter(
            r.status for r in result.fetch.results.values() if r.provenance.source == source
        )
        stats = result.fetch.stats.get(source)
        cached = result.fetch.from_cache.get(source, 0)
        revalidated = stats.revalidated if stats else 0
        rows.append(
            SourceRow(
                source=source,
                items=served,
                cached=cached,
                refreshed=max(0, statuses[Status.OK] - cached - revalidated),
                revalidated=revalidated,
                not_found=statuses[Status.NOT_FOUND],
                moved=statuses[Status.MOVED],
                failed=statuses[Status.ERROR] + statuses[Status.STALE],
                requests=stats.requests if stats else 0,
                rate_limit_left=stats.rate_limit_remaining if stats else None,
            )
        )
    return rows


def headline(result: RunResult, seconds: float) -> str:
    """`1 seed(s), 75 rows, 122 links, 1.2 s.`"""
    rows = len(result.dataset.records)
    links = sum(len(r.links) for r in result.dataset.records)
    return f"{len(result.seeds)} seed(s), {rows} rows, {links} links, {seconds:.1f} s."


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
    for source, count in sorted(failed.items()):
        kept = sum(
            1
            for r in result.dataset.entities.values()
            if r.provenance.source == source and r.status is Status.STALE
        )
        yield (
            f"{source}: {count} item(s) failed; {kept} kept their last known value (stale), "
            f"{count - kept} have none yet (error)"
        )


# --------------------------------------------------------------------------- terminal


def print_summary(console: Console, result: RunResult, settings: Settings, seconds: float) -> None:
    """The per-source table, what was written, and what to do about failures."""
    console.print(headline(result, seconds))
    if result.fetch.served:
        console.print(_table(result))
    for hint in hints(result, settings):
        console.print(hint, style="yellow", markup=False)
    if result.written:
        console.print("wrote " + ", ".join(str(p) for p in result.written), markup=False)
    else:
        console.print(f"{settings.out}/ is up to date", markup=False)


def _table(result: RunResult) -> Table:
    table = Table(title="fetch summary", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "source" else "right")
    for row in source_rows(result):
        table.add_row(*row.cells())
    return table


# --------------------------------------------------------------------------- markdown


def summary_markdown(
    result: RunResult, settings: Settings, seconds: float, started: datetime | None = None
) -> str:
    """The summary as markdown: headline with wall time, table per source, hints, files."""
    when = f" Started {started:%Y-%m-%d %H:%M:%S %Z}." if started else ""
    lines = ["### enrich run", "", f"{headline(result, seconds)}{when}", ""]
    counts = Counter(d.severity for d in result.diagnostics)
    if counts[Severity.ERROR] or counts[Severity.WARNING]:
        lines += [
            f"Seeds: {counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s) "
            f"(see `{settings.out.as_posix()}/report.md`).",
            "",
        ]
    rows = source_rows(result)
    if rows:
        lines += [
            _markdown_row(COLUMNS),
            _markdown_row(tuple(":--" if c == "source" else "--:" for c in COLUMNS)),
            *(_markdown_row(row.cells()) for row in rows),
            "",
        ]
    todo = [*result.warnings, *hints(result, settings)]
    if todo:
        lines += ["**To do**", "", *(f"- {_escape(item)}" for item in todo), ""]
    if result.written:
        lines.append("Wrote " + ", ".join(f"`{p.as_posix()}`" for p in result.written) + ".")
    else:
        lines.append(f"`{settings.out.as_posix()}/` is up to date.")
    return "\n".join(lines) + "\n"


def _markdown_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(_escape(c).replace("|", "\\|") for c in cells) + " |"


def _escape(text: str) -> str:
    """Text safe in a markdown page that renders HTML (a step summary does)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
