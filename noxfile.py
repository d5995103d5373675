"""Development sessions. Python versions come from pyproject's classifiers (one list to keep)."""

from __future__ import annotations

import re
from pathlib import Path

import nox

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)

nox.options.sessions = ["tests", "lint", "typecheck"]
UV = re.search(r"^UV_VERSION=(\S+)", Path(".github/scripts/install.sh").read_text(), re.M)[1]  # type: ignore[index]
"""The uv the action installs with (one home: the install script)."""

nox.options.reuse_existing_virtualenvs = True
# A machine that has only some of the supported Pythons still runs the sessions it can.
nox.options.error_on_missing_interpreters = False


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite on every core (pass pytest arguments after --, e.g. `-- -k x`;
    `-- -n0` runs it in one process).

    `--dist worksteal`: each worker starts with one contiguous half of the tests, so a
    module's shared fixtures (the fault matrix's template and its runs per column) are made
    once, and an idle worker takes half of what the other has left, so the few tests of
    several seconds (whole processes, whole runs) do not leave one core idle at the end.
    """
    session.install("-e", ".[test]")
    session.run("pytest", "-n", "auto", "--dist", "worksteal", *session.posargs)


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff: lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy, strict on src/."""
    session.install("-e", ".[typecheck]")
    session.run("mypy")


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Benchmarks against the loopback fake API (docs/performance.md).

    `nox -s bench` prints the seed table (about 4 minutes, 3 of them the naive baseline);
    `-- --quick` skips the baseline; `-- --scale` runs the 10,000-row list instead.
    """
    session.install("-e", ".")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python=PYTHONS[0])
def lock(session: nox.Session) -> None:
    """Refresh uv.lock, which the action installs from, to the newest versions pyproject allows.

    `nox -s lock -- --upgrade-package arxiv` moves one package only. Dependabot proposes the
    same weekly, as a pull request CI tests.
    """
    session.install(f"uv=={UV}")
    session.run("uv", "lock", *(session.posargs or ["--upgrade"]))


@nox.session(python=PYTHONS[0])
def screenshots(session: nox.Session) -> None:
    """Regenerate docs/page.png and docs/timeline.png from a run against the loopback API.

    Needs Debian's chromium (`apt-get install chromium`); see docs/screenshots.py.
    """
    session.install("-e", ".[test]")
    session.run("python", "docs/screenshots.py")


@nox.session(python=PYTHONS[0])
def golden(session: nox.Session) -> None:
    """Golden runs (`bench/golden.py`): every output file of the seed and a 1,000-row list
    against the loopback fake, compared with bench/golden.sha256 (pass `--keep DIR`,
    `--diff OLD`, `--write` after --)."""
    session.install("-e", ".")
    session.run("python", "-m", "bench.golden", *session.posargs)
