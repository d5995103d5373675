"""Where a run writes, and who may write there: the output folder's layout and the run lock.

The generated files sit at the top of the output folder (`GENERATED`); each seed's
regenerated document sits at the seed's path relative to `--seeds` (a folder, or a file's
own folder), so `seeds/slm-survey.md` gives `output/slm-survey.md` and `lists/a/README.md`
and `lists/b/README.md` give `output/a/README.md` and `output/b/README.md`. A layout in which
an output would replace a generated file, a seed or the cache, or would be read back as a
seed by the next run, is refused with an `InputError` before anything is written.

Runs are serialised by an exclusive `flock` on the cache folder and on the output folder
(the folders themselves: no lock file is left in either), taken in the order of their paths,
so two runs that share either one never interleave.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from enrich.errors import InputError

DATASET_NAME = "enriched.json"
SCHEMA_NAME = "enriched.schema.json"
REPORT_NAME = "report.md"
CHANGES_NAME = "CHANGES.md"
PAGE_NAME = "index.html"
TIMELINE_NAME = "timeline.svg"
BIB_NAME = "references.bib"
TRENDS_NAME = "trends.svg"
GENERATED = (
    DATASET_NAME,
    SCHEMA_NAME,
    REPORT_NAME,
    CHANGES_NAME,
    PAGE_NAME,
    TIMELINE_NAME,
    BIB_NAME,
    TRENDS_NAME,
)
"""The files a run writes at the top of the output folder, besides the documents."""


def real(path: Path) -> Path:
    """`path` absolute, with `..` and symlinked folders resolved; its own name is kept (a
    symlinked seed is named by its link, not by its target)."""
    whole = path.absolute()  # "." is the working folder itself
    if whole.name in ("", ".."):
        return whole.resolve()
    return whole.parent.resolve() / whole.name


def existing_dataset(out: Path, purpose: str) -> Path:
    """`out`'s enriched.json, which `check` and `suggest` need; an `InputError` that says what
    `out` is instead, and what to run, when there is none."""
    path = out / DATASET_NAME
    if path.is_file():
        return path
    state = (
        f"holds no {DATASET_NAME}"
        if out.is_dir()
        else "is not a folder"
        if out.exists()
        else "does not exist"
    )
    raise InputError(f"{out}/ {state}: {purpose}; run `python -m enrich run --out {out}` first")


def check_folders(seeds: Path, out: Path, cache: Path) -> None:
    """Refuse an output folder that is the cache (or inside it: a rebuilt cache would take
    the outputs with it), or that is the seed folder or inside it (the next run would read
    the outputs as seeds)."""
    where, store = real(out), real(cache)
    if where == store or where.is_relative_to(store):
        raise InputError(
            f"--out {out} is {'the' if where == store else 'inside the'} cache folder "
            f"(--cache {cache}): a rebuilt cache would take the outputs with it; "
            "give them separate folders"
        )
    if seeds.is_dir() and where.is_relative_to(real(seeds)):
        raise InputError(
            f"--out {out} is {'the' if where == real(seeds) else 'inside the'} seed folder "
            f"(--seeds {seeds}): the next run would read the outputs as seeds; "
            "choose an --out outside it"
        )


def documents(seeds: Path, found: Iterable[Path], out: Path) -> dict[Path, Path]:
    """Each seed of `found` (discovered from `seeds`) and the path of its regenerated
    document: its path below `seeds` (a file's: its name) mirrored below `out`. Raises
    `InputError` when one would replace a generated file or another seed."""
    root = seeds if seeds.is_dir() else seeds.parent
    layout = {path: out / path.relative_to(root) for path in found}
    _check_documents(layout, out)
    return layout


def _check_documents(layout: Mapping[Path, Path], out: Path) -> None:
    # In any letter case: macOS and Windows file systems do not tell CHANGES.md from changes.md.
    generated = {name.casefold() for name in GENERATED}
    seeds = {real(seed): seed for seed in layout}
    for seed, document in layout.items():
        name = document.relative_to(out).as_posix()
        if name.casefold() in generated:
            raise InputError(
                f"{seed}: its regenerated document would be {document}, a file enrich "
                f"generates; rename the seed or move it into a subfolder of the seeds"
            )
        other = seeds.get(real(document))
        if other is not None and other != seed:
            raise InputError(
                f"{seed}: its regenerated document would overwrite the seed {other}; "
                "choose an --out that holds no seed"
            )


@contextmanager
def run_lock(folders: Mapping[Path, str], on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock of every folder of `folders` (each with the option that named it, for
    messages; made when missing). A run that finds one held waits, and says so."""
    with ExitStack() as stack:
        for folder in sorted(folders, key=real):
            stack.enter_context(_locked(folder, folders[folder], on_wait))
        yield


@contextmanager
def _locked(folder: Path, option: str, on_wait: Callable[[str], None]) -> Iterator[None]:
    fd = _open_folder(folder, option)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(f"another enrich run is using {folder}/; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _open_folder(folder: Path, option: str) -> int:
    """A descriptor of `folder` (made if missing) that this process can write into; an
    `InputError` naming the folder, its option and what to do otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (FileExistsError, NotADirectoryError):
        raise InputError(
            f"{option} {folder}: a file, not a folder; name a folder (or move the file away)"
        ) from None
    except OSError as exc:
        raise InputError(
            f"{option} {folder}: cannot create the folder ({exc.strerror or exc}); "
            f"choose another {option}"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        os.close(fd)
        raise InputError(
            f"{option} {folder}: the folder is read-only; make it writable "
            f"or choose another {option}"
        )
    return fd
