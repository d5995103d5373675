"""The CLI edge: help on every command, exit codes, one-line messages for bad input."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from enrich import folders
from enrich.cli import cli, main
from enrich.config import Settings
from enrich.sources import registry

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


@pytest.mark.parametrize("command", ["", *commands()])
def test_every_command_has_its_docstring_as_help_and_exit_codes_as_lines(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The help is the command's docstring (one text for help and code), and the exit-code
    block renders one code a line: no note hangs off another code's line."""
    target = cli.commands[command] if command else cli
    assert target.callback is not None
    assert target.help
    assert inspect.cleandoc(target.help) == inspect.getdoc(target.callback)
    assert main([*([command] if command else []), "--help"]) == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index("  Exit codes:")
    block = out[start + 1 : start + 4]
    assert [line[:7] for line in block] == ["    0  ", "    1  ", "    2  "], block
    assert all(len(line) > 7 for line in block)
    assert not any("(1:" in line or "(2:" in line for line in out)


def test_run_help_names_every_file_it_writes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    names = [v for k, v in vars(folders).items() if k.endswith("_NAME") and isinstance(v, str)]
    assert len(names) >= 6
    for name in names:
        assert f"\n    {name} " in out, name
    assert "each seed regenerated" in out


def test_source_choices_are_the_registry_names() -> None:
    names = [source.name for source in registry(Settings())]
    for option in ("only", "skip"):
        param = next(p for p in cli.commands["run"].params if p.name == option)
        assert isinstance(param.type, click.Choice)
        assert list(param.type.choices) == names


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
    out = capsys.readouterr().out
    assert "round-trips; 14 tables, 75 rows, 0 errors" in out
    assert "misplaced-link" in out  # the AWQ row


def test_lint_fails_on_a_javascript_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "js.md"
    seed.write_text("| Paper |\n|---|\n| [x](javascript:alert(1)) |\n", encoding="utf-8")
    assert main(["lint", str(seed)]) == 1
    out = capsys.readouterr().out
    assert "js.md:3: error:" in out
    assert "unsupported-scheme" in out


def test_lint_verbose_shows_duplicates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-v", str(SEED)]) == 0
    assert "duplicate-entity" in capsys.readouterr().out


