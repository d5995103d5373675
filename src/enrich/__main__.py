"""`python -m enrich` (and the `enrich` command): hand argv to the CLI, exit with its code.

The process ends the way a normal exit begins — output flushed, `atexit` handlers run (the
libraries' own clean-ups: logging, HTTP sessions) — and then at once (`os._exit`), without
the interpreter's teardown, which frees every module and object one by one: 0.2 s of every
run for the client libraries alone, more after a 10,000-row run, and nothing to clean up
that the OS does not (outputs and the cache are written and closed before `main` returns).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn

from enrich.cli import main


def run() -> NoReturn:
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
