"""Records of earlier schema versions brought to the current one (`models.SCHEMA_VERSION`).
Pure: JSON text or parsed JSON in, records out.

A run reads the previous `enriched.json` as its store of last known values, and the cache
keeps results across runs: both may have been written by an earlier version of enrich. A
dataset names its version (`schema_version`) and is brought up step by step; a cached result
names none, so each step also knows its change by the shape of one result, and applies it
to a result that has that shape (and to no other): a cache entry of any age reads as the
current record.

Steps, one per version:
- 1 -> 2: the models tagged with a paper, a `HubMeta` of `hub_kind` `paper_models` (its
  `id` the arXiv id, its `tagged_models` the list), became a record of their own,
  `TaggedModels` (`type` `paper_models`, `arxiv_id`, `models`); every other `HubMeta` lost
  its `tagged_models`, which was always empty there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from enrich.models import SCHEMA_VERSION, Dataset

Json = dict[str, Any]
_UNCHANGED = (None, SCHEMA_VERSION)  # a dataset without a version is taken to be current


def load_dataset(data: bytes | str) -> Dataset:
    """The dataset `data` holds, of this schema version or brought to it from an earlier
    one. A `ValueError` (pydantic's `ValidationError` is one) when it is none: not JSON, not a
    dataset, or of a later version than this enrich knows."""
    try:
        dataset = Dataset.model_validate_json(data)  # the common case, and the fastest
    except ValidationError as invalid:
        try:
            document = json.loads(data)
        except ValueError:
            raise invalid from None
        if not isinstance(document, dict) or document.get("schema_version") in _UNCHANGED:
            raise
        return Dataset.model_validate(upgrade(document))
    if dataset.schema_version == SCHEMA_VERSION:
        return dataset
    # Valid as it is but of another version (nothing in it changed shape): upgraded all the same.
    return Dataset.model_validate(upgrade(json.loads(data)))


def upgrade(document: Json) -> Json:
    """A parsed dataset of any known version, in the current version's form. A `ValueError`
    for a version this enrich does not know (a later one, or none)."""
    version = _version(document)
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"schema_version {version} is newer than this enrich's ({SCHEMA_VERSION}); "
            "upgrade enrich to read it"
        )
    for step in _STEPS[version - 1 :]:
        document = step(document)
    return document | {"schema_version": SCHEMA_VERSION}


def upgrade_result(result: object) -> object:
    """A parsed `Result` (a dataset's entity or a cache entry) in the current form; anything
    else as it is, for validation to refuse."""
    for step in _RESULT_STEPS:
        result = _result(result, step)
    return result


def _version(document: Json) -> int:
    version = document.get("schema_version")
    if type(version) is not int or version < 1:
        raise ValueError(f"not a known schema_version: {version!r}")
    return version


# --------------------------------------------------------------------------- 1 -> 2


def _tagged_models_1_2(result: Json) -> Json:
    """A result whose data is a version-1 `HubMeta`: of `paper_models`, as `TaggedModels`;
    of any other Hub kind, without its `tagged_models` (always empty there). Any other result
    as it is."""
    data = result.get("data")
    if not isinstance(data, dict) or data.get("type") != "hub" or "tagged_models" not in data:
        return result
    if data.get("hub_kind") != "paper_models":
        return result | {"data": {k: v for k, v in data.items() if k != "tagged_models"}}
    models = {"type": "paper_models", "arxiv_id": data.get("id"), "models": data["tagged_models"]}
    return result | {"data": models}


def _entities_1_2(document: Json) -> Json:
    entities = document.get("entities")
    if not isinstance(entities, dict):
        return document  # not a dataset: validation says what is wrong
    upgraded = {ref: _result(result, _tagged_models_1_2) for ref, result in entities.items()}
    return document | {"entities": upgraded}


def _result(result: object, step: Callable[[Json], Json]) -> object:
    return step(result) if isinstance(result, dict) else result


_STEPS: tuple[Callable[[Json], Json], ...] = (_entities_1_2,)
"""`_STEPS[v - 1]` brings a dataset of version `v` to `v + 1`."""
_RESULT_STEPS: tuple[Callable[[Json], Json], ...] = (_tagged_models_1_2,)
"""The steps that change a result, in version order."""
