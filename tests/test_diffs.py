"""Bounded unified diffs: difflib's text, without difflib's cost on huge files."""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrich import diffs

LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "d\n", "e\n"]), max_size=30)


def applied(old: list[str], diff: str) -> list[str]:
    """`diff` (a unified diff) applied to `old`."""
    result: list[str] = []
    at = 0
    for line in diff.splitlines(keepends=True)[2:]:
        if line.startswith("@@"):
            start = int(line.split()[1][1:].split(",")[0])
            length = line.split()[1].split(",")
            begin = start - 1 if len(length) == 1 or length[1] != "0" else start
            result += old[at:begin]
            at = begin
        elif line.startswith((" ", "-")):
            assert old[at] == line[1:]
            at += 1
            if line.startswith(" "):
                result.append(line[1:])
        elif line.startswith("+"):
            result.append(line[1:])
    return result + old[at:]


@given(LINES, LINES)
def test_the_diff_turns_the_old_lines_into_the_new(old: list[str], new: list[str]) -> None:
    diff = diffs.unified_diff(old, new, "a", "b")
    assert (diff == "") == (old == new)
    assert applied(old, diff) == new


def test_a_change_among_shared_lines_reads_as_difflib_writes_it() -> None:
    old = [f"line {n}\n" for n in range(100)]
    new = [*old[:40], "changed\n", *old[41:]]
    expected = "".join(difflib.unified_diff(old, new, "a", "b"))
    assert diffs.unified_diff(old, new, "a", "b") == expected
    assert "@@ -38,7 +38,7 @@" in expected


def test_a_huge_differing_region_is_summarised_at_once() -> None:
    old = ["same\n", *(f"{n}\n" for n in range(200_000)), "end\n"]
    new = ["same\n", *(f"{n}!\n" for n in range(200_000)), "end\n"]
    diff = diffs.unified_diff(old, new, "a", "b")  # difflib alone: hours
    assert "@@ -2,200000 +2,200000 @@ 200,000 line(s) replaced by 200,000" in diff


NAMES = ("a (committed)", "a (from seeds and cache)")


@pytest.mark.parametrize(
    ("old", "new", "shows"),
    [
        (b"x\ny\n", b"x\nz\n", ["-y\n", "+z\n"]),
        (b"x\ny\n", b"x\r\ny\r\n", ["-x\n", "+x\r\n"]),  # line endings alone
        (b"x\n", b"", ["-x\n"]),  # a file gone
        (b"", b"x\n", ["+x\n"]),  # a new file
        (b"\xff\n", b"\xfe\n", ["@@ the bytes differ (not UTF-8) @@\n"]),
        (b"x\xff\n", b"x\xfe\n", ["@@ the bytes differ (not UTF-8) @@\n"]),
    ],
)
def test_bytes_that_differ_always_give_a_diff(old: bytes, new: bytes, shows: list[str]) -> None:
    diff = diffs.bytes_diff(old, new, NAMES)
    assert diff.startswith(f"--- {NAMES[0]}\n+++ {NAMES[1]}\n")
    lines = diff.splitlines(keepends=True)
    assert all(line in lines for line in shows)
    assert diffs.bytes_diff(new, new, NAMES) == diffs.bytes_diff(old, old, NAMES) == ""
