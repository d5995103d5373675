"""The living timeline (`output/timeline.svg`) and the line that shows it in the regenerated
document. Real content comes from the golden fixture dataset (`tests/test_render.py`)."""

from __future__ import annotations

import itertools
import random
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from enrich import pipeline
from enrich.columns import Facts, row_facts
from enrich.config import Settings
from enrich.metadata import ScholarMeta
from enrich.models import Dataset, Kind, Link, Result, RowRecord
from enrich.parse import parse
from enrich.render import render_document
from enrich.resolve import resolve
from enrich.timeline import (
    LABEL_LIMIT,
    OTHER,
    PALETTE,
    date_of,
    dated_marks,
    groups,
    ordered,
    pack,
    render_timeline,
    text_width,
)
from tests import builders as build
from tests.test_render import SEED_PATH, dataset, seed_document

NS = "{http://www.w3.org/2000/svg}"
MOMENT = datetime(2023, 5, 29, 17, 0, tzinfo=UTC)
SEED = Path(__file__).parents[1] / "seeds" / "slm-survey.md"


def svg(dataset_: Dataset) -> ET.Element:
    return ET.fromstring(render_timeline(dataset_))


def marks(root: ET.Element) -> list[tuple[str, str, str, float, float]]:
    """(label, tooltip, fill, cx, cy) of every paper mark."""
    found = []
    for group in root.iter(f"{NS}g"):
        title, circle, text = (
            group.find(f"{NS}title"),
            group.find(f"{NS}circle"),
            group.find(f"{NS}text"),
        )
        assert title is not None
        assert circle is not None
        assert text is not None
        fill = circle.get("stroke") or circle.get("fill") or ""
        cx, cy = float(circle.get("cx", "nan")), float(circle.get("cy", "nan"))
        found.append((text.text or "", title.text or "", fill, cx, cy))
    return found


def legend(root: ET.Element) -> dict[str, str]:
    """Legend entry text -> its swatch colour."""
    children = list(root)
    return {
        (text.text or ""): rect.get("fill", "")
        for rect, text in itertools.pairwise(children)
        if rect.tag == f"{NS}rect" and rect.get("width") == "10" and text.tag == f"{NS}text"
    }


# ------------------------------------------------------------------------------ records


def _scholar(key: str, **facts: object) -> Result:
    data = ScholarMeta(paper_id=key, **facts)  # type: ignore[arg-type]
    return build.result(f"scholar:{key}", data, source="scholar")


def _link(kind: Kind, key: str, *also: str) -> Link:
    return build.link(f"https://x.example/{key}", kind, key, column="Paper", also=also)


def _row(line: int, name: str, section: list[str], *links: Link) -> RowRecord:
    cells = {"Year": "2023", "Method": name, "Paper": "[Link](https://x.example)"}
    return build.record(*links, id=f"row-{line}", line=line, section=section, cells=cells)


SECTION = ["List", "Papers", "Quantization"]


# ------------------------------------------------------------------------------ the fixture


def test_is_a_standalone_svg_with_a_title_and_no_external_reference() -> None:
    text = render_timeline(dataset())
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg"
    assert re.fullmatch(r"0 0 960\.0 \d+\.\d", root.get("viewBox", ""))
    title = root.find(f"{NS}title")
    assert title is not None
    assert title.text == "Papers by first-published month, 2019-01 to 2024-08"
    tags = {element.tag.removeprefix(NS) for element in root.iter()}
    assert tags <= {"svg", "title", "desc", "rect", "text", "line", "path", "g", "circle"}
    assert not re.search(r"href|<script|url\(|@import|https?://(?!www\.w3\.org/2000/svg\")", text)
    assert text.endswith("</svg>\n")


