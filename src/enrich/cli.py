"""The edge: the command group, `run` and `check`, and `main`, where errors become one-line
messages and exit codes. `lint`, `parse` and `suggest` live in `cli_seeds`; what every
command shares (exit codes, the stdout and stderr consoles, options) in `edge`.

Each command's help is its docstring (click reads it), beside the code it describes.
Streams: results (lint findings, `parse`'s JSON, `check`'s diff, `suggest`'s list and diff)
go to stdout; progress, hints, the summary and each command's one-line verdict to stderr.

Exit codes (the same for every command; each command's help says what 1 means for it):
  0  success
  1  problems found (error diagnostics, a file that does not round-trip) or a partial failure
  2  bad usage or unreadable input (a missing path, a binary or non-UTF-8 seed)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from enrich import DISTRIBUTION, __version__, pipeline
from enrich.cli_seeds import lint, parse_command, suggest
from enrich.config import Settings
from enrich.edge import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    folder_options,
    messages,
    print_diagnostics,
)
from enrich.errors import EnrichError
from enrich.init import init
from enrich.progress import Summary, print_summary, progress_bars, summary_markdown
from enrich.sources import registry

SOURCE_NAMES = tuple(source.name for source in registry(Settings()))
"""What `--only` and `--skip` accept: the sources' own names."""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name=DISTRIBUTION, message="%(prog)s %(version)s")
def cli() -> None:
    """Keep a curated paper list alive.

    Parses the markdown tables in your seed files, resolves every link to a typed identifier
    (arXiv paper, GitHub repository, Hugging Face model, DOI, ...), and writes the dataset
    output/enriched.json and the regenerated documents.

    \b
    Start with:
      python -m enrich run               # seeds/ -> output/
      python -m enrich lint seeds/       # check seeds without writing anything
      python -m enrich parse FILE        # inspect rows and links as JSON
      python -m enrich suggest           # links found for empty Code / Model Card cells

    Results go to stdout; progress, hints and verdicts to stderr.

    \b
    Exit codes:
      0  success
      1  problems found, or a partial failure (each command's help says which)
      2  bad usage or unreadable input
    """


@cli.command()
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
    """Refresh the list: parse, resolve, fetch, merge, and write the outputs.

    Reads every *.md file of --seeds and fetches facts about every linked paper (arXiv;
    citations, venue and other ids from Semantic Scholar; title, authors, venue and date from
    the landing pages of PMLR and OpenReview papers), repository (GitHub) and Hub page
    (Hugging Face): from the cache when fresh, batched and rate-limited otherwise. A source
    that fails loses no data: its items keep their last known values, marked stale.

    \b
    Writes into --out (each file atomically; an unchanged file is not rewritten):
      enriched.json         rows, entities with status and provenance, diagnostics
      enriched.schema.json  the JSON Schema of enriched.json
      report.md             data problems to fix (file:line) and links for empty cells
      CHANGES.md            what this refresh changed (left as it was when nothing did)
      index.html            the list as one browsable, searchable page
      timeline.svg          the listed papers by first-published month
      references.bib        one BibTeX entry per paper linked (keys kept across runs)
      trends.svg            the top movers of the last 30 days over the last year
      history/YEAR.csv      every value a fact took, from its day (only changes appended)
      SEED.md               each seed regenerated, with the fetched columns

    Prints progress and a summary per source on stderr. Tokens (GITHUB_TOKEN, HF_TOKEN,
    S2_API_KEY), API endpoints and request delays come from environment variables: see
    docs/configuration.md.

    \b
    Examples:
      python -m enrich run
      python -m enrich run --offline              # no network: cache and last output only
      python -m enrich run --refresh --only github
      python -m enrich run --seeds my-list.md --out site/
      python -m enrich run --summary-md "$GITHUB_STEP_SUMMARY"   # in a GitHub Actions step

    \b
    Exit codes:
      0  success
      1  error diagnostics in a seed, or a source failed (the outputs are written all the same)
      2  bad usage or unreadable input
    """
    console = messages(quiet)
    settings = _settings(seeds, out, cache, offline=offline, refresh=refresh, only=only, skip=skip)
    started, started_at = time.monotonic(), datetime.now(UTC)
    with progress_bars(console) as progress:
        result = pipeline.run(settings, progress=progress, on_wait=console.print)
    summary = Summary.of(result, settings, time.monotonic() - started)
    _report(console, result, summary, summary_md, started_at)
    raise SystemExit(EXIT_OK if result.succeeded else EXIT_PROBLEMS)


