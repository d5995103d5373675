"""Development sessions. Python versions come from pyproject's classifiers (one list to keep)."""

from __future__ import annotations

import nox

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
# A machine that has only some of the supported Pythons still runs the sessions it can.
nox.options.error_on_missing_interpreters = False


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest arguments after --)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


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
    """Benchmarks against the loopback fake API (README, Performance).

    `nox -s bench` prints the seed table (about 4 minutes, 3 of them the naive baseline);
    `-- --quick` skips the baseline; `-- --scale` runs the 10,000-row list instead.
    """
    session.install("-e", ".")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python=PYTHONS[0])
def golden(session: nox.Session) -> None:
    """Golden runs (`bench/golden.py`): every output file of the seed and a 1,000-row list
    against the loopback fake, compared with bench/golden.sha256 (pass `--keep DIR`,
    `--diff OLD`, `--write` after --)."""
    session.install("-e", ".")
    session.run("python", "-m", "bench.golden", *session.posargs)