def test_every_dated_paper_is_drawn_once() -> None:
    data = dataset()
    dated = {
        found.ref
        for record in data.records
        if (found := row_facts(record, data.results).paper) is not None
    }
    drawn = marks(svg(data))
    # 63 arXiv papers (60 linked, 3 named by Semantic Scholar for DOI and ACL links),
    # 2 papers linked by DOI that only Semantic Scholar dates (SLM-RAG, H-ERNIE), and a
    # PMLR paper that its landing page dates (JSQ)
    assert len(dated) == 63
    assert len(drawn) == 66
    labels = Counter(label for label, *_ in drawn)
    assert labels["BiLLM"] == 1  # listed twice (Foundational Concepts and Quantization)
    assert labels["SqueezeLLM"] == 1
    jsq = [m for m in drawn if m[0] == "JSQ"]  # a PMLR paper: dated by its page
    assert len(jsq) == 1
    assert " · 2024-07 · " in jsq[0][1]
    assert max(labels.values()) == 1


def test_marks_stand_at_their_month() -> None:
    drawn = marks(svg(dataset()))
    by_month: dict[str, set[float]] = {}
    for _, tooltip, _, cx, _ in drawn:
        month = re.search(r" · (\d{4}-\d{2}) · ", tooltip)
        assert month, tooltip
        by_month.setdefault(month[1], set()).add(cx)
    assert all(len(xs) == 1 for xs in by_month.values())  # a month is one column
    xs = [next(iter(by_month[m])) for m in sorted(by_month)]
    assert xs == sorted(xs)
    assert len(set(xs)) == len(xs)
    dpo = [m for m in drawn if m[0] == "DPO"]
    assert len(dpo) == 1
    assert " · 2023-05 · " in dpo[0][1]  # listed as 2024: arXiv says 2023-05
    years = [
        t.text for t in svg(dataset()).iter(f"{NS}text") if re.fullmatch(r"\d{4}", t.text or "")
    ]
    assert years == ["2019", "2020", "2021", "2022", "2023", "2024"]


def test_marks_are_coloured_by_section_as_the_legend_says() -> None:
    root = svg(dataset())
    keys = legend(root)
    assert list(keys) == [
        "Foundational Concepts in Building Language Models (12)",
        "Advanced enhancement methods for SLM (18)",
        "Task-specific SLM Applications (25)",
        "On-device Deployment Optimization Techniques (11)",
    ]
    assert list(keys.values()) == list(PALETTE[:4])
    colour = {key.rsplit(" (", 1)[0]: fill for key, fill in keys.items()}
    drawn = marks(root)
    for _, tooltip, fill, _, _ in drawn:
        section = tooltip.split(" · ")[-1].split(" › ")[2]
        assert fill == colour[section], tooltip
    assert sum(int(k.rsplit("(", 1)[1][:-1]) for k in keys) == len(drawn)


def test_no_two_labels_share_a_lane_and_overlap() -> None:
    records = ordered(dataset())
    found = groups(records)
    facts = Facts(dataset().results)
    dates = [date_of(r, facts) for r in records]
    items = dated_marks(records, dates, facts, found.of)
    placed, lanes = pack(items, lambda month: 20 + (month - items[0].month + 0.5) * 13.5)
    assert lanes > 1
    spans: dict[int, list[tuple[float, float]]] = {}
    for p in placed:
        width = text_width(p.mark.name[:LABEL_LIMIT])
        span = (p.x - 8 - width, p.x + 4) if p.left else (p.x - 4, p.x + 8 + width)
        spans.setdefault(p.lane, []).append(span)
    for lane in spans.values():
        lane.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(lane))


def test_same_bytes_whatever_the_order_of_records_and_entities() -> None:
    data = dataset()
    text = render_timeline(data)
    assert render_timeline(data) == text
    shuffled_records = list(data.records)
    random.Random(7).shuffle(shuffled_records)
    entities = list(data.entities.items())
    random.Random(8).shuffle(entities)
    shuffled = data.model_copy(update={"records": shuffled_records, "entities": dict(entities)})
    assert render_timeline(shuffled) == text
    again = Dataset.model_validate_json(data.model_dump_json())  # cells' order lost, as on disk
    assert render_timeline(again) == text
    coordinates = [
        value
        for element in ET.fromstring(text).iter()
        for name, value in element.attrib.items()
        if name in ("x", "y", "cx", "cy", "r", "x1", "x2", "y1", "y2")
    ]
    assert len(coordinates) > 300
    assert all(re.fullmatch(r"\d+\.\d", value) for value in coordinates)  # one decimal


