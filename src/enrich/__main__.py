"""`python -m enrich` (and the `enrich` command): hand argv to the CLI, exit with its code.

The process ends the way a normal exit begins — output flushed, `atexit` handlers run (the
libraries' own clean-ups: logging, HTTP sessions) — and then at once (`os._exit`), without
the interpreter's teardown, which frees every module and object one by one, a large part of
a short run (docs/performance.md), and has nothing to clean up that the OS does not (outputs
and the cache are written and closed before `main` returns).

The first Ctrl-C (SIGINT) ends the process with exit code 130. It raises `KeyboardInterrupt`
in the main thread, so the command unwinds (progress bars closed, locks released) and the
CLI says "interrupted"; unwinding may wait for worker threads blocked in a request (an event
loop closing waits for its executor's threads), so if the process is still alive `GRACE`
seconds later, or at a second Ctrl-C, it ends there and then (the terminal's cursor shown
again). Either way nothing is lost that a kill would not
keep: outputs are committed atomically (`enrich.output`) and the cache is SQLite.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import NoReturn

from enrich.cli import main
from enrich.edge import EXIT_INTERRUPTED

GRACE = 1.0
"""Seconds a Ctrl-C gives the command to unwind before the process ends without it."""


def _end(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


def _interrupted() -> NoReturn:
    with contextlib.suppress(OSError, ValueError):
        shown = "\x1b[?25h" if sys.stderr.isatty() else ""  # a progress bar hides it
        sys.stderr.write(f"{shown}interrupted\n")
    _end(EXIT_INTERRUPTED)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """First Ctrl-C: unwind, and end anyway after `GRACE` seconds; second: end now."""
    signal.signal(signal.SIGINT, lambda signum, frame: _interrupted())
    deadline = threading.Timer(GRACE, _interrupted)
    deadline.daemon = True
    deadline.start()
    raise KeyboardInterrupt


def run() -> NoReturn:
    signal.signal(signal.SIGINT, _on_sigint)  # asyncio.run then leaves SIGINT to it
    code = main()
    atexit._run_exitfuncs()
    _end(code)


if __name__ == "__main__":
    run()
