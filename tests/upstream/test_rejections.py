import pytest

from crmadmin.upstream.errors import UpstreamRejected, UpstreamTimeout
from crmadmin.upstream.rejections import Meaning, meaning_of


@pytest.mark.parametrize(
    ("code", "meaning"),
    [("1101", Meaning.DUPLICATE_CODE), ("1102", Meaning.NOT_FOUND), ("1107", Meaning.IN_USE)],
)
def test_the_sandbox_codes_are_the_defaults(code, meaning):
    assert meaning_of(UpstreamRejected(error_code=code)) is meaning


def test_an_unmapped_code_or_a_failure_has_no_meaning():
    assert meaning_of(UpstreamRejected(error_code="4242")) is None
    assert meaning_of(UpstreamRejected()) is None
    assert meaning_of(UpstreamTimeout()) is None


def test_the_setting_overrides_and_extends_the_table(settings):
    settings.CRM_REJECTION_CODES = {"E_DUP": "duplicate_code", "1102": "in_use"}
    assert meaning_of(UpstreamRejected(error_code="E_DUP")) is Meaning.DUPLICATE_CODE
    assert meaning_of(UpstreamRejected(error_code="1102")) is Meaning.IN_USE
