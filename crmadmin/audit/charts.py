"""Chart geometry for server-rendered SVG: the template draws rectangles, no script runs."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Segment:
    series: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    day: date
    total: int
    x: float
    width: float
    top: float
    segments: list[Segment]
    label: str  # the day under the bar, or "" where labels would crowd
    label_x: float


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class StackedBarChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    label_y: float  # baseline of the day labels
    axis_label_x: float  # right edge of the tick labels


def nice_ceiling(value: int) -> int:
    """The axis top: the smallest 1, 2 or 5 times a power of ten reaching ``value``."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # unreachable: 10 * magnitude > value


def _tick_intervals(scale_top: int) -> int:
    """How many equal steps split the axis into whole numbers (10 → 5, 20 → 4, 2 → 2)."""
    leading = scale_top // 10 ** math.floor(math.log10(scale_top))
    if leading == 2:
        return 2 if scale_top == 2 else 4
    return 1 if scale_top == 1 else 5


def stacked_bar_chart(
    days: Sequence[tuple[date, Mapping[str, int]]],
    *,
    series: Sequence[str],
    width: int = 760,
    height: int = 240,
    label_every: int = 5,
) -> StackedBarChart:
    """One bar per day, its ``series`` counts stacked bottom-up in the given order."""
    left, right, top, bottom = 44.0, width - 8.0, 10.0, height - 26.0
    plot_height = bottom - top
    scale_top = nice_ceiling(max((sum(c.get(s, 0) for s in series) for _, c in days), default=0))
    slot = (right - left) / max(len(days), 1)
    bar_width = round(slot * 0.72, 2)
    bars = []
    for index, (day, counts) in enumerate(days):
        x = round(left + index * slot + (slot - bar_width) / 2, 2)
        y = bottom
        segments = []
        for name in series:
            count = counts.get(name, 0)
            if not count:
                continue
            segment_height = plot_height * count / scale_top
            y -= segment_height
            segments.append(
                Segment(
                    series=name,
                    count=count,
                    x=x,
                    y=round(y, 2),
                    width=bar_width,
                    height=round(segment_height, 2),
                )
            )
        from_end = len(days) - 1 - index
        bars.append(
            Bar(
                day=day,
                total=sum(segment.count for segment in segments),
                x=x,
                width=bar_width,
                top=round(y, 2),
                segments=segments,
                label=date_format(day, "MONTH_DAY_FORMAT") if from_end % label_every == 0 else "",
                label_x=round(x + bar_width / 2, 2),
            )
        )
    intervals = _tick_intervals(scale_top)
    ticks = [
        Tick(
            value=scale_top * step // intervals,
            y=round(bottom - plot_height * step / intervals, 2),
        )
        for step in range(intervals + 1)
    ]
    return StackedBarChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        bars=bars,
        ticks=ticks,
        label_y=bottom + 16,
        axis_label_x=left - 6,
    )


def _number(value: float) -> str:
    """A coordinate as SVG wants it, whatever the active locale's decimal separator."""
    return f"{value:g}"


def render_svg(chart: StackedBarChart, *, title: str, labels: Mapping[str, str]) -> SafeString:
    """The chart as inline SVG markup: grid lines, tick values, one ``<g>`` per day with a
    ``<rect>`` per outcome (colours from CSS classes ``chart-<series>``: no inline style,
    so the strict Content-Security-Policy holds), each with a ``<title>`` tooltip."""
    grid = format_html_join(
        "",
        '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
        '<text class="chart-tick" x="{}" y="{}" text-anchor="end" '
        'dominant-baseline="middle">{}</text>',
        (
            (
                _number(chart.left),
                _number(chart.right),
                _number(tick.y),
                _number(tick.y),
                _number(chart.axis_label_x),
                _number(tick.y),
                tick.value,
            )
            for tick in chart.ticks
        ),
    )
    bars = format_html_join(
        "",
        '<g data-day="{}" data-total="{}">{}{}</g>',
        (
            (
                bar.day.isoformat(),
                bar.total,
                format_html_join(
                    "",
                    '<rect class="chart-{}" x="{}" y="{}" width="{}" height="{}" '
                    'data-outcome="{}" data-count="{}"><title>{}: {} {}</title></rect>',
                    (
                        (
                            segment.series,
                            _number(segment.x),
                            _number(segment.y),
                            _number(segment.width),
                            _number(segment.height),
                            segment.series,
                            segment.count,
                            bar.day.isoformat(),
                            segment.count,
                            labels.get(segment.series, segment.series),
                        )
                        for segment in bar.segments
                    ),
                ),
                format_html(
                    '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _number(bar.label_x),
                    _number(chart.label_y),
                    bar.label,
                )
                if bar.label
                else "",
            )
            for bar in chart.bars
        ),
    )
    return format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-labelledby="chart-title" '
        'data-chart="calls-per-day"><title id="chart-title">{}</title>{}{}</svg>',
        chart.width,
        chart.height,
        title,
        grid,
        bars,
    )
