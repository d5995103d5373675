"""One identity per entity: `Identifier`, held by `Link.id`; `kind:key` only at the JSON
boundary; the companions a link names planned by one rule (`plan.companions`)."""

from __future__ import annotations

import dataclasses

import pytest

from enrich.models import REF, Identifier, Kind, Link, RowRecord, by_ref
from enrich.parse import parse
from enrich.plan import companions, entities
from enrich.resolve import resolve
from enrich.urls import identify
from tests import builders as build
from tests.builders import ident

URLS = [
    ("https://arxiv.org/abs/2306.07629v2", Kind.ARXIV, "2306.07629", "v2", None),
    ("https://huggingface.co/papers/2401.00001", Kind.HF_PAPER, "2401.00001", None, None),
    ("https://github.com/Mit-Han-Lab/llm-awq/tree/main/awq", Kind.GITHUB_REPO,
     "mit-han-lab/llm-awq", None, "tree/main/awq"),
    ("https://doi.org/10.48550/arXiv.2305.18403", Kind.DOI, "10.48550/arxiv.2305.18403",
     None, None),
    ("https://aclanthology.org/P19-1001v2.pdf", Kind.ACL, "P19-1001", "v2", None),
    ("https://proceedings.mlr.press/v202/xiao23c.html", Kind.PMLR, "v202/xiao23c", None, None),
    ("https://huggingface.co/datasets/tatsu-lab/alpaca", Kind.HF_DATASET, "tatsu-lab/alpaca",
     None, None),
]  # fmt: skip


@pytest.mark.parametrize(("url", "kind", "key", "version", "subpath"), URLS)
def test_a_url_names_one_identifier(
    url: str, kind: Kind, key: str, version: str | None, subpath: str | None
) -> None:
    found = identify(url)
    assert isinstance(found, Identifier)
    assert (found.kind, found.key, found.version, found.subpath) == (kind, key, version, subpath)
    assert found.ref == f"{kind.value}:{key}"
    assert Identifier.of_ref(found.ref) == found


def test_identity_is_kind_and_key_frozen_and_hashable() -> None:
    plain = Identifier(Kind.ARXIV, "2306.07629")
    linked = Identifier(Kind.ARXIV, "2306.07629", version="v2", subpath="x")
    assert plain == linked
    assert hash(plain) == hash(linked)
    assert len({plain, linked, Identifier(Kind.HF_PAPER, "2306.07629")}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.key = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="not_a_kind"):
        Identifier.of_ref("not_a_kind:x")


@pytest.mark.parametrize(("url", "kind", "key", "version", "subpath"), URLS)
def test_a_link_holds_its_identifier_and_keeps_its_json_shape(
    url: str, kind: Kind, key: str, version: str | None, subpath: str | None
) -> None:
    ident = identify(url)
    link = Link.to(ident, companions(ident), url=url, text="t", column="Paper")
    assert link.id == ident
    assert (link.id.version, link.id.subpath) == (version, subpath)
    dumped = link.model_dump(mode="json")
    assert set(dumped) == {
        "url", "text", "column", "kind", "key", "version", "subpath", "also", "misplaced",
    }  # fmt: skip
    assert (dumped["kind"], dumped["key"], dumped["version"], dumped["subpath"]) == (
        kind.value,
        key,
        version,
        subpath,
    )
    assert dumped["also"] == [c.ref for c in companions(ident)]
    back = Link.model_validate_json(link.model_dump_json())
    assert back == link
    assert back.id == ident
    assert (back.id.version, back.id.subpath) == (version, subpath)


@pytest.mark.parametrize(
    ("ident", "named"),
    [
        (Identifier(Kind.ARXIV, "2306.07629", "v2"), ["scholar:arxiv:2306.07629"]),
        (Identifier(Kind.DOI, "10.1/x"), ["scholar:doi:10.1/x"]),
        (Identifier(Kind.ACL, "P19-1001"), ["scholar:acl:P19-1001"]),
        (Identifier(Kind.HF_PAPER, "2401.00001"), ["arxiv:2401.00001", "scholar:arxiv:2401.00001"]),
        (Identifier(Kind.PMLR, "v202/xiao23c"), []),  # Semantic Scholar cannot look it up
        (Identifier(Kind.OPENREVIEW, "abc"), []),
        (Identifier(Kind.GITHUB_REPO, "a/b"), []),
        (Identifier(Kind.HF_MODEL, "a/b"), []),
    ],
)
def test_companions_are_one_rule(ident: Identifier, named: list[str]) -> None:
    assert [c.ref for c in companions(ident)] == named


