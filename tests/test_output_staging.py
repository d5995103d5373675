"""The output stage holds one file at a time: each output is staged (written beside its
target) as it is made, compared with its target as it is written, and the large ones
(`enriched.json`, `index.html`) are made in pieces; the set is still committed as one change
(`tests/test_crash.py` kills whole runs at every moment of it)."""

from __future__ import annotations

import errno
import json
import os
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from enrich import jsonout, output, page
from enrich.errors import OutputError
from enrich.models import Change, Dataset, Kind
from tests import builders as build

OLD = {"a.json": b'{"a": 1}\n', "b.html": b"<p>old</p>\n", "sub/c.md": b"# old\n"}


def folder_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    out = tmp_path / "out"
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return out


def contents(out: Path) -> dict[str, bytes]:
    """Every file below `out`, hidden ones (staged files, the journal) included."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def staged(out: Path) -> list[Path]:
    return sorted(out.rglob(".*.tmp"))


# ------------------------------------------------------------------ staged as they come


def test_each_file_is_staged_before_the_next_is_made_and_renamed_only_at_the_end(
    tmp_path: Path,
) -> None:
    out = folder_with(tmp_path, OLD)
    seen: list[tuple[int, dict[str, bytes]]] = []

    def files() -> Iterator[tuple[Path, output.Content]]:
        for name in OLD:
            seen.append((len(staged(out)), contents(out)))  # as the next file is made
            yield out / name, [b"new ", name.encode(), b"\n"]

    written = output.commit(files(), out)

    assert [n for n, _ in seen] == [0, 1, 2]  # the earlier files staged already...
    assert all({k: v for k, v in c.items() if k in OLD} == OLD for _, c in seen)  # ...not renamed
    assert written == tuple(out / name for name in OLD)
    assert contents(out) == {name: f"new {name}\n".encode() for name in OLD}


@pytest.mark.parametrize("failing_at", [0, 1, 2])
def test_a_file_that_cannot_be_made_leaves_the_old_set_and_no_debris(
    tmp_path: Path, failing_at: int
) -> None:
    """A rendering that fails half way (a bug, not the disk): what was staged is removed,
    the error is the rendering's own."""
    out = folder_with(tmp_path, OLD)

    def files() -> Iterator[tuple[Path, output.Content]]:
        for position, name in enumerate(OLD):
            if position == failing_at:
                yield out / name, broken()
            yield out / name, b"new\n"

    def broken() -> Iterator[bytes]:
        yield b"half of it"
        raise ValueError("rendering failed")

    with pytest.raises(ValueError, match="rendering failed"):
        output.commit(files(), out)
    assert contents(out) == OLD


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
@pytest.mark.parametrize("unreadable", ["a folder", "a link to itself"])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_target_that_cannot_be_read_leaves_the_old_set_no_debris_and_no_open_file(
    tmp_path: Path, unreadable: str, position: int
) -> None:
    """A target the stage cannot read to compare against (a folder where a file goes, a
    link to itself) fails the commit with the files staged before it removed, no
    temporary file of its own left, and no descriptor left open (an in-process caller
    would carry it for its life)."""
    out = folder_with(tmp_path, OLD)
    names = list(OLD)
    bad = out / names[position]
    bad.unlink()
    if unreadable == "a folder":
        bad.mkdir()
    else:  # ELOOP on opening it, whoever the user (root reads a file of mode 0)
        bad.symlink_to(bad.name)
    before = open_descriptors()
    with pytest.raises(OutputError):
        output.commit(((out / name, b"new\n") for name in names), out)
    assert staged(out) == []
    assert open_descriptors() == before


@pytest.mark.parametrize("failing_piece", [0, 1, 3])
def test_a_full_disk_in_the_middle_of_a_file_leaves_the_old_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_piece: int
) -> None:
    out = folder_with(tmp_path, OLD)
    written: list[bytes] = []

    class FullDisk:
        def __init__(self, handle: object) -> None:
            self._handle = handle

        def __getattr__(self, name: str) -> object:
            return getattr(self._handle, name)

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()  # type: ignore[attr-defined]

        def write(self, piece: bytes) -> int:
            if len(written) == failing_piece:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written.append(piece)
            return self._handle.write(piece)  # type: ignore[attr-defined, no-any-return]

    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: FullDisk(real_fdopen(*a, **k)))
    files = [(out / name, [b"new ", name.encode(), b"\n"]) for name in OLD]

    with pytest.raises(OutputError, match="No space left on device"):
        output.commit(files, out)
    assert contents(out) == OLD


# ------------------------------------------------------------------- unchanged files


BIG = bytes(range(256)) * 9000  # over two of the comparison's blocks


