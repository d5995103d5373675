"""Crash safety of `python -m enrich run`, as whole processes against the loopback API.

* SIGKILL at any moment of a run leaves `output/` — once `enrich.output.recover` has run, as
  every run does first — holding exactly the old set of files or exactly the new one.
* Two runs on one cache, or on one output folder, are serialised by its lock, and the second
  one says so.
* A corrupt cache is reported, moved aside and rebuilt; the run succeeds. A full one is kept
  as it is: the outputs are written, exit 2.
* The first Ctrl-C ends a run, exit 130, whatever it is blocked in.

Runs are started with relative paths from their own folder, so a copy of a folder produces
the same bytes; only the `fetched_at` of facts that changed differ between two runs made at
different moments, and are compared as "some time".
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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import diskcache
import pytest

from enrich import output, pipeline
from enrich.cache import Cache
from enrich.config import Endpoints, Settings
from tests.builders import ident
from tests.conftest import OUTPUTS, SEED, api_env, fake_settings, files_below, without_history
from tests.fakeapi import FakeAPI

RECORDS = 75
# Entities the sources fetch for the seed with data (see test_faults.FETCHED), and discovery's:
# the models tagged with each of the 49 papers whose Model Card cell is empty (the fake knows
# no paper page for the rows with an empty Code cell: those are `not_found`, without data), and
# the recommendations for each of the 14 sections with a paper.
FETCHED = 169 + 49 + 14
KILLS_AT_RANDOM = 5  # SIGKILL after a random delay, spread over the run
LATENCY = 0.025  # per request: the fetch phase of a refresh lasts about half a second
WAIT_MESSAGE = "another enrich run"
RENAME = 0.1  # seconds the slowed commit spends on each staged file and each rename

# The run with its commit slowed down (only `enrich.output`'s file operations), so that a
# kill can be aimed inside the commit: after a file is staged, and between two renames.
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
    time.sleep(RENAME)
    return staged

out.os, out._stage = SlowOS(), slow_stage
from enrich.cli import main
sys.exit(main())
"""


def enrich_command(*args: str, slow_commit: bool = False) -> list[str]:
    entry = ["-c", SLOW_COMMIT.replace("RENAME", str(RENAME))] if slow_commit else ["-m", "enrich"]
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


