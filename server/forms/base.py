"""The base of every form in Følge."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectFieldBase

#: Characters no person types and PostgreSQL cannot store in text (NUL), or that only
#: break lines and headers where they do not belong.
_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a character that is never part of what a person writes."""
    return any(ch in _CONTROL for ch in text)


def without_control_characters(text: str) -> str:
    return "".join(ch for ch in text if ch not in _CONTROL)


#: For a value no page offers (only a crafted request sends one); WTForms' own text has no
#: Nynorsk.
_NOT_OFFERED = _l("Choose one of the options shown.")


class Form(FlaskForm):
    """A FlaskForm (CSRF included) that refuses control characters such as NUL in any
    field, with a message under the field (a field with ``strips_control_characters``
    leaves them out instead, and refuses only NUL). The text is kept, minus those characters, so
    nothing the person wrote is lost when the form is shown again. Choice fields answer a
    value they never offered with our own translated message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, SelectFieldBase):
                field.invalid_choice_message = getattr(field, "invalid_choice_message",
                                                       None) or _NOT_OFFERED
                field.invalid_value_message = getattr(field, "invalid_value_message",
                                                      None) or _NOT_OFFERED

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            raw = [v for v in (field.raw_data or []) if isinstance(v, str)]
            if not any(has_control_characters(v) for v in raw):
                continue
            if isinstance(field.data, str):
                field.data = without_control_characters(field.data)
            if getattr(field, "strips_control_characters", False) and \
                    not any("\x00" in v for v in raw):
                continue  # a message text: such characters are simply left out
            field.errors = [*field.errors, _l(
                "This contains a character that cannot be saved (for example an invisible "
                "control character). Remove it and try again.")]
            valid = False
        return valid
