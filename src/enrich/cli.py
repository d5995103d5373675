"""The edge: arguments, progress and summaries. Errors become one-line messages and exit codes.

Exit codes (the same for every command):
  0  success
  1  problems found (error diagnostics, a file that does not round-trip) or a partial failure
  2  bad usage or unreadable input (a missing path, a binary or non-UTF-8 seed)
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from enrich import pipeline
from enrich.config import Settings
from enrich.errors import EnrichError
from enrich.models import Severity
from enrich.progress import print_summary, progress_bars, summary_markdown
from enrich.render import render_json
from enrich.suggest import Suggestion, narrow

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  problems found, or a partial failure
  2  bad usage or unreadable input"""


F = TypeVar("F", bound=Callable[..., Any])


def folder_options(out_help: str) -> Callable[[F], F]:
    """--seeds, --out and --cache, the same for every command that reads and writes folders."""

    def decorate(command: F) -> F:
        for option in reversed(
            (
                click.option(
                    "--seeds",
                    type=click.Path(path_type=Path),
                    default=Path("seeds"),
                    show_default=True,
                    help="A seed file or a folder of *.md seeds.",
                ),
                click.option(
                    "--out",
                    type=click.Path(path_type=Path),
                    default=Path("output"),
                    show_default=True,
                    help=out_help,
                ),
                click.option(
                    "--cache",
                    type=click.Path(path_type=Path),
                    default=Path("cache"),
                    show_default=True,
                    help="Folder of the on-disk cache of facts.",
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


def _console(quiet: bool = False) -> Console:
    return Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True)


@click.group(
    help=f"""Keep a curated paper list alive.

Parses the markdown tables in your seed files, resolves every link to a typed identifier
(arXiv paper, GitHub repository, Hugging Face model, DOI, ...), and writes the dataset
output/enriched.json and the regenerated documents.

\b
Start with:
  python -m enrich run               # seeds/ -> output/
  python -m enrich lint seeds/       # check seeds without writing anything
  python -m enrich parse FILE        # inspect rows and links as JSON
  python -m enrich suggest           # links found for empty Code / Model Card cells

{EXIT_CODES_HELP}""",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="enrich")
def cli() -> None:
    pass


SOURCE_NAMES = ("arxiv", "github", "huggingface", "scholar", "landing")


@cli.command(
    help=f"""Refresh the list: parse, resolve, fetch, merge, and write the outputs.

Reads every *.md file of --seeds, fetches facts about every linked paper (arXiv; citations,
venue and other ids from Semantic Scholar; title, authors, venue and date from the landing
pages of PMLR and OpenReview papers), repository (GitHub) and Hub page (Hugging Face)
— from the cache when fresh, batched and
rate-limited otherwise — and writes into --out: enriched.json (rows, entities with status
and provenance, diagnostics), enriched.schema.json (its JSON Schema) and one regenerated
document per seed. Each file is written atomically; unchanged files are not rewritten.

A source that fails loses no data: its items keep their last known values, marked stale.

\b
Environment:
  GITHUB_TOKEN        GitHub token (GraphQL batches, 5,000 requests/hour instead of 60)
  HF_TOKEN            Hugging Face token (1,000 instead of 500 calls per 5 minutes)
  S2_API_KEY          Semantic Scholar API key (a pool of your own instead of the shared one)
  ENRICH_ARXIV_URL    arXiv API endpoint (default https://export.arxiv.org/api/query)
  ENRICH_GITHUB_URL   GitHub API base URL (default https://api.github.com)
  HF_ENDPOINT         Hugging Face Hub base URL (default https://huggingface.co)
  ENRICH_S2_URL       Semantic Scholar API (default https://api.semanticscholar.org)
  ENRICH_PMLR_URL     PMLR proceedings site (default https://proceedings.mlr.press)
  ENRICH_OPENREVIEW_URL
                      OpenReview site (default https://openreview.net)
  ENRICH_ARXIV_DELAY  seconds between arXiv requests (default 3, the arXiv API terms)
  ENRICH_ARXIV_BATCH  arXiv ids per request (default 100, at most 500)
  ENRICH_S2_DELAY     seconds between Semantic Scholar requests (default 1)
  ENRICH_LANDING_DELAY
                      seconds between PMLR/OpenReview page requests per site (default 0.5)
  ENRICH_DEADLINE     seconds one request may take in all (default 60)
  ENRICH_RUN_LIMIT    seconds after which no request starts (default 1800)

\b
Examples:
  python -m enrich run
  python -m enrich run --offline              # no network: cache and last output only
  python -m enrich run --refresh --only github
  python -m enrich run --seeds my-list.md --out site/
  python -m enrich run --summary-md "$GITHUB_STEP_SUMMARY"   # in a GitHub Actions step

{EXIT_CODES_HELP} (1: error diagnostics, or a source failed)"""
)
@folder_options("Folder for the dataset and regenerated documents.")
@click.option(
    "--offline",
    is_flag=True,
    help="Make no network request: use the cache and the previous output only.",
)
@click.option("--refresh", is_flag=True, help="Ignore the cache's time-to-live: fetch everything.")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(SOURCE_NAMES),
    help="Fetch only from this source (repeatable).",
)
@click.option(
    "--skip",
    multiple=True,
    type=click.Choice(SOURCE_NAMES),
    help="Do not fetch from this source (repeatable).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no summary; errors only.")
@click.option(
    "--summary-md",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also append the summary as markdown (a table per source, hints, wall time) to this "
    'file, e.g. "$GITHUB_STEP_SUMMARY". Written with -q too.',
)
def run(
    seeds: Path,
    out: Path,
    cache: Path,
    offline: bool,
    refresh: bool,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    quiet: bool,
    summary_md: Path | None,
) -> None:
    console = _console(quiet)
    settings = Settings.from_env(
        seeds=seeds,
        out=out,
        cache=cache,
        offline=offline,
        refresh=refresh,
        only=frozenset(only),
        skip=frozenset(skip),
    ).with_project_config(Path.cwd())
    started, started_at = time.monotonic(), datetime.now(UTC)
    with progress_bars(console) as progress:
        result = pipeline.run(settings, progress=progress, on_wait=console.print)
    seconds = time.monotonic() - started
    _print_diagnostics(console, result.diagnostics, verbose=False)
    for warning in result.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False)
    print_summary(console, result, settings, seconds)
    if summary_md is not None:
        _append(summary_md, summary_markdown(result, settings, seconds, started_at))
    raise SystemExit(EXIT_OK if result.succeeded else EXIT_PROBLEMS)


