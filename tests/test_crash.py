"""Crash safety of `python -m enrich run`, as whole processes against the loopback API.

* SIGKILL at any moment of a run leaves `output/` — once `enrich.output.recover` has run, as
  every run does first — holding exactly the old set of files or exactly the new one: a kill
  is aimed at each phase (start-up, fetching, merging and rendering, the commit's staging and
  its renames), and where it landed is checked from what the run left.
* Two runs on one cache, or on one output folder, are serialised by its lock, and the second
  one says so.
* A corrupt cache is reported, moved aside and rebuilt; the run succeeds. A full one is kept
  as it is: the outputs are written, exit 2.
* The first Ctrl-C ends a run, exit 130, whatever it is blocked in.

The runs are of the seed's first 15 rows (`LIST`): a process costs its start-up and a fraction
of a run of the whole seed. They are started with relative paths from their own folder, so a
copy of a folder produces the same bytes; only the `fetched_at` of facts that changed differ
between two runs made at different moments, and are compared as "some time".
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import diskcache
import pytest

from enrich import output, pipeline
from enrich.cache import Cache
from enrich.cli import main
from enrich.config import Settings
from tests.builders import ident
from tests.conftest import (
    OUTPUTS,
    SEED,
    api_env,
    fake_settings,
    files_below,
    point_at,
    without_history,
)
from tests.fakeapi import FakeAPI
from tests.test_faults import sections

# The runs' list: the seed's first 15 rows (arXiv papers, DOIs, a PMLR page, repositories,
# models, cells left empty), a fraction of a run of the whole seed for each process.
LIST = sections(
    SEED.read_text(encoding="utf-8"),
    {
        "### Foundational Concepts in Building Language Models",
        "### Advanced enhancement methods for SLM",
        "#### Training from scratch",
    },
)


RECORDS = 15
# Entities the sources fetch for the list with data: 14 arXiv papers (12 linked, 2 named by
# Semantic Scholar for the rows linked by DOI), 8 repositories, 4 Hub pages, the PMLR page and
# 14 Semantic Scholar records; and discovery's: the models tagged with each of the 9 papers
# whose Model Card cell is empty (the fake knows no paper page for the rows with an empty Code
# cell: those are `not_found`, without data), and the recommendations for the 2 sections.
FETCHED = 41 + 9 + 2
LATENCY = 0.025  # per request of a killed refresh: its fetch phase lasts about half a second
WAIT_MESSAGE = "another enrich run"
RENAME = 0.15  # seconds the slowed commit spends on each rename (and staged file: `STAGE`)

# The run with its commit slowed down (only `enrich.output`'s file operations), so that a
# kill can be aimed inside the commit: after a file is staged (STAGE seconds a file: 0 where
# the kill is aimed at the renames, which follow the staging), and between two renames.
SLOW_COMMIT = """
import os, sys, time
import enrich.output as out

class SlowOS:
    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, src, dst):
        time.sleep(RENAME)
        os.replace(src, dst)

real_stage = out._stage

def slow_stage(path, data):
    staged = real_stage(path, data)
    time.sleep(STAGE)
    return staged

