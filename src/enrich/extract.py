"""Stage 2: every link target written in a cell's text, in order, before classification. Pure.

Inline and reference links, autolinks and `<a href>` come from markdown-it (badge images are
pictures, not links); bare URLs are found as GitHub renders them, by the rules of GFM's
extended autolinks (`autolinks`): after a space, a line start or one of `*`, `_`, `~`, `(`;
trailing punctuation, an unbalanced `)` and a trailing entity reference are not part of the
URL. A cell of plain `[text](url)` links, the shape of most rows, is read without markdown-it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import NamedTuple

from enrich.parse import markdown

_INLINE = markdown()
# A candidate extended autolink (GFM): a scheme or `www.` where a link may start, up to the
# next space or `<` (or `]`, the end of a bracketed text that is no link: GitHub's renderer
# sees it as a text of its own); `autolinks` trims its end.
_AUTOLINK = re.compile(r"(?<![^\s*_~(\[])(?:https?://|www\.)[^\s<\]]*", re.IGNORECASE)
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*")
_TRAILING = frozenset("?!.,:*_~'\"")
_ENTITY_TAIL = re.compile(r"&[A-Za-z0-9]+;$")
_HREF = re.compile(r"<a\s[^>]*?href\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
_A_OPEN = re.compile(r"<a[\s>]", re.IGNORECASE)
_A_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)
# A cell of plain links only, `[text](url)` separated by spaces or commas, the shape of most
# rows of a curated list: the links markdown-it would find, found without running it. The
# text and the URL are limited to characters that no inline rule of markdown-it reads
# (escapes, code, emphasis, entities, HTML, images, nested brackets) and that its URL
# normalisation keeps as they are; anything else takes the markdown-it path.
_PLAIN_TEXT = r"[^\\`*_&<>!\[\]()\r\n]*"
_PLAIN_URL = r"https?://[A-Za-z0-9.-]+(?:[/?#][A-Za-z0-9\-._~/?#:@$+,;=]*)?"
_PLAIN_LINK = re.compile(rf"\[({_PLAIN_TEXT})\]\(({_PLAIN_URL})\)")
# The first link's text and URL, then the others (most cells have none).
_PLAIN_CELL = re.compile(
    rf"\[({_PLAIN_TEXT})\]\(({_PLAIN_URL})\)((?:[ ,]+\[{_PLAIN_TEXT}\]\({_PLAIN_URL}\))*)"
)


class Found(NamedTuple):
    """A link target as written, before classification. (A tuple: one is made for every link
    of every row, and a frozen dataclass is slower to make.)"""

    url: str
    text: str


def extract_links(text: str, references: dict[str, dict[str, str]] | None = None) -> list[Found]:
    """Every link target in a cell's text, in order of appearance."""
    if "[" not in text and "<" not in text and "http" not in text and "www." not in text:
        return []
    plain = _plain_links(text)
    if plain is not None:
        return plain
    env = {"references": references or {}}
    found: list[Found] = []
    for token in _INLINE.parseInline(text, env):
        found.extend(_walk(token.children or []))
    return found


def autolinks(text: str) -> Iterator[Found]:
    """The bare URLs of `text` that GitHub makes links (GFM extended autolinks), as written
    (`text`) and as followed (`url`: `www.` gets `https://`)."""
    for match in _AUTOLINK.finditer(text):
        written = _trim(match[0])
        host = written.find("://") + 3 if "://" in written else len("www.")
        if not _DOMAIN.match(written, host):
            continue  # no domain: `https://` alone, `www.` before a space
        url = written if "://" in written else f"https://{written}"
        yield Found(url=url, text=written)


def _trim(candidate: str) -> str:
    """An extended autolink's end, as GitHub's renderer (cmark-gfm) finds it: trailing
    punctuation dropped, a `)` only when the link holds more `)` than `(`, a trailing `;`
    with the entity reference it ends."""
    end = len(candidate)
    opening, closing = candidate.count("("), candidate.count(")")
    while end:
        last = candidate[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last == ")" and closing > opening:
            end -= 1
            closing -= 1
        elif last == ";":
            entity = _ENTITY_TAIL.search(candidate, 0, end)
            end = entity.start() if entity else end - 1
        else:
            break
    return candidate[:end]


def _plain_links(text: str) -> list[Found] | None:
    """The links of a cell of plain links only (`_PLAIN_CELL`), else None."""
    match = _PLAIN_CELL.fullmatch(text)
    if match is None:
        return None
    label, url, more = match.groups()
    found = [Found(url, label.strip())]
    if more:  # a second link or more: found again by the one-link pattern
        found += (Found(u, t.strip()) for t, u in _PLAIN_LINK.findall(more))
    return found


def _walk(children: list) -> Iterator[Found]:  # type: ignore[type-arg]
    depth = 0
    for i, child in enumerate(children):
        if child.type == "link_open":
            depth += 1
            yield Found(url=str(child.attrGet("href") or ""), text=_link_text(children, i))
        elif child.type == "link_close":
            depth -= 1
        elif child.type == "html_inline":
            hrefs = _HREF.findall(child.content)
            yield from (Found(url=html.unescape(m), text="") for m in hrefs)
            depth = max(0, depth + _anchor_step(child.content))
        elif child.type == "text" and depth == 0:
            yield from autolinks(child.content)


def _anchor_step(tag: str) -> int:
    """+1 for an `<a ...>` tag, -1 for `</a>`: a bare URL inside an HTML link is its text."""
    if _A_OPEN.match(tag):
        return 1
    return -1 if _A_CLOSE.match(tag) else 0


def _link_text(children: list, start: int) -> str:  # type: ignore[type-arg]
    parts = []
    for child in children[start + 1 :]:
        if child.type == "link_close":
            break
        parts.append(child.content)
    return "".join(parts).strip()