@cli.command(
    name="check",
    help=f"""Check that the output folder is what the seeds and cache would produce offline.

Runs the whole pipeline offline (no request: the cache and the previous enriched.json supply
the facts) and compares what it would write with what is in --out. Prints a unified diff of
every difference. For CI on pull requests that edit seeds/: run it after editing a seed
without running `run`, and it fails.

\b
Examples:
  python -m enrich check
  python -m enrich check --seeds my-list.md --out site/

{EXIT_CODES_HELP} (1: --out differs from what the seeds would produce)""",
)
@folder_options("The output folder to check.")
def check(seeds: Path, out: Path, cache: Path) -> None:
    console = _console()
    settings = Settings.from_env(seeds=seeds, out=out, cache=cache).with_project_config(Path.cwd())
    diffs = pipeline.check(settings, on_wait=console.print)
    for diff in diffs:
        click.echo(diff, nl=False)
    if diffs:
        console.print(f"{out}/ is not what {seeds} would produce: run `python -m enrich run`.")
        raise SystemExit(EXIT_PROBLEMS)
    console.print(f"{out}/ matches {seeds}.")
    raise SystemExit(EXIT_OK)


@cli.command(
    help=f"""Check seeds offline: round trip, links and diagnostics. Writes nothing.

Each PATH is a markdown file or a folder searched for *.md files. For each file, prints
whether rendering it unchanged gives back the same bytes, and every problem found with its
file:line, severity and a hint. Info-level notes are shown with -v.

\b
Examples:
  python -m enrich lint seeds/
  python -m enrich lint -v README.md

{EXIT_CODES_HELP} (1: a file does not round-trip or has errors)"""
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="Also show info-level notes.")
def lint(paths: tuple[Path, ...], verbose: bool) -> None:
    console = _console()
    failed = False
    for path in pipeline.discover(paths):
        seed = pipeline.load_seed(path)
        counts = Counter(d.severity for d in seed.diagnostics)
        tables = len(seed.document.tables)
        state = "round-trips" if seed.round_trips else "DOES NOT round-trip"
        console.print(
            f"{seed.document.path}: {state}; {tables} tables, {len(seed.records)} rows, "
            f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings"
        )
        _print_diagnostics(console, seed.diagnostics, verbose=verbose)
        failed |= not seed.round_trips or counts[Severity.ERROR] > 0
    raise SystemExit(EXIT_PROBLEMS if failed else EXIT_OK)


@cli.command(
    name="parse",
    help=f"""Print a seed's rows with their resolved links as JSON, for inspection and scripts.

The output is a JSON object with "records" (one per table row: id, file, line, section,
cells, links with kind and key) and "diagnostics".

\b
Examples:
  python -m enrich parse seeds/slm-survey.md
  python -m enrich parse seeds/slm-survey.md | jq '.records[].links[].kind'

{EXIT_CODES_HELP}""",
)
@click.argument("file", type=click.Path(path_type=Path))
def parse_command(file: Path) -> None:
    seed = pipeline.load_seed(file)
    dataset = pipeline.build_dataset((seed,))
    payload = json.loads(render_json(dataset))
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


