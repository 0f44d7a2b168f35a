"""Small forms used across areas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, HiddenField, IntegerField
from wtforms.validators import ValidationError

from server.services.phone_numbers import InvalidPhoneNumber, normalize_mobile


class MobileNumber:
    """Validator: a Norwegian mobile number. Puts the +47 form on ``form.normalized``."""

    def __call__(self, form: Any, field: Field) -> None:
        try:
            form.normalized = normalize_mobile(field.data or "")
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc.message)) from None


class ConfirmForm(FlaskForm):
    """A button-only form: CSRF protection for a single action."""


class LanguageForm(FlaskForm):
    #: Where to go back to; only a local path is accepted.
    next = HiddenField()


class DayField(DateField):
    """A date field whose "not a date" message is our own, translated in nb, nn and en
    (WTForms' built-in message has no Nynorsk)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = (valuelist[0] if valuelist else "") or ""
        if not text.strip():
            self.data = None
            return
        for fmt in self.strptime_format:
            try:
                self.data = datetime.strptime(text.strip(), fmt).date()
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(_l("Enter a date, for example 24.12.2026."))


class WholeNumberField(IntegerField):
    """An integer field with our own translated message for text that is not a number."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = (valuelist[0] if valuelist else "") or ""
        if not str(text).strip():
            self.data = None
            return
        try:
            self.data = int(str(text).strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Write a whole number, for example 14.")) from None