# ------------------------------------------------------------------------------ edge cases


def test_no_dated_papers() -> None:
    for data, detail in (
        (build.dataset([]), "The dataset has no rows."),
        (
            build.dataset([_row(3, "X", SECTION, _link(Kind.ARXIV, "2301.00001"))]),
            "1 row, none with a known first-published date yet",
        ),
    ):
        root = svg(data)
        assert marks(root) == []
        texts = [t.text or "" for t in root.iter(f"{NS}text")]
        assert texts[0] == "Papers by first-published month: no dated papers yet"
        assert texts[1].startswith(detail)
        assert root.get("viewBox") == "0 0 960.0 60.0"


def test_hostile_names_are_escaped_and_truncated() -> None:
    hostile = "<script>alert(1)</script> a < b & \"q\" 's' ]]> \x00\x1b\ud800\ufffe" + "x" * 10_000
    section = ["List", "<b>&amp;</b>" + "y" * 500]
    records = [
        _row(3, hostile, section, _link(Kind.ARXIV, "2301.00001")),
        _row(4, "", ["List", "Other"], _link(Kind.ARXIV, "2301.00002")),
    ]
    data = build.dataset(
        records,
        build.paper("2301.00001", published=MOMENT),
        build.paper("2301.00002", "<i>T</i> & co", MOMENT),
    )
    text = render_timeline(data)
    root = ET.fromstring(text)  # well-formed, whatever the names
    for markup in ("<script", "<b>", "<i>", "< b"):
        assert markup not in text
    assert all(element.tag != f"{NS}script" for element in root.iter())
    labels = [m[0] for m in marks(root)]
    assert labels[0].startswith("alert(1) a < b & \"q\" 's' ]]")  # tags dropped, as shown
    assert len(labels[0]) == LABEL_LIMIT
    assert labels[0].endswith("…")
    assert labels[1] == "<i>T</i> & co"  # no Method: the paper's title, as text
    assert all(len(t.text or "") <= 200 for t in root.iter(f"{NS}title"))
    assert any((k.startswith("<b>&amp;</b>yyy")) for k in legend(root))


def test_semantic_scholar_dates_when_there_is_no_arxiv_paper() -> None:
    records = [
        _row(3, "ViaArxiv", SECTION, _link(Kind.ARXIV, "2301.00001", "scholar:arxiv:2301.00001")),
        _row(4, "Dated", SECTION, _link(Kind.DOI, "10.1/a", "scholar:doi:10.1/a")),
        _row(5, "YearOnly", SECTION, _link(Kind.ACL, "2020.acl-1", "scholar:acl:2020.acl-1")),
        _row(6, "SameAsFirst", SECTION, _link(Kind.DOI, "10.1/b", "scholar:doi:10.1/b")),
    ]
    data = build.dataset(
        records,
        build.paper("2301.00001", published=datetime(2023, 1, 9, tzinfo=UTC)),
        _scholar("arxiv:2301.00001", publication_date=date(2024, 4, 1)),
        _scholar("doi:10.1/a", publication_date=date(2022, 7, 14), year=2022),
        _scholar("acl:2020.acl-1", year=2020),
        _scholar("doi:10.1/b", arxiv_id="2301.00001", publication_date=date(2024, 4, 1)),
    )
    root = svg(data)
    drawn = {label: tooltip for label, tooltip, *_ in marks(root)}
    assert drawn == {
        "ViaArxiv": "ViaArxiv · 2023-01 · List › Papers › Quantization",
        "Dated": "Dated · 2022-07 · List › Papers › Quantization",
        "YearOnly": "YearOnly · 2020 · List › Papers › Quantization",
    }  # SameAsFirst is the same arXiv paper, found through its Semantic Scholar record
    [hollow] = [c for c in root.iter(f"{NS}circle") if c.get("stroke")]
    assert hollow.get("fill") == "#ffffff"
    assert "hollow: only the year is known" in (root.find(f"{NS}desc").text or "")  # type: ignore[union-attr]


