"""Forms for answering appointments and for reminder settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from server.forms.base import Form
from server.forms.common import options

REASON_LIMIT = 500
CALL_WHEN_LIMIT = 100


class CannotComeForm(Form):
    reason = TextAreaField(
        _l("Reason (if you want to tell us)"),
        validators=[Optional(), Length(max=REASON_LIMIT,
                                       message=_l("Please keep it under %(max)d characters."))],
    )
    call_me = BooleanField(_l("Call me to find a new time"))
    #: Free text, e.g. "after 12" or "Tuesdays": the call-back item on the worklist shows it.
    call_when = StringField(
        _l("When is it best to call you? (optional)"),
        validators=[Optional(), Length(max=CALL_WHEN_LIMIT,
                                       message=_l("Please keep it under %(max)d characters."))])


class NewTimeForm(Form):
    reason = TextAreaField(
        _l("Which times suit you? (optional)"),
        validators=[Optional(), Length(max=REASON_LIMIT,
                                       message=_l("Please keep it under %(max)d characters."))],
    )


def _time_choices(start: int, end: int) -> list[tuple[str, str]]:
    return [(f"{h:02d}:00", f"{h:02d}:00") for h in range(start, end)]


#: The simple question first: each way is a ranked list of channels (the order we try).
WAYS: dict[str, tuple[str, ...]] = {
    "sms": ("sms",), "push_sms": ("push", "sms"), "push": ("push",), "letter": ("letter",),
}
WAY_LABELS = {
    "sms": _l("SMS"), "push_sms": _l("App notification, and SMS if it does not arrive"),
    "push": _l("App notification only"), "letter": _l("Letter"),
    "custom": _l("My own order (below)"),
}


class ReminderSettingsForm(Form):
    way = RadioField(_l("How do you want reminders?"), default="custom")
    first = SelectField(_l("First choice"))
    second = SelectField(_l("Second choice"))
    third = SelectField(_l("Third choice"))
    evening_before = SelectField(
        _l("Reminder the evening before"),
        choices=options([("", _l("No evening reminder")), *_time_choices(16, 22)]),
    )
    hours_before = SelectField(
        _l("Reminder before the appointment"),
        choices=options([("", _l("No reminder on the day")), ("1", _l("1 hour before")),
                         ("2", _l("2 hours before")), ("3", _l("3 hours before")),
                         ("4", _l("4 hours before"))]),
    )
    quiet_from = SelectField(_l("Quiet from"),
                             choices=options([*_time_choices(18, 24), ("00:00", "00:00")]))
    quiet_until = SelectField(_l("Quiet until"), choices=options(_time_choices(5, 11)))
