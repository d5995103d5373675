"""Regenerate the README's pictures: `nox -s screenshots` (or `python docs/screenshots.py`).

Refreshes seeds/ against the loopback fake API (`tests/fakeapi`, no network) into a scratch
folder, then photographs its browsable page (docs/page.png) and its timeline
(docs/timeline.png) in headless Chromium: Debian's `chromium`, driven by Playwright from the
`test` extra (no `playwright install`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fakeapi, run as a script from anywhere

from playwright.sync_api import sync_playwright  # noqa: E402
from tests.conftest import api_env  # noqa: E402
from tests.fakeapi import FakeAPI  # noqa: E402

DOCS = ROOT / "docs"
SEEDS = ROOT / "seeds"


def refresh(out: Path) -> None:
    """`python -m enrich run` of seeds/ into `out`, against a loopback API."""
    with FakeAPI() as api:
        for seed in sorted(SEEDS.rglob("*.md")):
            api.populate_from_markdown(seed.read_text(encoding="utf-8"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "enrich",
                "run",
                "-q",
                "--seeds",
                str(SEEDS),
                "--out",
                str(out),
                "--cache",
                str(out.parent / "cache"),
            ],
            cwd=ROOT,
            env=api_env(api.base_url),
            check=True,
            timeout=300,
        )


def photograph(out: Path) -> None:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        sys.exit("no chromium: `apt-get install chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto((out / "index.html").as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(DOCS / "page.png"))
        svg = (out / "timeline.svg").read_text(encoding="utf-8")
        width, height = (
            int(float(re.search(rf'{side}="([\d.]+)', svg)[1])) for side in ("width", "height")
        )  # type: ignore[index]
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto((out / "timeline.svg").as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(DOCS / "timeline.png"))
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "output"
        refresh(out)
        photograph(out)
    for name in ("page.png", "timeline.png"):
        print(f"wrote docs/{name} ({os.path.getsize(DOCS / name):,} bytes)")


if __name__ == "__main__":
    main()
