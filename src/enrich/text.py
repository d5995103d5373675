"""Untrusted text made safe to store: the one place that says how.

API payloads can carry newlines, control characters, bidirectional overrides (which can make
a title display as something else) and megabytes of text. Every source reads an untrusted
string through `clean`, the one contract for it: a string becomes one line of at most
`limit` characters (`one_line`), anything that is not a string is absent (empty); a field
that may be missing is `clean(value, limit) or None`. The renderer escapes it again for
markdown.
"""

from __future__ import annotations

import re

# C0 and C1 controls (tab and newline included: they become spaces) and the bidirectional
# marks, embedding, override and isolate characters.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


YEARS = range(1800, 2101)
"""Years a paper can carry. An untrusted year outside is dropped: a year of 10**7 would
otherwise reach the timeline, which draws a column per month between the extremes."""


def plausible_year(value: int | None) -> int | None:
    """`value` when it is a year a paper can have, else None."""
    return value if value is not None and value in YEARS else None


def clean(value: object, limit: int) -> str:
    """An untrusted value as text on one line (`one_line`); empty when it is not a string."""
    return one_line(value, limit) if isinstance(value, str) else ""


def distinct(values: object, limit: int) -> list[str]:
    """The cleaned, non-empty, distinct strings of an untrusted list, in order."""
    items = values if isinstance(values, list) else []
    return list(dict.fromkeys(text for value in items if (text := clean(value, limit))))


def web_url(value: object, limit: int = 2_000) -> str | None:
    """An untrusted value when it is an http(s) URL (cleaned, without spaces), else None."""
    url = clean(value, limit)
    return url if url.startswith(("https://", "http://")) and " " not in url else None


def one_line(text: str, limit: int) -> str:
    """`text` on one line of at most `limit` characters: unsafe characters and runs of white
    space become one space; a longer text is cut and ends in an ellipsis."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        flat = text  # already one line: printable means no control, format or space but " "
    else:
        flat = " ".join(_UNSAFE.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
