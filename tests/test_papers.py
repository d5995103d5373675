"""Papers to consider: one recommendations lookup per section (`plan`), the candidates the
list does not have, in a total order (`papers`), and their section of report.md."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from enrich.metadata import Recommendations, RecommendedPaper, ScholarMeta
from enrich.models import Identifier, Kind, Link, Result, RowRecord, Status
from enrich.papers import PER_SECTION, identities, order, paper_url, to_consider
from enrich.plan import companions, recommendation, recommendations
from enrich.report import report_markdown
from tests.builders import dataset, record, result

ARXIV = "https://arxiv.org/abs/"


def paper_link(kind: Kind, key: str) -> Link:
    ident = Identifier(kind, key)
    return Link.to(ident, companions(ident), url=f"https://x/{key}", text=key, column="Paper")


def row(name: str, section: Sequence[str], *papers: tuple[Kind, str], line: int = 3) -> RowRecord:
    return record(
        *(paper_link(kind, key) for kind, key in papers),
        id=name,
        line=line,
        section=section,
        cells={"Name": name, "Paper": ""},
    )


def s2(paper_id: str, **fields: object) -> RecommendedPaper:
    return RecommendedPaper(paper_id=paper_id, **fields)  # type: ignore[arg-type]


def answer(
    rows: Sequence[RowRecord], *papers: RecommendedPaper, status: Status = Status.OK
) -> Result:
    ident = recommendation(rows)
    assert ident is not None
    data = Recommendations(papers=list(papers)) if status is not Status.ERROR else None
    return result(ident.ref, data, status, source="recommendations")


QUANT = ("Survey", "Quantisation")
TUNE = ("Survey", "Fine-tuning")


# ------------------------------------------------------------------------------ plan


def test_one_lookup_per_section_with_a_paper_keyed_by_its_papers_in_any_order() -> None:
    a = row("A", QUANT, (Kind.ARXIV, "2306.07629"), (Kind.DOI, "10.1/x"))
    b = row("B", QUANT, (Kind.HF_PAPER, "2402.11295"), (Kind.ACL, "2023.acl-1"))
    c = row("C", TUNE, (Kind.ARXIV, "2305.14314"))
    bare = row("D", ("Survey", "Tools"), (Kind.GITHUB_REPO, "a/b"), (Kind.PMLR, "v1/x"))
    found = recommendations([a, b, c, bare])
    keys = sorted(entity.identifier.key for entity in found.values())
    assert keys == [
        "acl:2023.acl-1 arxiv:2306.07629 arxiv:2402.11295 doi:10.1/x",
        "arxiv:2305.14314",
    ]
    assert {e.identifier.kind for e in found.values()} == {Kind.RECOMMENDED}
    assert recommendation([b, a]) == recommendation([a, b])  # rows moved: the same lookup
    assert recommendation([bare]) is None


def test_a_section_asks_its_first_papers_at_most() -> None:
    from enrich.config import S2_RECOMMEND_SEEDS

    many = [row(f"r{i}", QUANT, (Kind.ARXIV, f"2401.{i:05d}")) for i in range(150)]
    ident = recommendation(many)
    assert ident is not None
    keys = ident.key.split()
    assert len(keys) == S2_RECOMMEND_SEEDS
    assert "arxiv:2401.00000" in keys
    assert "arxiv:2401.00149" not in keys


# ---------------------------------------------------------------------------- papers


def test_a_paper_the_list_has_under_any_identity_is_never_suggested() -> None:
    quant = [
        row("SqueezeLLM", QUANT, (Kind.ARXIV, "2306.07629")),
        row("HERNIE", QUANT, (Kind.DOI, "10.1145/3477495.3531986")),
    ]
    tune = [
        row("QLoRA", TUNE, (Kind.HF_PAPER, "2305.14314")),
        row("Adapt", TUNE, (Kind.ACL, "2023.findings-emnlp.1033")),
    ]
    # the DOI-linked paper's record names its arXiv id and Semantic Scholar id
    known = result(
        "scholar:doi:10.1145/3477495.3531986",
        ScholarMeta(paper_id="hernie-s2", arxiv_id="2201.00001", doi="10.1145/3477495.3531986"),
        source="scholar",
    )
    listed = [
        s2("p1", arxiv_id="2306.07629"),  # this section's, by arXiv id
        s2("p2", arxiv_id="2305.14314v2".removesuffix("v2")),  # another section's Hub page
        s2("p3", doi="10.1145/3477495.3531986".upper()),  # by DOI, any case
        s2("hernie-s2"),  # by Semantic Scholar id alone (from the record)
        s2("p5", arxiv_id="2201.00001"),  # the DOI paper's arXiv version (from the record)
        s2("p6", acl_id="2023.findings-emnlp.1033"),  # another section's, by ACL id
        s2("p7", doi="10.48550/arXiv.2306.07629"),  # arXiv's own DOI of a listed paper
    ]
    new = s2("new", title="New", arxiv_id="2409.00001", year=2024)
    data = dataset([*quant, *tune], known, answer(quant, *listed, new))
    (found,) = to_consider(data.records, data.entities)
    assert found.section == "Quantisation"
    assert [p.paper_id for p in found.papers] == ["new"]
    assert found.seeds == ("SqueezeLLM", "HERNIE")


def test_newest_then_most_cited_first_unknowns_last_capped_per_section() -> None:
    rows = [row("A", QUANT, (Kind.ARXIV, "2306.07629"))]
    papers = [
        s2("a", title="b", year=2023, citations=5),
        s2("b", title="a", year=2023, citations=5),  # a tie on year and citations: by title
        s2("c", year=2024, citations=1),
        s2("d", year=2023, citations=900),
        s2("e", year=None, citations=10_000),  # no year: after every dated paper
        s2("f", year=2023, citations=None),  # no count: after the counted ones of its year
        *(s2(f"z{i}", year=2001, citations=i) for i in range(PER_SECTION)),
    ]
    data = dataset(rows, answer(rows, *papers))
    (found,) = to_consider(data.records, data.entities)
    assert len(found.papers) == PER_SECTION
    assert [p.paper_id for p in found.papers][:5] == ["c", "d", "b", "a", "f"]
    assert [p.paper_id for p in found.papers][5:] == ["z9", "z8", "z7", "z6", "z5"]
    assert sorted(papers, key=order) == sorted(reversed(papers), key=order)


@pytest.mark.parametrize(
    ("status", "shown"), [(Status.OK, True), (Status.STALE, True), (Status.ERROR, False)]
)
def test_a_last_known_answer_still_counts_a_failed_one_shows_nothing(
    status: Status, shown: bool
) -> None:
    rows = [row("A", QUANT, (Kind.ARXIV, "2306.07629"))]
    data = dataset(rows, answer(rows, s2("n", year=2024), status=status))
    assert bool(to_consider(data.records, data.entities)) is shown


def test_a_section_whose_papers_changed_reads_no_older_answer() -> None:
    """The lookup is keyed by the section's papers: a row added asks anew."""
    before = [row("A", QUANT, (Kind.ARXIV, "2306.07629"))]
    after = [*before, row("B", QUANT, (Kind.ARXIV, "2402.11295"))]
    data = dataset(after, answer(before, s2("n", year=2024)))
    assert to_consider(data.records, data.entities) == []


