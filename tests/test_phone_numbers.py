"""What people type as a mobile number, and what Følge makes of it."""

import pytest
from flask import Flask

from server.services.phone_numbers import InvalidPhoneNumber, display_mobile, normalize_mobile


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("91234567", "+4791234567"),
        ("912 34 567", "+4791234567"),
        ("+47 912 34 567", "+4791234567"),
        ("+47 91 23 45 67", "+4791234567"),
        ("0047 91234567", "+4791234567"),
        ("4791234567", "+4791234567"),
        ("47123456", "+4747123456"),
        ("912-34-567", "+4791234567"),
        (" 41234567 ", "+4741234567"),
    ],
)
def test_accepted_forms(app: Flask, typed: str, expected: str) -> None:
    assert normalize_mobile(typed) == expected


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("abc", "letters"),
        ("9123456a", "letters"),
        ("912345", "short"),
        ("+47 912 34", "short"),
        ("912345678", "long"),
        ("+46 70 123 45 67", "foreign"),
        ("0046701234567", "foreign"),
        ("22334455", "not_mobile"),
        ("+47+4791234567", "letters"),
    ],
)
def test_refused_forms_say_why(app: Flask, typed: str, code: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_mobile(typed)
    assert caught.value.code == code
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert "number" in str(caught.value.message).lower()


def test_display_groups_digits_for_reading() -> None:
    assert display_mobile("+4791234567") == "912 34 567"
