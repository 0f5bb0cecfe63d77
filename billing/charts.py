"""Bar charts drawn on the server: the geometry of an inline SVG (no script, no external service)
that ``templates/billing/bar_chart.html`` renders, with the numbers for its accessible table."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
HEIGHT = 200
TOP = 16  # room above the tallest bar for its value
BOTTOM = 22  # room under the bars for the axis labels
LEFT = 8
MAX_BAR_WIDTH = 72  # a few bars stay bars, not slabs


@dataclass(frozen=True)
class Bar:
    label: str
    axis_label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    label_x: float
    show_label: bool


@dataclass(frozen=True)
class BarChart:
    """One series of bars; ``height`` of each bar is proportional to its value."""

    id: str
    title: str
    description: str
    bars: list[Bar]
    maximum: int
    total: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    points: list[tuple[str, int]],
    axis_labels: list[str] | None = None,
) -> BarChart:
    """Bars for ``points`` (label, value) scaled to the largest value; every bar gets its
    slot even at zero, and when there are many bars only every few get an axis label (short
    ones from ``axis_labels`` when given)."""
    maximum = max((value for _, value in points), default=0)
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT * 2) / max(1, len(points))
    gap = max(min(6.0, slot * 0.2), slot - MAX_BAR_WIDTH)
    label_every = max(1, round(len(points) / 10))
    bars = []
    for index, (label, value) in enumerate(points):
        height = round(value * plot_height / maximum, 2) if maximum else 0.0
        x = round(LEFT + index * slot + gap / 2, 2)
        bars.append(
            Bar(
                label=label,
                axis_label=axis_labels[index] if axis_labels else label,
                value=value,
                x=x,
                y=round(HEIGHT - BOTTOM - height, 2),
                width=round(slot - gap, 2),
                height=height,
                label_x=round(x + (slot - gap) / 2, 2),
                show_label=index % label_every == 0,
            )
        )
    return BarChart(
        id=chart_id,
        title=title,
        description=description,
        bars=bars,
        maximum=maximum,
        total=sum(value for _, value in points),
    )