@pytest.mark.parametrize(
    ("paper", "url"),
    [
        (s2("x", arxiv_id="2409.00001", doi="10.1234/y"), f"{ARXIV}2409.00001"),
        (s2("x", arxiv_id="not an id", doi="10.1234/y"), "https://doi.org/10.1234/y"),
        (s2("x", doi="10.1/a b)"), "https://www.semanticscholar.org/paper/x"),
        (s2("ab)c[d]"), "https://www.semanticscholar.org/paper/abcd"),
    ],
)
def test_a_candidate_links_to_arxiv_else_its_doi_else_semantic_scholar(
    paper: RecommendedPaper, url: str
) -> None:
    assert paper_url(paper) == url


def test_identities_name_every_id_lower_cased() -> None:
    paper = s2("ABC", arxiv_id="2401.00001", doi="10.48550/ARXIV.2401.00002", acl_id="P19-1")
    assert set(identities(paper)) == {
        "s2:abc",
        "arxiv:2401.00001",
        "doi:10.48550/arxiv.2401.00002",
        "arxiv:2401.00002",
        "acl:p19-1",
    }


# ---------------------------------------------------------------------------- report


def test_report_lists_each_section_s_papers_with_title_year_link_citations_and_why() -> None:
    quant = [row(n, QUANT, (Kind.ARXIV, f"2306.0762{i}")) for i, n in enumerate("ABCDE")]
    tune = [row("QLoRA", TUNE, (Kind.ARXIV, "2305.14314"))]
    data = dataset(
        [*quant, *tune],
        answer(quant, s2("q1", title="Quant | [new]", year=2024, citations=1234, doi="10.1234/q")),
        answer(tune, s2("t1", title="Tune", year=None, arxiv_id="2409.00001")),
    )
    text = report_markdown(data)
    part = text[text.index("## Papers to consider (2)") :]
    assert "Semantic Scholar" in part
    assert "python -m enrich suggest --papers" in part
    assert part.index("### Quantisation") < part.index("### Fine-tuning")
    assert "Related to the section's papers: A, B, C and 2 more." in part
    assert "- [Quant \\| \\[new\\]](https://doi.org/10.1234/q) (2024) — 1,234 citations" in part
    assert "Related to the section's papers: QLoRA." in part
    assert "- [Tune](https://arxiv.org/abs/2409.00001) — citations unknown" in part


def test_report_has_no_papers_section_without_candidates() -> None:
    rows = [row("A", QUANT, (Kind.ARXIV, "2306.07629"))]
    assert "Papers to consider" not in report_markdown(dataset(rows))
