"""The titles `enrich` gives paper links (shown on hover), and how a regenerated document read
back tells them from the curator's own. Pure.

The one rule of what a generated title is lives here. `enrich` writes a title in one form
only, `[text](url (title))`: one space, the escaped title (`escape_title`) in parentheses,
`)` right after it; and only on a link that had none, written as an inline link: a `](url)`
that closes a link text `[...]`, outside code spans (`is_inline_link`). A URL that is a link
only as GitHub autolinks it (`x](https://…)`, `\\[q](https://…)`) has no place for a title,
and the same URL in a code span is text: both are curated text, left as written. Read back
(a regenerated document used as a seed), a title is the tool's when, in a table with
generated columns, it is written in exactly that form and is the title the previous dataset
gives that link (`earlier_titles`), unless that dataset's curated cells hold that same title
on that same link (a curator who wrote the fetched title down). Anything else is curated
text and stays through any number of runs: `"…"` and `'…'` titles, any other parenthesised
title, and every title when there is no previous dataset to tell them apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from enrich.metadata import PageMeta, PaperMeta, ScholarMeta
from enrich.models import PAPER_KINDS, Dataset, Entities, Kind, Link, RowRecord
from enrich.parse import code_spans
from enrich.plan import companions
from enrich.text import one_line

TITLE_LIMIT = 200
"""Characters at most in a generated title (and, by default, a generated cell)."""


# A link without a title: `](url)`. `[^\s<>]+?` (stop at the first `)` after one character),
# written without a lazy quantifier: the same matches, without trying the rest of the
# pattern at every character of a URL.
_TITLELESS = re.compile(r"(\]\(\s*<?([^\s<>][^\s<>)]*)>?)\s*\)")
# A link with a title in the form `enrich` writes: `](url (title))`.
_TOOL_FORM = re.compile(r"(\]\(\s*<?([^\s()<>]+)>?) \(((?:[^()\\]|\\.)*)\)\)")


def escape_title(text: str) -> str:
    """Untrusted text made inert inside a link title `(...)` inside a table cell.

    Entities are decoded in a title, so `&`, `<` and `>` are written as entities; a backtick
    too, so that it cannot close a code span opened before the link.
    """
    text = one_line(text, TITLE_LIMIT).replace("\\", "\\\\")
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("`", "&#96;")):
        text = text.replace(char, escaped)
    for char in "()|":
        text = text.replace(char, "\\" + char)
    return text


def paper_title(link: Link, entities: Entities) -> str | None:
    """The escaped title of the paper `link` names: its arXiv paper (itself, or via a Hub
    paper page), else its Semantic Scholar record (a paper linked by DOI or ACL id), else its
    landing page (a PMLR or OpenReview paper). None for a link that is not a paper's."""
    if link.kind not in PAPER_KINDS:
        return None
    named = (link.id, *companions(link.id))
    for ident in named:
        if ident.kind is not Kind.ARXIV:
            continue
        found = entities.get(ident)
        if found is not None and isinstance(found.data, PaperMeta):
            return escape_title(found.data.title) or None
    for ident in named:
        found = entities.get(ident)
        data = found.data if found is not None else None
        if isinstance(data, ScholarMeta | PageMeta) and data.title:
            return escape_title(data.title) or None
    return None


def link_titles(records: Iterable[RowRecord], entities: Entities) -> dict[str, str]:
    """URL -> the title its links are given; a URL linked twice takes its first title."""
    titles: dict[str, str] = {}
    for record in records:
        for link in record.links:
            if link.url not in titles:
                title = paper_title(link, entities)
                if title is not None:
                    titles[link.url] = title
    return titles


def add_titles(text: str, record: RowRecord, entities: Entities) -> str:
    """Each paper link of the row's `text` carries its paper's title as its title attribute.

    A link that already has a title keeps it: the pattern wants `)` right after the URL. A
    title cannot form a new untitled link: its parentheses are escaped. One precompiled
    pattern for every row (a pattern per URL overflows `re`'s cache on a large list).
    """
    titles = link_titles((record,), entities)
    if not titles:
        return text
    code = code_spans(text) if "`" in text else []

    def titled(match: re.Match[str]) -> str:
        title = titles.get(match.group(2))
        if title is None or not is_inline_link(text, match.start(), code):
            return match.group(0)
        return f"{match.group(1)} ({title}))"

    return _TITLELESS.sub(titled, text)


def is_inline_link(text: str, at: int, code: Sequence[tuple[int, int]] = ()) -> bool:
    """Whether the `](` at `text[at]` ends the text of an inline link: a `[` before it that
    it closes (nested brackets balanced, backslash-escaped ones not brackets), and neither
    in a code span (`code`: `parse.code_spans(text)`)."""
    if _escaped(text, at) or any(start <= at < end for start, end in code):
        return False
    depth = 0
    for i in range(at - 1, -1, -1):
        if text[i] not in "[]" or _escaped(text, i):
            continue
        if text[i] == "]":
            depth += 1
        elif depth:
            depth -= 1
        else:
            return not any(start <= i < end for start, end in code)
    return False


def _escaped(text: str, i: int) -> bool:
    """Whether `text[i]` follows an odd number of backslashes."""
    run = 0
    while i - run > 0 and text[i - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def earlier_titles(previous: Dataset | None) -> dict[str, str]:
    """URL -> the title an earlier run wrote on its links: what `strip_titles` removes from a
    regenerated table read back. Titles the previous dataset's curated cells hold on the same
    link are the curator's, and left out."""
    if previous is None:
        return {}
    written = link_titles(previous.records, previous.results)
    curated = {
        (match.group(2), match.group(3))
        for record in previous.records
        for value in record.cells.values()
        if " (" in value
        for match in _TOOL_FORM.finditer(value)
    }
    return {
        url: title
        for url, title in written.items()
        if (url, title) not in curated and (url, _in_value(title)) not in curated
    }


def strip_titles(text: str, earlier: Mapping[str, str]) -> str:
    """`text` less the titles an earlier run wrote (`earlier`, from `earlier_titles`): each
    `[x](url (title))` whose title is `earlier[url]` becomes `[x](url)`."""
    if not earlier or " (" not in text:
        return text

    def untitled(match: re.Match[str]) -> str:
        title = earlier.get(match.group(2))
        if title is None or match.group(3) not in (title, _in_value(title)):
            return match.group(0)
        return match.group(1) + ")"

    return _TOOL_FORM.sub(untitled, text)


def _in_value(title: str) -> str:
    """`title` as a cell's value holds it: a table cell's escaped pipes are pipes there
    (`TableLine.values`)."""
    return title.replace("\\|", "|")
