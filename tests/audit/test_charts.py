"""The dashboard's chart: its geometry (what a manager reads off the bars and the axis)
and its SVG (escaped, locale-proof numbers, no inline style for the CSP)."""

import re
from datetime import date, timedelta

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from crmadmin.audit.charts import nice_ceiling, render_svg, stacked_bar_chart

SERIES = ("succeeded", "rejected", "failed", "unknown", "pending")
DAY = date(2026, 3, 1)


def days(*counts: dict) -> list:
    return [(DAY + timedelta(days=index), c) for index, c in enumerate(counts)]


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (21, 50), (51, 100), (999, 1000)],
)
def test_the_axis_top_is_a_round_number_reaching_the_tallest_bar(value, top):
    assert nice_ceiling(value) == top


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**12))
def test_the_axis_top_is_the_smallest_1_2_5_step_reaching_the_value(value):
    top = nice_ceiling(value)
    mantissa = top // 10 ** (len(str(top)) - 1)
    assert top >= value
    assert mantissa in (1, 2, 5) and str(top).rstrip("0") == str(mantissa)
    assert top < value * 2.5 or value == 1


@pytest.mark.parametrize(
    ("tallest", "ticks"),
    [
        (1, [0, 1]),
        (2, [0, 1, 2]),
        (9, [0, 2, 4, 6, 8, 10]),
        (17, [0, 5, 10, 15, 20]),
        (40, [0, 10, 20, 30, 40, 50]),
    ],
)
def test_ticks_split_the_axis_into_whole_numbers(tallest, ticks):
    chart = stacked_bar_chart(days({"succeeded": tallest}), series=SERIES)
    assert [tick.value for tick in chart.ticks] == ticks
    assert chart.ticks[0].y == chart.bottom
    assert chart.ticks[-1].y == chart.top


def test_bars_stack_the_series_bottom_up_in_order_and_skip_zeroes():
    chart = stacked_bar_chart(
        days({"succeeded": 6, "rejected": 0, "failed": 3, "unknown": 1}, {}), series=SERIES
    )
    first, empty = chart.bars
    assert first.total == 10
    assert [segment.series for segment in first.segments] == ["succeeded", "failed", "unknown"]
    plot = chart.bottom - chart.top  # the axis tops out at 10: the bar fills the plot
    assert [segment.height for segment in first.segments] == [
        round(plot * 0.6, 2),
        round(plot * 0.3, 2),
        round(plot * 0.1, 2),
    ]
    # Each segment sits on the one below it; the first on the axis.
    bottoms = [round(s.y + s.height, 2) for s in first.segments]
    assert bottoms[0] == chart.bottom
    assert bottoms[1:] == [s.y for s in first.segments[:-1]]
    assert first.top == first.segments[-1].y
    assert (empty.total, empty.segments, empty.top) == (0, [], chart.bottom)


def test_bars_share_the_width_without_overlapping():
    chart = stacked_bar_chart(days(*[{"succeeded": 1}] * 30), series=SERIES)
    assert len(chart.bars) == 30
    for left, right in zip(chart.bars, chart.bars[1:], strict=False):
        assert left.x + left.width < right.x
    assert chart.bars[0].x >= chart.left
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.right


def test_every_fifth_day_is_labelled_counting_back_from_today():
    chart = stacked_bar_chart(days(*[{}] * 11), series=SERIES)
    labelled = [bar.label for bar in chart.bars if bar.label]
    # The language's MONTH_DAY_FORMAT (issue 10 item 3: "01/03" could be 3 January).
    assert labelled == ["1 Mar", "6 Mar", "11 Mar"]


def test_no_days_still_draws_an_axis():
    chart = stacked_bar_chart([], series=SERIES)
    assert chart.bars == []
    assert [tick.value for tick in chart.ticks] == [0, 1]


def test_the_svg_has_a_titled_rect_per_segment_and_no_inline_style():
    chart = stacked_bar_chart(days({"succeeded": 3, "failed": 1}), series=SERIES)
    svg = render_svg(chart, title="Calls per day", labels={"succeeded": "thành công"})
    assert svg.startswith('<svg viewBox="0 0 760 240" role="img" aria-labelledby="chart-title"')
    assert '<title id="chart-title">Calls per day</title>' in svg
    assert svg.count("<rect ") == 2
    assert "<title>2026-03-01: 3 thành công</title>" in svg
    assert "<title>2026-03-01: 1 failed</title>" in svg  # no label: the series' own name
    assert 'class="chart-succeeded"' in svg and 'class="chart-failed"' in svg
    assert "style" not in svg
    assert '<g data-day="2026-03-01" data-total="4">' in svg


def test_the_svg_escapes_text_it_is_given():
    chart = stacked_bar_chart(days({"succeeded": 1}), series=SERIES)
    svg = render_svg(chart, title="<script>x</script>", labels={"succeeded": '"><b>'})
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;x&lt;/script&gt;" in svg


def test_coordinates_use_a_decimal_point_in_every_language():
    chart = stacked_bar_chart(days({"succeeded": 3}, {"succeeded": 7}), series=SERIES)
    with translation.override("vi"):
        svg = render_svg(chart, title="t", labels={})
    numbers = re.findall(r' (?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"', svg)
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d+)?", value) for value in numbers)