@cli.command(name="check")
@folder_options("The output folder to check.")
def check(seeds: Path, out: Path, cache: Path) -> None:
    """Check that the output folder is what the seeds and cache would produce offline.

    Runs the whole pipeline offline (no request: the cache and the previous enriched.json
    supply the facts) and compares what it would write with what is in --out. Prints a
    unified diff of every difference on stdout, the verdict on stderr. For CI on pull
    requests that edit seeds/: run it after editing a seed without running `run`, and it
    fails. The facts' history (history/YEAR.csv) is checked too: a malformed line stops
    it (exit 2, with the file and line), and its last values must be enriched.json's.

    \b
    Examples:
      python -m enrich check
      python -m enrich check --seeds my-list.md --out site/

    \b
    Exit codes:
      0  --out is what the seeds would produce
      1  --out differs from what the seeds would produce
      2  bad usage or unreadable input (a malformed history); --out holds no
         enriched.json (run `run` first)
    """
    console = messages()
    diffs = pipeline.check(_settings(seeds, out, cache), on_wait=console.print)
    for diff in diffs:
        click.echo(diff, nl=False)
    if diffs:
        console.print(f"{out}/ is not what {seeds} would produce: run `python -m enrich run`.")
        raise SystemExit(EXIT_PROBLEMS)
    console.print(f"{out}/ matches {seeds}.")
    raise SystemExit(EXIT_OK)


def _settings(
    seeds: Path,
    out: Path,
    cache: Path,
    *,
    offline: bool = False,
    refresh: bool = False,
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
) -> Settings:
    """A command's settings: its options (`run`'s --offline, --refresh, --only and --skip),
    then the environment, then `[tool.enrich]` of the working folder's pyproject.toml
    (`config.Settings`)."""
    chosen = Settings.from_env(
        seeds=seeds,
        out=out,
        cache=cache,
        offline=offline,
        refresh=refresh,
        only=frozenset(only),
        skip=frozenset(skip),
    )
    return chosen.with_project_config(Path.cwd())


def _report(
    console: Console,
    result: pipeline.RunResult,
    summary: Summary,
    summary_md: Path | None,
    started_at: datetime,
) -> None:
    """A finished run said on stderr: diagnostics, warnings and the summary; the summary
    also appended as markdown to `summary_md`."""
    print_diagnostics(console, result.diagnostics, verbose=False)
    for warning in result.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False)
    print_summary(console, summary)
    if summary_md is not None:
        _append(summary_md, summary_markdown(summary, started_at))


def _append(path: Path, text: str) -> None:
    """Append `text` to `path`. One that cannot be written is a warning (shown with -q too),
    not a failure: the refresh itself succeeded."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        click.echo(f"warning: {path}: cannot write the summary: {exc.strerror or exc}", err=True)


cli.add_command(lint)
cli.add_command(parse_command)
cli.add_command(suggest)
cli.add_command(init)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising `SystemExit`."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None, prog_name="enrich", standalone_mode=False
        )
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_PROBLEMS
    except click.exceptions.Abort as exc:  # click's form of a KeyboardInterrupt (Ctrl-C)
        interrupted = isinstance(exc.__cause__, KeyboardInterrupt)
        click.echo("interrupted" if interrupted else "aborted", err=True)
        return EXIT_INTERRUPTED if interrupted else EXIT_PROBLEMS
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    except EnrichError as exc:
        click.echo(f"enrich: error: {exc}", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
