"""The audit list's filter form and the labels the audit screens show."""

from datetime import date

import pytest
from django.utils import translation

from crmadmin.audit.forms import (
    AuditFilterForm,
    PlainSelect,
    kind_label,
    operation_label,
    outcome_label,
)
from crmadmin.audit.selectors.listing import AuditFilters, actors_with_entries


def form(data: dict) -> AuditFilterForm:
    bound = AuditFilterForm(data, actors=actors_with_entries())
    bound.is_valid()
    return bound


@pytest.mark.django_db
def test_valid_parameters_become_the_filters(make_entry, manager_user):
    make_entry(actor=manager_user)
    bound = form(
        {
            "actor": str(manager_user.pk),
            "operation": "customer.rename",
            "record_kind": "customer",
            "code": "  KH001 ",
            "outcome": "unknown",
            "date_from": "2026-03-01",
            "date_to": "2026-03-31",
        }
    )
    assert bound.errors == {}
    assert bound.filters() == AuditFilters(
        actor_id=manager_user.pk,
        operation="customer.rename",
        record_kind="customer",
        code="KH001",
        outcome="unknown",
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 31),
    )


@pytest.mark.django_db
def test_filters_round_trip_through_their_query(make_entry, manager_user):
    make_entry(actor=manager_user)
    filters = AuditFilters(
        actor_id=manager_user.pk, outcome="pending", code="VIP", date_to=date(2026, 1, 2)
    )
    assert form(filters.as_query()).filters() == filters
    assert form({}).filters() == AuditFilters()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"actor": "999999"}, "actor"),  # nobody with entries
        ({"actor": "x"}, "actor"),
        ({"operation": "customer.explode"}, "operation"),
        ({"record_kind": "planet"}, "record_kind"),
        ({"outcome": "maybe"}, "outcome"),
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_to": "99999-01-01"}, "date_to"),
        ({"code": "X" * 129}, "code"),
        ({"code": "A\x00B"}, "code"),
    ],
)
def test_an_invalid_value_is_reported_and_left_out_of_the_filters(data, field):
    bound = form({**data, "operation": data.get("operation", "status.create")})
    assert field in bound.errors
    filters = bound.filters()
    assert filters.operation == ("status.create" if field != "operation" else "")
    assert getattr(filters, {"actor": "actor_id"}.get(field, field)) in (None, "")


@pytest.mark.django_db
def test_an_end_before_the_start_is_an_error_on_the_end():
    bound = form({"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert list(bound.errors) == ["date_to"]
    assert "The end date is before the start date." in bound.errors["date_to"]


@pytest.mark.django_db
def test_the_actor_choices_are_the_people_with_entries(make_entry, make_user):
    lan = make_user("manager", username="lan")
    make_user("support", username="nobody")
    make_entry(actor=lan)
    choices = form({}).fields["actor"].choices
    assert [label for _value, label in choices][1:] == ["lan"]


@pytest.mark.django_db
def test_the_selects_render_escaped_options_with_the_selection():
    html = PlainSelect(choices=[("a", "<b>A</b>"), ("b", "B")]).render("x", "b", {"id": "id_x"})
    assert html == (
        '<select name="x" id="id_x"><option value="a">&lt;b&gt;A&lt;/b&gt;</option>'
        '<option value="b" selected>B</option></select>'
    )


def test_operation_labels():
    assert operation_label("status.rename") == "status: change code"
    assert operation_label("customer.create") == "customer: create"
    assert operation_label("auth.token") == "token request"
    assert operation_label("something.else") == "something.else"


def test_kind_and_outcome_labels_fall_back_to_the_stored_value():
    assert kind_label("group") == "group"
    assert kind_label("planet") == "planet"
    assert outcome_label("unknown") == "outcome unknown"
    assert outcome_label("pending") == "in progress"
    assert outcome_label("weird") == "weird"


def test_labels_are_translated():
    with translation.override("vi"):
        assert outcome_label("unknown") != "outcome unknown"
        assert operation_label("auth.token") != "token request"
