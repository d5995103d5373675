"""Adopting enrich: its name on the package index, `--version`, and `python -m enrich init`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version

import pytest

from enrich import DISTRIBUTION, __version__
from enrich.cli import main
from tests.conftest import ROOT

# ----------------------------------------------------------------------------- name, version


def test_the_distribution_is_not_the_other_enrich_and_has_one_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION != "enrich"  # `enrich` on the index is a Rich plugin
    assert "version" not in project  # read from enrich.__version__: one home
    assert version(DISTRIBUTION) == __version__  # the installed metadata agrees


def test_enrich_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"{DISTRIBUTION} {__version__}\n"


def test_python_m_enrich_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "enrich", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"{DISTRIBUTION} {__version__}\n"), done.stderr
