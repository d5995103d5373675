"""The base of every dataset record (`models.py`, `metadata.py`): a frozen pydantic model that
refuses fields it does not declare, and shares one set of set field names per type and
fields (pydantic's private `__pydantic_fields_set__`: memory, kept for a target). No I/O."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_post_init(self, context: Any, /) -> None:
        """Share the set of explicitly set field names with every record of the same type
        and fields: pydantic gives each instance its own, as large as a small record's
        values, and the 10,000-row run's peak memory stays within its target only with them
        shared (docs/performance.md; `python -m bench.tricks`). The records are frozen, and
        pydantic copies the set before changing it (`model_copy(update=...)`), so a shared
        set is never changed."""
        key = (type(self), frozenset(self.__pydantic_fields_set__))
        shared = _FIELDS_SETS.get(key)
        if shared is None:
            shared = _FIELDS_SETS.setdefault(key, set(key[1]))
        object.__setattr__(self, "__pydantic_fields_set__", shared)


_FIELDS_SETS: dict[tuple[type, frozenset[str]], set[str]] = {}
"""One set per (record type, fields set): a few dozen in all."""
