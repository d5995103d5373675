"""`references.bib` (`enrich.bib`): one entry per distinct paper, published versions, keys
that never change once published, and text every BibTeX parser reads back as written.

Every file built here is read back with pybtex, a real BibTeX parser."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pybtex.database import BibliographyData, Person
from pybtex.database.input.bibtex import Parser
from pybtex.plugin import find_plugin

from enrich.bib import Bibliography, bibliography, published_keys
from enrich.cli import main
from enrich.columns import Entities, Facts, select
from enrich.earlier import read_published
from enrich.latex import escape
from enrich.metadata import Author, PageMeta, ScholarMeta
from enrich.models import PAPER_KINDS, Dataset, Identifier, Kind, Link, Result, RowRecord
from enrich.plan import companions
from enrich.text import one_line
from enrich.urls import identify
from tests import builders as build
from tests.conftest import first_run
from tests.fakeapi import FakeAPI
from tests.fakeapi.fixtures import Author as FakeAuthor

STRESS = (
    "{", "}", "}{", "{{", "\\", "\\}", "&", "%", "$", "#", "_", "~", "^", "@", '"', ",", "=",
    "\\textbf{x}", "100% & $5 #1 a_b ~c ^d", "x\ny\tz", "Müller Ünal Çelik Øre", "李雷",
    "},\n@misc{x,",
    "\u2028", "\x00", " and ", "A and B", "Smith, John",
)  # fmt: skip


def link(url: str, column: str = "Paper") -> Link:
    """The link to `url` as resolve makes it: its identity and companions by the URL."""
    ident = identify(url)
    return Link.to(ident, companions(ident), url=url, text="Link", column=column)


def row(rid: str, *urls: str) -> RowRecord:
    return build.record(*(link(u) for u in urls), id=rid, cells={"Method": rid})


def arxiv(
    key: str,
    title: str = "A Paper",
    authors: Sequence[str] = ("Ada Lovelace",),
    day: datetime = datetime(2023, 5, 23, tzinfo=UTC),
    **extra: object,
) -> Result:
    data = build.paper_meta(key, title, day, authors, **extra)
    return build.result(f"arxiv:{key}", data, source="arxiv")


def scholar(ref: str, **fields: object) -> Result:
    data = ScholarMeta(paper_id=f"s2-{ref}", **fields)  # type: ignore[arg-type]
    return build.result(f"scholar:{ref}", data, source="scholar")


def landing(ref: str, **fields: object) -> Result:
    data = PageMeta(url=f"https://example.org/{ref}", **fields)  # type: ignore[arg-type]
    return build.result(ref, data, source="landing")


def entities(results: Sequence[Result]) -> Entities:
    """The entities `Facts` looks results up in."""
    return build.by_id(*results)


def bib(
    records: Sequence[RowRecord], *results: Result, previous: str = ""
) -> tuple[Bibliography, BibliographyData]:
    """The bibliography of `records` and what pybtex reads of its text."""
    made = bibliography(records, Facts(entities(results)), published_keys(previous))
    return made, read_bibtex(made.text())


def read_bibtex(text: str) -> BibliographyData:
    """What pybtex reads of `text`: `pybtex.database.read_bibtex(text)` without
    its plugin look-up on each call (7 ms, most of this module's time), the same parser
    (`test_read_bibtex_is_pybtex_s_bibtex_reader`), a new one a text (it keeps what it read)."""
    return Parser().parse_string(text)


def test_read_bibtex_is_pybtex_s_bibtex_reader() -> None:
    assert find_plugin("pybtex.database.input", "bibtex") is Parser
    first, second = read_bibtex("@misc{a, title={A}}"), read_bibtex("@misc{b, title={B}}")
    assert list(first.entries) == ["a"]
    assert list(second.entries) == ["b"]


_MACRO = re.compile(
    r"\\(textbackslash|textbraceleft|textbraceright|textasciitilde|textasciicircum)\{\}"
    r"|\\([&%$#_])|([{}])|(.)",
    re.S,
)
_MACROS = {
    "textbackslash": "\\",
    "textbraceleft": "{",
    "textbraceright": "}",
    "textasciitilde": "~",
    "textasciicircum": "^",
}


def unescape(value: str) -> str:
    """What LaTeX prints for a field `escape` wrote (protecting braces left out)."""
    out = []
    for m in _MACRO.finditer(value):
        macro, char, brace, other = m.groups()
        out.append(_MACROS[macro] if macro else char or ("" if brace else other))
    return "".join(out)


# --------------------------------------------------------------------------- distinct papers


DISTINCT_PAPERS = [
    pytest.param(
        [
            row("pmlr", "https://proceedings.mlr.press/v235/guo24g.html"),
            row("qlora-doi", "https://dl.acm.org/doi/abs/10.5555/3666122.3666563"),
            row("qlora-arxiv", "https://arxiv.org/abs/2305.14314v2"),
            row("qlora-hub", "https://huggingface.co/papers/2305.14314"),
            row("other", "https://arxiv.org/abs/2306.00978", "https://arxiv.org/pdf/2306.00978"),
        ],
        [
            scholar("doi:10.5555/3666122.3666563", arxiv_id="2305.14314", title="QLoRA"),
            arxiv("2305.14314", "QLoRA", ("Tim Dettmers",)),
            arxiv("2306.00978", "AWQ", ("Ji Lin",)),
            landing(
                "pmlr:v235/guo24g", title="Compressing", authors=[Author(name="J. Guo")], year=2024
            ),
        ],
        {
            "pmlr": ("guo2024compressing",),
            "qlora-doi": ("dettmers2023qlora",),
            "qlora-arxiv": ("dettmers2023qlora",),
            "qlora-hub": ("dettmers2023qlora",),
            "other": ("lin2023awq",),
        },
        id="one-paper-linked-several-ways",
    ),
    pytest.param(  # an ACL link and a DOI link whose Semantic Scholar records name the same
        [  # arXiv id, and a DOI link whose arXiv paper names that DOI: one paper each time
            row("acl", "https://aclanthology.org/2023.findings-emnlp.1033/"),
            row("doi", "https://doi.org/10.18653/v1/2023.findings-emnlp.1033"),
            row("arxiv", "https://arxiv.org/abs/2401.00001"),
            row("journal", "https://doi.org/10.1000/J.X.1"),
        ],
        [
            scholar("acl:2023.findings-emnlp.1033", arxiv_id="2310.13307"),
            scholar("doi:10.18653/v1/2023.findings-emnlp.1033", arxiv_id="2310.13307"),
            arxiv("2401.00001", doi="10.1000/j.x.1"),
        ],
        {
            "acl": ("arxiv231013307",),
            "doi": ("arxiv231013307",),
            "arxiv": ("lovelace2023paper",),
            "journal": ("lovelace2023paper",),
        },
        id="named-alike-only-through-their-facts",
    ),
    pytest.param(
        [row("r", "https://arxiv.org/abs/2402.00002", "https://arxiv.org/abs/2401.00001")],
        [arxiv("2401.00001", "Alpha"), arxiv("2402.00002", "Beta")],
        {"r": ("lovelace2023beta", "lovelace2023alpha")},
        id="a-row-linking-two-papers-in-link-order",
    ),
    pytest.param(  # the ACL record names the arXiv paper and the DOI: all three one paper
        [
            row("a", "https://arxiv.org/abs/2401.00001"),
            row("x", "https://arxiv.org/abs/2402.00002"),
            row("d", "https://doi.org/10.1000/d"),
            row("both", "https://aclanthology.org/2024.acl-long.1/"),
        ],
        [
            arxiv("2401.00001", "First"),
            arxiv("2402.00002", "Second"),
            scholar("acl:2024.acl-long.1", arxiv_id="2401.00001", doi="10.1000/D"),
        ],
        {
            "a": ("lovelace2023first",),
            "x": ("lovelace2023second",),
            "d": ("lovelace2023first",),
            "both": ("lovelace2023first",),
        },
        id="a-link-naming-two-papers-found-apart-in-the-first-s-place",
    ),
]


@pytest.mark.parametrize(("records", "facts", "rows"), DISTINCT_PAPERS)
def test_each_distinct_paper_is_one_entry_in_list_order(
    records: list[RowRecord], facts: list[Result], rows: dict[str, tuple[str, ...]]
) -> None:
    """Each row's keys, in its links' order; one entry per paper, in the order the rows
    first name them, and pybtex reads the same entries back."""
    made, parsed = bib(records, *facts)
    assert made.rows == rows
    in_list_order = list(dict.fromkeys(key for keys in rows.values() for key in keys))
    assert [e.key for e in made.entries] == list(parsed.entries) == in_list_order


def test_links_that_are_not_papers_give_no_entry() -> None:
    records = [row("r", "https://github.com/a/b", "https://huggingface.co/a/b", "https://x.org")]
    made, _ = bib(records)
    assert made.entries == ()
    assert made.rows == {}
    assert made.text() == ""


# --------------------------------------------------------------------------- entry types


def entry_of(records: Sequence[RowRecord], *results: Result) -> tuple[str, dict[str, str]]:
    _made, parsed = bib(records, *results)
    (entry,) = parsed.entries.values()
    return entry.type, {k.lower(): v for k, v in entry.fields.items()}


QLORA = "https://dl.acm.org/doi/abs/10.5555/3666122.3666563"


def test_a_paper_published_at_a_conference_is_inproceedings_with_its_arxiv_id() -> None:
    kind, fields = entry_of(
        [row("q", QLORA)],
        scholar(
            "doi:10.5555/3666122.3666563",
            arxiv_id="2305.14314",
            doi="10.5555/3666122.3666563",
            venue="Neural Information Processing Systems",
            year=2023,
            publication_date=date(2023, 5, 23),
        ),
        arxiv("2305.14314", "QLoRA: Efficient Finetuning of Quantized LLMs",
              ("Tim Dettmers", "Artidoro Pagnoni"), primary_category="cs.LG"),
    )  # fmt: skip
    assert kind == "inproceedings"
    assert fields == {
        "title": "{QLoRA}: Efficient Finetuning of Quantized {LLMs}",
        "booktitle": "Neural Information Processing Systems",
        "year": "2023",
        "month": "May",
        "doi": "10.5555/3666122.3666563",
        "eprint": "2305.14314",
        "archiveprefix": "arXiv",
        "primaryclass": "cs.LG",
        "url": QLORA,
    }


@pytest.mark.parametrize(
    ("fields", "kind", "where"),
    [
        ({"venue": "Nature", "journal": "Nature 521, 436-444",
          "publication_types": ["JournalArticle"]}, "article", ("journal", "Nature")),
        ({"journal": "J. Mach. Learn. Res. 24"}, "article", ("journal", "J. Mach. Learn. Res. 24")),
        ({"venue": "ICML", "publication_types": ["JournalArticle", "Conference"]},
         "inproceedings", ("booktitle", "ICML")),
        ({"venue": "ICLR"}, "inproceedings", ("booktitle", "ICLR")),
        ({"venue": "ICLR", "publication_types": ["JournalArticle"]},
         "inproceedings", ("booktitle", "ICLR")),
        ({"venue": "Neural Information Processing Systems", "journal": "ArXiv abs/2305.14314",
          "publication_types": ["JournalArticle"]},
         "inproceedings", ("booktitle", "Neural Information Processing Systems")),
        ({"venue": "AAAI", "journal": "Proc. AAAI 38, 1-9",
          "publication_types": ["JournalArticle", "Conference"]},
         "inproceedings", ("booktitle", "AAAI")),
        ({"venue": "arXiv.org", "journal": "ArXiv abs/2401.00001"}, "misc", None),
        ({"venue": "CoRR"}, "misc", None),
        ({}, "misc", None),
    ],
)  # fmt: skip
def test_the_entry_type_follows_what_semantic_scholar_says(
    fields: dict[str, object], kind: str, where: tuple[str, str] | None
) -> None:
    url = "https://arxiv.org/abs/2401.00001"
    got, written = entry_of(
        [row("r", url)], arxiv("2401.00001"), scholar("arxiv:2401.00001", **fields)
    )
    assert got == kind
    assert {"booktitle", "journal"} & set(written) == ({where[0]} if where else set())
    if where:
        assert written[where[0]] == where[1]
    assert written["eprint"] == "2401.00001"
    assert written["archiveprefix"] == "arXiv"


def test_a_landing_page_venue_is_the_published_version() -> None:
    url = "https://openreview.net/forum?id=AbCdEf123"
    kind, fields = entry_of(
        [row("r", url)],
        landing("openreview:AbCdEf123", title="T", venue="ICLR 2024", year=2024,
                publication_date=date(2024, 1, 16)),
    )  # fmt: skip
    assert kind == "inproceedings"
    assert fields == {"title": "T", "booktitle": "ICLR 2024", "year": "2024", "month": "January",
                      "url": url}  # fmt: skip
    assert "eprint" not in fields
    assert "doi" not in fields


def test_what_the_dataset_does_not_know_is_left_out() -> None:
    """No fetched fact at all (an offline first run): the arXiv id from the link, its URL."""
    made, parsed = bib([row("r", "https://huggingface.co/papers/2401.00001")])
    (entry,) = parsed.entries.values()
    assert entry.type == "misc"
    assert not entry.persons
    assert dict(entry.fields) == {
        "eprint": "2401.00001",
        "archivePrefix": "arXiv",
        "url": "https://huggingface.co/papers/2401.00001",
    }
    assert made.entries[0].key == "arxiv240100001"


def test_the_published_year_is_the_venue_s_and_the_preprint_s_is_its_first_version() -> None:
    url = "https://arxiv.org/abs/2312.00001"
    first = datetime(2023, 12, 30, tzinfo=UTC)
    _, preprint = entry_of([row("r", url)], arxiv("2312.00001", day=first))
    assert (preprint["year"], preprint["month"]) == ("2023", "December")
    _, published = entry_of(
        [row("r", url)],
        arxiv("2312.00001", day=first),
        scholar("arxiv:2312.00001", venue="ICLR", year=2024, publication_date=date(2023, 12, 30)),
    )
    assert published["year"] == "2024"
    assert "month" not in published
    made, _ = bib(
        [row("r", url)],
        arxiv("2312.00001", "Late", day=first),
        scholar("arxiv:2312.00001", venue="ICLR", year=2024),
    )
    assert made.entries[0].key == "lovelace2024late"  # the key's year is the entry's


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("author", "title", "key"),
    [
        ("Tim Dettmers", "QLoRA: Efficient Finetuning", "dettmers2023qlora"),
        ("Jürgen Schmidhuber", "The Lottery of Ideas", "schmidhuber2023lottery"),
        ("Zeyuan Allen-Zhu", "On the Physics of LLMs", "allenzhu2023physics"),
        ("李雷", "A Survey of Small Models", "2023survey"),
        ("Ada Lovelace", "", "lovelace2023"),
        ("Ada Lovelace", "The Of And", "lovelace2023"),
        ("Ada Lovelace", "Ünïcödé Things", "lovelace2023unicode"),
    ],
)
def test_a_key_is_family_name_year_and_first_significant_title_word(
    author: str, title: str, key: str
) -> None:
    made, _ = bib([row("r", "https://arxiv.org/abs/2305.14314")],
                  arxiv("2305.14314", title or "-", (author,)))  # fmt: skip
    assert made.entries[0].key == key


def test_colliding_keys_get_a_b_c() -> None:
    ids = ["2401.00001", "2401.00002", "2401.00003", "2401.00004"]
    records = [row(i, f"https://arxiv.org/abs/{i}") for i in ids]
    made, parsed = bib(records, *(arxiv(i, "Same Title") for i in ids))
    keys = ["lovelace2023same", "lovelace2023samea", "lovelace2023sameb", "lovelace2023samec"]
    assert [e.key for e in made.entries] == keys == list(parsed.entries)


def test_a_published_key_never_changes_when_the_metadata_improves() -> None:
    ids = ["2401.00001", "2401.00002", "2401.00003"]
    records = [row(i, f"https://arxiv.org/abs/{i}") for i in ids]
    before, _ = bib(records)  # nothing known yet: keys from the identities
    better = [arxiv(i, f"Title {n}", (f"Author Number{n}",)) for n, i in enumerate(ids)]
    after, _ = bib(records, *better, previous=before.text())
    assert [e.key for e in after.entries] == [e.key for e in before.entries]
    assert after.text() != before.text()
    # A paper linked another way now (its DOI, whose record names it) keeps its key too.
    doi = "https://doi.org/10.1000/x"
    moved = [row(ids[0], doi), *records[1:]]
    again, _ = bib(moved, *better, scholar("doi:10.1000/x", arxiv_id=ids[0]), previous=after.text())
    assert [e.key for e in again.entries] == [e.key for e in before.entries]


def test_a_new_paper_does_not_take_a_published_key() -> None:
    first = [row("a", "https://arxiv.org/abs/2401.00002")]
    before, _ = bib(first, arxiv("2401.00002", "Same"))
    assert before.entries[0].key == "lovelace2023same"
    # A new paper listed above it would have been first to the key; the published one keeps it.
    records = [row("b", "https://arxiv.org/abs/2401.00001"), *first]
    after, _ = bib(records, arxiv("2401.00001", "Same"), arxiv("2401.00002", "Same"),
                   previous=before.text())  # fmt: skip
    assert [e.key for e in after.entries] == ["lovelace2023samea", "lovelace2023same"]
    assert after.rows == {"b": ("lovelace2023samea",), "a": ("lovelace2023same",)}


def test_published_keys_read_only_what_names_a_paper() -> None:
    text = (
        "% a comment\n@misc{kept1,\n  eprint = {2401.00001},\n  url = {https://x.org}\n}\n"
        "@article{kept2, doi = {10.1/ABC}}\n"
        "@misc{bad key,\n  eprint = {2401.00003}\n}\n"
        "@misc{kept3,\n  url = {https://openreview.net/forum?id=Xy1}\n}\n"
        "garbage @ { , }\n"
    )
    keys = {ident.ref: key for ident, key in published_keys(text).items()}
    assert keys == {
        "arxiv:2401.00001": "kept1",
        "doi:10.1/abc": "kept2",
        "openreview:Xy1": "kept3",
    }


# --------------------------------------------------------------------------- escaping


def test_acronyms_and_names_in_titles_are_protected() -> None:
    title = "LLaMA and GPT-4 meet BERT: iPhone Apps, 4-bit QLoRA (LLMs)"
    _, fields = entry_of([row("r", "https://arxiv.org/abs/2401.00001")], arxiv("2401.00001", title))
    assert fields["title"] == (
        "{LLaMA} and {GPT-4} meet {BERT}: {iPhone} Apps, 4-bit {QLoRA} ({LLMs})"
    )


@pytest.mark.parametrize("text", STRESS)
def test_stress_characters_are_written_so_that_a_parser_reads_them_as_written(text: str) -> None:
    check_round_trip(f"Title {text} end", [text, f"Jo {text}"], f"Venue {text}")


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(min_size=1, max_size=40),
    authors=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=3),
    venue=st.text(min_size=1, max_size=20),
)
def test_any_fetched_text_is_read_back_as_written(
    title: str, authors: list[str], venue: str
) -> None:
    check_round_trip(title, authors, venue)


def check_round_trip(title: str, authors: list[str], venue: str) -> None:
    """Fetched strings into every text field; pybtex parses the file into one entry whose
    fields, unescaped, are the strings on one line; each author stays one person."""
    url = "https://arxiv.org/abs/2401.00001"
    made, parsed = bib(
        [row("r", url)],
        arxiv("2401.00001", title, authors),
        scholar("arxiv:2401.00001", venue=f"X {venue}", year=2024),
    )
    (entry,) = parsed.entries.values()
    named = [a for a in authors if one_line(a, 1000)]
    if one_line(title, 1000):
        assert unescape(entry.fields["title"]) == one_line(title, 1000)
    assert unescape(entry.fields["booktitle"]) == one_line(f"X {venue}", 1000)
    people = entry.persons.get("author", [])
    assert [unescape(" ".join(whole_name(p))) for p in people] == [one_line(a, 1000) for a in named]
    assert entry.fields["eprint"] == "2401.00001"
    assert made.text() == bib([row("r", url)], *made_results(title, authors, venue))[0].text()


def whole_name(person: Person) -> list[str]:
    """A person's name parts in the order written (pybtex prints them `Last, First`)."""
    return [
        *person.first_names,
        *person.middle_names,
        *person.prelast_names,
        *person.last_names,
        *person.lineage_names,
    ]


def made_results(title: str, authors: list[str], venue: str) -> tuple[Result, ...]:
    return (
        arxiv("2401.00001", title, authors),
        scholar("arxiv:2401.00001", venue=f"X {venue}", year=2024),
    )


def test_escape_leaves_letters_and_accents_as_utf8() -> None:
    assert escape("Ünal Çelik 李雷 é") == "Ünal Çelik 李雷 é"
    assert escape("a_b & c") == r"a\_b \& c"


def test_a_url_with_braces_or_percents_stays_one_field() -> None:
    url = "https://arxiv.org/abs/2401.00001?x=%7B}{"
    _, parsed = bib([row("r", url)])
    (entry,) = parsed.entries.values()
    assert entry.fields["url"] == "https://arxiv.org/abs/2401.00001?x=%257B%7D%7B"


# --------------------------------------------------------------------------- the column


def test_the_bib_column_shows_the_row_s_keys() -> None:
    records = [row("r", "https://arxiv.org/abs/2401.00001", "https://arxiv.org/abs/2401.00002"),
               row("s", "https://github.com/a/b")]  # fmt: skip
    results = entities((arxiv("2401.00001", "One"), arxiv("2402.00002", "Two")))
    made = bibliography(records, Facts(results), {})
    (column,) = select(["bib"])
    facts = Facts(results, made.rows)
    assert column.value(facts.of(records[0])) == "lovelace2023one, arxiv240100002"
    assert column.value(facts.of(records[1])) == ""


# --------------------------------------------------------------------------- a whole run


def distinct_papers(dataset: Dataset) -> list[str]:
    """The seed's papers, told apart another way than `bib` does: by arXiv id (linked, or
    the one Semantic Scholar names for a paper linked by DOI or ACL id), else by link."""
    found: list[str] = []
    for record in dataset.records:
        for linked in record.links:
            if linked.kind not in PAPER_KINDS:
                continue
            named = dataset.entities.get(f"scholar:{linked.id.ref}")
            data = named.data if named is not None else None
            arxiv_id = linked.key if linked.kind in (Kind.ARXIV, Kind.HF_PAPER) else None
            if arxiv_id is None and isinstance(data, ScholarMeta) and data.arxiv_id:
                arxiv_id = data.arxiv_id
            paper = f"arxiv:{arxiv_id}" if arxiv_id else linked.id.ref
            if paper not in found:
                found.append(paper)
    return found


def keys_by_eprint(parsed: BibliographyData) -> dict[str, str]:
    return {e.fields["eprint"]: key for key, e in parsed.entries.items() if "eprint" in e.fields}


def test_the_seed_s_references_are_its_papers_and_keep_their_keys_when_facts_improve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeAPI
) -> None:
    first_run(tmp_path, api, monkeypatch)  # two anonymous runs in the same hour
    bib_file = tmp_path / "output" / "references.bib"
    text = bib_file.read_text(encoding="utf-8")
    parsed = read_bibtex(text)
    dataset = Dataset.model_validate_json((tmp_path / "output" / "enriched.json").read_bytes())
    assert len(parsed.entries) == len(distinct_papers(dataset)) > 50
    qlora = parsed.entries[keys_by_eprint(parsed)["2305.14314"]]
    assert qlora.type == "inproceedings"
    assert qlora.fields["booktitle"] == "Neural Information Processing Systems"
    assert (qlora.fields["year"], qlora.fields["doi"]) == ("2023", "10.5555/3666122.3666563")
    assert qlora.fields["title"].startswith("{QLoRA}: ")
    assert str(qlora.persons["author"][0]) == "Dettmers, Tim"
    keys = keys_by_eprint(parsed)
    assert "dettmers2023qlora" in keys.values()

    with api.editing():  # better facts upstream: new titles, first authors and venues
        for paper in api.papers.values():
            paper.title = f"Revised {paper.title}"
            paper.authors = [FakeAuthor("Zed Newcomer"), *paper.authors]
        for record in api.scholar.papers.values():
            record.venue, record.venue_type = "International Conference on X", "conference"
    assert main(["run", "-q", "--refresh"]) == 0
    again = read_bibtex(bib_file.read_text(encoding="utf-8"))
    assert bib_file.read_text(encoding="utf-8") != text
    assert "Revised" in again.entries[keys["2305.14314"]].fields["title"]
    assert keys_by_eprint(again) == keys
    assert list(again.entries) == list(parsed.entries)
    assert main(["check"]) == 0  # `check` compares references.bib like every output
    bib_file.write_text(text, encoding="utf-8")
    assert main(["check"]) == 1


