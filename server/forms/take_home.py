"""Forms for take-home requests (patients) and for deciding and configuring them (staff).

Required-ness and lengths are checked here; what depends on the database
(overlaps, the clinic's places) is checked by server/services/take_home.py,
whose errors name the field they belong to.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from server.forms.base import Form
from server.forms.common import DayField, MultiCheckboxField, WholeNumberField, options
from server.labels import (
    ABROAD,
    ARRANGEMENT_CHANGES,
    PERIOD_REASONS,
    PICKUP_PLACES,
    PICKUP_PLACES_STAFF,
    WEEKDAYS,
)
from server.services.take_home import (
    DECISION_TEXT_MAX,
    EXPLANATION_MAX,
    NOTE_MAX,
    PLACE_NAME_MAX,
    RULES_TEXT_MAX,
    Outcome,
)

_DATE = _l("Enter a date, for example 24.12.2026.")


def _max(limit: int) -> Length:
    return Length(max=limit, message=_l("Please keep it under %(max)d characters.", max=limit))


class PeriodRequestForm(Form):
    client_key = HiddenField()
    #: "1" once the patient has chosen to ask beyond the clinic's usual rules.
    ask_anyway = HiddenField(default="")
    first_day = DayField(_l("First day"), validators=[DataRequired(message=_DATE)])
    last_day = DayField(_l("Last day"), validators=[DataRequired(message=_DATE)])
    reason = SelectField(
        _l("Reason"), choices=options([("", _l("Choose a reason")), *PERIOD_REASONS.items()]),
        validators=[DataRequired(message=_l("Choose the reason for the request."))])
    explanation = TextAreaField(_l("Tell us more (optional)"),
                                validators=[Optional(), _max(EXPLANATION_MAX)])
    place = RadioField(_l("Where do you want to pick up?"), choices=options(PICKUP_PLACES.items()),
                       validators=[InputRequired(message=_l("Choose where you want to pick up."))])
    place_name = StringField(_l("Which pharmacy, or which town"),
                             description=_l("Needed if you pick up at a pharmacy where you "
                                            "are going. Otherwise you can leave it empty."),
                             validators=[Optional(), _max(PLACE_NAME_MAX)])
    abroad = RadioField(_l("Are you going abroad?"), choices=options(ABROAD.items()), default="no",
                        validators=[InputRequired(message=_l("Choose an answer."))])
    note = TextAreaField(_l("Anything else the clinic should know (optional)"),
                         validators=[Optional(), _max(NOTE_MAX)])


class ArrangementRequestForm(Form):
    client_key = HiddenField()
    ask_anyway = HiddenField(default="")
    change = SelectField(
        _l("What do you want to change?"),
        choices=options([("", _l("Choose one")), *ARRANGEMENT_CHANGES.items()]),
        validators=[DataRequired(message=_l("Choose what you want to change."))])
    explanation = TextAreaField(
        _l("Why, and what would suit you better?"),
        validators=[DataRequired(message=_l("Please tell us why.")), _max(EXPLANATION_MAX)])
    place_name = StringField(_l("New pharmacy or place, if that is the change (optional)"),
                             validators=[Optional(), _max(PLACE_NAME_MAX)])
    note = TextAreaField(_l("Anything else the clinic should know (optional)"),
                         validators=[Optional(), _max(NOTE_MAX)])


class DecisionForm(Form):
    outcome = RadioField(
        _l("Decision"),
        choices=options([(Outcome.APPROVE, _l("Approve as asked")),
                         (Outcome.PARTLY, _l("Approve in part")),
                         (Outcome.DECLINE, _l("Decline"))]),
        validators=[InputRequired(message=_l("Choose a decision."))])
    reason = TextAreaField(
        _l("Reason, in plain words (the patient reads this)"),
        validators=[DataRequired(message=_l("Write the reason. The patient will read it.")),
                    _max(DECISION_TEXT_MAX)])
    next_time = TextAreaField(
        _l("If not approved in full: what would make a yes possible next time"),
        validators=[Optional(), _max(DECISION_TEXT_MAX)])
    first_day = DayField(_l("Approved from (for a part approval)"),
                          validators=[Optional()])
    last_day = DayField(_l("Approved to (for a part approval)"), validators=[Optional()])
    # No Optional() on a choice field: it treats "   " as empty and then clears the
    # "not a valid choice" error too (tests/test_no_server_errors.py checks every form).
    place = SelectField(_l("Pickup place (for a part approval)"),
                        choices=options([("", _l("As asked")), *PICKUP_PLACES_STAFF.items()]),
                        default="")
    place_name = StringField(_l("Pharmacy or place name"),
                             validators=[Optional(), _max(PLACE_NAME_MAX)])


class RulesForm(Form):
    rules_text = TextAreaField(
        _l("What the clinic takes into account, in plain words"),
        validators=[Optional(), _max(RULES_TEXT_MAX)])
    notice_days = WholeNumberField(
        _l("Notice the clinic asks for (days)"),
        validators=[InputRequired(message=_l("Write a number of days.")),
                    NumberRange(min=0, max=90, message=_l("Between %(min)d and %(max)d."))])
    usual_max_days = WholeNumberField(
        _l("Days the clinic usually allows in one request"),
        validators=[InputRequired(message=_l("Write a number of days.")),
                    NumberRange(min=1, max=90, message=_l("Between %(min)d and %(max)d."))])
    allowed_places = MultiCheckboxField(_l("Pickup places patients may choose"),
                                        choices=options(PICKUP_PLACES_STAFF.items()))
    deciders = MultiCheckboxField(_l("Staff without the doctor role who may decide"),
                                  coerce=int, choices=[])


class PlanForm(Form):
    place = SelectField(_l("Pickup place"), choices=options(PICKUP_PLACES_STAFF.items()))
    place_name = StringField(_l("Name of the pharmacy or place"),
                             validators=[Optional(), _max(PLACE_NAME_MAX)])
    weekdays = MultiCheckboxField(_l("Pickup days"), coerce=int,
                                  choices=options(enumerate(WEEKDAYS)))
    days_per_pickup = WholeNumberField(
        _l("Days each pickup covers"), default=1,
        validators=[InputRequired(message=_l("Write a number of days.")),
                    NumberRange(min=1, max=30, message=_l("Between %(min)d and %(max)d."))])
    note = StringField(_l("Note for the patient (optional)"), validators=[Optional(), _max(500)])
