"""The cyclic garbage collector: paused while a stage builds a large structure, and kept
off what earlier stages built.

Parsing and resolving a 10,000-row list create a few hundred thousand objects that all stay
alive and form no reference cycle. Python's collector runs a full collection each time the
objects that survived grow by a quarter; such a collection frees nothing here, and walks
every object of the process: 0.2 to 0.3 s when a dataset that size is already in memory
(`enrich check`, the previous dataset, a caller's own data). Whatever cycles there are wait
for the next collection after the pause.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def paused(func: Callable[P, T]) -> Callable[P, T]:
    """`func` runs with the cyclic collector paused (left as it was if already paused)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if not gc.isenabled():
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper


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
    lives to the end of the run, and every full collection would walk it again, 0.2 to
    0.4 s each at 10,000 rows, a dozen times in a run. Outside a `run_scope`, nothing."""
    if _scopes:
        gc.freeze()
