"""Phone numbers by the book (phonenumbers): the wire form, the comparison key, search."""

import pytest
from django.core.exceptions import ValidationError

from crmadmin.customers import phones
from tests.core.test_settings import manage

# The five ways of writing one Vietnamese number.
ONE_NUMBER = [
    "+84 (0) 912 345 678",
    "0084 912 345 678",
    "+84 912 345 678",
    "84912345678",
    "0912.345.678",
]


@pytest.mark.parametrize("typed", [*ONE_NUMBER, "0912 345 678", "0912-345-678", "(+84) 912345678"])
def test_every_way_of_writing_a_vietnamese_number_is_one_number(typed):
    assert phones.normalise(typed) == "0912345678"
    assert phones.comparison_key(typed) == "84912345678"
    assert phones.search_digits(typed) == "84912345678"


@pytest.mark.parametrize(
    ("typed", "sent", "key"),
    [
        ("(028) 3822 1234", "02838221234", "842838221234"),
        ("+84 28 3822 1234", "02838221234", "842838221234"),
        ("+1 415-555-2671", "+14155552671", "14155552671"),
        ("001 (415) 555 2671", "+14155552671", "14155552671"),
        ("+44 20 7946 0000", "+442079460000", "442079460000"),
    ],
)
def test_landlines_and_foreign_numbers(typed, sent, key):
    assert phones.normalise(typed) == sent
    assert phones.comparison_key(sent) == key
    assert phones.read(typed) == (sent, key)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0912abc678", "is not a phone number: use digits"),  # a keypad word to the library
        ("09+12345678", "is not a phone number"),
        ("+", "is not a phone number"),
        ("١٢٣٤٥٦٧٨٩", "is not a phone number"),
        ("0912345678 ext. 12", "is not a phone number"),
        ("0912\x00345678", "is not a phone number"),
        ("9" * 300, "is not a phone number"),
        ("12345", "“12345” is not a valid phone number."),
        ("0912 345 67", "is not a valid phone number"),
        ("4155552671", "needs its country code"),
        ("+1234567890123456", "is not a valid phone number"),
    ],
)
def test_what_is_no_phone_number_says_why(typed, message):
    with pytest.raises(ValidationError) as error:
        phones.normalise(typed)
    assert message in error.value.messages[0]


def test_the_default_region_is_a_setting(settings):
    settings.PHONE_DEFAULT_REGION = "US"

    assert phones.normalise("(415) 555-2671") == "4155552671"
    assert phones.normalise("+84 912 345 678") == "+84912345678"
    assert phones.comparison_key("4155552671") == "14155552671"


@pytest.mark.parametrize(
    ("stored", "key"),
    [
        ("0912345678", "84912345678"),
        ("+84912345678", "84912345678"),
        ("12345678", "8412345678"),  # stored before numbers were validated: still a key
        ("n/a", ""),
    ],
)
def test_comparison_key_of_stored_numbers(stored, key):
    assert phones.comparison_key(stored) == key


@pytest.mark.parametrize(
    ("term", "digits"),
    [
        ("345 678", "345678"),
        ("2345", "2345"),
        ("8491", "8491"),
        ("0912 345", "912345"),
        ("+84 9123", "849123"),
        ("0084 9123", "849123"),
        ("+84 (0) 9123", "849123"),
        ("0912", None),
        ("234", None),
        ("nguyen", None),
        ("KH0912", None),
        ("", None),
    ],
)
def test_search_digits_of_a_part_of_a_number(term, digits):
    assert phones.search_digits(term) == digits


def test_an_unknown_default_region_stops_the_start_with_its_name():
    result = manage("check", DEBUG="true", PHONE_DEFAULT_REGION="XX")

    assert result.returncode != 0
    assert "PHONE_DEFAULT_REGION='XX' is no region code phonenumbers knows" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("number", "key", "wire"),
    [
        ("0912345678", "84912345678", True),
        ("+14155552671", "14155552671", True),
        ("+84912345678", "84912345678", False),  # a Vietnamese number goes out national
        ("0912.345.678", "84912345678", False),
        ("0912345678", "912345678", False),  # a key from before the library
        (
            "\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
            "84912345678",
            False,
        ),  # fullwidth
    ],
)
def test_a_stored_number_is_taken_as_it_is_only_when_read_would_give_it(number, key, wire):
    """The import preview skips parsing such numbers: the shortcut must agree with read()."""
    from crmadmin.customers.phones import is_wire_form, read

    assert is_wire_form(number, key) is wire
    if wire:
        assert read(number) == (number, key)