def test_sections_past_the_palette_share_one_grey() -> None:
    records = [
        _row(n, f"P{n}", ["List", "Papers", f"Section {n}"], _link(Kind.ARXIV, f"2301.{n:05d}"))
        for n in range(1, 14)
    ]
    data = build.dataset(
        records, *(build.paper(f"2301.{n:05d}", published=MOMENT) for n in range(1, 14))
    )
    keys = legend(svg(data))
    assert len(keys) == len(PALETTE)
    assert list(keys)[-1] == "Other sections (4)"
    assert keys["Other sections (4)"] == OTHER
    assert list(keys.values())[:-1] == list(PALETTE[:-1])


# ------------------------------------------------------------------------------ the document


def test_the_regenerated_document_shows_it_and_reads_back_as_the_seed(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / SEED.name).write_bytes(SEED.read_bytes())
    first = Settings(
        seeds=tmp_path / "seeds" / SEED.name,
        out=tmp_path / "out",
        cache=tmp_path / "cache",
        offline=True,
    )
    pipeline.run(first, sources=())
    out = tmp_path / "out" / SEED.name
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[41].startswith("![Timeline of Small Language Models](../seeds/images/")
    assert re.fullmatch(r'<img src="timeline\.svg" alt="[^"]+"> <!-- enrich -->', lines[42])
    assert text.count("timeline.svg") == 1
    ET.fromstring((tmp_path / "out" / "timeline.svg").read_text(encoding="utf-8"))
    # Used as a seed, it gives the same rows, and the same outputs: one figure line, not two.
    again = resolve(parse(text, "out/slm-survey.md")).records
    seed = resolve(seed_document()).records
    assert [(r.id, r.cells, r.links) for r in again] == [(r.id, r.cells, r.links) for r in seed]
    second = replace(first, seeds=out, out=tmp_path / "again")
    pipeline.run(second, sources=())
    for name in (SEED.name, "timeline.svg"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "out" / name).read_bytes()


def test_the_figure_line_goes_after_the_figure_else_the_first_heading_else_first() -> None:
    def lines(source: str) -> list[str]:
        return render_document(parse(source), timeline="timeline.svg").splitlines()

    fence = "```\n![timeline](t.png)\n```\n"
    assert lines(f"{fence}# A\n\n![Timeline](img/t.png)\ntext\n")[6].startswith("<img")
    assert lines(f"{fence}text\n## A\n## B\n")[5].startswith("<img")  # no figure: 1st heading
    assert lines("text\n\n| a |\n|---|\n| x |\n")[0].startswith("<img")  # nothing: first
    assert lines("text\n# A")[0].startswith("<img")  # an anchor must end its line
    crlf = render_document(parse("# A\r\nb\r\n"), timeline="timeline.svg")
    assert crlf.split("\r\n")[1].endswith("<!-- enrich -->")


def test_the_figure_line_is_recognised_and_dropped_but_not_in_code() -> None:
    source = "# A\n\n| a |\n|---|\n| [p](https://arxiv.org/abs/2301.00001) |\n"
    regenerated = render_document(parse(source), timeline="timeline.svg")
    document = parse(regenerated)
    assert document.generated_lines == frozenset({2})
    assert render_document(document) == source
    assert render_document(document, timeline="timeline.svg") == regenerated
    assert [r.cells for r in resolve(document).records] == [
        r.cells for r in resolve(parse(source)).records
    ]
    in_code = "```\n![x](timeline.svg) <!-- enrich -->\n```\n"
    assert parse(in_code).generated_lines == frozenset()
    assert render_document(parse(in_code)) == in_code


def test_golden_document_references_the_timeline_once() -> None:
    golden = (Path(__file__).parent / "data" / "golden" / "slm-survey.md").read_text("utf-8")
    assert golden.count('<img src="timeline.svg" ') == 1
    assert parse(golden, SEED_PATH).generated_lines == frozenset({43})
