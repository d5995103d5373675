"""`output/index.html`, the browsable page: what it holds, that nothing can break out of it,
and how it behaves in a real headless browser.

The browser tests drive Debian's chromium (`apt-get install chromium`, as `.ci/run` does)
with Playwright's Python package (the `test` extra); they skip, saying why, when either is
missing. Any page error or console error fails them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from enrich.artifacts import facts_and_references
from enrich.bib import published_keys
from enrich.columns import Facts
from enrich.history import History, Point, read_history
from enrich.jsonout import render_json
from enrich.metadata import Author, HubMeta, PageMeta, RepoMeta, ScholarMeta
from enrich.models import PAPER_KINDS, Dataset, Kind, Link, Result, RowRecord, Status
from enrich.page import json_for_script, link_kinds, plain, render_page, row_data, safe_url
from enrich.trends import Trends
from tests import builders as build
from tests.conftest import ROOT
from tests.test_render import dataset as golden_dataset

MOMENT = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
HOSTILE = "</script><script>alert(1)</script><!-- x | y\nz\u2028w &amp; <b>"
DATA_BLOCK = re.compile(r'<script type="application/json" id="data">(.*?)</script>', re.S)

# --------------------------------------------------------------------------- a small dataset


def result(ref: str, data: Any, status: Status = Status.OK) -> Result:
    return build.result(ref, data, status, fetched_at=MOMENT)


def arxiv(key: str) -> Link:
    url = f"https://arxiv.org/abs/{key}"
    return build.link(url, Kind.ARXIV, key, column="Paper", also=[f"scholar:arxiv:{key}"])


def github(name: str) -> Link:
    return build.link(f"https://github.com/{name}", Kind.GITHUB_REPO, name.lower())


def hf(name: str) -> Link:
    url = f"https://huggingface.co/{name}"
    return build.link(url, Kind.HF_MODEL, name, column="Model Card")


def record(method: str, section: list[str], links: list[Link], year: str = "2024") -> RowRecord:
    cells = {"Method": method, "Year": year, "Paper": "", "Code": ""}
    rid = links[0].id.ref if links else method.lower()
    return build.record(*links, id=rid, file="seeds/x.md", line=0, section=section, cells=cells)


QUANT = ["Survey", "Methods", "Quantization"]
DISTIL = ["Survey", "Methods", "Distillation"]
APPS = ["Survey", "Applications"]


def small() -> Dataset:
    """Five rows over three sections: stars, downloads, citations, a stale value, gaps."""
    records = [
        record("SqueezeLLM", QUANT, [arxiv("2306.07629"), github("SqueezeAILab/SqueezeLLM")]),
        record("AWQ", QUANT, [arxiv("2306.00978"), github("mit-han-lab/llm-awq")]),
        record("TinyLlama", DISTIL, [arxiv("2401.02385"), hf("TinyLlama/TinyLlama-1.1B")]),
        record("Gemma Coder", APPS, [hf("google/codegemma-7b")], year=""),
        record("Plain row", APPS, []),
    ]
    entities = {
        "arxiv:2306.07629": result(
            "arxiv:2306.07629",
            build.paper_meta("2306.07629", "Dense-and-Sparse Quantization", MOMENT, ["Sehoon Kim"]),
        ),
        "arxiv:2306.00978": result(
            "arxiv:2306.00978",
            build.paper_meta(
                "2306.00978",
                "Activation-aware Weight Quantization",
                datetime(2023, 6, 1, tzinfo=UTC),
                ["Ji Lin", "Song Han"],
            ),
        ),
        "scholar:arxiv:2306.00978": result(
            "scholar:arxiv:2306.00978", ScholarMeta(paper_id="p1", citations=1_500)
        ),
        "scholar:arxiv:2401.02385": result(
            "scholar:arxiv:2401.02385",
            ScholarMeta(
                paper_id="p2",
                title="TinyLlama: An Open-Source Small Language Model",
                authors=[Author(name="Peiyuan Zhang")],
                publication_date=date(2024, 1, 4),
                citations=300,
            ),
        ),
        "github_repo:squeezeailab/squeezellm": result(
            "github_repo:squeezeailab/squeezellm",
            RepoMeta(full_name="SqueezeAILab/SqueezeLLM", stars=640),
        ),
        "github_repo:mit-han-lab/llm-awq": result(
            "github_repo:mit-han-lab/llm-awq",
            RepoMeta(full_name="mit-han-lab/llm-awq", stars=12_345),
            Status.STALE,
        ),
        "hf_model:TinyLlama/TinyLlama-1.1B": result(
            "hf_model:TinyLlama/TinyLlama-1.1B",
            HubMeta(hub_kind="model", id="TinyLlama/TinyLlama-1.1B", downloads=1_234_567),
        ),
        "hf_model:google/codegemma-7b": result(
            "hf_model:google/codegemma-7b",
            HubMeta(hub_kind="model", id="google/codegemma-7b", downloads=90),
        ),
    }
    return Dataset(seeds=["seeds/x.md"], records=records, entities=entities, diagnostics=[])


def hostile() -> Dataset:
    """Untrusted strings everywhere a string goes, and links that are not http(s)."""
    evil = [
        build.link("javascript:alert(1)", Kind.GITHUB_REPO, "evil/js", column="Code"),
        build.link(
            "data:text/html,<script>alert(1)</script>", Kind.HF_MODEL, "e/d", column="Model Card"
        ),
        build.link("https://arxiv.org/abs/2306.07629", Kind.ARXIV, "2306.07629", column="Paper"),
    ]
    row = record(HOSTILE, [HOSTILE, "ok"], evil, year=HOSTILE)
    meta = build.paper_meta("2306.07629", HOSTILE, MOMENT, [HOSTILE])
    entities = {"arxiv:2306.07629": result("arxiv:2306.07629", meta)}
    return Dataset(seeds=[HOSTILE], records=[row], entities=entities, diagnostics=[])


def data_of(page: str) -> dict[str, Any]:
    [block] = DATA_BLOCK.findall(page)
    value: dict[str, Any] = json.loads(block)
    return value


def rows_of(page: str) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in data_of(page)["rows"]}


# --------------------------------------------------------------------------- the page's text


def test_the_same_dataset_gives_the_same_bytes() -> None:
    data = small()
    page = render_page(data)
    assert render_page(data) == page
    assert render_page(Dataset.model_validate_json(render_json(data))) == page
    assert "<!doctype html>" in page
    assert page.endswith("</html>\n")


def test_the_page_does_not_depend_on_the_hash_seed() -> None:
    """Regression: the paper link was chosen by iterating a frozenset of kinds, whose order
    changes from one process to the next, so a row with an arXiv and a Hub paper link
    linked either one."""
    code = (
        "import sys; from enrich.models import Dataset; from enrich.page import render_page;"
        "sys.stdout.write(render_page(Dataset.model_validate_json(sys.stdin.buffer.read())))"
    )
    source = (ROOT / "output" / "enriched.json").read_bytes()
    pages = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=source,
            capture_output=True,
            check=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "src")},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(pages) == 1


def test_every_row_is_in_the_page_in_seed_order() -> None:
    data = golden_dataset()
    rows = data_of(render_page(data))["rows"]
    assert [r["id"] for r in rows] == [r.id for r in data.records]


def test_a_row_shows_the_facts_of_its_entities() -> None:
    rows = rows_of(render_page(small()))
    awq, tiny, squeeze = rows["AWQ"], rows["TinyLlama"], rows["SqueezeLLM"]
    assert awq["title"] == "Activation-aware Weight Quantization"
    assert awq["authors"] == "Ji Lin, Song Han"
    assert awq["paper"] == "https://arxiv.org/abs/2306.00978"
    assert awq["stars"] == {"n": 12_345, "text": "12.3k†"}  # stale: the last known value
    assert awq["citations"] == {"n": 1_500, "text": "1.5k"}
    assert awq["published"] == {"sort": "2023-06-01", "text": "2023-06-01"}
    assert awq["code"] == {
        "url": "https://github.com/mit-han-lab/llm-awq",
        "text": "mit-han-lab/llm-awq",
    }
    assert awq["model"] is None
    assert awq["section"] == "Methods › Quantization"  # the headings all rows share dropped
    assert awq["year"] == "2024"
    # No arXiv facts: title, authors and date from Semantic Scholar.
    assert tiny["title"] == "TinyLlama: An Open-Source Small Language Model"
    assert tiny["published"]["sort"] == "2024-01-04"
    assert tiny["downloads"] == {"n": 1_234_567, "text": "1.2M"}
    assert tiny["model"]["text"] == "TinyLlama/TinyLlama-1.1B"
    assert squeeze["stars"]["text"] == "640"
    assert squeeze["citations"] is None
    assert rows["Plain row"]["title"] == ""
    assert rows["Plain row"]["kinds"] == []


def test_a_pmlr_paper_shows_what_its_landing_page_says() -> None:
    pmlr = build.link(
        "https://proceedings.mlr.press/v235/guo24g.html", Kind.PMLR, "v235/guo24g", column="Paper"
    )
    page = PageMeta(
        title="Compressing Large Language Models by Joint Sparsification and Quantization",
        authors=[Author(name="Jinyang Guo"), Author(name="Jianyu Wu")],
        year=2024,
        publication_date=date(2024, 7, 8),
        url="https://proceedings.mlr.press/v235/guo24g.html",
    )
    row = row_data(record("JSQ", QUANT, [pmlr]), Facts({pmlr.id: result(pmlr.id.ref, page)}))
    assert row["title"] == page.title
    assert row["authors"] == "Jinyang Guo, Jianyu Wu"
    assert row["published"] == {"sort": "2024-07-08", "text": "2024-07-08"}
    assert row["paper"] == "https://proceedings.mlr.press/v235/guo24g.html"


def test_a_paper_without_facts_shows_its_identifier() -> None:
    rows = data_of(render_page(Dataset.model_validate(small().model_dump() | {"entities": {}})))
    assert rows["rows"][0]["title"] == "arxiv:2306.07629"
    assert rows["rows"][0]["stars"] is None


def test_section_choices_include_parents_and_rows_belong_to_them() -> None:
    data = data_of(render_page(small()))
    sections = data["sections"]
    assert sections == [
        "Methods",
        "Methods › Quantization",
        "Methods › Distillation",
        "Applications",
    ]
    by_name = {r["name"]: [sections[i] for i in r["in"]] for r in data["rows"]}
    assert by_name["AWQ"] == ["Methods", "Methods › Quantization"]
    assert by_name["Plain row"] == ["Applications"]


def test_kinds_come_from_the_link_kinds() -> None:
    data = small()
    assert [link_kinds(r) for r in data.records] == [
        ["paper", "code"],
        ["paper", "code"],
        ["paper", "model"],
        ["model"],
        [],
    ]
    assert data_of(render_page(data))["kinds"] == ["paper", "code", "model"]


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://github.com/a/b", True),
        ("http://example.org/x?y=1#z", True),
        ("HTTPS://EXAMPLE.ORG", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html,x", False),
        ("vbscript:x", False),
        ("//example.org/x", False),
        ("/relative", False),
        ("https://", False),
        ("https://exa mple.org", False),
        ("http://[::1", False),
        ("", False),
        (None, False),
    ],
)
def test_only_absolute_http_links_are_kept(url: str | None, kept: bool) -> None:
    assert (safe_url(url) == url) if kept else safe_url(url) is None


def test_plain_drops_markup_and_keeps_words() -> None:
    assert (
        plain("**Bold** [name](https://x.org) `code` <b>tag</b> a\\|b") == "Bold name code tag a|b"
    )
    assert plain("line\nbreak") == "line break"


def test_json_in_a_script_cannot_close_it_or_open_a_comment() -> None:
    text = json_for_script({"k": HOSTILE})
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"k": HOSTILE}


def test_hostile_strings_stay_data() -> None:
    page = render_page(hostile())
    assert page.count("<script") == 2  # the data block and the page's own script
    assert page.count("</script>") == 2
    assert "<!--" not in page
    assert "\u2028" not in page
    assert "javascript:" not in page.lower()
    assert "data:text" not in page
    [row] = data_of(page)["rows"]
    flat = " ".join(HOSTILE.replace("\u2028", " ").split())  # one line, as everywhere
    assert row["name"] == plain(HOSTILE)
    assert row["title"] == flat
    assert row["authors"] == flat
    assert row["code"] is None  # a javascript: link is dropped
    assert row["model"] is None  # so is a data: one
    assert row["paper"] == "https://arxiv.org/abs/2306.07629"
    assert "&lt;/script&gt;" in page  # the seed's name in the summary is HTML-escaped


def test_the_policy_allows_exactly_the_page_s_own_script_and_style() -> None:
    page = render_page(small())
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert script
    assert style
    for directive, body in (("script-src", script[1]), ("style-src", style[1])):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy[1]
    assert policy[1].startswith("default-src 'none'")


def test_the_committed_page_is_the_committed_dataset() -> None:
    committed = Dataset.model_validate_json((ROOT / "output" / "enriched.json").read_bytes())
    references = ROOT / "output" / "references.bib"
    published = published_keys(references.read_text("utf-8")) if references.exists() else {}
    facts, bib = facts_and_references(committed, published)
    history = Trends.of(read_history(ROOT / "output"))
    page = render_page(committed, facts.with_trends(history), bib.texts())
    assert (ROOT / "output" / "index.html").read_text(encoding="utf-8") == page


AS_OF = date(2024, 3, 1)


def with_history(data: Dataset) -> Facts:
    """`data`'s facts with a history: every repository 45 days ago had fewer stars (by 7 per
    place in ref order), so each has a 30-day trend and a sparkline."""
    points = []
    repos = [(ident, r.data) for ident, r in sorted(data.results.items(), key=lambda e: e[0].ref)]
    for place, (ident, meta) in enumerate(m for m in repos if isinstance(m[1], RepoMeta)):
        then = max(meta.stars - 7 * place, 0)
        points += [
            Point(AS_OF - timedelta(days=45), ident, "stars", str(then)),
            Point(AS_OF, ident, "stars", str(meta.stars)),
        ]
    ordered = sorted(points, key=lambda p: (p.day, p.id.ref, p.field))
    return Facts(data.results, trends=Trends.of(History(tuple(ordered))))


def test_a_row_carries_its_trends_flags_and_sparkline() -> None:
    data = golden_dataset()
    rows = rows_of(render_page(data, with_history(data)))
    awq = rows["AWQ"]
    assert awq["stars_trend"]["n"] > 0
    assert awq["stars_trend"]["text"].startswith("+")
    assert awq["downloads_trend"] is None  # no Hub entity has a history here
    assert re.fullmatch(r"0\.0,[0-9.]+ [0-9.]+,[0-9.]+ 80\.0,1\.0", awq["spark"])
    assert {tuple(r["status"]) for r in rows.values()} > {()}
    plain_rows = rows_of(render_page(data))
    assert plain_rows["AWQ"]["spark"] == ""
    assert plain_rows["AWQ"]["stars_trend"] is None


# --------------------------------------------------------------------------- a real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no playwright: `pip install playwright` (the test extra installs it)")
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    executable = found or "/usr/bin/chromium"
    if not Path(executable).is_file():
        pytest.skip("no chromium: `apt-get install chromium` (.ci/run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


class Opened:
    """A page loaded from a file, with every page error, console error, dialog and request."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.set_default_timeout(15_000)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.url = path.as_uri()
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visible(self, column: int = 0) -> list[str]:
        """The text of cell `column` of every visible row, top to bottom."""
        texts: list[str] = self.page.eval_on_selector_all(
            "#rows tr:not([hidden])", f"rows => rows.map(r => r.cells[{column}].textContent)"
        )
        return texts

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def opened(browser: Any, tmp_path: Path) -> Iterator[Any]:
    pages: list[Opened] = []

    def open_(html: str, name: str = "index.html") -> Opened:
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        pages.append(Opened(browser, path))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