@cli.command(
    name="suggest",
    help=f"""List, or write into the seeds, the links discovery found for empty cells.

For rows with an arXiv paper and an empty Code or Model Card cell, `run` asks the Hugging
Face Hub for the paper's page (the repository its authors linked) and for the models tagged
with the paper (most downloaded first). This command reads those facts from --out's
enriched.json — it fetches nothing, so run `python -m enrich run` first — and lists the
candidates per row (at most 3, none already linked in the row), with why.

--apply writes one candidate per empty cell into the seed files: the first listed (marked
*), or those named with --pick; only empty Code and Model Card cells are written, every
other byte of the seed stays as it is. It prints the change as a unified diff: review it
(git diff), then commit. Running it again changes nothing.

\b
Examples:
  python -m enrich run && python -m enrich suggest
  python -m enrich suggest --apply --dry-run               # the diff, nothing written
  python -m enrich suggest --apply
  python -m enrich suggest --apply --only arxiv:2402.11295 --only seeds/slm-survey.md:60
  python -m enrich suggest --apply --pick https://huggingface.co/ORG/MODEL

{EXIT_CODES_HELP} (1: a chosen cell could not be written; 2: no enriched.json)""",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("output"),
    show_default=True,
    help="The output folder whose enriched.json holds the facts.",
)
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Write the chosen suggestions into the seeds' empty cells and print the diff.",
)
@click.option("--dry-run", is_flag=True, help="With --apply: print the diff, write nothing.")
@click.option(
    "--only",
    multiple=True,
    metavar="ROW",
    help="Only this row: its id (arxiv:2402.11295) or FILE:LINE, as listed (repeatable).",
)
@click.option(
    "--pick",
    multiple=True,
    metavar="URL",
    help="Write this candidate link, and no other, into its cell (repeatable).",
)
def suggest(
    out: Path, apply_: bool, dry_run: bool, only: tuple[str, ...], pick: tuple[str, ...]
) -> None:
    console = _console()
    proposed = pipeline.proposals(pipeline.read_dataset(out))
    found, chosen = narrow(proposed.suggestions, proposed.rows, only, pick)
    if not apply_:
        _list_suggestions(console, found, chosen)
        raise SystemExit(EXIT_OK)
    applied = pipeline.apply_suggestions(chosen, proposed.by_file, write=not dry_run)
    for diff in applied.diffs.values():
        click.echo(diff, nl=False)
    skipped = [item for filled in applied.filled.values() for item in filled.skipped]
    for suggestion, why in skipped:
        console.print(f"{suggestion.where}: not written ({suggestion.url}): {why}", markup=False)
    count = sum(len(f.applied) for f in applied.filled.values())
    if dry_run:
        console.print(f"dry run: {count} link(s) would be written; nothing written.")
    elif count:
        files = ", ".join(p.as_posix() for p in applied.written)
        console.print(f"{count} link(s) written into {files}; review the diff, then commit.")
    else:
        console.print("nothing to write: no empty cell has a suggestion.")
    raise SystemExit(EXIT_PROBLEMS if skipped else EXIT_OK)


def _list_suggestions(console: Console, found: list[Suggestion], chosen: list[Suggestion]) -> None:
    """The suggestions by row, with why; `*` marks what --apply writes."""
    row = ""
    for suggestion in found:
        if suggestion.where != row:
            row = suggestion.where
            click.echo(f"{row}  {suggestion.name}  ({suggestion.row})")
        mark = "*" if suggestion in chosen else " "
        click.echo(f"  {mark} {suggestion.column}: {suggestion.url} — {suggestion.reason}")
    if found:
        rows = len({s.where for s in found})
        console.print(
            f"{len(found)} suggestion(s) for {rows} row(s); "
            "`python -m enrich suggest --apply` writes those marked *."
        )
    else:
        console.print(
            "no suggestions: no empty Code or Model Card cell has a candidate in "
            "the facts of the last `python -m enrich run`."
        )


def _append(path: Path, text: str) -> None:
    """Append `text` to `path`. One that cannot be written is a warning (shown with -q too),
    not a failure: the refresh itself succeeded."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        click.echo(f"warning: {path}: cannot write the summary: {exc.strerror or exc}", err=True)


def _print_diagnostics(console: Console, diagnostics: Sequence[object], *, verbose: bool) -> None:
    styles = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "dim"}
    for diagnostic in diagnostics:
        severity = getattr(diagnostic, "severity", Severity.INFO)
        if severity is Severity.INFO and not verbose:
            continue
        console.print(str(diagnostic), style=styles[severity], markup=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising `SystemExit`."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None, prog_name="enrich", standalone_mode=False
        )
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_PROBLEMS
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_PROBLEMS
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    except EnrichError as exc:
        click.echo(f"enrich: error: {exc}", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
