"""Adopting enrich: its name on the package index, `--version`, and `enrich init` (run in
process, in a scratch git repository; `python -m enrich` as a process is proven once, by
`--version`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from enrich import DISTRIBUTION, __version__
from enrich.cli import main
from enrich.config import Settings
from enrich.init import Change, apply, workflow
from tests.conftest import ROOT
from tests.test_workflows import readme_workflow

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


# ----------------------------------------------------------------------------- init


class List:
    """A scratch git repository of a list (README.md), where `init` runs."""

    def __init__(
        self, path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.path = path
        self._monkeypatch, self._capsys = monkeypatch, capsys
        subprocess.run(["git", "init", "--quiet", str(path)], check=True, timeout=30)
        (path / "README.md").write_text("# A list\n", encoding="utf-8")

    def init(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """`enrich init *args` in `cwd` (the repository's top by default), as a process
        would end: its exit code, stdout and stderr."""
        self._capsys.readouterr()
        with self._monkeypatch.context() as patch:
            patch.chdir(cwd or self.path)
            code = main(["init", *args])
        out, err = self._capsys.readouterr()
        return subprocess.CompletedProcess(["enrich", "init", *args], code, out, err)

    def files(self) -> dict[str, str]:
        return {
            str(p.relative_to(self.path)): p.read_text(encoding="utf-8")
            for p in sorted(self.path.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(self.path).parts[:1]
        }


@pytest.fixture
def listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> List:
    return List(tmp_path / "list", monkeypatch, capsys)


def test_init_writes_the_workflow_the_config_and_ignores_the_cache(listing: List) -> None:
    done = listing.init()
    assert done.returncode == 0, done.stderr
    files = listing.files()
    assert set(files) == {"README.md", ".github/workflows/refresh.yml", "enrich.toml", ".gitignore"}
    assert files[".github/workflows/refresh.yml"] == workflow("README.md")
    assert files[".gitignore"] == "cache/\n"
    config = tomllib.loads(files["enrich.toml"])
    assert tuple(config["columns"]) == Settings().columns  # the defaults, spelled out
    assert Settings().with_project_config(listing.path).columns == Settings().columns
    assert done.stdout == ""  # what it did is said on stderr
    assert "wrote .github/workflows/refresh.yml" in done.stderr


def test_init_dry_run_prints_everything_and_writes_nothing(listing: List) -> None:
    (listing.path / ".gitignore").write_text("*.pyc", encoding="utf-8")  # no final newline
    before = listing.files()
    done = listing.init("--dry-run", "--seeds", "README.md")
    assert done.returncode == 0, done.stderr
    assert listing.files() == before
    assert (
        "----- would write .github/workflows/refresh.yml\n" + workflow("README.md") in done.stdout
    )
    assert "----- would write enrich.toml\n" in done.stdout
    assert "----- would append to .gitignore\ncache/\n" in done.stdout

    real = listing.init()
    assert real.returncode == 0, real.stderr
    assert listing.files()[".gitignore"] == "*.pyc\ncache/\n"  # appended on a line of its own


@pytest.mark.parametrize("existing", [".github/workflows/refresh.yml", "enrich.toml"])
def test_init_never_overwrites_a_file_and_says_so(listing: List, existing: str) -> None:
    mine = listing.path / existing
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text("mine\n", encoding="utf-8")
    (listing.path / ".gitignore").write_text("/cache/\n", encoding="utf-8")
    done = listing.init()
    assert done.returncode == 1
    assert f"{existing} exists: left as it is" in done.stderr
    files = listing.files()
    assert files[existing] == "mine\n"
    assert files[".gitignore"] == "/cache/\n"  # already ignored: not added twice
    other = {".github/workflows/refresh.yml", "enrich.toml"} - {existing}
    assert other <= set(files)  # the rest was written

    again = listing.init()  # now both exist: nothing changes
    assert again.returncode == 1
    assert listing.files() == files


def test_a_file_made_after_the_plan_is_not_overwritten_either(tmp_path: Path) -> None:
    (tmp_path / "enrich.toml").write_text("mine\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        apply(tmp_path, Change(Path("enrich.toml"), "theirs\n"))
    assert (tmp_path / "enrich.toml").read_text(encoding="utf-8") == "mine\n"


def test_init_works_from_a_subfolder_at_the_repository_top(listing: List) -> None:
    (listing.path / "papers").mkdir()
    (listing.path / "papers" / "a list.md").write_text("# A\n", encoding="utf-8")
    done = listing.init("--seeds", "papers/a list.md", cwd=listing.path / "papers")
    assert done.returncode == 0, done.stderr
    written = yaml.safe_load(listing.files()[".github/workflows/refresh.yml"])
    assert written["jobs"]["refresh"]["steps"][0]["with"]["seeds"] == "papers/a list.md"


def test_init_refuses_outside_a_repository_or_without_the_seeds(
    listing: List, tmp_path: Path
) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    done = listing.init(cwd=outside)
    assert done.returncode == 2
    assert "not in a git repository" in done.stderr
    missing = listing.init("--seeds", "nowhere.md")
    assert missing.returncode == 2
    assert "--seeds nowhere.md: no such file or folder" in missing.stderr
    assert set(listing.files()) == {"README.md"}


def test_the_readme_shows_the_workflow_init_writes() -> None:
    assert readme_workflow() == workflow("README.md")


# ----------------------------------------------------------------------------- pre-commit hook

TABLE = "# L\n\n| Method | Year | Paper | Code |\n|---|---|---|---|\n| A | 2024 | {paper} | |\n"


def test_the_hook_is_enrich_lint_on_markdown() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "enrich-lint"
    assert hook["entry"] == "enrich lint"  # the console script of pyproject's [project.scripts]
    assert hook["language"] == "python"  # pre-commit installs this repository: enrich-papers
    assert hook["types"] == ["markdown"]
    assert hook["verbose"] is True  # warnings are shown, though they do not fail the commit


def hook_repository(path: Path) -> Path:
    """A git repository of what pre-commit installs from this one, as the working tree has it
    (pre-commit installs a repository at a commit: files not yet committed would be left
    out)."""
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        path.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, path / name)
    shutil.copytree(
        ROOT / "src", path / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "hooks"]):
        subprocess.run([*git, *args], check=True, timeout=30, capture_output=True)
    return path


def pre_commit_config(hooks: Path) -> str:
    """A list's .pre-commit-config.yaml using the hook of `hooks` at its commit, as the
    comment of .pre-commit-hooks.yaml shows (`rev` a commit here, a release there)."""
    head = subprocess.run(
        ["git", "-C", str(hooks), "rev-parse", "HEAD"],
        check=True,
        timeout=30,
        capture_output=True,
        text=True,
    )
    repo = {"repo": str(hooks), "rev": head.stdout.strip(), "hooks": [{"id": "enrich-lint"}]}
    return yaml.safe_dump({"repos": [repo]})


@pytest.mark.slow
def test_pre_commit_runs_the_hook_on_the_files_given(listing: List) -> None:
    """`pre-commit run` with the hook in a list's config: pre-commit installs this repository
    (with uv, pre-commit-uv) once in its home, and both runs use that environment (which
    `try-repo` would build again for each: a temporary home every time)."""
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed here (`pip install pre-commit`)")
    bad_id = "[p](https://arxiv.org/abs/2401.1234567)"
    (listing.path / "warned.md").write_text(TABLE.format(paper=bad_id), encoding="utf-8")
    script = "[p](javascript:alert(1))"
    (listing.path / "broken.md").write_text(TABLE.format(paper=script), encoding="utf-8")
    (listing.path / "notes.txt").write_text("not markdown\n", encoding="utf-8")
    home = listing.path.parent / "pre-commit-home"
    config = listing.path.parent / "pre-commit-config.yaml"
    config.write_text(pre_commit_config(hook_repository(listing.path.parent / "hooks")))

    # The hook's environment has no bytecode yet (uv does not compile): its first run may
    # write it, as on a developer's machine, so the second does not compile every module.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run_hook(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "run", "--config", str(config), "--files", *files],
            cwd=listing.path,
            env={**env, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    warned = run_hook("warned.md", "notes.txt")
    assert warned.returncode == 0, warned.stdout + warned.stderr
    assert "warned.md:5: warning: malformed arXiv id '2401.1234567'" in warned.stdout
    assert "notes.txt" not in warned.stdout  # markdown files only
    assert "Installing environment" in warned.stdout + warned.stderr
    broken = run_hook("broken.md", "warned.md")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "broken.md:5: error:" in broken.stdout
    assert "Installing environment" not in broken.stdout + broken.stderr  # installed once
