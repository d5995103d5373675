"""`bench.inprocess` renders with the facts of the dataset it is given, as a run does."""

from __future__ import annotations

from pathlib import Path

from bench.inprocess import ROOT, facts_of

from enrich.columns import select
from enrich.config import Settings
from enrich.parse import parse
from enrich.render import render_document
from enrich.resolve import resolve
from tests import builders as build

SEED = ROOT / "seeds" / "slm-survey.md"


def test_the_dataset_s_facts_reach_the_rendered_rows(tmp_path: Path) -> None:
    dataset = tmp_path / "enriched.json"
    stars = build.repo("jzhang38/TinyLlama", 98765)
    dataset.write_text(build.dataset((), stars).model_dump_json(), encoding="utf-8")
    document = parse(SEED.read_text(encoding="utf-8"), SEED.name)
    records = resolve(document).records
    settings = Settings().with_project_config(ROOT)
    columns = select(settings.columns, settings.headers)
    facts = facts_of(dataset)
    assert set(facts) == {build.ident(stars.ref)}
    rendered = render_document(document, records, facts, columns, "..")
    assert "98.8k" in rendered  # the stars, humanised (`columns.humanise`)
    assert rendered != render_document(document, records, {}, columns, "..")


def test_no_dataset_gives_no_facts(tmp_path: Path) -> None:
    assert facts_of(None) == {}
    assert facts_of(tmp_path / "enriched.json") == {}