def numbers(texts: list[str]) -> list[float]:
    scale = {"k": 1e3, "M": 1e6, "B": 1e9}
    return [float(t.rstrip("†kMB")) * scale.get(t.rstrip("†")[-1:], 1) for t in texts]


def test_search_sort_and_filter_in_a_browser(opened: Any, tmp_path: Path) -> None:
    data = golden_dataset()
    view = opened(render_page(data))
    page, total = view.page, len(data.records)
    assert len(view.visible()) == total
    assert page.text_content("#count") == f"{total} of {total} rows shown"

    page.fill("#q", "quantization")
    expected = [r["name"] for r in data_of(render_page(data))["rows"] if matches(r, "quantization")]
    assert 0 < len(expected) < total
    assert view.visible() == expected
    page.fill("#q", "BITNET")  # case-insensitive
    assert set(view.visible()) == {"BitNet", "BitNet b1.58"}
    page.fill("#q", "")
    assert len(view.visible()) == total

    stars = page.locator("th", has=page.locator("button[data-sort=stars]"))
    page.click("button[data-sort=stars]")
    assert stars.get_attribute("aria-sort") == "descending"
    shown = [t for t in view.visible(5) if t]
    assert len(shown) > 5
    assert numbers(shown) == sorted(numbers(shown), reverse=True)
    assert all(view.visible(5)[: len(shown)])  # rows without stars come last
    page.click("button[data-sort=stars]")
    assert stars.get_attribute("aria-sort") == "ascending"
    shown = [t for t in view.visible(5) if t]
    assert numbers(shown) == sorted(numbers(shown))
    page.click("button[data-sort=published]")
    assert stars.get_attribute("aria-sort") is None
    dates = [t.rstrip("†") for t in view.visible(4) if t]
    assert dates == sorted(dates, reverse=True)

    page.select_option("#section", label="Advanced enhancement methods for SLM")
    in_section = view.visible(2)
    assert 0 < len(in_section) < total
    assert all(s.startswith("Advanced enhancement methods for SLM › ") for s in in_section)
    page.select_option("#kind", "model")
    with_model = view.visible(9)
    assert 0 < len(with_model) < len(in_section)
    assert all(with_model)
    assert page.text_content("#count") == f"{len(with_model)} of {total} rows shown"
    page.select_option("#section", "")
    page.select_option("#kind", "")
    assert len(view.visible()) == total

    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.is_file()
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert shot.stat().st_size > 10_000
    assert view.errors == []
    assert view.requests == [view.url]  # nothing fetched but the page itself


