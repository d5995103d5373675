"""JSON output: `output/enriched.json` and its schema, written deterministically. Pure.

Sorted keys, two-space indents, UTF-8 text, a trailing newline: the bytes of
`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`. A pydantic model is
written a member, and a member's item, at a time (`json_pieces`), each item by
pydantic-core through a serializer rebuilt to sort every object's keys
(`_sorted_serializer`), which is what keeps writing a large dataset fast and small in memory
(docs/performance.md); anything it does not rewrite takes the exact, slow path.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, SchemaSerializer, core_schema

from enrich.models import Dataset


def render_json(value: BaseModel | dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, `indent=2`, UTF-8 text, trailing newline."""
    return json_bytes(value).decode("utf-8")


def json_bytes(value: BaseModel | dict[str, Any]) -> bytes:
    """`render_json`'s text, encoded: the same bytes as `json.dumps(value.model_dump(
    mode="json"), indent=2, sort_keys=True, ensure_ascii=False)` and a newline."""
    return b"".join(json_pieces(value))


def json_pieces(value: BaseModel | dict[str, Any]) -> Iterator[bytes]:
    """`json_bytes`'s bytes in pieces of about `PIECE` bytes, for writing to a file: a
    model's members that are lists or dicts of models are written an item at a time, so
    the whole text (33 MB for a 10,000-row dataset) is never held at once.

    Each item is written by pydantic-core, without a Python copy of its data, through a
    serializer that sorts every object's keys (`_sorted_serializer`), where the standard
    library's indenting encoder needs the data as plain Python data first, and a slower
    encoder to write it. A model this does not serialize (`_sorted_serializer` gives None)
    is written whole by the exact path.
    """
    if isinstance(value, BaseModel) and _sorted_serializer(type(value)) is not None:
        yield from batched(_model_pieces(value))
    else:
        yield _exact(value) + b"\n"


PIECE = 1 << 20


def _exact(value: BaseModel | dict[str, Any] | Any) -> bytes:
    """`value` by the standard library's encoder (its model dumped to plain data first)."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).encode()


def batched(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """`pieces` joined into pieces of about `PIECE` bytes (the last one maybe smaller):
    few enough writes, and never much held at once."""
    batch: list[bytes] = []
    held = 0
    for piece in pieces:
        batch.append(piece)
        held += len(piece)
        if held >= PIECE:
            yield b"".join(batch)
            batch, held = [], 0
    yield b"".join(batch)


def _model_pieces(model: BaseModel) -> Iterator[bytes]:
    """`model` at the top level, member by member, with the trailing newline."""
    fields = type(model).model_fields
    names = [name for name in sorted(fields) if not fields[name].exclude]
    if not names:
        yield b"{}\n"
        return
    yield b"{\n"
    for position, name in enumerate(names, 1):
        yield b"  " + _key(name)
        yield from _member(model, name)
        yield b",\n" if position < len(names) else b"\n}\n"


def _key(name: str) -> bytes:
    return json.dumps(name, ensure_ascii=False).encode() + b": "


def _member(model: BaseModel, name: str) -> Iterator[bytes]:
    """One member's value, one level in: a non-empty list or dict of models an item at a
    time (two levels in), anything else by the exact path."""
    value = getattr(model, name)
    item = _item_type(type(model).model_fields[name].annotation)
    if item is None or not value:
        yield _exact(model.model_dump(mode="json", include={name})[name]).replace(b"\n", b"\n  ")
    elif isinstance(value, list):
        yield b"[\n"
        for position, one in enumerate(value, 1):
            yield b"    " + _item_json(item, one) + (b",\n" if position < len(value) else b"\n  ]")
    else:
        yield b"{\n"
        for position, key in enumerate(sorted(value), 1):
            end = b",\n" if position < len(value) else b"\n  }"
            yield b"    " + _key(key) + _item_json(item, value[key]) + end


def _item_type(annotation: Any) -> type[BaseModel] | None:
    """`X` for a member declared `list[X]` or `dict[str, X]` of a model type `X`."""
    args = get_args(annotation)
    if get_origin(annotation) is list and len(args) == 1:
        item = args[0]
    elif get_origin(annotation) is dict and len(args) == 2 and args[0] is str:
        item = args[1]
    else:
        return None
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _item_json(kind: type[BaseModel], item: BaseModel) -> bytes:
    """An item of a member, two levels in."""
    return _item_text(kind, item).replace(b"\n", b"\n    ")


def _item_text(kind: type[BaseModel], item: BaseModel) -> bytes:
    serializer = _sorted_serializer(kind)
    if serializer is not None:
        try:
            return serializer.to_json(item, indent=2, warnings="error")
        except PydanticSerializationError:
            pass  # a float json.dumps spells differently (1e+16, NaN), or anything
            # pydantic-core would warn about: the exact path
    return _exact(item)


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