@pytest.mark.parametrize(
    ("on_disk", "content", "changed"),
    [
        (b"same\n", "same\n", False),
        (b"same\n", b"same\n", False),
        (b"same\n", [b"sa", b"", b"me", b"\n"], False),
        (BIG, [BIG[:5], BIG[5 : 1 << 20], BIG[1 << 20 :]], False),
        (BIG, [BIG], False),
        (b"", b"", False),
        (b"", [], False),
        (None, b"", True),  # no file yet
        (b"same\n", "samE\n", True),
        (b"same\n", [b"same"], True),  # the file is longer
        (b"same", [b"same", b"\n"], True),  # the file is shorter
        (BIG, [BIG[:-1], b"x"], True),  # the last byte of a large file
        (BIG, [b"x", BIG[1:]], True),  # its first byte
        (b"caf\xc3\xa9\n", "café\n", False),  # text is written as UTF-8
    ],
)
def test_an_unchanged_file_is_not_rewritten(
    tmp_path: Path, on_disk: bytes | None, content: output.Content, changed: bool
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "f"
    if on_disk is not None:
        target.write_bytes(on_disk)
        os.utime(target, ns=(1, 1))
    written = output.commit([(target, content)], out)
    expected = b"".join(output.pieces(content))
    assert written == ((target,) if changed else ())
    assert target.read_bytes() == expected
    assert (target.stat().st_mtime_ns == 1) is not changed
    assert sorted(p.name for p in out.iterdir()) == ["f"]  # no staged file, no journal


def test_only_the_changed_files_are_journaled_and_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = folder_with(tmp_path, OLD)
    renamed: list[str] = []
    real_replace = os.replace

    def replace(src: Path, dst: Path) -> None:
        renamed.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    new = {**OLD, "b.html": b"<p>new</p>\n"}
    assert output.commit([(out / n, data) for n, data in new.items()], out) == (out / "b.html",)
    assert renamed == [output.JOURNAL, "b.html"]
    assert contents(out) == new


# ------------------------------------------------------------- the large files, in pieces


def many_rows(rows: int) -> Dataset:
    """`rows` rows, each with a paper and a repository, and their facts: non-ASCII text,
    characters the page escapes."""
    records, results = [], []
    for n in range(rows):
        arxiv, name = f"2401.{n:05d}", f"owner/répo-{n}"
        records.append(
            build.record(
                build.link(f"https://arxiv.org/abs/{arxiv}", Kind.ARXIV, arxiv, column="Paper"),
                build.link(f"https://github.com/{name}", Kind.GITHUB_REPO, name.lower()),
                id=f"row-{n}",
                line=3 + n,
                section=["Models", f"Part {n % 7} </script>"],
                cells={"Name": f"Model {n} \u2028 ünïcode & <b>"},
            )
        )
        results.append(build.paper(arxiv, f"Title {n} — ≤ ∞ <!-- x -->"))
        results.append(build.repo(name, stars=n * 37, forks=n))
    return build.dataset(records, *results)


@pytest.mark.parametrize("rows", [0, 1, 2, 150])
@pytest.mark.parametrize("piece", [1, 300, 1 << 20])
def test_the_dataset_in_pieces_is_one_sorted_dump(
    monkeypatch: pytest.MonkeyPatch, rows: int, piece: int
) -> None:
    monkeypatch.setattr(jsonout, "PIECE", piece)
    dataset = many_rows(rows)
    pieces = list(jsonout.json_pieces(dataset))
    whole = json.dumps(
        dataset.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False
    )
    assert b"".join(pieces).decode() == whole + "\n"
    if rows > 2 and piece == 300:
        assert len(pieces) > rows  # an item at a time, not the whole text
        assert max(map(len, pieces)) < 10 * 1024


def test_an_item_the_fast_writer_cannot_spell_takes_the_exact_path_alone() -> None:
    """A float pydantic-core spells differently (1e+16) is written by `json.dumps`, for its
    own item only: the same bytes as one dump of the whole dataset."""
    dataset = many_rows(3)
    for value in (1e16, float("nan"), 1e-5):
        changes = [Change(field="stars", old=value, new=None)]
        odd = build.result(f"arxiv:2402.{len(dataset.entities):05d}", changes=changes)
        dataset = dataset.model_copy(update={"entities": {**dataset.entities, odd.ref: odd}})
    whole = json.dumps(
        dataset.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False
    )
    assert jsonout.json_bytes(dataset).decode() == whole + "\n"


def test_writing_a_large_dataset_holds_a_fraction_of_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jsonout, "PIECE", 1 << 16)
    dataset = many_rows(1_500)
    jsonout.json_bytes(dataset)  # what is made once: the serializers, the records' own caches
    tracemalloc.start()
    try:
        size = sum(len(piece) for piece in jsonout.json_pieces(dataset))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size > 3 * 2**20
    assert peak < size / 8  # one dump holds the text twice over (bytes, and a copy)


def one_dump(dataset: Dataset) -> str:
    return json.dumps(dataset.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False)


DATA = re.compile(r'<script type="application/json" id="data">(.*?)</script>', re.S)


@pytest.mark.parametrize("rows", [0, 1, 40])
def test_the_page_in_pieces_is_the_page_with_its_data_as_one_dump(rows: int) -> None:
    dataset = many_rows(rows)
    pieces = list(page.page_pieces(dataset))
    text = b"".join(pieces).decode()
    assert text == page.render_page(dataset)
    [block] = DATA.findall(text)
    assert page.json_for_script(json.loads(block)) == block  # sorted, compact, escaped
    assert "</script>" not in block
    assert "\u2028" not in block
    assert len(json.loads(block)["rows"]) == rows
    outside = DATA.sub("", text)
    assert "{{" not in outside  # every part of the template filled
    assert "}}" not in outside


def test_the_page_of_many_rows_is_made_a_piece_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonout, "PIECE", 1_000)
    pieces = list(page.page_pieces(many_rows(60)))
    assert len(pieces) > 20
    assert max(map(len, pieces[1:-1])) < 4_000  # the template's head and tail are whole
