"""Forms of the care team: members, gaps, handovers, the directory, areas, settings and moves
between clinics. Choices that depend on the clinic are filled in by the views."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from server.care_team.models import ExternalConfirmation, TeamService
from server.forms.base import Form
from server.forms.common import DayField, MultiCheckboxField, WholeNumberField, options
from server.labels import CONSENT_METHODS, WEEKDAYS
from server.services.phone_numbers import InvalidPhoneNumber, normalize_phone

SERVICES = {
    TeamService.CLINIC.value: _l("The clinic"),
    TeamService.GP.value: _l("GP (fastlege)"),
    TeamService.MUNICIPALITY.value: _l("Municipality or home services"),
    TeamService.NAV.value: _l("NAV"),
    TeamService.PSYCHIATRY.value: _l("Psychiatry"),
    TeamService.OTHER.value: _l("Other"),
}
#: Services of external contacts (the clinic's own people are staff members).
EXTERNAL_SERVICES = {k: v for k, v in SERVICES.items() if k != TeamService.CLINIC.value}

CONFIRMATIONS = {
    ExternalConfirmation.PHONE.value: _l("On the phone"),
    ExternalConfirmation.MEETING.value: _l("In a meeting"),
    ExternalConfirmation.IN_WRITING.value: _l("In writing"),
}


def _max(limit: int) -> Length:
    return Length(max=limit, message=_l("Please keep it under %(max)d characters.", max=limit))


class PhoneNumber:
    """Validator: a Norwegian phone number (8 digits, or a service number such as 116 117).
    Puts the normalised number on ``field.normalized``."""

    def __init__(self, required: bool = True) -> None:
        self.required = required

    def __call__(self, form: Any, field: Any) -> None:
        if not (field.data or "").strip() and not self.required:
            field.normalized = ""
            return
        try:
            field.normalized = normalize_phone(field.data or "")
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc.message)) from None


class HoursMixin:
    """Opening hours: days, from and to, and how soon they answer."""

    open_days = MultiCheckboxField(_l("Days the phone is answered"), coerce=int,
                                   choices=options(enumerate(WEEKDAYS)))
    opens_at = TimeField(_l("Opens"), validators=[Optional()])
    closes_at = TimeField(_l("Closes"), validators=[Optional()])
    answers_within_days = WholeNumberField(
        _l("Usually answers within (working days, 0 = the same day)"),
        validators=[Optional(), NumberRange(min=0, max=30, message=_l(
            "Between %(min)d and %(max)d."))])

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)  # type: ignore[misc]
        opens, closes = self.opens_at, self.closes_at
        if opens.errors or closes.errors:
            return False
        if (opens.data is None) != (closes.data is None):
            closes.errors = [_l("Give both the opening and the closing time, or neither.")]
            return False
        if opens.data is not None and closes.data <= opens.data:
            closes.errors = [_l("The closing time must be after the opening time.")]
            return False
        return valid


class ContactForm(HoursMixin, Form):
    service = SelectField(_l("Service"), choices=options(EXTERNAL_SERVICES.items()))
    organisation = StringField(_l("Office or unit"), description=_l(
        "For example Legekontoret på Torget, or NAV Sentrum."), validators=[
        DataRequired(message=_l("Write the office or unit.")), _max(200)])
    name = StringField(_l("Contact person (optional)"), validators=[Optional(), _max(200)])
    role = StringField(_l("Their role (optional)"), description=_l("For example fastlege."),
                       validators=[Optional(), _max(100)])
    phone = StringField(_l("Phone"), validators=[PhoneNumber()],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    address = StringField(_l("Address (optional)"), validators=[Optional(), _max(300)])


class AddMemberForm(Form):
    staff = SelectField(_l("A staff member of the clinic"), coerce=str, choices=[])
    contact = SelectField(_l("Or a contact from the directory"), coerce=str, choices=[])
    role_text = StringField(_l("Role the patient reads (optional)"),
                            description=_l("For example lege, koordinator, fastlege."),
                            validators=[Optional(), _max(100)])

    def validate_contact(self, field: Any) -> None:
        if bool(self.staff.data) == bool(field.data):
            raise ValidationError(_l("Choose either a staff member or a contact."))


class FillGapForm(Form):
    area = SelectField(_l("Area"), choices=[])
    member = SelectField(_l("Who is responsible"), choices=[])


class HandoverForm(Form):
    area = SelectField(_l("What is handed over"), choices=[])
    to = SelectField(_l("To whom"), choices=[],
                     description=_l("Someone on the team, a staff member of the clinic, or a "
                                    "contact from the directory."))
    takes_effect_on = DayField(_l("From which day (optional)"), validators=[Optional()],
                               description=_l("Leave empty for: as soon as they accept."))
    note = TextAreaField(_l("Note for the receiver (optional)"),
                         validators=[Optional(), _max(500)])


class AcceptExternalForm(Form):
    confirmed_how = RadioField(_l("How did they say yes?"), choices=options(CONFIRMATIONS.items()),
                               validators=[InputRequired(message=_l("Record how they said yes."))])
    confirmed_on = DayField(_l("When"), validators=[
        DataRequired(message=_l("Enter a date, for example 24.12.2026."))])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), _max(500)])


class AnswerForm(Form):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), _max(500)])


class AreaForm(Form):
    label = StringField(_l("Name of the area"), validators=[
        DataRequired(message=_l("Write the name of the area.")), _max(100)])
    description = StringField(_l("What the holder does, in plain words"),
                              validators=[Optional(), _max(300)])


class TeamSettingsForm(HoursMixin, Form):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        from server.national_id.levels import CHOICES

        self.messages_level.choices = options(CHOICES)
        self.take_home_level.choices = options(CHOICES)

    show_staff_names = BooleanField(_l("Patients see the names of staff (not only roles)"))
    call_back_days = WholeNumberField(
        _l("After “call me”, we call within (working days, 0 = the same day)"),
        validators=[InputRequired(message=_l("Write a number of days.")),
                    NumberRange(min=0, max=10, message=_l("Between %(min)d and %(max)d."))])
    crisis_line_name = StringField(_l("Crisis line: name (optional)"),
                                   validators=[Optional(), _max(100)])
    crisis_line_phone = StringField(_l("Crisis line: phone (optional)"),
                                    validators=[PhoneNumber(required=False)],
                                    render_kw={"inputmode": "tel"})
    asks_before_appointment = BooleanField(
        _l("Reminder SMS of clinic appointments invite a reply with what the patient wants "
           "to talk about"))
    messages_level = SelectField(_l("To read and write messages, patients sign in with"),
                                 choices=[])
    take_home_level = SelectField(_l("For take-home requests and their history, patients sign "
                                     "in with"), choices=[])
    handover_escalation_days = WholeNumberField(
        _l("A handover waiting longer than this many days goes to the clinic admin"),
        validators=[InputRequired(message=_l("Write a number of days.")),
                    NumberRange(min=1, max=60, message=_l("Between %(min)d and %(max)d."))])

    def validate_crisis_line_phone(self, field: Any) -> None:
        if bool((field.data or "").strip()) != bool((self.crisis_line_name.data or "").strip()):
            raise ValidationError(_l("Give the crisis line both a name and a number, or "
                                     "neither."))


class TransferForm(Form):
    to_clinic = SelectField(_l("To which clinic"), choices=[])
    proposed_date = DayField(_l("From which day"), validators=[
        DataRequired(message=_l("Enter a date, for example 24.12.2026."))])
    consent_method = RadioField(_l("How did the patient give consent?"),
                                choices=options(CONSENT_METHODS.items()),
                                validators=[InputRequired(message=_l(
                                    "Record how the patient gave consent."))])
    consent_on = DayField(_l("When"), validators=[
        DataRequired(message=_l("Enter a date, for example 24.12.2026."))])
    note = TextAreaField(_l("Note for the receiving clinic (optional)"),
                         validators=[Optional(), _max(500)])


class AcceptTransferForm(Form):
    doctor = SelectField(_l("Responsible doctor at your clinic"), choices=[])
    coordinator = SelectField(_l("Coordinator at your clinic"), choices=[])


class DeclineTransferForm(Form):
    note = TextAreaField(_l("Why (the sending clinic reads this)"), validators=[
        DataRequired(message=_l("Write why, so the sending clinic can find another way.")),
        _max(500)])


class VisibilityForm(Form):
    #: "1" to show this member to relatives with the care-team scope, "" to hide.
    visible = HiddenField()
