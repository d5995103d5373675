"""`lint`'s one look beyond the text: a relative link or image must name a file that exists.

Parsing and resolving read text only. Whether `images/overview.png` exists beside the seed
is a question for the file system, so it is asked here, by `lint`, and not by `run`, whose
diagnostics are part of the dataset (and must not depend on the checkout's other files).
The targets checked are those the regenerated document re-points (`render.relative_targets`):
a link that resolves from the seed resolves from the output folder too.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from enrich.document import Document, split_lines
from enrich.models import Diagnostic, Severity
from enrich.render import relative_targets

MISSING_FILE = "missing-file"


def missing_files(document: Document, folder: Path) -> list[Diagnostic]:
    """A warning for each relative link or image of `document` (read from `folder`) whose
    file does not exist; code blocks and the lines an earlier run added are not read."""
    skipped = document.code_lines | document.generated_lines
    found: list[Diagnostic] = []
    for number, line in enumerate(split_lines(document.text), start=1):
        if number in skipped:
            continue
        for target in relative_targets(line):
            path = unquote(target.split("#", 1)[0].split("?", 1)[0])
            if path and not (folder / path).exists():
                found.append(_missing(document.path, number, target))
    return found


def _missing(file: str, line: int, target: str) -> Diagnostic:
    return Diagnostic(
        file=file,
        line=line,
        severity=Severity.WARNING,
        code=MISSING_FILE,
        message=f"{target} names a file that does not exist beside the seed",
        hint="add the file, or correct the path: it is relative to the seed's folder",
    )