def test_the_previous_file_is_read_from_the_output_folder(tmp_path: Path) -> None:
    assert read_published(tmp_path) == ({}, [])
    bib_file = tmp_path / "references.bib"
    bib_file.write_text("@misc{kept,\n  eprint = {2401.00001}\n}\n", encoding="utf-8")
    assert read_published(tmp_path) == ({Identifier(Kind.ARXIV, "2401.00001"): "kept"}, [])
    bib_file.write_bytes(b"@misc{kept,\n  title = {\xff}\n}\n")  # not UTF-8: reported
    keys, warnings = read_published(tmp_path)
    assert keys == {}
    assert len(warnings) == 1
    assert str(bib_file) in warnings[0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=12), st.sampled_from(["Same", "Other", "", "The", "ÄÖ"])),
        min_size=1,
        max_size=12,
    )
)
def test_keys_are_unique_and_plain_whatever_the_papers(papers: list[tuple[str, str]]) -> None:
    ids = [f"2401.{n:05d}" for n in range(len(papers))]
    records = [row(i, f"https://arxiv.org/abs/{i}") for i in ids]
    results = [arxiv(i, t or "-", (a,)) for i, (a, t) in zip(ids, papers, strict=True)]
    made, parsed = bib(records, *results)
    keys = [e.key for e in made.entries]
    assert len(set(keys)) == len(keys) == len(parsed.entries) == len(papers)
    assert all(re.fullmatch(r"[a-z0-9]+", k) for k in keys)
    again, _ = bib(list(reversed(records)), *results, previous=made.text())
    assert again.rows == made.rows  # the list reordered: every paper keeps its key
