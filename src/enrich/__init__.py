"""enrich: keep a curated paper list alive.

parse -> resolve -> fetch -> merge -> render; see README.md for the design notes.
"""

__version__ = "0.1.0"
