"""`python -m enrich suggest [--apply]` on a copy of the seed, from an enriched.json that
holds discovery facts (as a run against the Hub would leave them). No network."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from enrich import pipeline
from enrich.cli import main
from enrich.config import Settings
from enrich.document import split_lines
from enrich.jsonout import render_json
from enrich.metadata import TaggedModel
from enrich.models import Dataset
from enrich.parse import split_cells
from tests.builders import hub
from tests.conftest import SEED

SEED_PATH = Path("seeds") / SEED.name
ONEBIT, ONEBIT_AGAIN, SQUEEZE = 53, 102, 50  # rows with empty cells; OneBit is listed twice
REPO = "https://github.com/xuyuzhuang11/OneBit"
GGUF, OFFICIAL = (
    "https://huggingface.co/community/onebit-gguf",
    "https://huggingface.co/onebit/OneBit-7B",
)


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout: seeds/, and output/ from an offline run plus the Hub's discovery facts."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / SEED_PATH).write_bytes(SEED.read_bytes())
    monkeypatch.chdir(tmp_path)
    config = Settings(seeds=Path("seeds"), out=Path("output"), cache=Path("cache"), offline=True)
    pipeline.run(config, sources=())
    path = Path("output/enriched.json")
    dataset = Dataset.model_validate_json(path.read_bytes())
    facts = [
        hub("hf_paper:2402.11295", github_repo=REPO),
        hub(
            "hf_paper_models:2402.11295",
            models=[
                TaggedModel(id="community/onebit-gguf", downloads=15_000),
                TaggedModel(id="onebit/OneBit-7B", downloads=1_200),
            ],
        ),
        hub(
            "hf_paper_models:2306.07629",
            models=[TaggedModel(id="squeeze/SqueezeLLM-7B", downloads=99)],
        ),
    ]
    entities = {**dataset.entities, **{r.ref: r for r in facts}}
    path.write_text(render_json(dataset.model_copy(update={"entities": entities})))
    return tmp_path


def seed_text() -> str:
    return SEED_PATH.read_text(encoding="utf-8")


def changed_cells(before: str, after: str) -> dict[int, list[tuple[str, str]]]:
    """Per changed line, the (old, new) cells that differ; the line count must not change."""
    old, new = split_lines(before), split_lines(after)
    assert len(old) == len(new)
    changed: dict[int, list[tuple[str, str]]] = {}
    for number, (a, b) in enumerate(zip(old, new, strict=True), start=1):
        if a != b:
            cells = list(zip(split_cells(a), split_cells(b), strict=True))
            changed[number] = [(x.strip(), y.strip()) for x, y in cells if x != y]
    return changed


def test_suggest_lists_the_candidates_by_row_and_marks_what_apply_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["suggest"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"seeds/slm-survey.md:{SQUEEZE}  SqueezeLLM  (arxiv:2306.07629)"
    assert lines[1].startswith(
        "  * Model Card: https://huggingface.co/squeeze/SqueezeLLM-7B — tagged arxiv:2306.07629"
    )
    assert f"seeds/slm-survey.md:{ONEBIT}  OneBit  (arxiv:2402.11295@" in lines[2]
    assert lines[3].startswith(f"  * Code: {REPO} — the paper's Hugging Face page")
    assert lines[4].startswith(f"  * Model Card: {GGUF} — ")
    assert lines[5].startswith(f"    Model Card: {OFFICIAL} — ")  # second best: not written
    assert len(lines) == 2 + 4 + 4
    assert "7 suggestion(s) for 3 row(s)" in err
    assert seed_text() == SEED.read_text(encoding="utf-8")


def test_apply_dry_run_prints_the_diff_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["suggest", "--apply", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("--- a/seeds/slm-survey.md\n+++ b/seeds/slm-survey.md\n")
    assert out.count("\n+| ") == 3
    assert "dry run: 5 link(s) would be written; nothing written." in err
    assert seed_text() == SEED.read_text(encoding="utf-8")


def test_apply_fills_only_the_empty_cells_then_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = seed_text()
    SEED_PATH.chmod(0o640)
    assert main(["suggest", "--apply"]) == 0
    out, err = capsys.readouterr()
    after = seed_text()
    assert out.startswith("--- a/seeds/slm-survey.md\n")
    assert "5 link(s) written into seeds/slm-survey.md" in err
    assert changed_cells(before, after) == {
        SQUEEZE: [("", "[Link](https://huggingface.co/squeeze/SqueezeLLM-7B)")],
        ONEBIT: [("", f"[Link]({REPO})"), ("", f"[Link]({GGUF})")],
        ONEBIT_AGAIN: [("", f"[Link]({REPO})"), ("", f"[Link]({GGUF})")],
    }
    assert stat.S_IMODE(SEED_PATH.stat().st_mode) == 0o640
    assert sorted(p.name for p in Path("seeds").iterdir()) == [SEED.name]  # no debris

    assert main(["suggest", "--apply"]) == 0  # idempotent
    out, err = capsys.readouterr()
    assert (out, seed_text()) == ("", after)
    assert "nothing to write" in err
    assert main(["suggest"]) == 0
    assert capsys.readouterr().out == ""

    seed = pipeline.load_seed(SEED_PATH)  # still the same list, round trip included
    assert seed.round_trips
    assert len(seed.records) == 75
    [onebit] = [r for r in seed.records if r.line == ONEBIT]
    assert [(link.column, link.url, link.misplaced) for link in onebit.links[1:]] == [
        ("Code", REPO, False),
        ("Model Card", GGUF, False),
    ]
    assert main(["lint", "seeds"]) == 0


def test_only_and_pick_choose_rows_and_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    before = seed_text()
    row = f"seeds/slm-survey.md:{ONEBIT_AGAIN}"
    assert main(["suggest", "--apply", "--only", row, "--pick", OFFICIAL]) == 0
    assert changed_cells(before, seed_text()) == {ONEBIT_AGAIN: [("", f"[Link]({OFFICIAL})")]}
    capsys.readouterr()
    assert main(["suggest", "--only", "arxiv:2306.07629"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(f"seeds/slm-survey.md:{SQUEEZE}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--out", "elsewhere"],
            "elsewhere/ does not exist: no dataset to suggest from; "
            "run `python -m enrich run --out elsewhere`",
        ),
        (["--only", "arxiv:0000.00000"], "--only arxiv:0000.00000: no such row"),
        (["--pick", "https://huggingface.co/x/y"], "--pick https://huggingface.co/x/y: not a"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["suggest", "--apply", *args]) == 2
    assert message in capsys.readouterr().err
    assert seed_text() == SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize("content", ["{", "[]", '{"schema_version": 999}', "\x00"])
def test_an_unusable_dataset_is_a_usage_error_that_names_it(
    content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "enriched.json").write_text(content, encoding="utf-8")
    assert main(["suggest", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}/enriched.json: unusable (" in err
    assert "run `python -m enrich run`" in err
    assert "Traceback" not in err


def test_a_cell_that_cannot_be_written_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    lines = split_lines(seed_text())
    short = lines[ONEBIT_AGAIN - 1].rstrip("\n").rsplit("|", 2)[0] + "|\n"  # no Model Card
    lines[ONEBIT_AGAIN - 1] = short
    SEED_PATH.write_text("".join(lines), encoding="utf-8")
    assert main(["suggest", "--apply", "--only", f"seeds/slm-survey.md:{ONEBIT_AGAIN}"]) == 1
    err = capsys.readouterr().err
    assert f"seeds/slm-survey.md:{ONEBIT_AGAIN}: not written ({GGUF})" in err
    assert "fewer cells than the header" in err
    assert split_lines(seed_text())[ONEBIT_AGAIN - 1] == short.replace(
        "|      |", f"| [Link]({REPO}) |"
    )
