"""Paper landing pages as PMLR and OpenReview serve them: HTML with Highwire Press tags.

`GET /v<N>/<slug>.html` is a PMLR proceedings page (static, from GitHub Pages: mlresearch's
Jekyll template puts the `citation_*` tags in the head: title, an author each, the volume's
publication date as `YYYY/MM/DD`, the proceedings' title, volume, pages, the PDF).
`GET /forum?id=<id>` is an OpenReview forum page (a Next.js app: title, authors,
`citation_online_date`, the PDF, abstract and conference title, and a script block carrying
the page's data, with tags of its own written inside it, which a reader must not take for
the page's). An unknown page answers 404 with the site's HTML error page.

Values are HTML-escaped as the real templates escape them, so whatever a test registers
(markup, newlines, quotes, huge strings) reaches the client as text. `title=None` leaves
the title tag out, as a login or error page would.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .fixtures import Facts
from .wire import Reply, Request

Site = Literal["pmlr", "openreview"]
PMLR_PATH = re.compile(r"^/(v\d+)/([A-Za-z0-9_-]+)\.html$")
CONTENT_TYPE = "text/html; charset=utf-8"
_FIRST = ("Alma", "Bruno", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas")
_LAST = ("Abara", "Berg", "Costa", "Dubois", "Eriksen", "Fujita", "Gupta", "Horvat", "Ito")
_VENUES = (
    "Proceedings of the 40th International Conference on Machine Learning",
    "Proceedings of The 27th International Conference on Artificial Intelligence and Statistics",
    "The Twelfth International Conference on Learning Representations",
    "Transactions on Machine Learning Research",
)


@dataclass
class LandingPage:
    """A paper's landing page as the fake serves it."""

    site: Site
    key: str  # PMLR: "v235/guo24g"; OpenReview: the forum id
    title: str | None  # None: no citation_title tag
    authors: list[str]
    date: str | None  # as the date tag says it, e.g. "2024/07/08"
    venue: str | None = None
    venue_tag: str = "citation_conference_title"  # or citation_journal_title
    date_tag: str | None = None  # None: the site's own (see `date_name`)
    pdf_url: str | None = None
    abstract: str = ""
    extra_head: str = ""  # raw HTML at the end of the head (tests: hostile markup)
    extra_body: str = ""
    charset: str = "utf-8"  # what the Content-Type header names (tests: hostile values)

    @property
    def date_name(self) -> str:
        default = "citation_publication_date" if self.site == "pmlr" else "citation_online_date"
        return self.date_tag or default

    def html(self) -> str:
        return _pmlr(self) if self.site == "pmlr" else _openreview(self)


def default_page(site: Site, key: str, **fields: Any) -> LandingPage:
    """Deterministic facts for a landing page; `fields` override them."""
    facts = Facts("landing", site, key)
    authors = [
        f"{facts.choice(f'first{i}', _FIRST)} {facts.choice(f'last{i}', _LAST)}"
        for i in range(facts.num("authors", 1, 4))
    ]
    year = facts.num("year", 2019, 2025)
    date = f"{year}/{facts.num('month', 1, 12):02d}/{facts.num('day', 1, 28):02d}"
    slug = key.rsplit("/", 1)[-1]
    pdf = (
        f"https://proceedings.mlr.press/{key}/{slug}.pdf"
        if site == "pmlr"
        else f"https://openreview.net/pdf?id={key}"
    )
    page = LandingPage(
        site=site,
        key=key,
        title=f"Paper {slug}",
        authors=authors,
        date=date,
        venue=facts.choice("venue", _VENUES),
        pdf_url=pdf,
        abstract=f"The abstract of {slug}.",
    )
    for name, value in fields.items():
        setattr(page, name, value)
    return page


# The seed's PMLR paper, with its real facts (PMLR volume 235 is ICML 2024, published on
# 2024-07-08), so that a run against the fake finds what a run against the real site finds.
KNOWN: dict[tuple[Site, str], dict[str, Any]] = {
    ("pmlr", "v235/guo24g"): {
        "title": "Compressing Large Language Models by Joint Sparsification and Quantization",
        "authors": [
            "Jinyang Guo",
            "Jianyu Wu",
            "Zining Wang",
            "Jiaheng Liu",
            "Ge Yang",
            "Yifu Ding",
            "Ruihao Gong",
            "Haotong Qin",
            "Xianglong Liu",
        ],
        "date": "2024/07/08",
        "venue": "Proceedings of the 41st International Conference on Machine Learning",
        "pdf_url": "https://raw.githubusercontent.com/mlresearch/v235/main/assets/guo24g/guo24g.pdf",
    },
}


