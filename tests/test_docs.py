"""The README and docs/: short, every relative link resolves, the CLI's help is its docstrings.

Links are read as GitHub renders them (markdown-it-py, so a link in a code span or block is
text), and an anchor (`file.md#section`) must name a heading of its file, slugged as GitHub
slugs headings.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from enrich.cli import cli
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MARKDOWN = MarkdownIt("commonmark").enable("table")


def tokens(path: Path) -> list[Token]:
    return MARKDOWN.parse(path.read_text(encoding="utf-8"))


def targets(path: Path) -> Iterator[str]:
    """Every link and image target of `path`, in order."""
    for token in tokens(path):
        for child in token.children or []:
            if child.type == "link_open":
                yield str(child.attrs["href"])
            elif child.type == "image":
                yield str(child.attrs["src"])


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found = tokens(path)
    return {
        slug(found[i + 1].content)
        for i, token in enumerate(found)
        if token.type == "heading_open" and found[i + 1].type == "inline"
    }


def relative(path: Path) -> list[tuple[str, Path, str]]:
    """(target, the file it names, its anchor) for each relative target of `path`."""
    found = []
    for target in targets(path):
        parts = urlsplit(target)
        if parts.scheme or target.startswith("//"):
            continue
        named = (path.parent / unquote(parts.path)).resolve() if parts.path else path
        found.append((target, named, parts.fragment))
    return found


def test_the_readme_reads_in_two_minutes() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target, named, anchor in relative(page):
        if not named.exists():
            broken.append(f"{target}: no such file")
        elif anchor and named.suffix == ".md" and anchor not in anchors(named):
            broken.append(f"{target}: no heading #{anchor} in {named.name}")
    assert broken == []


def test_the_link_check_sees_a_broken_link_and_anchor(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Top\n\n## Two words\n", encoding="utf-8")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md#two-words) [gone](c.md) ![pic](x.png) [bad](a.md#three) [web](https://x.org)"
        " `[code](nowhere.md)` [self](#here)\n\n## Here\n",
        encoding="utf-8",
    )
    found = {target: (named.exists(), anchor) for target, named, anchor in relative(page)}
    assert set(found) == {"a.md#two-words", "c.md", "x.png", "a.md#three", "#here"}
    assert not found["c.md"][0]
    assert anchors(tmp_path / "a.md") == {"top", "two-words"}
    assert anchors(page) == {"here"}


def test_every_page_of_docs_is_linked_from_the_readme() -> None:
    linked = {named for _, named, _ in relative(README)}
    assert {path.resolve() for path in DOCS.glob("*.md")} <= linked
    assert (DOCS / "page.png").resolve() in linked  # the screenshots are shown
    assert (DOCS / "timeline.png").resolve() in linked


def test_the_readme_names_every_command() -> None:
    text = README.read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"python -m enrich {name}" in text, name


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_a_commands_help_is_its_docstring(name: str) -> None:
    command = cli.commands[name]
    assert command.callback is not None
    assert command.help is not None
    assert inspect.cleandoc(command.help) == inspect.getdoc(command.callback)  # one text
