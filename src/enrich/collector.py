"""The cyclic garbage collector kept off what the stages leave for the next: applied by the
pipeline between its stage calls (`pipeline.refresh`), never inside a stage.

A run builds a few hundred thousand objects per 10,000 rows that all stay alive to its end
(the previous dataset, the parsed seeds, the fetched results) and form no reference cycle.
Python's collector runs a full collection each time the objects that survived grow by a
quarter; such a collection frees nothing here and walks every object of the process, again
and again as the run goes on. Kept for a target: without it the 10,000-row cold run came
near its limit (docs/performance.md; `python -m bench.tricks`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_scopes = 0  # how many `run_scope`s are open


@contextmanager
def run_scope() -> Iterator[None]:
    """A run: what `settle` sets aside within it is handed back to the collector at its end
    (`gc.unfreeze`), so a caller running many runs in one process (the tests) keeps no
    permanent generation growing."""
    global _scopes
    _scopes += 1
    try:
        yield
    finally:
        _scopes -= 1
        if _scopes == 0:
            gc.unfreeze()


def settle() -> None:
    """Set every object alive now aside from the collector until the run ends (`gc.freeze`):
    what a stage leaves for the next (parsed seeds, the previous dataset, fetched results)
    lives to the end of the run, and every full collection would walk it again. Outside a
    `run_scope`, nothing."""
    if _scopes:
        gc.freeze()
