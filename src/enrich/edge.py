"""What the commands share: exit codes, the two consoles, the folder options, diagnostics.

Streams follow the convention: the results a command was asked for go to stdout (`results`),
everything said about the work (progress, hints, summaries, the one-line verdict, errors) to
stderr (`messages`). So `enrich lint seeds/ > findings.txt` keeps the findings and still
shows the verdict, and `enrich parse FILE | jq` reads JSON only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from enrich.models import Diagnostic, Severity

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

F = TypeVar("F", bound=Callable[..., Any])


def folder_option(name: str, default: str, text: str) -> Callable[[F], F]:
    """`--NAME FOLDER`: a path, `default` unless given (shown in the help, after `text`)."""
    return click.option(
        f"--{name}",
        type=click.Path(path_type=Path),
        default=Path(default),
        show_default=True,
        help=text,
    )


def folder_options(out_help: str) -> Callable[[F], F]:
    """--seeds, --out and --cache, the same for every command that reads and writes folders."""

    def decorate(command: F) -> F:
        for option in reversed(
            (
                folder_option("seeds", "seeds", "A seed file or a folder of *.md seeds."),
                folder_option("out", "output", out_help),
                folder_option("cache", "cache", "Folder of the on-disk cache of facts."),
            )
        ):
            command = option(command)
        return command

    return decorate


def messages(quiet: bool = False) -> Console:
    """stderr: progress, hints, summaries and verdicts."""
    return Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True)


def results() -> Console:
    """stdout: the results a command was asked for (in colour only on a terminal)."""
    return Console(highlight=False, soft_wrap=True)


def print_diagnostics(
    console: Console, diagnostics: Sequence[Diagnostic], *, verbose: bool
) -> None:
    """One line each (`file:line: severity: message [code] (hint: ...)`); info with -v."""
    styles = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "dim"}
    for diagnostic in diagnostics:
        if diagnostic.severity is Severity.INFO and not verbose:
            continue
        console.print(str(diagnostic), style=styles[diagnostic.severity], markup=False)