out.os, out._stage = SlowOS(), slow_stage
from enrich.cli import main
sys.exit(main())
"""


def enrich_command(*args: str, slow_commit: bool = False, stage: float = RENAME) -> list[str]:
    script = SLOW_COMMIT.replace("RENAME", str(RENAME)).replace("STAGE", str(stage))
    entry = ["-c", script] if slow_commit else ["-m", "enrich"]
    paths = ["--seeds", "seeds", "--out", "output", "--cache", "cache"]
    return [sys.executable, *entry, "run", *paths, *args]


@contextmanager
def started(command: list[str], cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A running process, killed and reaped whatever happens."""
    quiet = subprocess.DEVNULL
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=quiet, stderr=quiet, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def new_folder(root: Path) -> Path:
    """`root` with the list (`LIST`, under the seed's name) in `root/seeds`."""
    (root / "seeds").mkdir(parents=True)
    (root / "seeds" / SEED.name).write_text(LIST, encoding="utf-8")
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of `folder`, hidden ones (journal, staged files) included."""
    return {name: p.read_bytes() for name, p in files_below(folder).items()}


_FETCHED_AT = re.compile(rb'"fetched_at": "[^"]*"')


def timeless(files: dict[str, bytes]) -> dict[str, bytes]:
    """`files` with every `fetched_at` time replaced by a placeholder."""
    return {
        name: _FETCHED_AT.sub(b'"fetched_at": "*"', data) if name.endswith(".json") else data
        for name, data in files.items()
    }


def change_upstream(api: FakeAPI) -> None:
    """New stars and downloads everywhere, so the next run writes a different output."""
    with api.editing():
        for repo in api.github.repos.values():
            repo.stars += 1000
        for hub_key, hub in list(api.hub.repos.items()):
            api.hub.repos[hub_key] = dataclasses.replace(hub, downloads=hub.downloads + 7)


def fresh_budget(api: FakeAPI) -> None:
    """GitHub allows 60 anonymous requests an hour, and a run spends 30: refill it."""
    api.set_rate_limit(60)


# ------------------------------------------------------------------------------ SIGKILL


def kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool], deadline: float) -> bool:
    """SIGKILL `proc` as soon as `ready()`; False when the process ended first."""
    limit = time.monotonic() + deadline
    while proc.poll() is None and time.monotonic() < limit:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.001)
    return False


def staged_files(out: Path) -> list[Path]:
    return [p for p in out.glob(".*.tmp") if not p.name.startswith(output.JOURNAL)]


@dataclasses.dataclass(frozen=True)
class Scene:
    """What the kills start from, made once: a folder after a clean run (`pristine`), the
    upstream changed since, the same folder refreshed to the end in a copy (`reference`), the
    files of each (`old`, `new`), and the requests the refresh made (`requests`)."""

    api: FakeAPI
    pristine: Path
    reference: Path
    old: dict[str, bytes]
    new: dict[str, bytes]
    changed: frozenset[str]
    requests: int

    def outcome(self, folder: Path, visible: bool = False) -> str:
        files = snapshot(folder / "output")
        if visible:  # the files a reader sees, the commit's hidden files left out
            files = {n: data for n, data in files.items() if not n.startswith(".")}
        if files == self.old:
            return "old"
        return "new" if timeless(files) == timeless(self.new) else "mixed"


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """The clean run and the refresh, in process, with the relative paths the processes
    below use; a kill's run then either ends as the refresh ended or leaves what it found."""
    root = tmp_path_factory.mktemp("kills")
    pristine, reference = new_folder(root / "pristine"), root / "reference"
    with FakeAPI() as api, pytest.MonkeyPatch.context() as patch:
        api.populate_from_markdown(LIST)
        relative = here(api)
        patch.chdir(pristine)
        assert pipeline.run(relative).failed_sources() == {}
        old = snapshot(pristine / "output")
        assert without_history(old) == OUTPUTS
        # The new version: facts changed upstream, refreshed to the end in a copy.
        change_upstream(api)
        fresh_budget(api)
        shutil.copytree(pristine, reference)
        patch.chdir(reference)
        api.reset_requests()
        assert pipeline.run(dataclasses.replace(relative, refresh=True)).succeeded
        new = snapshot(reference / "output")
        changed = frozenset(n for n, data in new.items() if data != old.get(n))
        assert changed >= {"enriched.json", SEED.name}
        assert timeless(new) != timeless(old)
        yield Scene(api, pristine, reference, old, new, changed, api.count())