def test_lint_handles_empty_file_and_table_without_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "norows.md").write_text("| a | b |\n|---|---|\n", encoding="utf-8")
    assert main(["lint", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "empty.md: warning: the file is empty [empty-file]" in out
    assert "norows.md:1: warning: table has a header but no body rows" in out


def test_lint_handles_a_10_mb_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "huge.md"
    seed.write_text("| a |\n|---|\n| " + "x" * 10_000_000 + " |\n", encoding="utf-8")
    assert main(["lint", str(seed)]) == 0
    assert "huge.md: round-trips" in capsys.readouterr().out


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


# ------------------------------------------------------------------ streams


def test_lint_findings_on_stdout_verdict_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "js.md"
    seed.write_text("| Paper |\n|---|\n| [x](javascript:alert(1)) |\n", encoding="utf-8")
    assert main(["lint", str(SEED), str(seed)]) == 1
    captured = capsys.readouterr()
    assert "js.md:3: error:" in captured.out
    assert "slm-survey.md: round-trips" in captured.out
    assert "misplaced-link" in captured.out
    assert captured.err.splitlines() == [
        "failed: 2 file(s), 0 not round-tripping, 1 errors, 5 warnings"
    ]


def test_lint_redirected_to_a_file_keeps_the_findings(tmp_path: Path) -> None:
    """`enrich lint seeds/ > out.txt`: the findings are in the file, the verdict on the
    terminal."""
    out = tmp_path / "out.txt"
    with out.open("w", encoding="utf-8") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "enrich", "lint", str(SEED.parent)],
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 0
    text = out.read_text(encoding="utf-8")
    assert "slm-survey.md: round-trips; 14 tables, 75 rows" in text
    assert text.count("[misplaced-link]") == 5
    assert done.stderr.startswith("passed: 1 file(s)")
    assert "misplaced-link" not in done.stderr


def test_parse_prints_json_alone_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(SEED)]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # nothing else on stdout
    assert captured.err.endswith("slm-survey.md: 75 rows, 0 errors, 5 warnings\n")


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        ("| [x](javascript:alert(1)) |\n", 1),
        ("| [x](javascript:alert(1)) |\n| [y](https://arxiv.org/abs/2305.14314) |\n", 1),
        ("| [y](https://arxiv.org/abs/2305.14314) |\n", 0),
        ("| plain text |\n", 0),
    ],
    ids=["error", "error-among-good", "clean", "no-links"],
)
def test_parse_exits_1_on_error_diagnostics_and_still_prints_the_json(
    tmp_path: Path, rows: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "s.md"
    seed.write_text(f"| Paper |\n|---|\n{rows}", encoding="utf-8")
    assert main(["parse", str(seed)]) == code
    payload = json.loads(capsys.readouterr().out)
    errors = [d for d in payload["diagnostics"] if d["severity"] == "error"]
    assert bool(errors) is bool(code)


@pytest.mark.parametrize(
    ("state", "said"),
    [
        ("missing", "does not exist"),
        ("empty", "holds no enriched.json"),
        ("a-file", "is not a folder"),
    ],
)
def test_check_without_an_output_folder_says_so(
    tmp_path: Path, state: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    if state == "empty":
        out.mkdir()
    elif state == "a-file":
        out.write_text("", encoding="utf-8")
    args = ["check", "--seeds", str(SEED), "--out", str(out), "--cache", str(tmp_path / "c")]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no diff
    assert captured.err.count("\n") == 1
    assert f"{out}/ {said}: nothing to check" in captured.err
    assert "python -m enrich run" in captured.err


# ------------------------------------------------------------------ local files


def write_seed(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    seed = folder / "list.md"
    seed.write_text(text, encoding="utf-8")
    return seed


@pytest.mark.parametrize(
    ("line", "missing"),
    [
        ("![fig](images/fig.png)", "images/fig.png"),
        ("![fig](./images/fig.png)", "./images/fig.png"),
        ('<img src="images/fig.png" width="50%">', "images/fig.png"),
        ("see [the notes](docs/notes.md#setup)", "docs/notes.md#setup"),
        ("see [up](../elsewhere.md)", "../elsewhere.md"),
        ("| A | [code](src/missing.py) |", "src/missing.py"),
        ("[a%20b](a%20b.md)", "a%20b.md"),
    ],
    ids=["image", "dot-image", "html-img", "link-fragment", "parent", "table-cell", "encoded"],
)
def test_lint_warns_for_a_relative_target_with_no_file(
    tmp_path: Path, line: str, missing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = write_seed(tmp_path / "lists", f"# L\n\n| M | Code |\n|---|---|\n| x | y |\n\n{line}\n")
    if line.startswith("|"):
        seed.write_text(f"# L\n\n| M | Code |\n|---|---|\n{line}\n", encoding="utf-8")
    assert main(["lint", str(seed)]) == 0  # a warning: the exit code is about errors
    out = capsys.readouterr().out
    number = 5 if line.startswith("|") else 7
    assert f"list.md:{number}: warning: {missing} names a file that does not exist" in out
    assert "[missing-file]" in out


@pytest.mark.parametrize(
    "line",
    [
        "![fig](images/fig.png)",
        "[notes](docs/notes.md#setup)",
        "[a%20b](a%20b.md)",
        "[up](../top.md)",
        "[anchor](#links)",
        "[here](./#links)",
        "[web](https://example.org/x.png)",
        "[root](/abs/path.md)",
        "`![fig](images/nope.png)`",
        "[mail](mailto:a@example.org)",
    ],
)
def test_lint_is_quiet_about_targets_that_resolve_or_are_not_files(
    tmp_path: Path, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "lists"
    seed = write_seed(folder, f"# L\n\n{line}\n\n```\n![x](in/code.png)\n```\n")
    (folder / "images").mkdir()
    (folder / "images" / "fig.png").write_bytes(b"png")
    (folder / "docs").mkdir()
    (folder / "docs" / "notes.md").write_text("", encoding="utf-8")
    (folder / "a b.md").write_text("", encoding="utf-8")
    (tmp_path / "top.md").write_text("", encoding="utf-8")
    assert main(["lint", str(seed)]) == 0
    assert "missing-file" not in capsys.readouterr().out


def test_the_seeds_own_images_are_there(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(SEED)]) == 0
    assert "missing-file" not in capsys.readouterr().out
    images = SEED.parent / "images"
    assert sorted(p.name for p in images.iterdir()) == [
        "overview_of_small_language_models.PNG",
        "timeline_of_small_language_models.png",
    ]


def test_run_check_and_suggest_keep_stdout_for_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run writes files and says everything else on stderr; check and suggest print their
    results (a diff, a list) on stdout and their verdict on stderr."""
    folders = ["--seeds", str(SEED), "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c")]
    assert main(["run", *folders, "--offline"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Offline: 0 requests" in captured.err
    assert "fetch summary" in captured.err
    assert main(["check", *folders]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err.count("\n")) == ("", 1)
    (tmp_path / "o" / "report.md").write_text("edited\n", encoding="utf-8")
    assert main(["check", *folders]) == 1
    captured = capsys.readouterr()
    assert "-edited" in captured.out.splitlines()
    assert "is not what" in captured.err
    assert "-edited" not in captured.err
    assert main(["suggest", "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # offline and nothing cached: no candidate to list
    assert captured.err.startswith("no suggestions")