class LandingAPI:
    """The pages by (site, key), and the routes of both sites."""

    def __init__(self) -> None:
        self.pages: dict[tuple[Site, str], LandingPage] = {}
        # (site, key) -> Location of a 302, as OpenReview sends an original to its blind
        # submission's forum (a relative or absolute URL)
        self.redirects: dict[tuple[Site, str], str] = {}

    def add(self, page: LandingPage) -> None:
        self.pages[page.site, page.key] = page

    def route(self, request: Request) -> Reply:
        if request.method not in ("GET", "HEAD"):
            return page_reply(405, "<h1>405 Method Not Allowed</h1>")
        pmlr = PMLR_PATH.match(request.path)
        where: tuple[Site, str]
        if pmlr is not None:
            where = ("pmlr", f"{pmlr[1]}/{pmlr[2]}")
        elif request.path.rstrip("/") == "/forum":
            where = ("openreview", request.arg("id") or "")
        else:
            return not_found(request)
        if where in self.redirects:
            location = self.redirects[where]
            return Reply(302, [("Location", location), ("Content-Type", CONTENT_TYPE)], b"")
        found = self.pages.get(where)
        if found is None:
            return not_found(request)
        return page_reply(200, found.html(), f"text/html; charset={found.charset}")


def page_reply(status: int, text: str, content_type: str = CONTENT_TYPE) -> Reply:
    return Reply(status, [("Content-Type", content_type)], text.encode(), server="GitHub.com")


def not_found(request: Request) -> Reply:
    """The site's 404 page: GitHub Pages' for PMLR, the app's for OpenReview."""
    if request.path.startswith("/forum"):
        return page_reply(
            404,
            "<!DOCTYPE html><html><head><title>Error | OpenReview</title>"
            "</head><body><h1>Error 404</h1><p>Not Found</p></body></html>",
        )
    return page_reply(
        404,
        "<!DOCTYPE html><html><head><title>Page not found &middot; GitHub Pages</title>"
        "</head><body><h1>404</h1><p><strong>File not found</strong></p></body></html>",
    )


def error_page(status: int, reason: str) -> Reply:
    return page_reply(
        status,
        f"<html><head><title>{status} {reason}</title></head>"
        f"<body><h1>{status} {reason}</h1></body></html>",
    )


def malformed() -> Reply:
    """A page cut in the middle of its head: no title tag made it."""
    return page_reply(200, '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta name="citation_tit')


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _tags(page: LandingPage, extra: Sequence[tuple[str, str]] = ()) -> str:
    tags: list[tuple[str, str]] = []
    if page.title is not None:
        tags.append(("citation_title", page.title))
    tags += [("citation_author", name) for name in page.authors]
    if page.date is not None:
        tags.append((page.date_name, page.date))
    if page.venue is not None:
        tags.append((page.venue_tag, page.venue))
    tags += extra
    if page.pdf_url is not None:
        tags.append(("citation_pdf_url", page.pdf_url))
    return "".join(f'  <meta name="{name}" content="{_e(value)}">\n' for name, value in tags)


def _pmlr(page: LandingPage) -> str:
    volume = page.key.partition("/")[0]
    extra = [("citation_issn", "2640-3498"), ("citation_volume", volume.removeprefix("v"))]
    title = _e(page.title or "")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        f"  <title>{title}</title>\n"
        f"{_tags(page, extra)}"
        f'  <meta name="description" content="{_e(page.abstract)}">\n'
        f"{page.extra_head}</head>\n<body>\n"
        f'  <div id="content">\n    <h1>{title}</h1>\n'
        f'    <span class="authors">{_e(", ".join(page.authors))}</span>\n'
        f'    <div id="abstract" class="abstract">{_e(page.abstract)}</div>\n'
        f'    <a href="{_e(page.pdf_url or "")}">Download PDF</a>\n'
        f"  </div>\n{page.extra_body}</body>\n</html>\n"
    )


def _openreview(page: LandingPage) -> str:
    title = _e(page.title or "Forum")
    # The app's data travels in scripts, markup included: text to a parser, not tags.
    script = (
        f'self.__next_f.push([1,"{{\\"forumNote\\":{{\\"id\\":\\"{_e(page.key)}\\"}}}}"]);'
        "document.head.insertAdjacentHTML('beforeend',"
        '\'<meta name="citation_title" content="not this one">\')'
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{title} | OpenReview</title>"
        f'<meta name="description" content="{_e(page.abstract)}"/>\n'
        f"{_tags(page, [('citation_abstract', page.abstract)])}"
        f'<meta property="og:title" content="{title}"/>'
        f"{page.extra_head}</head><body>"
        f'<div id="__next"><main><h2 class="citation_title">{title}</h2></main></div>'
        f"<script>{script}</script>"
        f"{page.extra_body}</body></html>"
    )