def killed_run(
    scene: Scene, folder: Path, kill: Killer, refresh: bool, stage: float = RENAME
) -> tuple[bool, int, str, str]:
    """A run in `folder` (a refresh from the pristine cache, with answers LATENCY late; else a
    run whose commit is slowed down, finding every fact fresh in the reference's cache)
    killed by `kill`: whether it was killed, the requests it made, and the output folder
    before `recover` (hidden files named, then what a reader sees) and after it."""
    cache = scene.pristine if refresh else scene.reference
    shutil.copytree(scene.pristine, folder, ignore=shutil.ignore_patterns("cache"))
    shutil.copytree(cache / "cache", folder / "cache")
    api, out = scene.api, folder / "output"
    fresh_budget(api)
    api.reset_requests()
    api.set_latency(LATENCY if refresh else 0.0)
    try:
        args = ("--refresh",) if refresh else ()
        command = enrich_command(*args, slow_commit=not refresh, stage=stage)
        with started(command, folder, api_env(api.base_url)) as proc:
            killed = kill(proc, out)
    finally:
        api.set_latency(0.0)
    before = "journal " if (out / output.JOURNAL).exists() else ""
    before += "staged " if staged_files(out) else ""
    before += scene.outcome(folder, visible=True)
    output.recover(out)
    return killed, api.count(), before, scene.outcome(folder)


# A kill aimed at each phase of a run, at a moment drawn within it: start-up (the run holds
# its locks, has asked nothing yet), fetching (a share of the refresh's requests made),
# merging and rendering (every request made; the commit stages each file as it is made, so
# some may be staged, never a journal), the commit's staging (a file staged, no journal) and
# its renames (journal written, some files renamed). What the run was doing when it was
# killed is checked from what it left, not assumed from the moment aimed.
PHASES = ("start-up", "fetching", "rendering", "staging", "renaming")


@pytest.mark.slow
@pytest.mark.parametrize("phase", PHASES)
def test_sigkill_in_any_phase_leaves_the_old_or_the_new_output(
    scene: Scene, tmp_path: Path, phase: str
) -> None:
    rng = random.Random(f"20261129-{phase}")
    total = scene.requests
    if phase == "start-up":
        kill: Killer = once_locked
    elif phase == "fetching":
        share = rng.uniform(0.25, 0.75)
        kill = after_requests(lambda: scene.api.count() >= total * share)
    elif phase == "rendering":  # the last answer read (LATENCY after it was asked), or about
        kill = after_requests(lambda: scene.api.count() >= total, LATENCY * rng.uniform(1, 3))
    elif phase == "staging":
        kill = once_staged
    else:  # a rename per changed file follows the journal, one every RENAME seconds: aim
        # between the first and the last, at least a rename away from either
        middle = len(scene.changed) / 2
        kill = among_renames(rng.uniform(middle - 0.5, middle + 0.5) * RENAME)
    assert len(scene.changed) >= 4  # room for the renames' aim

    stage = 0.0 if phase == "renaming" else RENAME  # the staging is not aimed at: not slowed
    killed, asked, before, after = killed_run(
        scene, tmp_path / "run", kill, phase in PHASES[:3], stage
    )

    assert killed, (phase, before)
    if phase in PHASES[:3]:
        made = {"start-up": asked == 0, "fetching": 0 < asked < total, "rendering": asked == total}
        assert made[phase], f"{phase}: {asked} of {total} requests made when killed"
        # nothing changed; rendering may have staged its first files (`output.commit`)
        staged = ("old", "staged old") if phase == "rendering" else ("old",)
        assert before in staged, (phase, before)
        assert after == "old", (phase, after)
    elif phase == "staging":
        assert (before, after) == ("staged old", "old")
    else:  # a real mix of old and new files, which recover() finished
        assert (before, after) == ("journal staged mixed", "new")


Killer = Callable[[subprocess.Popen[str], Path], bool]


