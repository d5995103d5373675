"""The CLI edge: help on every command, exit codes, one-line messages for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from enrich.cli import cli, main

SEED = Path(__file__).parents[1] / "seeds" / "slm-survey.md"


def commands() -> list[str]:
    return sorted(cli.commands)


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_with_examples_and_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Examples:" in out
    assert "Exit codes:" in out
    assert f"python -m enrich {command}" in out


def test_every_option_has_help_text() -> None:
    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.name} has no help"


def test_group_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in commands():
        assert command in out


def test_help_never_shows_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_sentinel_token_value_123")
    monkeypatch.setenv("HF_TOKEN", "hf_sentinel_token_value_456")
    assert main(["run", "--help"]) == 0
    captured = capsys.readouterr()
    assert "sentinel" not in captured.out + captured.err


def test_unknown_option_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--bogus"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_missing_seeds_path_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            "--seeds",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "o"),
            "--cache",
            str(tmp_path / "c"),
            "--offline",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "no such file or folder" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"| a |\n|---|\n| x\x00 |\n", ":3: binary file"),
        (b"| a |\n|---|\n| caf\xe9 |\n", ":3: not UTF-8"),
    ],
    ids=["binary", "latin-1"],
)
def test_unreadable_seed_names_file_and_line(
    tmp_path: Path, content: bytes, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "bad.md"
    seed.write_bytes(content)
    assert main(["lint", str(seed)]) == 2
    err = capsys.readouterr().err
    assert f"bad.md{expected}" in err
    assert "Traceback" not in err


def test_lint_reports_round_trip_and_passes_on_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(SEED)]) == 0
    err = capsys.readouterr().err
    assert "round-trips; 14 tables, 75 rows, 0 errors" in err
    assert "misplaced-link" in err  # the AWQ row


def test_lint_fails_on_a_javascript_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "js.md"
    seed.write_text("| Paper |\n|---|\n| [x](javascript:alert(1)) |\n", encoding="utf-8")
    assert main(["lint", str(seed)]) == 1
    err = capsys.readouterr().err
    assert "js.md:3: error:" in err
    assert "unsupported-scheme" in err


def test_lint_verbose_shows_duplicates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-v", str(SEED)]) == 0
    assert "duplicate-entity" in capsys.readouterr().err


def test_lint_handles_empty_file_and_table_without_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "norows.md").write_text("| a | b |\n|---|---|\n", encoding="utf-8")
    assert main(["lint", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "empty.md: warning: the file is empty [empty-file]" in err
    assert "norows.md:1: warning: table has a header but no body rows" in err


def test_lint_handles_a_10_mb_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "huge.md"
    seed.write_text("| a |\n|---|\n| " + "x" * 10_000_000 + " |\n", encoding="utf-8")
    assert main(["lint", str(seed)]) == 0
    assert "huge.md: round-trips" in capsys.readouterr().err


def test_parse_prints_records_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(SEED)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["records"]) == 75
    awq = next(r for r in payload["records"] if r["cells"]["Method"] == "AWQ")
    assert {(link["column"], link["kind"]) for link in awq["links"]} == {
        ("Code", "arxiv"),
        ("Model Card", "github_repo"),
    }


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "enrich", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "Usage:" in done.stdout


def test_python_dash_m_passes_on_the_exit_code_and_all_its_output(tmp_path: Path) -> None:
    """The process ends without the interpreter's teardown (`enrich.__main__`): its output
    must still be flushed whole, its exit code kept, and `atexit` handlers run."""
    seed = tmp_path / "bad.md"
    row = "| M{n} | 2024 | [p](javascript:alert({n})) |\n"
    rows = "".join(row.format(n=n) for n in range(3000))
    seed.write_text(f"| Method | Year | Paper |\n|---|---|---|\n{rows}", encoding="utf-8")
    marker = tmp_path / "atexit-ran"
    code = (
        "import atexit, pathlib, runpy, sys\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).touch)\n"
        f"sys.argv = ['enrich', 'lint', {str(seed)!r}]\n"
        "runpy.run_module('enrich', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 1  # 3,000 error diagnostics: links that could run code
    said = done.stdout + done.stderr
    assert said.count("[unsupported-scheme]") == 3000
    assert marker.exists()