def run_to_end(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        enrich_command(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def new_folder(root: Path) -> Path:
    (root / "seeds").mkdir(parents=True)
    shutil.copy(SEED, root / "seeds" / SEED.name)
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


def test_sigkill_at_any_moment_leaves_the_old_or_the_new_output(
    tmp_path: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = api_env(api.base_url)
    pristine = new_folder(tmp_path / "pristine")
    monkeypatch.chdir(pristine)  # relative paths, as the processes below use them
    relative = Settings(
        endpoints=Endpoints(f"{api.base_url}/api/query", *[api.base_url] * 5),
        arxiv_delay=0.0,
        s2_delay=0.0,
        landing_delay=0.0,
    )
    assert pipeline.run(relative).failed_sources() == {}
    old = snapshot(pristine / "output")
    assert without_history(old) == OUTPUTS

    # The new version: facts changed upstream, refreshed to the end in a copy.
    change_upstream(api)
    fresh_budget(api)
    reference = tmp_path / "reference"
    shutil.copytree(pristine, reference)
    api.set_latency(LATENCY)
    began = time.monotonic()
    done = run_to_end(reference, env, "--refresh")
    duration = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    new = snapshot(reference / "output")
    changed = {n for n, data in new.items() if data != old.get(n)}
    assert changed >= {"enriched.json", SEED.name}
    assert timeless(new) != timeless(old)

    def outcome(folder: Path, visible: bool = False) -> str:
        files = snapshot(folder / "output")
        if visible:  # the files a reader sees, the commit's hidden files left out
            files = {n: data for n, data in files.items() if not n.startswith(".")}
        if files == old:
            return "old"
        return "new" if timeless(files) == timeless(new) else "mixed"

    seen: list[tuple[str, str, str]] = []  # how it was killed, state before recover, after

    def attempt(name: str, kill: Killer, *args: str, cache: Path, slow: bool = False) -> None:
        folder = tmp_path / name
        shutil.copytree(pristine, folder, ignore=shutil.ignore_patterns("cache"))
        shutil.copytree(cache, folder / "cache")
        fresh_budget(api)
        out = folder / "output"
        with started(enrich_command(*args, slow_commit=slow), folder, env) as proc:
            killed = kill(proc, out)
        before = "journal " if (out / output.JOURNAL).exists() else ""
        before += "staged " if staged_files(out) else ""
        before += outcome(folder, visible=True)
        output.recover(out)
        seen.append((f"{name} ({'killed' if killed else 'finished'})", before, outcome(folder)))
        assert seen[-1][2] in ("old", "new"), seen[-1]

    # Kills at random moments of a whole refresh: start-up, fetching, merging, writing.
    rng = random.Random(20261129)
    for i in range(KILLS_AT_RANDOM):
        delay = duration * (i + rng.random()) / KILLS_AT_RANDOM
        attempt(f"kill-at-{delay:.2f}s", after(delay), "--refresh", cache=pristine / "cache")

    # Kills aimed inside the commit, whose file operations are slowed down for the purpose.
    # These runs find the new facts fresh in the reference's cache: no fetching, same bytes.
    api.set_latency(0.0)
    attempt("kill-once-staged", once_staged, cache=reference / "cache", slow=True)
    for i in range(2):
        # A rename per changed file follows the journal, one every RENAME seconds: aim
        # between the first and the last, half a rename away from either.
        pause = rng.uniform(1.5, len(changed) - 0.5) * RENAME
        name = f"kill-among-renames-{i}-{pause:.2f}s"
        attempt(name, among_renames(pause), cache=reference / "cache", slow=True)

    report = "\n".join(" -> ".join(s) for s in seen)
    assert {after for _, _, after in seen} == {"old", "new"}, report
    # The aimed kills landed where they were aimed and took both ways out of a commit:
    staged = next(s for s in seen if s[0].startswith("kill-once-staged"))
    assert staged == ("kill-once-staged (killed)", "staged old", "old"), report
    renames = [s for s in seen if s[0].startswith("kill-among-renames")]
    assert all(s[0].endswith("(killed)") for s in renames), report
    assert all(s[1].startswith("journal") and s[2] == "new" for s in renames), report
    # ... and one of them left a real mix of old and new files, which recover() finished.
    assert any(s[1].endswith("mixed") for s in renames), report


Killer = Callable[[subprocess.Popen[str], Path], bool]


def after(delay: float) -> Killer:
    def kill(proc: subprocess.Popen[str], out: Path) -> bool:
        start = time.monotonic()
        return kill_when(proc, lambda: time.monotonic() >= start + delay, 60)

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


def _second_run_while_the_first_runs(
    folder: Path, api: FakeAPI, second_command: list[str]
) -> tuple[bool, str, int]:
    """Start a run, then `second_command` while it fetches; both must succeed. (Whether the
    second said it waited, its stderr, and the requests made when the first one ended.)"""
    env = api_env(api.base_url)
    api.set_latency(0.5)  # the first run holds the lock until the second one is waiting
    first = spawn(enrich_command(), folder, env)
    with reaped(first):
        assert wait_until(lambda: api.count() > 0, 30), "the first run never fetched"
        second = spawn(second_command, folder, env)
        with reaped(second):
            waiting = StderrWatch(second)
            wait_until(lambda: waiting.wait(0) or second.poll() is not None, 30)
            said = waiting.wait(0)
            api.set_latency(0.0)
            assert first.wait(timeout=60) == 0
            requests = api.count()
            assert second.wait(timeout=60) == 0
            return said, waiting.text(), requests


def test_two_runs_on_one_cache_are_serialised_and_the_second_says_so(
    tmp_path: Path, api: FakeAPI
) -> None:
    folder = new_folder(tmp_path / "run")
    said, text, requests = _second_run_while_the_first_runs(folder, api, enrich_command())
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


def test_a_corrupt_cache_is_reported_moved_aside_and_rebuilt(
    clean_run: Path, tmp_path: Path, api: FakeAPI
) -> None:
    folder = after_clean_run(clean_run, tmp_path)
    env = api_env(api.base_url)
    database = folder / "cache" / "cache.db"
    assert database.is_file()
    database.write_bytes(b"this is not a database\n" * 512)
    fresh_budget(api)
    api.reset_requests()

    done = run_to_end(folder, env)

    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: cache")]
    assert len(warnings) == 1, done.stderr
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


def test_a_run_started_while_another_rebuilds_the_cache_still_waits(
    clean_run: Path, tmp_path: Path, api: FakeAPI
) -> None:
    folder = after_clean_run(clean_run, tmp_path)
    env = api_env(api.base_url)
    (folder / "cache" / "cache.db").write_bytes(b"garbage\n" * 512)
    fresh_budget(api)
    api.reset_requests()
    # Slow answers keep the first run alive until the second has started, however long a
    # loaded machine takes to start a process; they are made quick once the second waits.
    api.set_latency(2.0)
    # The first run fetches GitHub only, the second arXiv only: an arXiv request while the
    # first is alive means the second did not wait.
    first = spawn(enrich_command("--only", "github", "--refresh"), folder, env)
    with reaped(first):
        assert wait_until(lambda: api.count("github") > 0, 30)  # past the rebuild
        assert any(p.name.startswith("corrupt-") for p in (folder / "cache").iterdir())
        second = spawn(enrich_command("--only", "arxiv"), folder, env)
        with reaped(second):
            waiting = StderrWatch(second)
            wait_until(lambda: waiting.wait(0) or api.count("arxiv") > 0, 30)
            overlapped = first.poll() is None and api.count("arxiv") > 0
            api.set_latency(0.0)
            first.wait(timeout=60)
            second.wait(timeout=60)
            text = waiting.text()
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
    tmp_path: Path, api: FakeAPI
) -> None:
    """A cache that cannot grow (SQLite's genuine "database or disk is full", as on a full
    disk) is neither declared corrupt nor moved aside: the run fetches what it could not
    store, writes every output from it, and exits 2 with what to do."""
    folder = new_folder(tmp_path / "run")
    env = api_env(api.base_url)
    first = dataclasses.replace(settings(api, folder), only=frozenset({"arxiv"}))
    assert pipeline.run(first).failed_sources() == {}
    cache = folder / "cache"
    diskcache.Cache(str(cache), sqlite_max_page_count=1).close()  # kept in its settings
    fresh_budget(api)

    done = run_to_end(folder, env)

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("enrich: error: --cache cache: the cache could not be used")
    assert "database or disk is full" in message
    assert "outputs in output/ were written" in message
    assert not [p for p in cache.iterdir() if p.name.startswith("corrupt-")]
    check_complete(folder)  # every fact fetched is in the output
    with Cache(cache, {"arxiv": 3600}) as reopened:  # what it held is still there
        assert reopened.get("arxiv", ident("arxiv:2306.07629")) is not None


# ------------------------------------------------------------------------------ SIGINT


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


def test_two_runs_with_one_output_folder_and_two_caches_are_serialised(
    tmp_path: Path, api: FakeAPI
) -> None:
    """Different caches, one --out: the second run waits for the first (it would otherwise
    remove the first one's staged files as debris), and both succeed."""
    folder = new_folder(tmp_path / "run")
    other = [*enrich_command()[:-1], "other-cache"]
    said, text, _ = _second_run_while_the_first_runs(folder, api, other)
    assert said, text
    assert f"{WAIT_MESSAGE} is using output/; waiting for it to finish" in text
    check_complete(folder)
