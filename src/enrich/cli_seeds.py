"""The commands that read seeds and write nothing but what is asked: `lint`, `parse` and
`suggest` (which writes into the seeds with --apply). Registered on the group in `cli`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.console import Console

from enrich import pipeline
from enrich.edge import (
    EXIT_OK,
    EXIT_PROBLEMS,
    folder_option,
    messages,
    print_diagnostics,
    results,
)
from enrich.errors import InputError
from enrich.jsonout import render_json
from enrich.models import Dataset, Severity
from enrich.papers import paper_url, to_consider
from enrich.rows import sections
from enrich.suggest import Suggestion, narrow


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="Also show info-level notes.")
def lint(paths: tuple[Path, ...], verbose: bool) -> None:
    """Check seeds offline: round trip, links, local files and diagnostics. Writes nothing.

    Each PATH is a markdown file or a folder searched for *.md files. For each file, prints
    whether rendering it unchanged gives back the same bytes, and every problem found with
    its file:line, severity and a hint, on stdout; the verdict on stderr. A relative link or
    image that names no file beside the seed is a warning. Info-level notes are shown with
    -v.

    \b
    Examples:
      python -m enrich lint seeds/
      python -m enrich lint -v README.md
      python -m enrich lint seeds/ > findings.txt

    \b
    Exit codes:
      0  every file round-trips and has no error diagnostic
      1  a file does not round-trip or has error diagnostics
      2  bad usage or unreadable input
    """
    shown = results()
    counts: Counter[Severity] = Counter()
    files = broken = 0
    for path in pipeline.discover(paths):
        seed = pipeline.load_seed(path)
        found = seed.findings()
        mine = Counter(d.severity for d in found)
        trips = seed.round_trips  # renders the document: once
        state = "round-trips" if trips else "DOES NOT round-trip"
        shown.print(
            f"{seed.document.path}: {state}; {len(seed.document.tables)} tables, "
            f"{len(seed.records)} rows, {mine[Severity.ERROR]} errors, "
            f"{mine[Severity.WARNING]} warnings",
            markup=False,
        )
        print_diagnostics(shown, found, verbose=verbose)
        files, counts = files + 1, counts + mine
        broken += not trips
    failed = broken > 0 or counts[Severity.ERROR] > 0
    messages().print(
        f"{'failed' if failed else 'passed'}: {files} file(s), {broken} not round-tripping, "
        f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings",
        markup=False,
    )
    raise SystemExit(EXIT_PROBLEMS if failed else EXIT_OK)


@click.command(name="parse")
@click.argument("file", type=click.Path(path_type=Path))
def parse_command(file: Path) -> None:
    """Print a seed's rows with their resolved links as JSON, for inspection and scripts.

    The output (stdout) is a JSON object with "records" (one per table row: id, file, line,
    section, cells, links with kind and key) and "diagnostics". The count of rows and
    problems goes to stderr.

    \b
    Examples:
      python -m enrich parse seeds/slm-survey.md
      python -m enrich parse seeds/slm-survey.md | jq '.records[].links[].kind'

    \b
    Exit codes:
      0  success
      1  the seed has error diagnostics (the JSON is printed all the same)
      2  bad usage or unreadable input
    """
    seed = pipeline.load_seed(file)
    dataset = pipeline.build_dataset((seed,))
    click.echo(render_json(dataset), nl=False)
    counts = Counter(d.severity for d in seed.diagnostics)
    messages().print(
        f"{seed.document.path}: {len(seed.records)} rows, {counts[Severity.ERROR]} errors, "
        f"{counts[Severity.WARNING]} warnings",
        markup=False,
    )
    raise SystemExit(EXIT_PROBLEMS if counts[Severity.ERROR] else EXIT_OK)


@click.command(name="suggest")
@folder_option("out", "output", "The output folder whose enriched.json holds the facts.")
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
@click.option(
    "--papers",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[SECTION]",
    help="List the papers to consider (Semantic Scholar's recommendations the list does not "
    "have) instead: every section's, or SECTION's.",
)
def suggest(
    out: Path,
    apply_: bool,
    dry_run: bool,
    only: tuple[str, ...],
    pick: tuple[str, ...],
    papers: str | None,
) -> None:
    """List, or write into the seeds, the links discovery found for empty cells.

    For rows with an arXiv paper and an empty Code or Model Card cell, `run` asks the
    Hugging Face Hub for the paper's page (the repository its authors linked) and for the
    models tagged with the paper (most downloaded first). This command reads those facts
    from --out's enriched.json (it fetches nothing, so run `python -m enrich run` first) and
    lists the candidates per row on stdout (at most 3, none already linked in the row), with
    why.

    --papers lists, instead, the papers to consider per section: those Semantic Scholar
    recommends for the section's papers that the list does not have (at most 10 a section,
    newest and most cited first), read from the same enriched.json. Nothing is written: add
    a row by hand.

    --apply writes one candidate per empty cell into the seed files: the first listed
    (marked *), or those named with --pick; only empty Code and Model Card cells are
    written, every other byte of the seed stays as it is. It prints the change as a unified
    diff on stdout: review it (git diff), then commit. Running it again changes nothing.

    \b
    Examples:
      python -m enrich run && python -m enrich suggest
      python -m enrich suggest --apply --dry-run               # the diff, nothing written
      python -m enrich suggest --apply
      python -m enrich suggest --apply --only arxiv:2402.11295 --only seeds/slm-survey.md:60
      python -m enrich suggest --apply --pick https://huggingface.co/ORG/MODEL
      python -m enrich suggest --papers                        # every section's papers
      python -m enrich suggest --papers "Fine-tuning"          # one section's

    \b
    Exit codes:
      0  success
      1  a chosen cell could not be written
      2  bad usage or unreadable input; --out holds no enriched.json
    """
    console = messages()
    if papers is not None:
        if apply_ or dry_run or only or pick:
            raise click.UsageError("--papers lists papers: no --apply, --dry-run, --only, --pick")
        _list_papers(console, pipeline.read_dataset(out), papers)
        raise SystemExit(EXIT_OK)
    proposed = pipeline.proposals(pipeline.read_dataset(out))
    found, chosen = narrow(proposed.suggestions, proposed.rows, only, pick)
    if not apply_:
        _list_suggestions(console, found, chosen)
        raise SystemExit(EXIT_OK)
    applied = pipeline.apply_suggestions(chosen, proposed.by_file, write=not dry_run)
    raise SystemExit(_said_applied(console, applied, dry_run))


def _said_applied(console: Console, applied: pipeline.Applied, dry_run: bool) -> int:
    """What --apply did: the diff on stdout, each cell not written and the verdict on
    stderr; the exit code (1 when a chosen cell could not be written)."""
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
    return EXIT_PROBLEMS if skipped else EXIT_OK


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


def _list_papers(console: Console, dataset: Dataset, section: str) -> None:
    """The papers to consider of every section, or of `section` (its label, any case)."""
    found = to_consider(dataset.records, dataset.results)
    if section:
        labels = [label for label in sections(dataset.records) if label]
        if section.casefold() not in {label.casefold() for label in labels}:
            raise InputError(
                f"--papers {section}: no such section in the dataset; its sections: "
                + "; ".join(labels)
            )
        found = [s for s in found if s.section.casefold() == section.casefold()]
    for one in found:
        click.echo(f"{one.section or '(no heading)'}  (related to: {', '.join(one.seeds)})")
        for paper in one.papers:
            year = f" ({paper.year})" if paper.year else ""
            cited = f"{paper.citations:,}" if paper.citations is not None else "unknown"
            title = paper.title or paper.paper_id
            click.echo(f"  {title}{year}, {cited} citations: {paper_url(paper)}")
    if found:
        count = sum(len(one.papers) for one in found)
        console.print(
            f"{count} paper(s) to consider in {len(found)} section(s), found through Semantic "
            "Scholar's recommendations; add a row by hand for those that belong."
        )
    else:
        console.print(
            "no papers to consider: Semantic Scholar recommended none the list lacks in the "
            "facts of the last `python -m enrich run`."
        )
