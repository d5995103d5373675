"""Stage 5: the top movers over time (`output/trends.svg`), a standalone SVG. Pure.

The entities that moved most over the last 30 days (`trends.movers`: stars, 30-day
downloads, citations; biggest absolute change first, at most `SHOWN`), one row each: the
entity, its field, its value and its change, and its line over the last year
(`trends.recent`, scaled to the row). Like `timeline.svg`: no script, font or link to
fetch, every text escaped, one decimal per coordinate, no timestamp but the history's own
last day, so the same history and dataset give the same bytes.
"""

from __future__ import annotations

from enrich.columns import humanise, signed
from enrich.models import Entities
from enrich.text import one_line
from enrich.timeline import MARGIN, MUTED, PALETTE, WIDTH, escape, num, svg_document, xml_safe
from enrich.trends import Mover, Trends, movers, polyline, recent

SHOWN = 8
ROW = 34.0
TOP = 60.0
LINE_X = 460.0
LINE_HEIGHT = 24.0
LABEL_LIMIT = 48
TITLE = "Top movers over the last 30 days"


def render_trends(trends: Trends, entities: Entities) -> str:
    """The chart of `trends`' top movers among `entities` (the dataset's)."""
    top = movers(trends, entities)[:SHOWN]
    if not top or trends.as_of is None:
        detail = "No history of 30 days yet: each refresh adds what changed"
        return _document(TOP, f"{TITLE}: none yet", detail, [])
    subtitle = f"Stars, 30-day downloads and citations up to {trends.as_of.isoformat()}"
    body = [_row(trends, mover, index) for index, mover in enumerate(top)]
    return _document(TOP + ROW * len(top) + MARGIN / 2, TITLE, f"{subtitle}; lines: a year", body)


def _row(trends: Trends, mover: Mover, index: int) -> str:
    y = TOP + ROW * index
    colour = PALETTE[index % len(PALETTE)]
    name = one_line(xml_safe(mover.id.ref), LABEL_LIMIT)
    value = f"{mover.field} {humanise(mover.now)} ({signed(mover.change)})"
    line = _line(trends, mover, y)
    return "".join(
        [
            f"<g><title>{escape(xml_safe(mover.id.ref))}: {escape(value)}</title>",
            f'<text x="{num(MARGIN)}" y="{num(y + 12)}">{escape(name)}</text>',
            f'<text x="{num(MARGIN)}" y="{num(y + 26)}" fill="{MUTED}">{escape(value)}</text>',
            line.replace("COLOUR", colour),
            "</g>",
        ]
    )


def _line(trends: Trends, mover: Mover, y: float) -> str:
    """The mover's values over the last year (`trends.recent`), as a polyline in its row."""
    box = (LINE_X, y + 4, WIDTH - MARGIN - LINE_X, LINE_HEIGHT)
    points = polyline(recent(trends, mover.id, mover.field), box)
    return f'<polyline points="{points}" fill="none" stroke="COLOUR" stroke-width="1.5"/>'


def _document(height: float, title: str, subtitle: str, body: list[str]) -> str:
    return svg_document("trends", height, title, subtitle, body)
