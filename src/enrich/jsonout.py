"""JSON output: `output/enriched.json` and its schema, written deterministically. Pure.

Sorted keys, two-space indents, UTF-8 text, a trailing newline: the bytes of
`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`. A pydantic model is
written by pydantic-core through a serializer rebuilt to sort every object's keys
(`_sorted_serializer`), which is what keeps writing a large dataset fast and small in memory
(docs/performance.md); anything it does not rewrite takes the exact, slow path.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, SchemaSerializer, core_schema

from enrich.models import Dataset


def render_json(value: BaseModel | dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, `indent=2`, UTF-8 text, trailing newline."""
    return json_bytes(value).decode("utf-8")


def json_bytes(value: BaseModel | dict[str, Any]) -> bytes:
    """`render_json`'s text, encoded: the same bytes as `json.dumps(value.model_dump(
    mode="json"), indent=2, sort_keys=True, ensure_ascii=False)` and a newline.

    A model is written by pydantic-core, in one pass and without a Python copy of its data,
    through a serializer that sorts every object's keys (`_sorted_serializer`), where the
    standard library's indenting encoder needs the whole dataset as plain Python data
    first, and a slower encoder to write it.
    """
    if isinstance(value, BaseModel):
        serializer = _sorted_serializer(type(value))
        if serializer is not None:
            try:
                return serializer.to_json(value, indent=2, warnings="error") + b"\n"
            except PydanticSerializationError:
                pass  # a float json.dumps spells differently (1e+16, NaN), or anything
                # pydantic-core would warn about: the exact path
        value = value.model_dump(mode="json")
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


class _Unsupported(Exception):
    """A schema construct `_sorted_schema` does not rewrite: such a model is dumped exactly."""


class _FloatSpelling(ValueError):
    """A float that pydantic-core and `json.dumps` write differently."""


@functools.cache
def _sorted_serializer(model: type[BaseModel]) -> SchemaSerializer | None:
    """A serializer of `model` that writes what `json.dumps(..., sort_keys=True)` writes.

    pydantic-core writes a model's fields in declaration order and a dict in insertion order.
    Here every model becomes a function that lists its fields in sorted order, serialized as
    a typed dict of the same field schemas (excluded fields stay excluded), and every dict a
    function that sorts it. None when the schema holds something this does not rewrite
    (aliases, computed fields, custom serializers): those models take the exact, slow path.
    """
    try:
        return SchemaSerializer(_sorted_schema(model.__pydantic_core_schema__))
    except _Unsupported:
        return None


_OPAQUE = frozenset({"cls", "config", "default", "default_factory", "expected", "members"})


def _sorted_schema(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_sorted_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "model":
        return _sorted_model(schema)
    if "serialization" in schema or kind in ("dataclass", "typed-dict", "model-fields"):
        raise _Unsupported(kind)
    found = {k: v if k in _OPAQUE else _sorted_schema(v) for k, v in schema.items()}
    if kind == "dict":
        found["serialization"] = core_schema.plain_serializer_function_ser_schema(
            _sorted_dict, return_schema=dict(found)
        )
    elif kind == "float":
        found["serialization"] = core_schema.plain_serializer_function_ser_schema(_float)
    return found


def _sorted_model(schema: dict[str, Any]) -> core_schema.CoreSchema:
    inner = schema["schema"]
    if (
        "serialization" in schema
        or inner.get("type") != "model-fields"
        or inner.get("computed_fields")
        or schema.get("root_model")
    ):
        raise _Unsupported(schema.get("cls"))
    fields: dict[str, Any] = {}
    for name in sorted(inner["fields"]):
        field = inner["fields"][name]
        if field.get("serialization_exclude"):
            continue
        if set(field) - {"type", "schema", "metadata"}:
            raise _Unsupported(f"{schema.get('cls')}.{name}")  # an alias, an exclude_if...
        fields[name] = core_schema.typed_dict_field(_sorted_schema(field["schema"]))
    as_dict = core_schema.plain_serializer_function_ser_schema(
        _members(tuple(fields)), return_schema=core_schema.typed_dict_schema(fields)
    )
    return core_schema.any_schema(ref=schema.get("ref"), serialization=as_dict)


def _members(names: tuple[str, ...]) -> Callable[[BaseModel], dict[str, Any]]:
    def members(model: BaseModel) -> dict[str, Any]:
        values = model.__dict__
        return {name: values[name] for name in names}

    return members


def _sorted_dict(value: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(value.items()))


def _float(value: Any) -> Any:
    """Floats are written by `repr` in json.dumps (`1e+16`, `1e-05`, `Infinity`) and by a
    shortest-digits writer in pydantic-core (`1e16`, `0.00001`): alike but for exponents
    and non-finite values, which send the whole value to the exact path."""
    if isinstance(value, float) and (not math.isfinite(value) or "e" in repr(value)):
        raise _FloatSpelling(repr(value))
    return value


def dataset_schema() -> dict[str, Any]:
    """The JSON Schema of `output/enriched.json`, generated from the record types."""
    schema = Dataset.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
