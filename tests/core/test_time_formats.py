"""One way to show time: per language one date and one date-time format on every screen,
no microseconds, no all-number day/month, the time zone beside times of different days."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.customers.models import Customer
from tests.audit.conftest import entry_fields
from tests.customers.conftest import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in Vietnamese leaves the thread's language active: later tests expect none."""
    yield
    translation.deactivate()


MOMENT = datetime(2026, 2, 3, 4, 5, 6, 789123, tzinfo=UTC)  # 11:05:06.789 in Hà Nội
EXPECTED = {
    "en": {"datetime": "3 Feb 2026, 11:05:06", "date": "17 May 1990"},
    "vi": {"datetime": "3 thg 2, 2026 11:05:06", "date": "17 thg 5, 1990"},
}


@pytest.fixture
def world(superuser):
    codes = {
        "status": Status.objects.create(code="MOI", name="Mới"),
        "type": Type.objects.create(code="CA_NHAN", name="Cá nhân"),
        "group": Group.objects.create(code="HN", name="Hà Nội"),
    }
    birthday = Field.objects.create(code="NGAY_SINH", name="Ngày sinh", field_type="date")
    make_customer("KH0001", "An", codes=codes, values={birthday: "1990-05-17"})
    Customer.objects.update(created_at=MOMENT, updated_at=MOMENT)
    Status.objects.update(updated_at=MOMENT)
    entry = AuditEntry.objects.create(
        **entry_fields(
            operation="customer.update",
            record_kind="customer",
            code="KH0001",
            started_at=MOMENT,
            outcome=Outcome.FAILED,
            actor=superuser,
        )
    )
    recent = AuditEntry.objects.create(
        **entry_fields(started_at=timezone.now() - timedelta(hours=1), outcome=Outcome.REJECTED)
    )
    return {"entry": entry, "recent": recent}


SCREENS = {
    "customer list": lambda world: reverse("customers:list"),
    "customer detail": lambda world: reverse("customers:detail", kwargs={"code": "KH0001"}),
    "status list": lambda world: reverse("codes:list", kwargs={"kind": "statuses"}),
    "audit list": lambda world: reverse("audit:list"),
    "audit entry": lambda world: reverse("audit:detail", args=[world["entry"].pk]),
}
ZONED = {"customer detail", "audit list", "audit entry"}


@pytest.mark.parametrize("language", ["en", "vi"])
@pytest.mark.parametrize("screen", SCREENS)
def test_every_screen_shows_times_in_the_languages_one_format(
    client, superuser, world, language, screen
):
    client.force_login(superuser)

    text = client.get(SCREENS[screen](world), headers={"Accept-Language": language}).text

    assert EXPECTED[language]["datetime"] in text
    if screen == "customer detail":
        assert EXPECTED[language]["date"] in text  # a date custom field
    visible = re.sub(r"<[^>]+>", " ", text)  # machine-readable datetime="" attributes aside
    # No fraction of a second: "06.789", "06,789123" (a request id's hex may hold "789").
    assert not re.search(r":06[.,]\d", visible)
    assert not re.search(r"\b789(123)?\b", visible)
    assert not re.search(r"\b\d{1,2}/\d{1,2}\b", visible)  # nothing like 12/02
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", visible)
    if screen in ZONED:
        assert "(UTC+07:00)" in visible


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_dashboard_axis_table_and_failures_use_the_same_formats(
    client, superuser, world, language
):
    client.force_login(superuser)

    text = client.get(reverse("audit:dashboard"), headers={"Accept-Language": language}).text

    recent = timezone.localtime(world["recent"].started_at)
    with translation.override(language):
        assert date_format(recent, "DATETIME_FORMAT") in text  # the latest failures
        assert date_format(recent.date(), "DATE_FORMAT") in text  # the table by day
        # The axis labels every fifth day counted back from today (local), the last bar:
        # "recent" (an hour ago) is yesterday between local midnight and 1 a.m.
        axis = date_format(timezone.localdate(), "MONTH_DAY_FORMAT")
    assert re.search(rf'<text class="chart-label"[^>]*>{re.escape(axis)}</text>', text)
    assert "(UTC+07:00)" in text
    visible = re.sub(r"<[^>]+>", " ", text)
    assert not re.search(r"\b\d{1,2}/\d{1,2}\b", visible)
