"""Golden runs: every output file of whole runs against the loopback fake, pinned by digest.

    python -m bench.golden                # compare with bench/golden.sha256; exit 1 if one moved
    python -m bench.golden --keep DIR     # keep each case's folder (DIR/<case>/steps/<step>/)
    python -m bench.golden --keep NEW --diff OLD   # and print a unified diff against OLD
    python -m bench.golden --write        # record the digests (after an intended change)
    python -m bench.golden --python ../other/.venv/bin/python --keep OLD   # another checkout

Two cases: the seed (`seeds/slm-survey.md` and its images, the default columns, no token:
GitHub REST and its 304s) and a generated 1,000-row list (`bench.generate`, every column, a
token: GraphQL). Each runs the steps of `STEPS` in a fresh folder, seeds given relative to it,
against a fake (`tests/fakeapi`, a process of its own) seeded with that list, without latency
or politeness delays; `bench/clock.py` pins the sources' clock. The fake's facts are fixed per
id, so the same code gives the same bytes, and `tests/test_golden_runs.py` fails when a
digest moves. Full files would be 5 MB, so the digests are committed; to see what moved, run
`--keep` on the commit before and `--keep --diff` on yours. `--python` runs another
checkout's `enrich` (its venv's interpreter) against this checkout's fake, which is how the
outputs before and after the consolidation of issue 13 were compared.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import enrich.sources
from bench.clock import pin_clock
from bench.fake import ROOT, FakeProcess, fake_api
from bench.generate import generate
from bench.seed import TOKEN

DIGESTS = ROOT / "bench" / "golden.sha256"
CLOCK = ROOT / "bench" / "clock.py"


# Every column, one header renamed: the project file a case other than the seed runs with.
ALL_COLUMNS = """[tool.enrich]
columns = [
    "stars", "downloads", "published", "citations", "likes", "license", "pushed", "bib",
    "stars_trend", "downloads_trend", "citations_trend", "status",
]

[tool.enrich.headers]
pushed = "Pushed"
"""


@dataclass(frozen=True)
class Case:
    name: str
    token: bool
    all_columns: bool = True

    def write_seeds(self, folder: Path) -> Path:
        """The case's seeds under `folder/seeds`; the list (or folder) to register and run."""
        seeds = folder / "seeds"
        seeds.mkdir(parents=True)
        if self.all_columns:
            (folder / "pyproject.toml").write_text(ALL_COLUMNS, encoding="utf-8")
        if self.name == "corpus":
            for path in sorted(CORPUS.glob("*__*.md")):
                shutil.copy(path, seeds / path.name)
            return seeds
        if self.name.startswith("seed"):
            shutil.copy(ROOT / "seeds" / "slm-survey.md", seeds / "slm-survey.md")
            shutil.copytree(ROOT / "seeds" / "images", seeds / "images")
            return seeds / "slm-survey.md"
        (seeds / "list-1000.md").write_text(generate(1000), encoding="utf-8")
        return seeds / "list-1000.md"


CASES = (Case("seed", token=False, all_columns=False), Case("list-1000", token=True))
CORPUS = ROOT.parent / "shared" / "corpus"
PINNED = frozenset(case.name for case in CASES)
EXTRA = {
    "corpus": Case("corpus", token=True),
    "seed-token": Case("seed-token", token=True, all_columns=False),
}
"""Not pinned, to compare two checkouts with `--diff`: `--case corpus` runs the 20 real lists
of `../shared/corpus` (not part of the project) as one folder of seeds, `--case seed-token`
the seed with a token (GraphQL)."""


STEPS = ("cold", "refresh", "reseeded", "offline")
"""A case's runs, in one folder: cold (empty cache and output), `--refresh` (every value
revalidated, nothing changed upstream), `--seeds output/<list>` (the regenerated document as
the seed: the documented way to maintain a list in place), and `--offline` (the original
seed). The fake's request records and budgets are reset before each."""