def once_locked(proc: subprocess.Popen[str], out: Path) -> bool:
    """Kill once the run holds the lock of its output folder (`folders.run_lock`): asking
    for a shared lock of it without waiting fails."""
    out.mkdir(exist_ok=True)
    folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)

    def held() -> bool:
        try:
            fcntl.flock(folder, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(folder, fcntl.LOCK_UN)
        return False

    try:
        return kill_when(proc, held, 60)
    finally:
        os.close(folder)


def after_requests(done: Callable[[], bool], then: float = 0.0) -> Killer:
    """Kill `then` seconds after `done()` (a condition on the requests made) first holds."""

    def kill(proc: subprocess.Popen[str], out: Path) -> bool:
        seen_at = list[float]()

        def ready() -> bool:
            if not seen_at and done():
                seen_at.append(time.monotonic())
            return bool(seen_at) and time.monotonic() >= seen_at[0] + then

        return kill_when(proc, ready, 60)

    return kill


def once_staged(proc: subprocess.Popen[str], out: Path) -> bool:
    return kill_when(proc, lambda: bool(staged_files(out)), 60)


def among_renames(pause: float) -> Killer:
    def kill(proc: subprocess.Popen[str], out: Path) -> bool:
        journal, seen_at = out / output.JOURNAL, list[float]()

        def ready() -> bool:
            if not seen_at and journal.exists():
                seen_at.append(time.monotonic())
            return bool(seen_at) and time.monotonic() >= seen_at[0] + pause

        return kill_when(proc, ready, 60)

    return kill


# --------------------------------------------------------------------------------- lock


class StderrWatch:
    """Reads a process's stderr in a thread; `wait` for the lock's message to appear."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.lines: list[str] = []
        self._seen = threading.Event()
        self._needle = WAIT_MESSAGE
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        with contextlib.suppress(ValueError, OSError):  # closed under it: the test failed
            for line in stream:
                self.lines.append(line)
                if self._needle in line:
                    self._seen.set()

    def wait(self, timeout: float) -> bool:
        return self._seen.wait(timeout)

    def text(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lines)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        if condition():
            return True
        time.sleep(0.005)
    return False


def spawn(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


@contextmanager
def reaped(*procs: subprocess.Popen[str]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            if proc.stderr is not None:
                proc.stderr.close()


def here(api: FakeAPI, **overrides: Any) -> Settings:
    """Settings of a run in the working folder against `api`, with the relative paths of
    `enrich_command` and what `api_env` sets (`fake_settings`)."""
    return fake_settings(api, Path("."), **overrides)


@contextmanager
def first_run(settings: Settings) -> Iterator[Future[pipeline.RunResult]]:
    """A run in a thread of this process (`pipeline.run`): it takes the locks of its folders
    as a run in its own process does, which a process started meanwhile has to wait for."""
    with ThreadPoolExecutor(1) as pool:
        yield pool.submit(pipeline.run, settings)


def _second_run_while_the_first_runs(
    folder: Path, api: FakeAPI, second_command: list[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[bool, str, int]:
    """Start a run (`first_run`, in `folder`), then `second_command` while it fetches; both
    must succeed. (Whether the second said it waited, its stderr, and the requests made when
    the first one ended.)"""
    env = api_env(api.base_url)
    monkeypatch.chdir(folder)
    # Each round of requests takes a second (the list needs several: Semantic Scholar's batch
    # first, then arXiv and the recommendations): the first run holds the lock until the
    # second one is waiting.
    api.set_latency(1.0)
    with first_run(here(api)) as first:
        try:
            assert wait_until(lambda: api.count() > 0, 30), "the first run never fetched"
            second = spawn(second_command, folder, env)
            with reaped(second):
                waiting = StderrWatch(second)
                wait_until(lambda: waiting.wait(0) or second.poll() is not None, 30)
                said = waiting.wait(0)
                api.set_latency(0.0)
                assert first.result(timeout=60).succeeded
                requests = api.count()
                assert second.wait(timeout=60) == 0
                return said, waiting.text(), requests
        finally:
            api.set_latency(0.0)


@pytest.mark.slow
def test_two_runs_on_one_cache_are_serialised_and_the_second_says_so(
    tmp_path: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = new_folder(tmp_path / "run")
    second = enrich_command()
    said, text, requests = _second_run_while_the_first_runs(folder, api, second, monkeypatch)
    assert said, text
    assert f"{WAIT_MESSAGE} is using cache/; waiting for it to finish" in text
    # It ran after the first one: every fact was fresh in the cache the first one filled.
    assert api.count() == requests
    assert "is up to date" in text
    check_complete(folder)


def check_complete(folder: Path) -> None:
    dataset = pipeline.read_previous(folder / "output")[0]
    assert dataset is not None
    assert len(dataset.records) == RECORDS
    fetched = [e for e in dataset.entities.values() if e.data is not None]
    assert len(fetched) == FETCHED
    assert {e.status.value for e in fetched} == {"ok"}


# ------------------------------------------------------------------------ corrupt cache


def settings(api: FakeAPI, folder: Path) -> Settings:
    return fake_settings(api, folder, timeout=5.0)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder after a clean run of the seed, made once; `after_clean_run` copies it."""
    folder = new_folder(tmp_path_factory.mktemp("clean") / "run")
    with FakeAPI() as api:
        api.populate_from_markdown(SEED.read_text(encoding="utf-8"))
        assert pipeline.run(settings(api, folder)).failed_sources() == {}
    return folder


def after_clean_run(clean_run: Path, tmp_path: Path) -> Path:
    """A copy of `clean_run` (output and cache of a fake that knows what `api` knows)."""
    return shutil.copytree(clean_run, tmp_path / "run")


def run_here(
    folder: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """`enrich run` in `folder` against `api` through the CLI's entry (`enrich.cli.main`), in
    this process: its exit code and stderr."""
    point_at(api, monkeypatch)
    monkeypatch.chdir(folder)
    code = main(enrich_command()[3:])
    return code, capsys.readouterr().err


def test_a_corrupt_cache_is_reported_moved_aside_and_rebuilt(
    clean_run: Path,
    tmp_path: Path,
    api: FakeAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = after_clean_run(clean_run, tmp_path)
    database = folder / "cache" / "cache.db"
    assert database.is_file()
    database.write_bytes(b"this is not a database\n" * 512)
    fresh_budget(api)
    api.reset_requests()

    code, stderr = run_here(folder, api, monkeypatch, capsys)

    assert code == 0, stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: cache")]
    assert len(warnings) == 1, stderr
    assert "unreadable" in warnings[0]
    assert "started an empty one" in warnings[0]
    assert api.count() > 0  # the facts were fetched again
    check_complete(folder)
    aside = [p.name for p in (folder / "cache").iterdir() if p.name.startswith("corrupt-")]
    assert len(aside) == 1
    assert (
        (folder / "cache" / aside[0] / "cache.db")
        .read_bytes()
        .startswith(b"this is not a database")
    )
    # The rebuilt cache holds what was fetched: the next run asks nothing.
    api.reset_requests()
    again = pipeline.run(settings(api, folder))
    assert again.failed_sources() == {}
    assert again.warnings == ()
    assert api.count() == 0


@pytest.mark.slow
def test_a_run_started_while_another_rebuilds_the_cache_still_waits(
    clean_run: Path, tmp_path: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = after_clean_run(clean_run, tmp_path)
    env = api_env(api.base_url)
    monkeypatch.chdir(folder)
    (folder / "cache" / "cache.db").write_bytes(b"garbage\n" * 512)
    fresh_budget(api)
    api.reset_requests()
    # Slow answers keep the first run alive until the second has started, however long a
    # loaded machine takes to start a process; they are made quick once the second waits.
    api.set_latency(2.5)  # the first run asks GitHub for the 8 repositories at once
    # The first run fetches GitHub only, the second arXiv only: an arXiv request while the
    # first is alive means the second did not wait.
    with first_run(here(api, only=frozenset({"github"}), refresh=True)) as first:
        try:
            assert wait_until(lambda: api.count("github") > 0, 30)  # past the rebuild
            assert any(p.name.startswith("corrupt-") for p in (folder / "cache").iterdir())
            second = spawn(enrich_command("--only", "arxiv"), folder, env)
            with reaped(second):
                waiting = StderrWatch(second)
                wait_until(lambda: waiting.wait(0) or api.count("arxiv") > 0, 30)
                overlapped = not first.done() and api.count("arxiv") > 0
                api.set_latency(0.0)
                assert first.result(timeout=60).succeeded
                second.wait(timeout=60)
                text = waiting.text()
        finally:
            api.set_latency(0.0)
    assert not overlapped, "the second run fetched while the first one was running"
    assert WAIT_MESSAGE in text


# ------------------------------------------------------------------------- file modes


def test_outputs_get_the_permissions_of_an_ordinary_file(tmp_path: Path, api: FakeAPI) -> None:
    folder = new_folder(tmp_path / "run")
    previous = os.umask(0o022)
    try:
        pipeline.run(settings(api, folder))
    finally:
        os.umask(previous)
    modes = {n: p.stat().st_mode & 0o777 for n, p in files_below(folder / "output").items()}
    assert modes == dict.fromkeys(modes, 0o644)


# ------------------------------------------------------------------------- full disk


def test_a_full_cache_is_kept_the_outputs_are_written_and_the_run_says_so(
    tmp_path: Path,
    api: FakeAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A cache that cannot grow (SQLite's genuine "database or disk is full", as on a full
    disk) is neither declared corrupt nor moved aside: the run fetches what it could not
    store, writes every output from it, and exits 2 with what to do."""
    folder = new_folder(tmp_path / "run")
    first = dataclasses.replace(settings(api, folder), only=frozenset({"arxiv"}))
    assert pipeline.run(first).failed_sources() == {}
    cache = folder / "cache"
    diskcache.Cache(str(cache), sqlite_max_page_count=1).close()  # kept in its settings
    fresh_budget(api)

    code, stderr = run_here(folder, api, monkeypatch, capsys)

    assert code == 2, stderr
    assert "Traceback" not in stderr
    message = stderr.strip().splitlines()[-1]
    assert message.startswith("enrich: error: --cache cache: the cache could not be used")
    assert "database or disk is full" in message
    assert "outputs in output/ were written" in message
    assert not [p for p in cache.iterdir() if p.name.startswith("corrupt-")]
    check_complete(folder)  # every fact fetched is in the output
    with Cache(cache, {"arxiv": 3600}) as reopened:  # what it held is still there
        assert reopened.get("arxiv", ident("arxiv:2306.07629")) is not None


# ------------------------------------------------------------------------------ SIGINT


@pytest.mark.slow
@pytest.mark.parametrize("blocked_in", ["requests", "lock"])
def test_the_first_ctrl_c_ends_the_run_with_exit_130(
    clean_run: Path, tmp_path: Path, api: FakeAPI, blocked_in: str
) -> None:
    """One SIGINT, whatever the run is blocked in (worker threads waiting for answers that
    take 30 s, or the lock another run holds): the process ends within seconds, exit 130,
    and the previous output is left as it was."""
    folder = after_clean_run(clean_run, tmp_path)
    before = snapshot(folder / "output")
    fresh_budget(api)
    api.reset_requests()
    holder = os.open(folder / "cache", os.O_RDONLY)
    try:
        if blocked_in == "lock":
            fcntl.flock(holder, fcntl.LOCK_EX)
        else:
            api.set_latency(30.0)
        proc = spawn(enrich_command("--refresh"), folder, api_env(api.base_url))
        with reaped(proc):
            watch = StderrWatch(proc)
            ready = (lambda: api.count() > 0) if blocked_in == "requests" else lambda: watch.wait(0)
            assert wait_until(lambda: bool(ready()), 30), "the run never got blocked"
            time.sleep(0.3)  # well inside the blocking call
            interrupted = time.monotonic()
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=30)
            took = time.monotonic() - interrupted
            text = watch.text()
    finally:
        os.close(holder)
        api.set_latency(0.0)
    assert code == 130, text
    assert took < 5, took
    assert text.rstrip().endswith("interrupted"), text
    assert "Traceback" not in text
    assert snapshot(folder / "output") == before


@pytest.mark.slow
def test_two_runs_with_one_output_folder_and_two_caches_are_serialised(
    tmp_path: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Different caches, one --out: the second run waits for the first (it would otherwise
    remove the first one's staged files as debris), and both succeed."""
    folder = new_folder(tmp_path / "run")
    other = [*enrich_command()[:-1], "other-cache"]
    said, text, _ = _second_run_while_the_first_runs(folder, api, other, monkeypatch)
    assert said, text
    assert f"{WAIT_MESSAGE} is using output/; waiting for it to finish" in text
    check_complete(folder)
