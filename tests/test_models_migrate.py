"""`enrich.migrate`: a dataset or cache entry written by an earlier schema version reads as
the current records, and renders to the bytes the current version writes.

The version-1 forms here are written by hand, from what version 1 wrote (a `HubMeta` of
`hub_kind` `paper_models` holding `tagged_models`, and `tagged_models: []` in every other
`HubMeta`), not by the code under test.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import diskcache
import pytest
from pydantic import ValidationError

from enrich import migrate, pipeline
from enrich.cache import Cache, _key
from enrich.jsonout import dataset_schema, render_json
from enrich.metadata import HubMeta, TaggedModel, TaggedModels
from enrich.models import SCHEMA_VERSION, Dataset, Provenance, Result, Status
from tests.builders import ident

GOLDEN = Path(__file__).parent / "data" / "golden"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HUB_FIELDS_V1: dict[str, Any] = {
    "title": None,
    "downloads": None,
    "downloads_all_time": None,
    "likes": None,
    "upvotes": None,
    "last_modified": None,
    "pipeline_tag": None,
    "library": None,
    "license": None,
    "gated": None,
    "arxiv_ids": [],
    "items": None,
    "github_repo": None,
    "models": None,
}


def tagged_v1(arxiv_id: str, models: list[dict[str, Any]]) -> dict[str, Any]:
    """The data of `hf_paper_models:<arxiv_id>` as version 1 wrote it."""
    return {
        **HUB_FIELDS_V1,
        "type": "hub",
        "hub_kind": "paper_models",
        "id": arxiv_id,
        "tagged_models": models,
    }


def entity_v1(ref: str, data: dict[str, Any] | None, status: str = "ok") -> dict[str, Any]:
    return {
        "ref": ref,
        "provenance": {
            "source": "huggingface",
            "status": status,
            "fetched_at": None if status == "error" else "2024-05-01T12:00:00Z",
            "error": "HTTP 503" if status in ("stale", "error") else None,
            "etag": None,
            "last_modified": None,
        },
        "data": data,
        "moved_to": None,
        "changes": [],
    }


def dataset_v1(entities: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "seeds": ["seeds/list.md"],
        "records": [],
        "entities": entities,
        "diagnostics": [],
    }


def to_v1(document: dict[str, Any]) -> dict[str, Any]:
    """A current dataset as version 1 wrote it (the inverse of the migration, by hand)."""
    old = copy.deepcopy(document)
    old["schema_version"] = 1
    for entity in old["entities"].values():
        data = entity["data"]
        if data is None:
            continue
        if data["type"] == "paper_models":
            entity["data"] = tagged_v1(data["arxiv_id"], data["models"])
        elif data["type"] == "hub":
            data["tagged_models"] = []
    return old


MODELS: list[dict[str, Any]] = [
    {"id": "acme/big", "downloads": 5_000, "likes": 3},
    {"id": "acme/small", "downloads": None, "likes": None},
]


@pytest.mark.parametrize(
    ("models", "status"),
    [(MODELS, "ok"), ([], "ok"), (MODELS[:1], "stale")],
    ids=["two-models", "none-tagged", "stale"],
)
def test_tagged_models_of_version_1_become_their_own_record(
    models: list[dict[str, Any]], status: str
) -> None:
    ref = "hf_paper_models:2306.07629"
    old = dataset_v1({ref: entity_v1(ref, tagged_v1("2306.07629", models), status)})
    dataset = migrate.load_dataset(json.dumps(old))
    found = dataset.entities[ref]
    assert dataset.schema_version == SCHEMA_VERSION == 2
    assert found.data == TaggedModels(
        arxiv_id="2306.07629", models=[TaggedModel.model_validate(m) for m in models]
    )
    assert (found.status.value, found.provenance.fetched_at) == (status, WHEN)


def test_other_hub_records_of_version_1_lose_only_their_empty_tagged_models() -> None:
    page = {**HUB_FIELDS_V1, "type": "hub", "hub_kind": "paper", "id": "2401.00001"}
    page |= {"github_repo": "https://github.com/a/b", "upvotes": 4, "tagged_models": []}
    model = {**HUB_FIELDS_V1, "type": "hub", "hub_kind": "model", "id": "o/m", "tagged_models": []}
    model |= {"downloads": 7, "likes": 9}
    old = dataset_v1(
        {
            "hf_paper:2401.00001": entity_v1("hf_paper:2401.00001", page),
            "hf_model:o/m": entity_v1("hf_model:o/m", model, "stale"),
            "hf_paper_models:2401.00001": entity_v1("hf_paper_models:2401.00001", None, "error"),
        }
    )
    entities = migrate.load_dataset(json.dumps(old).encode()).entities
    paper = HubMeta(
        hub_kind="paper", id="2401.00001", github_repo="https://github.com/a/b", upvotes=4
    )
    assert entities["hf_paper:2401.00001"].data == paper
    assert entities["hf_model:o/m"].data == HubMeta(
        hub_kind="model", id="o/m", downloads=7, likes=9
    )
    assert entities["hf_paper_models:2401.00001"].data is None


def test_version_1_without_anything_that_changed_shape_reads_as_the_current_version() -> None:
    old = dataset_v1({"hf_paper_models:2401.1": entity_v1("hf_paper_models:2401.1", None, "error")})
    dataset = migrate.load_dataset(json.dumps(old))
    assert dataset.schema_version == SCHEMA_VERSION
    assert json.loads(render_json(dataset))["entities"] == old["entities"]


@pytest.mark.parametrize("name", ["previous.json", "enriched.json"])
def test_a_whole_dataset_round_trips_through_version_1_to_the_same_bytes(name: str) -> None:
    """Every kind of entity and status the golden run holds, written as version 1 would,
    reads back and renders to the current bytes, byte for byte."""
    current = (GOLDEN / name).read_text(encoding="utf-8")
    old = to_v1(json.loads(current))
    assert any(
        e["data"] and e["data"].get("hub_kind") == "paper_models" for e in old["entities"].values()
    )
    assert render_json(migrate.load_dataset(json.dumps(old, indent=2))) == current


def test_a_current_dataset_reads_as_it_is() -> None:
    current = (GOLDEN / "enriched.json").read_bytes()
    assert migrate.load_dataset(current) == Dataset.model_validate_json(current)


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (SCHEMA_VERSION + 1, "newer than this enrich's"),
        (0, "not a known schema_version"),
        ("1", "not a known schema_version"),
    ],
)
def test_an_unknown_version_is_refused_with_why(version: object, message: str) -> None:
    ref = "hf_paper_models:2306.07629"
    old = dataset_v1({ref: entity_v1(ref, tagged_v1("2306.07629", MODELS))})
    with pytest.raises(ValueError, match=message):
        migrate.load_dataset(json.dumps(old | {"schema_version": version}))


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"schema_version": 2}', "{}"])
def test_what_is_no_dataset_is_refused_by_validation(text: str) -> None:
    with pytest.raises(ValidationError):
        migrate.load_dataset(text)


def test_a_newer_dataset_that_validates_is_refused_too() -> None:
    document = json.loads((GOLDEN / "enriched.json").read_bytes())
    with pytest.raises(ValueError, match="newer"):
        migrate.load_dataset(json.dumps(document | {"schema_version": SCHEMA_VERSION + 1}))


def test_every_version_has_its_step() -> None:
    assert len(migrate._STEPS) == SCHEMA_VERSION - 1


def test_a_run_keeps_the_last_known_values_of_a_version_1_dataset(tmp_path: Path) -> None:
    """The pipeline reads a previous dataset of version 1 as its last known values."""
    out = tmp_path / "output"
    out.mkdir()
    ref = "hf_paper_models:2306.07629"
    old = dataset_v1({ref: entity_v1(ref, tagged_v1("2306.07629", MODELS))})
    (out / "enriched.json").write_text(json.dumps(old), encoding="utf-8")
    previous, problems = pipeline.read_previous(out)
    assert problems == []
    assert previous is not None
    data = previous.entities[ref].data
    assert isinstance(data, TaggedModels)
    assert [m.id for m in data.models] == ["acme/big", "acme/small"]


def test_the_schema_names_the_new_record() -> None:
    schema = dataset_schema()
    defs = schema["$defs"]
    assert defs["TaggedModels"]["properties"]["type"]["const"] == "paper_models"
    assert "tagged_models" not in defs["HubMeta"]["properties"]
    assert "paper_models" not in defs["HubMeta"]["properties"]["hub_kind"]["enum"]
    assert schema["properties"]["schema_version"]["default"] == SCHEMA_VERSION


# ------------------------------------------------------------------------------ cache


@pytest.mark.parametrize(
    ("ref", "data", "expected"),
    [
        (
            "hf_paper_models:2306.07629",
            tagged_v1("2306.07629", MODELS),
            TaggedModels(
                arxiv_id="2306.07629", models=[TaggedModel.model_validate(m) for m in MODELS]
            ),
        ),
        (
            "hf_space:o/s",
            {**HUB_FIELDS_V1, "type": "hub", "hub_kind": "space", "id": "o/s", "tagged_models": []},
            HubMeta(hub_kind="space", id="o/s"),
        ),
    ],
)
def test_a_cache_entry_of_version_1_reads_as_the_current_record(
    tmp_path: Path, ref: str, data: dict[str, Any], expected: object
) -> None:
    directory = tmp_path / "cache"
    envelope = {"stored_at": 1_700_000_000.0, "result": entity_v1(ref, data)}
    with diskcache.Cache(str(directory)) as disk:
        disk.set(_key("huggingface", ref), json.dumps(envelope))
    with Cache(directory, {"huggingface": 3600}) as cache:
        entry = cache.get("huggingface", ident(ref), now=1_700_000_001.0)
    assert entry is not None
    assert (entry.fresh, entry.result.data) == (True, expected)
    assert entry.result.provenance == Provenance(
        source="huggingface", status=Status.OK, fetched_at=WHEN
    )


@pytest.mark.parametrize(
    "result",
    [
        [1, 2],
        "text",
        {"ref": "hf_paper_models:1", "data": {"type": "hub", "hub_kind": "paper_models"}},
        entity_v1("hf_paper_models:1", {**tagged_v1("2306.07629", []), "tagged_models": "x"}),
    ],
    ids=["list", "string", "partial", "bad-models"],
)
def test_an_unreadable_old_cache_entry_is_a_miss_not_a_crash(
    tmp_path: Path, result: object
) -> None:
    directory = tmp_path / "cache"
    with diskcache.Cache(str(directory)) as disk:
        disk.set(
            _key("huggingface", "hf_paper_models:1"),
            json.dumps({"stored_at": 1.0, "result": result}),
        )
    with Cache(directory, {"huggingface": 3600}) as cache:
        assert cache.get("huggingface", ident("hf_paper_models:1")) is None
        stored = Result(
            ref="hf_paper_models:1",
            provenance=Provenance(source="huggingface", status=Status.OK, fetched_at=WHEN),
            data=TaggedModels(arxiv_id="1"),
        )
        assert cache.put("huggingface", stored) is True
        entry = cache.get("huggingface", ident("hf_paper_models:1"))
    assert entry is not None
    assert entry.result == stored
