"""The cyclic garbage collector, paused while a stage builds a large structure.

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
from collections.abc import Callable
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
