"""enrich: keep a curated paper list alive.

parse -> resolve -> fetch -> merge -> render; see docs/design.md for the design notes.
"""

DISTRIBUTION = "enrich-papers"
"""The distribution's name; `enrich` on the package index is another project (README.md)."""

__version__ = "0.1.0"
"""The version: pyproject.toml reads it from here, `enrich --version` prints it."""
