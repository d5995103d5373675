"""The cyclic garbage collector, kept off what the stages build: applied by the pipeline
around its stage calls (`pipeline.load_seed`, `pipeline.refresh`), never inside a stage.

Parsing and resolving a large list create a few hundred thousand objects that all stay alive
and form no reference cycle. Python's collector runs a full collection each time the objects
that survived grow by a quarter; such a collection frees nothing here, and walks every object
of the process, the previous dataset too. Whatever cycles there are wait for the next
collection after the pause. What each part buys is measured by `python -m bench.tricks`
(README, Performance).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector paused for the block (left as it was if already paused): the
    pipeline runs parse and resolve in one (`pipeline.load_seed`)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
