"""Properties of the audit list's keyset cursors: what a page link carries and how a page
is read from it. Hypothesis looks for the timestamp, id or text that breaks them."""

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmadmin.audit.models import AuditEntry
from crmadmin.audit.selectors.listing import AuditFilters, Cursor, audit_page
from crmadmin.core.validators import CONTROL

from .conftest import entry_fields

# Fast: pure properties get a few hundred examples, database ones a few dozen.
PURE = settings(max_examples=300, deadline=None)
WITH_DATABASE = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

zones = st.builds(
    timezone, st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timedelta(minutes=m))
)
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones
)
ids = st.integers(min_value=1, max_value=2**63 - 1)
cursors = st.builds(Cursor, started_at=instants, id=ids)


@PURE
@given(cursors)
def test_a_cursor_survives_its_round_trip_through_a_link(cursor):
    parsed = Cursor.parse(str(cursor))
    assert parsed is not None
    assert (parsed.started_at, parsed.id) == (cursor.started_at, cursor.id)
    assert parsed.started_at.utcoffset() == timedelta(0)


@PURE
@given(cursors, cursors)
def test_parsed_cursors_order_as_their_positions(a, b):
    parsed_a, parsed_b = Cursor.parse(str(a)), Cursor.parse(str(b))
    position_a, position_b = (a.started_at, a.id), (b.started_at, b.id)
    assert ((parsed_a.started_at, parsed_a.id) < (parsed_b.started_at, parsed_b.id)) == (
        position_a < position_b
    )


@PURE
@given(st.text() | st.binary().map(lambda raw: raw.decode("latin-1")))
def test_any_text_is_a_cursor_or_none_never_an_error(text):
    parsed = Cursor.parse(text)
    if parsed is not None:
        assert parsed.started_at.utcoffset() == timedelta(0)
        assert Cursor.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "_",
        "2026-01-01T00:00:00_",
        "2026-01-01T00:00:00_12",  # no zone: ambiguous, refused
        "2026-01-01T00:00:00Z_x",
        "2026-01-01T00:00:00Z_1e3",
        "0001-01-01T00:00:00+14:00_1",  # before year 1 in UTC
        "9999-12-31T23:59:59-14:00_1",  # after year 9999 in UTC
        "2026-01-01T00:00:00Z_" + "9" * 5000,
        "2026-01-01T00:00:00Z_\x0012",
        "\x00",
    ],
)
def test_hostile_cursors_are_refused(text):
    assert Cursor.parse(text) is None


@pytest.mark.django_db
@given(
    text=st.one_of(
        st.text(max_size=60),
        st.builds(
            "{}_{}".format,
            instants.map(datetime.isoformat),
            st.integers(min_value=-(2**80), max_value=2**80),
        ),
    ),
    direction=st.sampled_from(["before", "after"]),
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_hostile_cursor_in_the_address_shows_a_page_not_an_error(
    client, manager_user, text, direction
):
    client.force_login(manager_user)
    response = client.get(reverse("audit:list"), {direction: text})
    # A control character in the address is refused as a whole, by one clear page.
    assert response.status_code == (400 if CONTROL.search(text) else 200)


_codes = itertools.count()


@pytest.mark.django_db
@WITH_DATABASE
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=14),
    page_size=st.integers(min_value=1, max_value=4),
)
def test_paging_older_then_newer_visits_every_entry_once_in_order(offsets, page_size):
    """Entries sharing timestamps (offsets repeat) are where a keyset goes wrong."""
    code = f"PROP{next(_codes)}"
    base = datetime(2026, 3, 1, 12, tzinfo=UTC)
    AuditEntry.objects.bulk_create(
        AuditEntry(**entry_fields(code=code, started_at=base + timedelta(seconds=offset)))
        for offset in offsets
    )
    expected = list(
        AuditEntry.objects.filter(code=code)
        .order_by("-started_at", "-id")
        .values_list("pk", flat=True)
    )
    filters = AuditFilters(code=code)

    pages = [audit_page(filters=filters, page_size=page_size)]
    while pages[-1].older is not None:
        pages.append(audit_page(filters=filters, before=pages[-1].older, page_size=page_size))
    assert [entry.pk for page in pages for entry in page.entries] == expected
    assert all(len(page.entries) == page_size for page in pages[:-1])

    # Back up from the oldest page: the same pages, newest last.
    back = [pages[-1]]
    while back[-1].newer is not None:
        back.append(audit_page(filters=filters, after=back[-1].newer, page_size=page_size))
    assert len(back) == len(pages)
    assert [entry.pk for entry in back[-1].entries] == [entry.pk for entry in pages[0].entries]
    assert back[-1].is_newest
