"""`python -m enrich init`: set up another list's repository to be refreshed by the action.

Plans three changes at the top of the git repository that holds the working folder: the
workflow that uses the action (`WORKFLOW_PATH`; the README's "Adopting it for your list"
shows the same text), an `enrich.toml` with the default generated columns, and `cache/` in
`.gitignore`. A file that exists is never overwritten (the `.gitignore` is appended to);
`--dry-run` prints the plan instead of carrying it out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import click

from enrich.columns import COLUMNS
from enrich.config import Settings
from enrich.edge import EXIT_OK, EXIT_PROBLEMS, messages, results
from enrich.errors import InputError

ACTION = "OWNER/enrich@v1"
"""The action the workflow uses: this repository, where it is published, at its release."""

WORKFLOW_PATH = Path(".github/workflows/refresh.yml")
CONFIG_PATH = Path("enrich.toml")
GITIGNORE_PATH = Path(".gitignore")
IGNORED = "cache/"

WORKFLOW = """\
name: refresh
on:
  schedule:
    - cron: "17 4 * * 1" # Mondays, 04:17 UTC
  workflow_dispatch:
permissions:
  contents: write # commit the refreshed output
  pull-requests: write # pull-request: "true"
  issues: write # the refresh-failure issue
  actions: write # keep the schedule alive
jobs:
  refresh:
    runs-on: ubuntu-latest
    steps:
      - uses: {action}
        with:
          seeds: {seeds}
"""


@dataclass(frozen=True)
class Change:
    """One file to create (`append` false) or to append `text` to."""

    path: Path
    text: str
    append: bool = False


def workflow(seeds: str, action: str = ACTION) -> str:
    """The workflow that refreshes the list `seeds` (a path relative to the repository)."""
    plain = re.fullmatch(r"[\w][\w./-]*", seeds) is not None
    return WORKFLOW.format(action=action, seeds=seeds if plain else json.dumps(seeds))


def config_text(settings: Settings) -> str:
    """An enrich.toml that spells out `settings`' generated columns."""
    names = ", ".join(f'"{name}"' for name in settings.columns)
    return (
        "# enrich's settings for this list (docs/configuration.md in enrich's repository).\n"
        "# The generated columns of the regenerated document, in order.\n"
        f"# Known columns: {', '.join(COLUMNS)}.\n"
        f"columns = [{names}]\n"
    )


def repository_top(folder: Path) -> Path:
    """The top of the git repository `folder` is in."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    raise InputError(f"{folder} is not in a git repository: run `init` in your list's clone")


def plan(top: Path, seeds: str, action: str) -> tuple[list[Change], list[Path]]:
    """The changes to make under `top`, and the files left alone because they exist."""
    files = {WORKFLOW_PATH: workflow(seeds, action), CONFIG_PATH: config_text(Settings())}
    existing = [path for path in files if (top / path).exists()]
    changes = [Change(path, text) for path, text in files.items() if path not in existing]
    if not _ignores_cache(top / GITIGNORE_PATH):
        changes.append(Change(GITIGNORE_PATH, f"{IGNORED}\n", append=True))
    return changes, existing


def _ignores_cache(gitignore: Path) -> bool:
    if not gitignore.is_file():
        return False
    lines = {line.strip() for line in gitignore.read_text(encoding="utf-8").splitlines()}
    return bool(lines & {"cache", "cache/", "/cache", "/cache/", "cache/*", "/cache/*"})


def apply(top: Path, change: Change) -> None:
    """Make `change`: create its file (never replacing one) or append to it."""
    target = top / change.path
    if not change.append:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as handle:  # "x": fails if it exists
            handle.write(change.text)
        return
    before = target.read_bytes() if target.is_file() else b""
    separator = "\n" if before and not before.endswith(b"\n") else ""
    with target.open("a", encoding="utf-8") as handle:
        handle.write(separator + change.text)


@click.command()
@click.option(
    "--seeds",
    default="README.md",
    show_default=True,
    help="The list, relative to the repository's top: a file, or a folder of *.md seeds.",
)
@click.option(
    "--action",
    default=ACTION,
    show_default=True,
    help="The action the workflow uses (OWNER/REPO@REF).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
def init(seeds: str, action: str, dry_run: bool) -> None:
    """Set up this repository's list to be refreshed every week by the enrich action.

    At the top of the git repository of the working folder: writes the workflow
    .github/workflows/refresh.yml (which uses the action), an enrich.toml with the default
    generated columns, and adds cache/ to .gitignore. Never overwrites a file: one that
    exists is left as it is, and said so. Commit the files, then run the workflow once from
    the Actions tab (with pull-request "true" to review the first refresh).

    \b
    Examples:
      python -m enrich init --dry-run          # show what it would write
      python -m enrich init --seeds papers/    # a folder of *.md seeds

    \b
    Exit codes:
      0  everything written (or, with --dry-run, printed)
      1  a file exists and was left as it is (the others were written)
      2  not in a git repository, or the seeds do not exist
    """
    top = repository_top(Path.cwd().resolve())
    if not (top / seeds).exists():
        raise InputError(f"--seeds {seeds}: no such file or folder in {top}")
    changes, existing = plan(top, seeds, action)
    out, say = results(), messages()
    for change in changes:
        verb = "append to" if change.append else "write"
        if dry_run:
            out.print(f"----- would {verb} {change.path}", markup=False)
            out.print(change.text, end="", markup=False)
            continue
        try:
            apply(top, change)
        except FileExistsError:  # made since the plan: still never overwritten
            existing.append(change.path)
            continue
        say.print(f"{'appended to' if change.append else 'wrote'} {change.path}", markup=False)
    for path in existing:
        say.print(f"{path} exists: left as it is (init never overwrites a file)", markup=False)
    raise SystemExit(EXIT_PROBLEMS if existing else EXIT_OK)