def _env(case: Case, fake: FakeProcess, folder: Path) -> dict[str, str]:
    # Nothing of the caller's set-up: no token, no ENRICH_*/HF_* setting, no S2 key.
    mine = ("GITHUB_TOKEN", "S2_API_KEY", "ENRICH_", "HF_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(mine)}
    env.update(fake.env(), HF_HOME=str(folder / "hf"), HF_HUB_DISABLE_TELEMETRY="1")
    env.update(ENRICH_ARXIV_DELAY="0", ENRICH_S2_DELAY="0", ENRICH_LANDING_DELAY="0")
    env.update({"HF_HUB_OFFLINE": "0"})
    if case.token:
        env["GITHUB_TOKEN"] = TOKEN
    return env


def _step(python: str | None, folder: Path, env: dict[str, str], step: str, seeds: str) -> None:
    """`enrich run` of `step` in `folder` with `env` as its environment: by `python` (another
    checkout's interpreter, or this one's) in a process of its own, or in this process
    (`python` None, `_in_process`)."""
    argv = ["run", "--seeds", seeds, "--out", "output", "--cache", "cache"]
    argv += {"refresh": ["--refresh"], "offline": ["--offline"]}.get(step, [])
    if python is None:
        code, said = _in_process(argv, folder, env)
    else:
        done = subprocess.run(
            [python, str(CLOCK), *argv], cwd=folder, env=env, capture_output=True, check=False
        )
        code, said = done.returncode, done.stdout + done.stderr
    (folder / f"{step}.log").write_bytes(said)
    if code != 0:
        raise RuntimeError(f"{folder} {step}: exit {code}\n{said.decode(errors='replace')[-3000:]}")


def _in_process(argv: list[str], folder: Path, env: dict[str, str]) -> tuple[int, bytes]:
    """`enrich.cli.main(argv)` as `python bench/clock.py` runs it (the sources' clock pinned,
    `env` as the whole environment, `folder` as the working folder), all three restored after:
    the same bytes without an interpreter's start-up (0.6 s of CPU a step). One at a time: the
    environment and working folder are the process's."""
    from enrich.cli import main

    saved_env, saved_clock = dict(os.environ), enrich.sources._utcnow.__code__
    said = io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        pin_clock()
        with contextlib.chdir(folder), redirect_stdout(said), redirect_stderr(said):
            code = main(argv)
    finally:
        enrich.sources._utcnow.__code__ = saved_clock
        os.environ.clear()
        os.environ.update(saved_env)
    return code, said.getvalue().encode()


def _seeds(step: str, listing: Path, out: Path) -> str:
    """What `--seeds` names in `step`: the regenerated document (or, for a folder of seeds,
    copies of the regenerated documents in `reseeds/`) in the reseeded step."""
    if step != "reseeded":
        return "seeds"
    if not listing.is_dir():
        return f"output/{listing.name}"
    again = listing.parent / "reseeds"
    again.mkdir(exist_ok=True)
    for seed in listing.glob("*.md"):
        shutil.copy(out / seed.name, again / seed.name)
    return again.name


def run_case(case: Case, python: str | None, folder: Path) -> dict[str, bytes]:
    """Every step of `case` in `folder`; every output file as `<step>/<path under output/>`.
    Each step runs `enrich` by `python`, or in this process when it is None (`_step`)."""
    if folder.exists():
        shutil.rmtree(folder)
    listing = case.write_seeds(folder)
    out, files = folder / "output", {}
    registered = sorted(listing.glob("*.md")) if listing.is_dir() else [listing]
    with fake_api(registered, latency=0.0, hub_limit=100_000) as fake:
        env = _env(case, fake, folder)
        for step in STEPS:
            seeds = _seeds(step, listing, out)
            fake.reset()
            _step(python, folder, env, step, seeds)
            shutil.copytree(out, folder / "steps" / step)
            for p in sorted(out.rglob("*")):
                if p.is_file():
                    files[f"{step}/{p.relative_to(out).as_posix()}"] = p.read_bytes()
    return files


def digests(files: Mapping[str, bytes], case: str) -> dict[str, str]:
    return {f"{case}/{name}": hashlib.sha256(data).hexdigest() for name, data in files.items()}


def read_digests(path: Path = DIGESTS) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return {name: digest for digest, _, name in (line.partition("  ") for line in lines)}


def format_digests(found: Mapping[str, str]) -> str:
    return "".join(f"{found[name]}  {name}\n" for name in sorted(found))


def moved(expected: Mapping[str, str], found: Mapping[str, str]) -> list[str]:
    """The files whose digest differs, or that one side lacks."""
    return sorted(n for n in expected.keys() | found.keys() if expected.get(n) != found.get(n))


def diff(old: Path, new: Path) -> str:
    """A unified diff of every file under `old` and `new` (text; a line for binary files)."""
    names = {p.relative_to(root).as_posix() for root in (old, new) for p in root.rglob("*")}
    parts = []
    for name in sorted(n for n in names if (old / n).is_file() or (new / n).is_file()):
        a, b = (p.read_bytes() if p.is_file() else b"" for p in (old / name, new / name))
        if a == b:
            continue
        try:
            lines = [t.decode("utf-8").splitlines(keepends=True) for t in (a, b)]
        except UnicodeDecodeError:
            parts.append(f"binary files {old / name} and {new / name} differ\n")
            continue
        parts.extend(difflib.unified_diff(*lines, f"{old / name}", f"{new / name}", n=1))
    return "".join(parts)


def run_all(cases: Sequence[Case], python: str, keep: Path) -> dict[str, str]:
    """The digest of every output file of `cases`, as `<case>/<step>/<path>`; two cases at
    a time (each is mostly process start-up and waiting on its fake)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(
            lambda case: digests(run_case(case, python, keep / case.name), case.name), cases
        )
        return {name: digest for found in runs for name, digest in found.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.golden",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter of the enrich to run"
    )
    parser.add_argument("--keep", type=Path, help="keep each case's folder in KEEP/<case>")
    parser.add_argument("--diff", type=Path, help="an earlier --keep folder to diff against")
    parser.add_argument("--case", action="append", choices=[*EXTRA], default=[], help="also run")
    parser.add_argument(
        "--write", action="store_true", help=f"record the digests in {DIGESTS.name}"
    )
    args = parser.parse_args(argv)
    keep = args.keep or Path(tempfile.gettempdir()) / "enrich-golden"
    cases = (*CASES, *(EXTRA[name] for name in args.case))
    found = run_all(cases, args.python, keep)
    if args.diff is not None:
        for case in cases:
            sys.stdout.write(diff(args.diff / case.name / "steps", keep / case.name / "steps"))
    pinned = {name: digest for name, digest in found.items() if name.split("/")[0] in PINNED}
    if args.write:
        DIGESTS.write_text(format_digests(pinned), encoding="utf-8")
        return 0
    changed = moved(read_digests(), pinned)
    for name in changed:
        print(f"moved: {name}", file=sys.stderr)
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
