"""Text written into a BibTeX file (`references.bib`, `bib.py`) so that BibTeX and LaTeX
read it as written. Pure.

Fetched text is put on one line (`text.one_line`) and the characters BibTeX or LaTeX read as
markup are written as LaTeX: `\\`, `{`, `}` as `\\textbackslash{}`, `\\textbraceleft{}`,
`\\textbraceright{}` (BibTeX counts a brace even after a backslash, so `\\{` alone would
unbalance a value), `&`, `%`, `$`, `#`, `_` with a backslash, `~` and `^` as
`\\textasciitilde{}`, `\\textasciicircum{}`. Every brace left in a value is then BibTeX's own,
and balanced. Accents and other scripts stay UTF-8.
"""

from __future__ import annotations

import re

from enrich.text import one_line

TEXT_LIMIT = 1000
"""The longest title, venue or author name written (fetched text is cut, as elsewhere)."""
WORD = re.compile(r"([^\s:;,.!?()\[\]\"]+)")
"""A title's word: what lies between spaces and punctuation (split keeps both)."""
_LATEX = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\textbraceleft{}",
        "}": r"\textbraceright{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)
_SPLITS = re.compile(r"\band\b|,", re.IGNORECASE)


def escape(text: str) -> str:
    """`text` on one line, with the characters BibTeX and LaTeX read as markup escaped."""
    return one_line(text, TEXT_LIMIT).translate(_LATEX)


def title(text: str) -> str:
    """A title escaped, each word with a capital after its first letter (an acronym or a
    name: `QLoRA`, `LLMs`, `GPT-4`, `iPhone`) in braces, so that no style lower-cases it."""
    parts = WORD.split(one_line(text, TEXT_LIMIT))  # the words at the odd places
    return "".join(
        f"{{{part.translate(_LATEX)}}}"
        if i % 2 and any(c.isupper() for c in part[1:])
        else part.translate(_LATEX)
        for i, part in enumerate(parts)
    )


def person(name: str) -> str:
    """An author's name escaped; one BibTeX would split or reorder (it holds the word `and`
    or a comma) in braces, so that it stays one person as written."""
    text = escape(name)
    return f"{{{text}}}" if text and _SPLITS.search(text) else text


def url(text: str) -> str:
    """A URL as a field's value: as written, but for the characters BibTeX would read (`%`,
    braces, backslashes), percent-encoded."""
    return text.replace("%", "%25").replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")


def braced(value: str) -> str:
    """A field's value, written between braces."""
    return f"{{{value}}}"
