"""`python bench/clock.py run ...`: `python -m enrich` with the sources' clock pinned.

The one clock a run's outputs read is the sources' (`enrich.sources._utcnow`, the default of
`FetchContext.now`: a fact's `fetched_at`). Pinning it, against the fake's fixed data, makes
two runs of one list give the same bytes, which `bench.golden` compares. Run as a script (not
`-m`) so that any checkout's `enrich` is the one imported: the interpreter of an older
checkout's venv runs this file against that checkout. For testing only.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import enrich.sources

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _pinned() -> datetime:
    return _GOLDEN_NOW  # type: ignore[name-defined]  # noqa: F821  (read in enrich.sources)


def pin_clock() -> None:
    """Make `enrich.sources._utcnow` answer `NOW`, wherever it is already referenced."""
    enrich.sources._GOLDEN_NOW = NOW  # type: ignore[attr-defined]
    enrich.sources._utcnow.__code__ = _pinned.__code__


if __name__ == "__main__":
    pin_clock()
    from enrich.__main__ import run

    sys.argv[0] = "enrich"
    run()