def test_sparklines_trend_sort_and_status_filter_in_a_browser(opened: Any) -> None:
    data = golden_dataset()
    html = render_page(data, with_history(data))
    rows = data_of(html)["rows"]
    view = opened(html)
    page, total = view.page, len(data.records)
    lines = page.eval_on_selector_all(
        "#rows td.spark svg polyline", "lines => lines.map(l => l.getAttribute('points'))"
    )
    assert lines == [r["spark"] for r in rows if r["spark"]]
    assert len(lines) > 5

    page.click("button[data-sort=stars_trend]")
    shown = [t for t in view.visible(10) if t]
    assert len(shown) == len([r for r in rows if r["stars_trend"]])
    assert numbers(shown) == sorted(numbers(shown), reverse=True)
    assert all(view.visible(10)[: len(shown)])  # rows without a trend come last
    page.click("button[data-sort=stars_trend]")
    assert numbers([t for t in view.visible(10) if t]) == sorted(numbers(shown))

    flags = data_of(html)["statuses"]
    assert flags
    for flag in flags:
        page.select_option("#status", flag)
        expected = {r["name"] for r in rows if flag in r["status"]}
        assert set(view.visible()) == expected
        assert all(flag in text.split(", ") for text in view.visible(13))
    page.select_option("#status", "")
    assert len(view.visible()) == total
    assert view.errors == []
    assert view.requests == [view.url]


