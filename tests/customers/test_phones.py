"""Phone numbers: normalised for the CRM, compared by their national digits."""

import pytest
from django.core.exceptions import ValidationError

from crmadmin.customers import phones


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        (" (+84) 912 345 678 ", "+84912345678"),
        ("+84 912-345-678", "+84912345678"),
        ("(028) 3822 1234", "02838221234"),
    ],
)
def test_normalise_removes_punctuation_and_keeps_a_leading_plus(typed, sent):
    assert phones.normalise(typed) == sent


@pytest.mark.parametrize("number", ["0912345678", "+84912345678", "02838221234", "12345678"])
def test_valid_numbers_pass(number):
    phones.validate(number)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("0912abc678", "is not a phone number"),
        ("09+12345678", "is not a phone number"),
        ("+", "is not a phone number"),
        ("١٢٣٤٥٦٧٨٩", "is not a phone number"),
        ("1234567", "has 7 digits; a phone number has 8 to 15"),
        ("+1234567890123456", "has 16 digits"),
    ],
)
def test_invalid_numbers_say_why(number, message):
    with pytest.raises(ValidationError) as error:
        phones.validate(number)
    assert message in error.value.messages[0]


@pytest.mark.parametrize(
    ("number", "digits"),
    [
        ("0912345678", "912345678"),
        ("+84912345678", "912345678"),
        ("84912345678", "912345678"),
        ("02838221234", "2838221234"),
        ("+842838221234", "2838221234"),
        ("+14155550100", "14155550100"),
        ("8412345678", "8412345678"),  # 84 + 8 digits is no Vietnamese number: kept
    ],
)
def test_national_digits(number, digits):
    assert phones.national_digits(number) == digits


@pytest.mark.parametrize(
    ("term", "digits"),
    [
        ("0912 345 678", "912345678"),
        ("0912.345.678", "912345678"),
        ("+84 912 345 678", "912345678"),
        ("84912345678", "912345678"),
        ("345 678", "345678"),
        ("2345", "2345"),
        ("8491", "8491"),
        ("+84 9123", "9123"),
        ("0912", None),
        ("234", None),
        ("nguyen", None),
        ("KH0912", None),
        ("", None),
    ],
)
def test_search_digits(term, digits):
    assert phones.search_digits(term) == digits