SEED = """\
| Paper | Code |
| --- | --- |
| [A](https://huggingface.co/papers/2401.00001) | [c](https://github.com/a/b/tree/main/x) |
| [B](https://doi.org/10.1234/X) | [c](https://github.com/A/B) |
"""


def test_resolve_writes_the_companions_plan_fetches() -> None:
    records = resolve(parse(SEED, "seed.md")).records
    for link in (link for record in records for link in record.links):
        assert link.also == [c.ref for c in companions(link.id)]
    planned = entities(records)
    assert [i.ref for i in planned] == [
        "arxiv:2401.00001",
        "doi:10.1234/x",
        "github_repo:a/b",
        "hf_paper:2401.00001",
        "scholar:arxiv:2401.00001",
        "scholar:doi:10.1234/x",
    ]
    assert planned[ident("github_repo:a/b")].subpaths == ("tree/main/x",)


def test_plan_reads_the_identifier_not_the_json_also() -> None:
    """A link read back from an older dataset with a different `also` plans what its
    identifier names today."""
    link = Link(url="u", text="t", column="Paper", kind=Kind.PMLR, key="v1/x", also=["scholar:x"])
    record = RowRecord(id="r", file="f.md", line=1, section=[], table=0, cells={}, links=[link])
    assert list(entities([record])) == [Identifier(Kind.PMLR, "v1/x")]


def test_links_to_one_entity_as_linked_share_one_identifier() -> None:
    """`Link.id` is made once for the fields a link spells, not at every read."""
    link = Link(url="u", text="t", column="Code", kind=Kind.GITHUB_REPO, key="a/b", subpath="x")
    again = Link.model_validate_json(link.model_dump_json())
    assert link.id is again.id
    assert link.id.subpath == "x"
    other = Link(url="v", text="t", column="Code", kind=Kind.GITHUB_REPO, key="a/b")
    assert other.id == link.id  # one entity: the subpath is how it was linked
    assert other.id.subpath is None


@pytest.mark.parametrize(
    "kept",
    [(), ("github_repo:a/b",), ("github_repo:c/d",), ("github_repo:a/b", "github_repo:c/d")],
)
def test_a_datasets_results_are_its_own_entities_by_identifier_even_in_a_copy(
    kept: tuple[str, ...],
) -> None:
    """`Dataset.results` reads the JSON's `kind:key` names once per dataset: a copy with
    other entities reads its own, not the original's (pydantic copies the cached value)."""
    whole = build.dataset((), build.repo("a/b", 1), build.repo("c/d", 2))
    assert list(whole.results) == [ident("github_repo:a/b"), ident("github_repo:c/d")]
    entities = {ref: whole.entities[ref] for ref in kept}
    copy = whole.model_copy(update={"entities": entities})
    assert list(copy.results) == [ident(ref) for ref in kept]
    assert all(copy.results[ident(ref)] is whole.entities[ref] for ref in kept)
    assert len(whole.results) == 2  # the original's untouched
    assert by_ref(copy.results) == entities  # and back, as the JSON names them


def test_results_go_back_to_the_json_in_order_of_ref() -> None:
    """`models.by_ref`, the one way back: by `kind:key`, sorted as text (`hf_paper:` before
    `hf_paper_models:`, whatever the order in memory)."""
    results = build.by_id(
        build.hub("hf_paper_models:2401.00001"),
        build.hub("hf_paper:2401.00001"),
        build.repo("z/z", 1),
        build.repo("a/a", 1),
    )
    assert list(by_ref(results)) == [
        "github_repo:a/a",
        "github_repo:z/z",
        "hf_paper:2401.00001",
        "hf_paper_models:2401.00001",
    ]
    assert sorted(results, key=REF) == [Identifier.of_ref(ref) for ref in by_ref(results)]