def matches(row: dict[str, Any], word: str) -> bool:
    return any(word in (row[k] or "").lower() for k in ("name", "title", "section", "authors"))


def test_hostile_data_is_shown_as_text_and_runs_nothing(opened: Any) -> None:
    view = opened(render_page(hostile()))
    page = view.page
    assert view.visible() == [plain(HOSTILE)]
    assert page.locator("script").count() == 2
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert hrefs == ["https://arxiv.org/abs/2306.07629"]
    assert view.dialogs == []
    assert view.errors == []


def test_the_committed_page_loads_every_row(browser: Any) -> None:
    data = Dataset.model_validate_json((ROOT / "output" / "enriched.json").read_bytes())
    view = Opened(browser, ROOT / "output" / "index.html")
    try:
        assert len(view.visible()) == len(data.records)
        assert view.errors == []
    finally:
        view.close()


def test_a_script_error_would_fail_these_tests(opened: Any) -> None:
    """The harness sees errors: a script that throws, and a script the policy refuses."""
    throws = opened("<!doctype html><title>t</title><script>null.x;</script>", "throws.html")
    assert [e for e in throws.errors if e.startswith("page error:")], throws.errors
    page = render_page(small()).replace('"use strict";', '"use strict"; null.x;', 1)
    tampered = opened(page, "tampered.html")  # its hash no longer matches: not run at all
    assert [e for e in tampered.errors if "Content Security Policy" in e], tampered.errors
    assert tampered.visible() == []


