"""Issue 10 item 8: Support lands on Customers, the home tiles count, the dashboard offers
7/30/90 days and shows the work done per user and per day."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.codes.models import Field, Group, Status, Type
from tests.audit.conftest import entry_fields
from tests.customers.conftest import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(db):
    codes = {
        "status": Status.objects.create(code="MOI", name="Mới"),
        "type": Type.objects.create(code="CA_NHAN", name="Cá nhân"),
        "group": Group.objects.create(code="HN", name="Hà Nội"),
    }
    Status.objects.create(code="VIP", name="VIP")
    Field.objects.create(code="F1", name="F1", field_type="text")
    for number in range(3):
        make_customer(f"KH{number}", f"Khách {number}", [f"090000000{number}"], codes=codes)
    AuditEntry.objects.create(**entry_fields())
    AuditEntry.objects.create(**entry_fields(started_at=timezone.now() - timedelta(days=3)))
    return codes


TILES = {"customers": 3, "statuses": 2, "types": 1, "groups": 1, "fields": 1, "audit": None}


@pytest.mark.parametrize(("tile", "count"), TILES.items())
def test_home_tiles_show_counts(client, superuser, register, tile, count):
    client.force_login(superuser)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    expected = (
        AuditEntry.objects.filter(started_at__gte=midnight).count() if count is None else count
    )

    html = client.get("/").text

    shown = re.search(rf'data-tile="{tile}".*?data-count="(\d+)"', html, re.S)
    assert shown and int(shown.group(1)) == expected


@pytest.mark.parametrize("role", ["support", "administrator", "manager"])
def test_a_signed_in_user_opening_login_goes_where_they_land(client_as, role):
    client = client_as(role)

    response = client.get(reverse("login"))

    assert response["Location"] == ("/customers/" if role == "support" else "/")


@pytest.fixture
def work(make_user):
    cache.clear()
    an, binh = make_user("support", "an"), make_user("support", "binh")
    now = timezone.now()

    def call(actor, operation, days_ago, outcome=Outcome.SUCCEEDED):
        AuditEntry.objects.create(
            **entry_fields(
                actor=actor,
                operation=operation,
                started_at=now - timedelta(days=days_ago, minutes=5),
                outcome=outcome,
            )
        )

    call(an, "customer.create", 0)
    call(an, "customer.create", 0)
    call(an, "customer.update", 0)
    call(an, "status.rename", 1)
    call(an, "customer.delete", 20)
    call(an, "customer.create", 60)
    call(binh, "customer.create", 0, Outcome.REJECTED)  # not work done
    call(binh, "token", 0)  # not a change of a record
    call(binh, "group.delete", 5)
    yield {"an": an, "binh": binh}
    cache.clear()


@pytest.mark.parametrize(
    ("days", "an", "binh"),
    [
        (7, (2, 2, 0), (0, 0, 1)),
        (30, (2, 2, 1), (0, 0, 1)),
        (90, (3, 2, 1), (0, 0, 1)),
    ],
)
def test_the_dashboard_shows_the_work_done_per_user_over_the_chosen_period(
    client, manager_user, work, days, an, binh
):
    client.force_login(manager_user)

    html = client.get(reverse("audit:dashboard"), {"days": days}).text

    assert re.search(rf'<a href="[^"]*\?days={days}" data-days="{days}" aria-current="page">', html)
    for name, expected in (("an", an), ("binh", binh)):
        row = re.search(rf'<tr data-work-actor="{name}">(.*?)</tr>', html, re.S).group(1)
        counts = tuple(int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row))
        assert counts == expected
    assert f'data-day="{(timezone.localdate() - timedelta(days=days - 1)).isoformat()}"' in html
    assert f'data-day="{(timezone.localdate() - timedelta(days=days)).isoformat()}"' not in html


def test_the_work_per_day_adds_up_the_users(client, manager_user, work):
    client.force_login(manager_user)

    html = client.get(reverse("audit:dashboard"), {"days": 7}).text

    today = re.search(
        rf'<tr data-work-day="{timezone.localdate().isoformat()}">(.*?)</tr>', html, re.S
    ).group(1)
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', today)] == [2, 1, 0]


# A NUL in the query ("7\x00") is the clear 400 of tests/core/test_hostile_input.py.
@pytest.mark.parametrize("days", ["", "0", "1000", "abc"])
def test_an_unknown_period_shows_the_default_thirty_days(client, manager_user, days):
    client.force_login(manager_user)

    response = client.get(reverse("audit:dashboard"), {"days": days})

    assert response.status_code == 200
    assert 'data-days="30" aria-current="page"' in response.text
