"""Unified diffs that stay affordable on a 30 MB dataset. Pure.

`difflib` compares every line with every other in the region that differs: seconds for a
few thousand lines, hours for the dataset of a 10,000-row list whose every entity changed.
So the lines both versions share at the start and at the end are set aside first (cheap),
and a differing region longer than `LIMIT` lines on either side is summarised in one hunk
header instead of being compared.
"""

from __future__ import annotations

import difflib
import re

from enrich.document import split_lines

LIMIT = 2_000
"""Lines a side of the differing region beyond which it is summarised, not compared."""
CONTEXT = 3
_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def unified_diff(old: list[str], new: list[str], fromfile: str, tofile: str) -> str:
    """`difflib.unified_diff` of two lists of lines (with their line endings), the same
    text while the lines that differ are at most `LIMIT` a side."""
    if old == new:
        return ""
    head = _shared(old, new)
    tail = _shared(old[head:][::-1], new[head:][::-1])
    changed_old, changed_new = len(old) - head - tail, len(new) - head - tail
    if max(changed_old, changed_new) > LIMIT:
        return (
            f"--- {fromfile}\n+++ {tofile}\n"
            f"@@ -{head + 1},{changed_old} +{head + 1},{changed_new} @@ "
            f"{changed_old:,} line(s) replaced by {changed_new:,}: too many to show\n"
        )
    start = max(0, head - CONTEXT)
    end_old, end_new = len(old) - max(0, tail - CONTEXT), len(new) - max(0, tail - CONTEXT)
    lines = difflib.unified_diff(
        old[start:end_old], new[start:end_new], fromfile, tofile, n=CONTEXT
    )
    return "".join(_shifted(line, start) for line in lines)


def bytes_diff(old: bytes, new: bytes, names: tuple[str, str]) -> str:
    """A unified diff from `old` to `new` (files named `names`); "" when they are the same
    bytes. Never "" when they differ, even in bytes that are not UTF-8 or in line endings
    alone."""
    if old == new:
        return ""
    before, after = _lines(old), _lines(new)
    if before == after:  # the bytes that differ do not decode
        return f"--- {names[0]}\n+++ {names[1]}\n@@ the bytes differ (not UTF-8) @@\n"
    return unified_diff(before, after, *names)


def _lines(data: bytes) -> list[str]:
    """`data` as lines with their own endings, bytes that are not UTF-8 shown as U+FFFD."""
    return split_lines(data.decode("utf-8", errors="replace"))


def _shared(a: list[str], b: list[str]) -> int:
    """How many leading lines `a` and `b` share."""
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def _shifted(line: str, offset: int) -> str:
    """A hunk header of a diff of slices starting at line `offset`, renumbered for the
    whole files; any other line as it is."""
    match = _HUNK.match(line)
    if match is None or offset == 0:
        return line
    old_start, old_len, new_start, new_len = match.groups()
    old_at, new_at = int(old_start) + offset, int(new_start) + offset
    return f"@@ -{old_at}{old_len or ''} +{new_at}{new_len or ''} @@" + line[match.end() :]
