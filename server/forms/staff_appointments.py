"""Staff forms for recording and changing appointments, and for CSV import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from server.forms.base import Form
from server.forms.common import DayField, WholeNumberField, options
from server.labels import MEETINGS, STAFF_SERVICES

_REQUIRED_DATE = _l("Choose a date.")
_REQUIRED_TIME = _l("Choose a time, for example 10:30.")


class AppointmentForm(Form):
    day = DayField(_l("Date"), validators=[DataRequired(message=_REQUIRED_DATE)])
    at = TimeField(_l("Time"), validators=[DataRequired(message=_REQUIRED_TIME)])
    duration = WholeNumberField(
        _l("Length in minutes"), default=30,
        validators=[InputRequired(message=_l("Write the length in minutes.")),
                    NumberRange(min=5, max=720, message=_l("Between 5 and 720 minutes."))],
    )
    service = SelectField(_l("Service"), choices=options(STAFF_SERVICES.items()))
    service_name = StringField(
        _l("Name of the service, as the patient knows it"),
        validators=[DataRequired(message=_l("Write the name of the service.")),
                    Length(max=200, message=_l("At most %(max)d characters."))],
    )
    meeting = SelectField(_l("Kind of meeting"), choices=options(MEETINGS.items()))
    place_name = StringField(_l("Place"), validators=[Length(max=200)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    meet_role = StringField(_l("Whom they meet (role)"), validators=[Length(max=100)])
    meet_name = StringField(_l("Name (shown if the clinic allows)"), validators=[Length(max=200)])
    prepare = TextAreaField(_l("What to bring or prepare"), validators=[Length(max=2000)])
    cancel_by_day = DayField(_l("Last day to cancel without a fee"), validators=[Optional()])
    cancel_by_at = TimeField(_l("Last time to cancel without a fee"), validators=[Optional()])
    team_meeting = BooleanField(_l("A responsibility group meeting (ansvarsgruppemøte): choose "
                                   "who takes part on the next page"))


class AttendanceForm(Form):
    attendance = SelectField(choices=options([("attended", _l("Attended")),
                                              ("missed", _l("Missed"))]))
    #: Marked from Today: go back there ("today-mine" or "today-all").
    back = HiddenField()


class ImportForm(Form):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(message=_l("Choose a CSV file.")),
        FileAllowed(["csv", "txt"], message=_l("The file must be a .csv file.")),
    ])
