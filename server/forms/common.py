"""Small forms used across areas."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, HiddenField, IntegerField, SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from server.forms.base import Form
from server.numbers import whole_number
from server.services.errors import DomainError
from server.services.phone_numbers import InvalidPhoneNumber, normalize_mobile


class MobileNumber:
    """Validator: a Norwegian mobile number. Puts the +47 form on ``form.normalized``."""

    def __call__(self, form: Any, field: Field) -> None:
        try:
            form.normalized = normalize_mobile(field.data or "")
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc.message)) from None


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def attach_error(form: FlaskForm, error: DomainError) -> bool:
    """Show a service's error under the form field it names. False when it names no field
    of this form (the view then shows it another way, e.g. as a flash message)."""
    target = getattr(form, error.field, None) if error.field else None
    if not isinstance(target, Field):
        return False
    target.errors = [str(error.message)]
    return True


class ConfirmForm(Form):
    """A button-only form: CSRF protection for a single action."""


class LanguageForm(Form):
    #: Where to go back to; only a local path is accepted.
    next = HiddenField()


class DayField(DateField):
    """A date field whose "not a date" message is our own, translated in nb, nn and en
    (WTForms' built-in message has no Nynorsk). It takes what a date picker sends
    (2026-12-24) and what a person types where there is none (24.12.2026)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%d", "%d.%m.%Y"])
        super().__init__(*args, **kwargs)

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
    """An integer field with our own translated message for text that is not a number
    (read by server/numbers.py: ASCII digits only, so "²" or 5,000 digits are refused)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = (valuelist[0] if valuelist else "") or ""
        if not str(text).strip():
            self.data = None
            return
        self.data = whole_number(text, -(10**9), 10**9)
        if self.data is None:
            raise ValueError(_l("Write a whole number, for example 14."))



class PeriodForm(Form):
    """From and to dates for figures (a GET form: it only chooses what to show)."""

    class Meta:
        csrf = False

    first = DayField(_l("From"))
    last = DayField(_l("To"))

    #: Days a period can cover. A date typed further out is moved inside, where the
    #: arithmetic on the period cannot overflow (year 1 or 9999 gave a 500).
    EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)

    def period(self, today: date, default_days: int = 365) -> tuple[date, date]:
        """The chosen days, in order; by default the last ``default_days`` up to today."""
        def within(day: date) -> date:
            return min(max(day, self.EARLIEST), self.LATEST)

        last = within(self.last.data or today)
        first = within(self.first.data or (last - timedelta(days=default_days - 1)))
        return (first, last) if first <= last else (last, first)


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
