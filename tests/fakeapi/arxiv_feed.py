"""`GET /api/query` in the 2026 arXiv Atom format.

Shapes follow the recordings in `shared/api-samples/arxiv/` (element order included): unknown
ids drop out silently (200, `totalResults` counts only what was found), a malformed id answers
400 with a one-entry error feed, a versioned id returns that version or nothing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from .fixtures import Paper, split_arxiv_id
from .wire import Reply, Request, iso_z

CONTENT_TYPE = "application/atom+xml; charset=UTF-8"
_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
)


def _now() -> str:
    return iso_z(datetime.now(UTC))


def _reply(status: int, xml: str) -> Reply:
    return Reply(status, [("Content-Type", CONTENT_TYPE)], xml.encode(), server="Apache")


def _opensearch(per_page: int, total: int, start: int) -> str:
    return (
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
    )


def error_feed(message: str, key: str) -> str:
    """The 400 body: one `<entry>` whose title is `Error` (see id_list_malformed_abc_error_400)."""
    url = f"https://arxiv.org/api/errors#{key}"
    now = _now()
    return (
        f"{_HEAD}  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n"
        f"  <updated>{now}</updated>\n{_opensearch(1, 1, 0)}  <entry>\n"
        f"    <id>{escape(url)}</id>\n    <title>Error</title>\n    <updated>{now}</updated>\n"
        f'    <link href={quoteattr(url)} rel="alternate" type="text/html"/>\n'
        f"    <summary>{escape(message)}</summary>\n"
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n  </entry>\n</feed>\n"
    )


def _entry(paper: Paper, version: int) -> str:
    vid = f"{paper.arxiv_id}v{version}"
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{escape(paper.title)}</title>",
        f"    <updated>{iso_z(paper.updated if version == paper.version else paper.published)}"
        "</updated>",
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf"'
        ' title="pdf"/>',
        f"    <summary>{escape(paper.summary)}</summary>",
    ]
    lines += [
        f'    <category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>'
        for c in paper.categories
    ]
    lines.append(f"    <published>{iso_z(paper.published)}</published>")
    if paper.comment is not None:
        lines.append(f"    <arxiv:comment>{escape(paper.comment)}</arxiv:comment>")
    lines.append(f"    <arxiv:primary_category term={quoteattr(paper.primary_category)}/>")
    if paper.journal_ref is not None:
        lines.append(f"    <arxiv:journal_ref>{escape(paper.journal_ref)}</arxiv:journal_ref>")
    for author in paper.authors:
        lines += ["    <author>", f"      <name>{escape(author.name)}</name>"]
        if author.affiliation:
            affiliation = escape(author.affiliation)
            lines.append(f"      <arxiv:affiliation>{affiliation}</arxiv:affiliation>")
        lines.append("    </author>")
    if paper.doi is not None:
        lines.append(f"    <arxiv:doi>{escape(paper.doi)}</arxiv:doi>")
        href = quoteattr("https://doi.org/" + paper.doi)
        lines.append(f'    <link rel="related" href={href} title="doi"/>')
    lines.append("  </entry>")
    return "\n".join(lines) + "\n"


def feed(
    entries: Iterable[tuple[Paper, int]],
    *,
    total: int,
    query: Mapping[str, str],
    start: int,
    per_page: int,
) -> str:
    """A result feed; `query` holds search_query / id_list as the client sent them."""
    sq, ids = query.get("search_query", ""), query.get("id_list", "")
    title = f"arXiv Query: search_query={sq}&id_list={ids}&start={start}&max_results={per_page}"
    link = "https://arxiv.org/api/query?" + urlencode(
        {"search_query": sq, "start": start, "max_results": per_page, "id_list": ids}, safe=":/,"
    )
    digest = hashlib.sha1(title.encode()).digest()
    feed_id = base64.b64encode(digest).decode().rstrip("=")
    return (
        f"{_HEAD}  <id>https://arxiv.org/api/{feed_id}</id>\n  <title>{escape(title)}</title>\n"
        f"  <updated>{_now()}</updated>\n"
        f'  <link href={quoteattr(link)} type="application/atom+xml"/>\n'
        f"{_opensearch(per_page, total, start)}"
        + "".join(_entry(p, v) for p, v in entries)
        + "</feed>\n"
    )


def _int_arg(request: Request, name: str, default: int) -> int | None:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def query(request: Request, papers: Mapping[str, Paper]) -> Reply:
    """Route `GET /api/query`."""
    start = _int_arg(request, "start", 0)
    per_page = _int_arg(request, "max_results", 10)
    if start is None:
        return _reply(400, error_feed("start must be an integer", "start_must_be_an_integer"))
    if per_page is None:
        return _reply(
            400, error_feed("max_results must be an integer", "max_results_must_be_an_integer")
        )
    raw_ids = [i.strip() for i in (request.arg("id_list") or "").split(",") if i.strip()]
    found: list[tuple[Paper, int]] = []
    for raw in dict.fromkeys(raw_ids):
        parsed = split_arxiv_id(raw)
        if parsed is None:
            msg = f"incorrect id format for {raw}"
            return _reply(400, error_feed(msg, msg.replace(" ", "_")))
        paper = papers.get(parsed[0])
        version = parsed[1] or (paper.version if paper else 0)
        if paper is not None and 1 <= version <= paper.version:
            found.append((paper, version))
    if not raw_ids and request.arg("search_query"):
        # A search: the fake ignores the query and returns every known paper, newest first.
        ordered = sorted(papers.values(), key=lambda p: (p.published, p.arxiv_id), reverse=True)
        found = [(p, p.version) for p in ordered]
    query_echo = {k: request.arg(k) or "" for k in ("search_query", "id_list")}
    page = found[start : start + per_page]
    return _reply(
        200, feed(page, total=len(found), query=query_echo, start=start, per_page=per_page)
    )


def empty(request: Request) -> Reply:
    """The `empty` fault: a 200 feed with no entries (what arXiv sends under load, sometimes)."""
    query_echo = {k: request.arg(k) or "" for k in ("search_query", "id_list")}
    start = _int_arg(request, "start", 0) or 0
    per_page = _int_arg(request, "max_results", 10) or 10
    return _reply(200, feed([], total=0, query=query_echo, start=start, per_page=per_page))
