"""Stage 5: records + `Document` -> markdown and JSON text. Pure: it never fetches or writes.

A document with no enrichment renders back to its source byte for byte, because every block
keeps its raw text. JSON is rendered with sorted keys, two-space indents and a final newline,
so the same dataset always gives the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from enrich.models import Dataset, Document


def render_document(document: Document) -> str:
    """The document as markdown. Unenriched, this is exactly its source text."""
    return "".join(block.raw for block in document.blocks)


def render_json(value: BaseModel | dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, `indent=2`, UTF-8 text, trailing newline."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dataset_schema() -> dict[str, Any]:
    """The JSON Schema of `output/enriched.json`, generated from the record types."""
    schema = Dataset.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
