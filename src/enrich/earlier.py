"""What the previous run wrote, read back at the start of a run (`pipeline.refresh`): the
dataset, the store of last known values (`read_previous`); the link titles earlier runs
wrote (`written_titles`); the keys `references.bib` gave its papers, which never change once
published (`read_published`). An unusable file is reported as a warning, never a failure:
the run goes on without what it held.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from enrich.bib import published_keys
from enrich.folders import BIB_NAME, DATASET_NAME
from enrich.migrate import load_dataset
from enrich.models import Dataset, Identifier
from enrich.titles import earlier_titles


def read_previous(out: Path) -> tuple[Dataset | None, list[str]]:
    """The previous dataset, the store of last known values; an unusable one is reported."""
    path = out / DATASET_NAME
    if not path.is_file():
        return None, []
    try:
        return load_dataset(path.read_bytes()), []
    except (OSError, ValidationError, ValueError) as exc:
        return None, [
            f"{path}: previous dataset unusable ({first_line(exc)}); last known values are lost"
        ]


def first_line(exc: Exception) -> str:
    """The first line of what `exc` says (its type when it says nothing), for a warning."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def read_published(out: Path) -> tuple[dict[Identifier, str], list[str]]:
    """The keys the previous `references.bib` gave its papers (`bib.published_keys`): a
    paper's key never changes once published. An unreadable file is reported."""
    path = out / BIB_NAME
    if not path.is_file():
        return {}, []
    try:
        return published_keys(path.read_bytes().decode()), []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: previous keys unusable ({first_line(exc)}); keys made anew"]


def written_titles(previous: Dataset | None, seeds: Iterable[Path], out: Path) -> dict[str, str]:
    """The link titles earlier runs wrote (`titles.earlier_titles`): those of the previous
    dataset, and of the dataset beside a seed that is itself a regenerated document (it was
    written with that document: `run --seeds output/list.md --out elsewhere`)."""
    titles = earlier_titles(previous)
    for folder in sorted({path.parent.resolve() for path in seeds} - {out.resolve()}):
        if (folder / DATASET_NAME).is_file():
            beside, _ = read_previous(folder)
            titles = {**earlier_titles(beside), **titles}
    return titles