def with_references(data: Dataset) -> tuple[str, dict[str, str]]:
    """The page of `data` as a run writes it, and each row's BibTeX (by row id)."""
    facts, bib = facts_and_references(data, {})
    texts = bib.texts()
    rows = {r.id: "".join(texts[k] for k in bib.rows.get(r.id, ())) for r in data.records}
    return render_page(data, facts, texts), rows


def test_each_row_with_a_paper_carries_its_bibtex_entries() -> None:
    data = small()
    page, expected = with_references(data)
    rows = data_of(page)["rows"]
    assert [r["bib"] for r in rows] == [expected[r.id] for r in data.records]
    assert rows[0]["bib"].startswith("@misc{")
    with_paper = [any(k.kind in PAPER_KINDS for k in r.links) for r in data.records]
    assert [bool(r["bib"]) for r in rows] == with_paper
    assert not all(with_paper)


@pytest.mark.parametrize("clipboard_api", [True, False])
def test_copy_bibtex_puts_the_row_s_entries_on_the_clipboard(
    browser: Any, tmp_path: Path, clipboard_api: bool
) -> None:
    data = small()
    page_text, expected = with_references(data)
    path = tmp_path / "index.html"
    path.write_text(page_text, encoding="utf-8")
    view, clipboard = Opened(browser, path), Opened(browser, path)  # the clipboard is shared
    try:
        clipboard.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        clipboard.page.evaluate("navigator.clipboard.writeText('nothing copied yet')")
        view.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        if not clipboard_api:  # a browser without it: the page copies from a text area
            view.page.evaluate("delete Navigator.prototype.clipboard")
        buttons = view.page.locator("#rows tr td.bib button")
        assert buttons.count() == sum(1 for r in data.records if expected[r.id])
        row = next(i for i, r in enumerate(data.records) if expected[r.id])
        button = view.page.locator("#rows tr").nth(row).locator("td.bib button")
        button.click()
        view.page.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
        pasted = clipboard.page.evaluate("navigator.clipboard.readText()")
        assert pasted == expected[data.records[row].id]
        assert view.errors == []
        assert view.requests == [view.url]
    finally:
        view.close()
        clipboard.close()
