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
