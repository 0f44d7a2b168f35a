"""Forms for inviting relatives and managing their access, for relatives' observations,
and for staff registering a relative and an agreement."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from server.forms.base import Form
from server.forms.common import DayField, MobileNumber, MultiCheckboxField, options
from server.labels import (
    CONSENT_METHODS,
    OBSERVATION_KINDS,
    RELATIVE_SCOPES,
    RELATIVE_SCOPES_STAFF,
)
from server.services.relatives import (
    AGREEMENT_MAX,
    NAME_MAX,
    OBSERVATION_ANSWER_MAX,
    OBSERVATION_MAX,
    RELATIONSHIP_MAX,
)


def _max(limit: int) -> Length:
    return Length(max=limit, message=_l("Please keep it under %(max)d characters.", max=limit))


class AccessForm(Form):
    scopes = MultiCheckboxField(_l("What may they do?"), choices=options(RELATIVE_SCOPES.items()))
    ends_on = DayField(_l("Access ends on (optional)"), validators=[Optional()],
                       description=_l("Leave empty to keep it until you end it."))


class InviteForm(AccessForm):
    name = StringField(_l("Their name"), validators=[
        DataRequired(message=_l("Write the person's name.")), _max(NAME_MAX)])
    relationship = StringField(
        _l("How are they related to you?"), description=_l("For example mother, partner or friend."),
        validators=[DataRequired(message=_l("Write how the person is related to you, for "
                                            "example “mother” or “friend”.")),
                    _max(RELATIONSHIP_MAX)])
    phone = StringField(_l("Their mobile number"), validators=[Optional(), _max(32)],
                        description=_l("A mobile number or an email address is needed."),
                        render_kw={"autocomplete": "off", "inputmode": "tel"})
    email = StringField(_l("Or their email address"), validators=[Optional(), _max(254)],
                        render_kw={"autocomplete": "off", "inputmode": "email"})


class StaffRegisterForm(InviteForm):
    scopes = MultiCheckboxField(_l("What may they do? (as the patient chose)"),
                                choices=options(RELATIVE_SCOPES_STAFF.items()))
    relationship = StringField(
        _l("How they are related to the patient"),
        description=_l("For example mother, partner or friend."),
        validators=[DataRequired(message=_l("Write how the person is related to the "
                                            "patient.")), _max(RELATIONSHIP_MAX)])
    consent_method = RadioField(
        _l("How did the patient give consent?"), choices=options(CONSENT_METHODS.items()),
        validators=[InputRequired(message=_l("Record how the patient gave consent."))])
    consent_on = DayField(_l("When"), validators=[
        DataRequired(message=_l("Enter a date, for example 24.12.2026."))])


class AcceptForm(Form):
    phone = StringField(_l("Your mobile number"), validators=[MobileNumber()],
                        description=_l("We send a code to it. You sign in with it later."),
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})


class ObservationForm(Form):
    kind = RadioField(_l("What is it about?"), choices=options(OBSERVATION_KINDS.items()),
                      validators=[InputRequired(message=_l("Choose what it is about."))])
    text = TextAreaField(_l("What do you want the care team to know?"), validators=[
        DataRequired(message=_l("Write what you want to tell the care team.")),
        _max(OBSERVATION_MAX)])


class ObservationAnswerForm(Form):
    answer = TextAreaField(_l("A short answer (the relative and the patient can read it)"),
                           validators=[DataRequired(message=_l("Write the answer first.")),
                                       _max(OBSERVATION_ANSWER_MAX)],
                           render_kw={"rows": 2, "maxlength": OBSERVATION_ANSWER_MAX})


class AgreementForm(Form):
    role = TextAreaField(_l("The relative's role"), validators=[Optional(), _max(AGREEMENT_MAX)])
    expectations = TextAreaField(_l("What they can expect from the clinic"),
                                 validators=[Optional(), _max(AGREEMENT_MAX)])
    contact = TextAreaField(_l("Whom to contact at the clinic"),
                            validators=[Optional(), _max(AGREEMENT_MAX)])
    frequency = TextAreaField(_l("How often they are kept informed"),
                              validators=[Optional(), _max(AGREEMENT_MAX)])
