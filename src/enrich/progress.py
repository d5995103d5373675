"""What a person sees during and after a run: progress bars and the summary table.

Part of the CLI edge: it reads a finished `RunResult`, it computes nothing the dataset needs.
Progress bars show only on a terminal; with `-q` or when piped, nothing is drawn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from enrich.config import Settings
from enrich.fetch import Progress as ProgressCallback
from enrich.models import Status
from enrich.pipeline import RunResult


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


def print_summary(console: Console, result: RunResult, settings: Settings, seconds: float) -> None:
    """The per-source table, what was written, and what to do about failures."""
    rows = len(result.dataset.records)
    links = sum(len(r.links) for r in result.dataset.records)
    console.print(f"{len(result.seeds)} seed(s), {rows} rows, {links} links, {seconds:.1f} s.")
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
    for column in (
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
    ):
        table.add_column(column, justify="left" if column == "source" else "right")
    for source, served in sorted(result.fetch.served.items()):
        statuses = Counter(
            r.status for r in result.fetch.results.values() if r.provenance.source == source
        )
        stats = result.fetch.stats.get(source)
        cached = result.fetch.from_cache.get(source, 0)
        revalidated = stats.revalidated if stats else 0
        table.add_row(
            source,
            str(served),
            str(cached),
            str(max(0, statuses[Status.OK] - cached - revalidated)),
            str(revalidated),
            str(statuses[Status.NOT_FOUND]),
            str(statuses[Status.MOVED]),
            str(statuses[Status.ERROR] + statuses[Status.STALE]),
            str(stats.requests if stats else 0),
            ""
            if not stats or stats.rate_limit_remaining is None
            else str(stats.rate_limit_remaining),
        )
    return table


def hints(result: RunResult, settings: Settings) -> Iterator[str]:
    """What to do about this run's failures, one line each."""
    failed = result.failed_sources()
    for source, stats in sorted(result.fetch.stats.items()):
        for note in stats.notes:
            yield f"{source}: {note}"
    if failed.get("github") and not settings.github_token:
        yield (
            "github: no GITHUB_TOKEN, so 60 requests per hour and no GraphQL batching; "
            "set GITHUB_TOKEN for 5,000 per hour"
        )
    errors = [r.provenance.error or "" for r in result.dataset.entities.values()]
    if failed and any(_network_failure(e) for e in errors) and not settings.offline:
        yield (
            "some sources could not be reached; their items keep their last known values. "
            "If this machine has no network, run with --offline."
        )
    for source, count in sorted(failed.items()):
        yield f"{source}: {count} item(s) failed; they keep their last known values (stale)"


def _network_failure(error: str) -> bool:
    return any(word in error for word in ("Connect", "Timeout", "timed out", "resolve", "reset"))
