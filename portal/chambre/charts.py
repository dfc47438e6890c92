"""Clicks per day as bar charts drawn on the server: plain SVG in the page, no script.

Only the geometry is computed here; the template writes the SVG, so every text in it (a
crawled shop name, a day) goes through the same autoescaping as the rest of the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

WIDTH = 640
HEIGHT = 160
PAD_LEFT = 36  # room for the axis labels
PAD_BOTTOM = 22


@dataclass
class Bar:
    day: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    shop_id: str
    name: str
    total: int
    peak: int
    bars: list[Bar] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    pad_left: int = PAD_LEFT
    pad_bottom: int = PAD_BOTTOM
    first_day: str = ""
    last_day: str = ""

    @property
    def base(self) -> int:
        return self.height - self.pad_bottom


def daily_series(shop_id: str, name: str, counts: dict[str, int], since: date, until: date) -> Chart:
    """One bar per day from ``since`` to ``until`` (days without a click at zero)."""
    days = [(since + timedelta(days=n)).isoformat() for n in range((until - since).days + 1)]
    peak = max([counts.get(day, 0) for day in days] + [1])
    chart = Chart(shop_id, name, total=sum(counts.get(d, 0) for d in days), peak=peak)
    plot_width = WIDTH - PAD_LEFT - 4
    plot_height = HEIGHT - PAD_BOTTOM - 8
    step = plot_width / max(len(days), 1)
    for index, day in enumerate(days):
        count = counts.get(day, 0)
        height = plot_height * count / peak
        chart.bars.append(
            Bar(
                day=day,
                count=count,
                x=round(PAD_LEFT + index * step + step * 0.1, 1),
                y=round(HEIGHT - PAD_BOTTOM - height, 1),
                width=round(max(step * 0.8, 1), 1),
                height=round(height, 1),
            )
        )
    chart.first_day, chart.last_day = days[0], days[-1]
    return chart
