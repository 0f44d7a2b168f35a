"""Norwegian mobile numbers: parse what people type into E.164 form."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from server.services.errors import DomainError

# Norwegian mobile numbers have 8 digits and start with 4 or 9.
_MOBILE = re.compile(r"^[49]\d{7}$")
_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhoneNumber(DomainError):
    """What was typed is not a Norwegian mobile number."""


def normalize_mobile(raw: str) -> str:
    """Return ``+47XXXXXXXX`` for a Norwegian mobile number, or raise.

    Accepts spaces, dashes and the prefixes ``+47``, ``0047`` and ``47``
    (the last only when 10 digits remain, so ``47xxxxxx`` stays an 8-digit
    number).
    """
    text = _SEPARATORS.sub("", (raw or "").strip())
    if not text:
        raise InvalidPhoneNumber(_l("Write your mobile number."), "empty")
    if re.search(r"[^\d+]", text) or "+" in text[1:]:
        raise InvalidPhoneNumber(
            _l("A mobile number can only have digits, for example 912 34 567."), "letters"
        )
    if text.startswith("+"):
        if not text.startswith("+47"):
            raise InvalidPhoneNumber(
                _l("Only Norwegian mobile numbers (+47) can be used in Følge."), "foreign"
            )
        text = text[3:]
    elif text.startswith("00"):
        if not text.startswith("0047"):
            raise InvalidPhoneNumber(
                _l("Only Norwegian mobile numbers (+47) can be used in Følge."), "foreign"
            )
        text = text[4:]
    elif len(text) == 10 and text.startswith("47"):
        text = text[2:]
    if len(text) < 8:
        raise InvalidPhoneNumber(
            _l("The number is too short. A Norwegian mobile number has 8 digits."), "short"
        )
    if len(text) > 8:
        raise InvalidPhoneNumber(
            _l("The number is too long. A Norwegian mobile number has 8 digits."), "long"
        )
    if not _MOBILE.match(text):
        raise InvalidPhoneNumber(
            _l("This does not look like a mobile number. Norwegian mobile numbers start with 4 or 9."),
            "not_mobile",
        )
    return "+47" + text


def display_mobile(e164: str) -> str:
    """Format ``+4791234567`` as ``912 34 567`` for reading."""
    digits = e164.removeprefix("+47")
    if len(digits) != 8:
        return e164
    return f"{digits[:3]} {digits[3:5]} {digits[5:]}"


#: Norwegian service numbers a team member or crisis line may have: 3 digits (113),
#: 5 digits (02800) and 6 digits (116 117, 116 123).
_SHORT = re.compile(r"^(\d{3}|\d{5}|1\d{5})$")


def normalize_phone(raw: str) -> str:
    """Any Norwegian phone number staff write for a contact: 8 digits (landline or mobile,
    with or without +47), or a short service number such as 116 117. Returned as the digits
    a ``tel:`` link needs (``+4722000000``, ``116117``); raises InvalidPhoneNumber."""
    text = _SEPARATORS.sub("", (raw or "").strip())
    if not text:
        raise InvalidPhoneNumber(_l("Write a phone number."), "empty")
    if re.search(r"[^\d+]", text) or "+" in text[1:]:
        raise InvalidPhoneNumber(
            _l("A phone number can only have digits, for example 22 00 00 00."), "letters")
    if text.startswith("+47"):
        text = text[3:]
    elif text.startswith("0047"):
        text = text[4:]
    elif text.startswith(("+", "00")):
        raise InvalidPhoneNumber(_l("Only Norwegian phone numbers (+47) can be used."),
                                 "foreign")
    if len(text) == 8 and text[0] in "23456789":
        return "+47" + text
    if _SHORT.match(text):
        return text
    raise InvalidPhoneNumber(_l("This is not a Norwegian phone number. Write 8 digits, for "
                                "example 22 00 00 00, or a number such as 116 117."), "bad")


def display_phone(number: str) -> str:
    """A phone number as people read it: ``22 00 00 00``, ``116 117``, ``113``."""
    digits = _SEPARATORS.sub("", number).removeprefix("+47")
    if len(digits) == 8:
        if digits[0] in "49":
            return f"{digits[:3]} {digits[3:5]} {digits[5:]}"
        return f"{digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
    if len(digits) == 6:
        return f"{digits[:3]} {digits[3:]}"
    return digits


def tel_href(number: str) -> str:
    """The ``tel:`` link for a stored or typed number (spaces removed)."""
    return "tel:" + _SEPARATORS.sub("", number)
