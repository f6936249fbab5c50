"""The activity dashboard: the SVG chart's bars, failure rate, latency, people, failures."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crmadmin.audit.models import FailureKind, Outcome

DASHBOARD = reverse("audit:dashboard")


@pytest.fixture
def manager(client, manager_user):
    client.force_login(manager_user)
    return client


def noon(days_ago: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(12)))


def day(days_ago: int) -> str:
    return (timezone.localdate() - timedelta(days=days_ago)).isoformat()


def bars(page: str) -> dict[str, dict[str, int]]:
    """``{"2025-06-01": {"succeeded": 3, ...}}`` read from the chart's SVG."""
    svg = re.search(r'<svg[^>]*data-chart="calls-per-day".*?</svg>', page, re.S).group(0)
    result = {}
    for day, body in re.findall(r'<g data-day="([\d-]+)"[^>]*>(.*?)</g>', svg, re.S):
        result[day] = {
            outcome: int(count)
            for outcome, count in re.findall(
                r'<rect class="chart-(\w+)"[^>]*data-count="(\d+)"', body
            )
        }
    return result


def figure(page: str, name: str) -> str:
    card = re.search(rf'data-figure="{name}".*?<strong>(.*?)</strong>', page, re.S)
    return card.group(1).strip()


@pytest.fixture
def seeded(make_entry, make_user, settings):
    settings.AUDIT_PENDING_UNKNOWN_AFTER = 300
    lan, minh = make_user("support", "lan"), make_user("administrator", "minh")
    entries = {}
    for duration in (100, 200, 300):
        make_entry(actor=lan, started_at=noon(2), duration_ms=duration)
    entries["rejected"] = make_entry(
        actor=minh,
        outcome=Outcome.REJECTED,
        failure_kind=FailureKind.REJECTED,
        code="REJ",
        started_at=noon(2) + timedelta(minutes=5),
        duration_ms=50,
    )
    entries["failed"] = make_entry(
        actor=lan,
        outcome=Outcome.FAILED,
        failure_kind=FailureKind.TIMEOUT,
        code="TMO",
        started_at=noon(2) + timedelta(minutes=10),
        duration_ms=15000,
    )
    make_entry(actor=minh, started_at=noon(10), duration_ms=400)
    make_entry(actor=minh, started_at=noon(10), duration_ms=500)
    make_entry(operation="auth.token", record_kind="", code="", started_at=noon(10), duration_ms=80)
    entries["unknown"] = make_entry(
        actor=lan, outcome=Outcome.PENDING, code="LOST", started_at=noon(1)
    )
    make_entry(actor=lan, started_at=timezone.now() - timedelta(seconds=2), duration_ms=90)
    make_entry(actor=lan, outcome=Outcome.PENDING, started_at=timezone.now())
    # Outside the 30 days: never counted.
    for _ in range(5):
        make_entry(actor=minh, started_at=noon(31), duration_ms=9)
    return {"lan": lan, "minh": minh, **entries}


def test_chart_has_a_bar_per_day_stacked_by_outcome(manager, seeded):
    page = manager.get(DASHBOARD).content.decode()
    chart = bars(page)
    assert len(chart) == 30
    assert chart[day(2)] == {"succeeded": 3, "rejected": 1, "failed": 1}
    assert chart[day(10)] == {"succeeded": 3}
    assert chart[day(1)] == {"unknown": 1}
    assert chart[day(0)] == {"succeeded": 1, "pending": 1}
    assert chart[day(29)] == {}
    assert day(31) not in chart
    assert sum(sum(counts.values()) for counts in chart.values()) == 11
    # Colours come from CSS classes: no inline style anywhere (strict CSP).
    assert "style=" not in page
    assert "<script>" not in page


def test_taller_bars_for_more_calls(manager, seeded):
    page = manager.get(DASHBOARD).content.decode()
    heights = {
        day: sum(float(h) for h in re.findall(r'height="([\d.]+)"', body))
        for day, body in re.findall(r'<g data-day="([\d-]+)"[^>]*>(.*?)</g>', page, re.S)
    }
    assert heights[day(2)] == pytest.approx(heights[day(10)] * 5 / 3, rel=0.01)


def test_figures_failure_rate_and_latency(manager, seeded):
    page = manager.get(DASHBOARD).content.decode()
    assert figure(page, "total") == "11"
    assert "of which 1 token request" in page
    assert figure(page, "failure-rate") == "18.2%"  # 1 rejected + 1 failed of 11 calls
    assert "2 rejected or failed" in page
    assert "1 with outcome unknown" in page
    # Finished calls' durations: 50 80 90 100 200 300 400 500 15000 (nearest rank).
    assert figure(page, "p50") == "200 ms"
    p95 = figure(page, "p95")
    assert p95.endswith(" s")
    assert float(p95.removesuffix(" s")) == pytest.approx(15.0, rel=0.005)
    assert "over 9 finished calls" in page


def test_most_active_users_and_latest_failures(manager, seeded):
    page = manager.get(DASHBOARD).content.decode()
    actors = re.findall(r'<tr data-actor="([^"]*)"><td>(.*?)</td><td class="num">(\d+)</td>', page)
    assert [(name, int(calls)) for name, _cell, calls in actors] == [
        ("lan", 7),
        ("minh", 3),
        ("", 1),
    ]
    assert f'href="{reverse("audit:list")}?actor={seeded["lan"].pk}"' in actors[0][1]
    assert "system (no user)" in actors[2][1]

    problems = re.search(r'class="audit-latest-problems".*?</table>', page, re.S).group(0)
    listed = [int(pk) for pk in re.findall(r'data-entry="(\d+)"', problems)]
    assert listed == [seeded["unknown"].pk, seeded["failed"].pk, seeded["rejected"].pk]
    for name in ("unknown", "failed", "rejected"):
        assert f'href="{reverse("audit:detail", args=[seeded[name].pk])}"' in problems


def test_todays_calls_show_at_once(manager, seeded, make_entry):
    manager.get(DASHBOARD)  # the settled days are now cached
    make_entry(actor=seeded["minh"], outcome=Outcome.FAILED, started_at=timezone.now())
    page = manager.get(DASHBOARD).content.decode()
    assert bars(page)[day(0)] == {
        "succeeded": 1,
        "failed": 1,
        "pending": 1,
    }
    assert figure(page, "total") == "12"


def test_an_empty_log_draws_an_empty_chart(manager):
    page = manager.get(DASHBOARD).content.decode()
    assert len(bars(page)) == 30
    assert figure(page, "total") == "0"
    assert figure(page, "failure-rate") == "—"
    assert figure(page, "p95") == "—"
    assert "No failures recorded." in page


def test_a_call_finishing_after_a_visit_is_counted_with_its_outcome(manager, seeded):
    from crmadmin.audit.models import AuditEntry

    manager.get(DASHBOARD)
    in_flight = AuditEntry.objects.get(outcome=Outcome.PENDING, code="VIP")
    # The recorder completes a pending entry with one conditional UPDATE.
    AuditEntry.objects.filter(pk=in_flight.pk).update(
        outcome=Outcome.SUCCEEDED, finished_at=timezone.now(), duration_ms=70.0
    )
    page = manager.get(DASHBOARD).content.decode()
    assert bars(page)[day(0)] == {"succeeded": 2}
    assert "over 10 finished calls" in page
