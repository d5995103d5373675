"""Stage 2: what a column is for, and what a cell holds. Pure.

- **Roles.** A column named for papers, code or models (`column_role`, on the whole name:
  compound columns such as "Title & Authors" or "Paper/Blog", and a bare "Model", often a
  name, have none) expects links of those kinds; a link of another kind there is
  *misplaced* (`fits`), except a paper hosted in a repository (a PDF in a GitHub or Hub
  repository), which is both a paper and its repository.
- **Dates.** Year, Date, Time and Published columns (`date_columns`) hold a date of
  publication, written `2024`, `2024.05`, `2024-05`, `2024/05/17`, `05/2024`, `May 2024` or
  `May 17, 2024` (`is_date`); a note in parentheses may follow. The report's check of the
  year against the paper's reads the first that holds one (`row_year`).
- **Placeholders.** A cell that says there is nothing yet (`-`, `–`, `N/A`, `TBD`, `No`,
  `[Coming soon]()`, ...: `is_placeholder`) is an empty cell: no link, no warning, and a
  row's empty Code or Model Card cell is one to suggest a link for.
"""

from __future__ import annotations

import re
from functools import lru_cache

from enrich.models import CODE_KINDS, HUB_KINDS, PAPER_KINDS, Kind, RowRecord

ROLES: dict[str, frozenset[Kind]] = {
    "paper": PAPER_KINDS,
    "code": CODE_KINDS,
    "model": HUB_KINDS - {Kind.HF_DOCS},  # a documentation page or blog post fits anywhere
}
# Column names whose content has an expected kind, matched on the whole name.
_ROLE_NAMES = (
    ("paper", frozenset({"paper", "papers", "arxiv", "publication", "paper link", "pdf"})),
    (
        "code",
        frozenset(
            {
                "code",
                "code link",
                "github",
                "github link",
                "github repo",
                "repo",
                "repo link",
                "repository",
                "repository link",
                "implementation",
                "source code",
                "official code",
            }
        ),
    ),
    (
        "model",
        frozenset(
            {
                "model card",
                "model cards",
                "hf model",
                "hugging face",
                "huggingface",
                "checkpoint",
                "checkpoints",
                "weights",
                "hf",
            }
        ),
    ),
)
_DATE_NAMES = frozenset(
    {"year", "date", "time", "published", "publication date", "release date", "released"}
)
_REPO_KINDS = frozenset({Kind.GITHUB_REPO, Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE})

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?:19|20)\d{2}"
_MM = r"(?:0?[1-9]|1[0-2])"
_DD = r"(?:0?[1-9]|[12]\d|3[01])"
_DATE = re.compile(
    rf"(?:{_YEAR}(?:[-./]{_MM}(?:[-./]{_DD})?)?"  # 2024, 2024.05, 2024-05-17
    rf"|{_MM}[-./](?:{_DD}[-./])?{_YEAR}"  # 05/2024, 05/17/2024
    rf"|(?:{_DD}\s+)?{_MONTH}(?:\s+{_DD})?,?\s+{_YEAR})"  # May 2024, 17 May 2024
    r"(?:\s*\([^()]*\))?",  # a note: 2024 (ICLR)
    re.IGNORECASE,
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_YEAR_IN = re.compile(rf"(?<!\d){_YEAR}(?!\d)")

PLACEHOLDERS = frozenset(
    """- -- --- – — / ? ✗ ✘ ❌ n/a na n.a. none no nil null tbd tba todo soon wip
    coming-soon""".split()
) | frozenset({"coming soon", "not yet", "not available", "to be released", "not released"})
"""What a cell says when it has nothing yet (compared in lower case, markup dropped)."""
_EMPTY_LINKS = re.compile(r"\[([^\[\]]*)\]\(\s*\)")
_MARKUP = re.compile(r"[*_`~]+")


@lru_cache(maxsize=1024)
def column_role(column: str) -> str | None:
    """`paper`, `code` or `model` for the columns whose content has an expected kind."""
    return next((role for role, names in _ROLE_NAMES if _folded(column) in names), None)


@lru_cache(maxsize=64)
def role_of_kind(kind: Kind) -> str | None:
    return next((role for role, kinds in ROLES.items() if kind in kinds), None)


def fits(role: str | None, kind: Kind, subpath: str | None) -> bool:
    """Whether a link of `kind` (with `subpath` in its repository) belongs in a column of
    `role`: any link in a column without a role; a paper PDF in a repository in a Paper
    column as well as in a Code column."""
    kind_role = role_of_kind(kind)
    if role is None or kind_role is None or kind_role == role:
        return True
    return role == "paper" and hosts_paper(kind, subpath)


def hosts_paper(kind: Kind, subpath: str | None) -> bool:
    """A link to a PDF file in a repository: a paper hosted with its code."""
    return kind in _REPO_KINDS and (subpath or "").lower().endswith(".pdf")


@lru_cache(maxsize=256)
def date_columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    """A table's date columns (Year, Date, Time, Published, any case or markup), whose
    cells are checked: found once a table, not once a cell."""
    return tuple(c for c in dict.fromkeys(columns) if _folded(c) in _DATE_NAMES)


def _date_text(value: str) -> str | None:
    """A date cell's text (HTML comments aside) if it is a date of publication, else None."""
    text = _COMMENT.sub("", value).strip()
    return text if _DATE.fullmatch(text) is not None else None


def is_date(value: str) -> bool:
    """Whether a date cell holds a date of publication (HTML comments aside)."""
    return _date_text(value) is not None


def row_year(record: RowRecord) -> tuple[str, str, int] | None:
    """What the row's first date column (in table order) that holds a date says: the
    column, the date as written (HTML comments aside) and its year; None without one."""
    for column in date_columns(tuple(record.columns or record.cells)):
        value = _date_text(record.cells.get(column, ""))
        if value is not None:
            year = _YEAR_IN.search(value)
            if year is not None:
                return column.strip(), value, int(year[0])
    return None


def is_placeholder(cell: str) -> bool:
    """Whether a non-empty cell says there is nothing yet: a placeholder word (`-`, `N/A`,
    `TBD`, `No`, ...), as text or as the text of a link without a target."""
    text = _EMPTY_LINKS.sub(r"\1", cell)
    text = " ".join(_MARKUP.sub("", text).split()).lower()
    return text in PLACEHOLDERS


def is_blank(cell: str) -> bool:
    """Whether a cell is empty: spaces only, or a placeholder."""
    return not cell.strip() or is_placeholder(cell)


@lru_cache(maxsize=1024)
def _folded(column: str) -> str:
    return " ".join(re.sub(r"[^\w/&]+", " ", column.lower()).split())
