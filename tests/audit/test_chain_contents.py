"""``chain.contents`` makes the texts of many entries at once (an import's events): each
must be exactly the text ``chain.content`` makes of that entry alone, or the chain would
not verify."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmadmin.audit import chain
from crmadmin.audit.models import Outcome

NAMES = ("actor_id", "operation", "code", "request_body", "snapshot_before", "started_at", "x")
MOMENT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
SHARED = {"file": "k.csv"}  # one object in several rows, as a template gives it

JSON_COLUMNS = ("request_body", "snapshot_before")
scalars = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=5),
    st.integers(-2, 2),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from([MOMENT, MOMENT + timedelta(microseconds=1), Outcome.SUCCEEDED]),
)
documents = st.one_of(
    st.none(),
    st.just(SHARED),
    st.just({}),
    st.dictionaries(st.text(max_size=2), st.one_of(st.integers(0, 1), st.booleans()), max_size=2),
    st.lists(st.integers(0, 1), max_size=2),
)
rows = st.lists(
    st.fixed_dictionaries({name: documents if name in JSON_COLUMNS else scalars for name in NAMES}),
    max_size=6,
)


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
@settings(max_examples=200, deadline=None)
@given(rows=rows, repeat=st.integers(1, 3))
def test_contents_is_content_of_each_row(vendor, rows, repeat):
    rows = rows * repeat  # columns alike in every row are the case contents() speeds up
    expected = [chain.content(NAMES, [row[n] for n in NAMES], vendor=vendor) for row in rows]
    assert chain.contents(NAMES, rows, vendor=vendor) == expected


def test_equal_values_of_another_type_are_not_taken_as_the_same_text():
    rows = [{"x": 1}, {"x": True}, {"x": 1.0}]
    assert chain.contents(("x",), rows, vendor="sqlite") == ["x=1", "x=true", "x=1.0"]
