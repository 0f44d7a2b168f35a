"""The crisis plan's form: five steps in the patient's words, up to five people to contact."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import Length, Optional

from server.forms.base import Form
from server.forms.common import DayField, MultiCheckboxField, options
from server.labels import CONSENT_METHODS, GOAL_STATUSES, TALK_TOPICS
from server.plans.crisis import CONTACTS_MAX, HEADINGS, NAME_MAX, TEXT_MAX
from server.plans.meetings import MINUTE_MAX, MINUTES_MAX, MINUTES_SHOWN

_TOO_LONG = _l("Please keep it under %(max)d characters.")


def _text(label: object) -> TextAreaField:
    return TextAreaField(label, validators=[Length(max=TEXT_MAX, message=_TOO_LONG)])


class ContactForm(PlainForm):
    """One person or place to contact (a part of CrisisPlanForm; its CSRF is the parent's)."""

    name = StringField(_l("Who"), validators=[Length(max=NAME_MAX, message=_TOO_LONG)])
    phone = StringField(_l("Phone number"), validators=[Length(max=40, message=_TOO_LONG)])


class CrisisPlanForm(Form):
    warning_signs = _text(HEADINGS["warning_signs"])
    self_help = _text(HEADINGS["self_help"])
    helpers = _text(HEADINGS["helpers"])
    contacts = FieldList(FormField(ContactForm), min_entries=CONTACTS_MAX,
                         max_entries=CONTACTS_MAX)
    meet = _text(HEADINGS["meet"])
    naloxone = _text(_l("7. Where my naloxone (nose spray) is"))
    shared_with_team = BooleanField(_l("My care team may read my crisis plan"), default=True)
    #: The version the person started from; a save on top of a newer one is refused.
    based_on = HiddenField()


class WishesForm(Form):
    """Before my appointment: what I want to talk about."""

    topics = MultiCheckboxField(_l("What do you want to talk about?"), choices=[])
    text = TextAreaField(_l("In your own words (if you want)"),
                         validators=[Length(max=1000, message=_TOO_LONG)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.topics.choices = options(TALK_TOPICS.items())


class AgreedForm(Form):
    agreed = TextAreaField(_l("What we agreed, one point per line, in plain words"),
                           validators=[Length(max=7000, message=_TOO_LONG)])
    #: The version of the notes the page showed.
    based_on = HiddenField()


class GoalForm(Form):
    text = TextAreaField(_l("My goal, in my own words"),
                         validators=[Length(max=500, message=_TOO_LONG)])
    #: The goal's version the person started from (a change of words).
    based_on = HiddenField()


class GoalNoteForm(Form):
    note = TextAreaField(_l("How is it going? (a few words)"),
                         validators=[Length(max=1000, message=_TOO_LONG)])


class GoalStatusForm(Form):
    status = SelectField(_l("Status"), choices=[])
    reason = TextAreaField(_l("Why (shown with the status)"),
                           validators=[Length(max=1000, message=_TOO_LONG)])
    #: The goal's version the person started from.
    based_on = HiddenField()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = options(GOAL_STATUSES.items())


class MeasureForm(Form):
    text = TextAreaField(_l("What will be done"), validators=[Length(max=500, message=_TOO_LONG)])
    member = SelectField(_l("Who is responsible"), choices=[])
    due_on = DayField(_l("By when"), validators=[Optional()])


class SuggestGoalForm(Form):
    """Staff suggest a goal; it is the patient's once they accept it."""

    text = TextAreaField(_l("The goal you suggest, in plain words"),
                         validators=[Length(max=500, message=_TOO_LONG)])


class IpConsentForm(Form):
    given = SelectField(_l("Sharing with the municipality's IP coordinator"), choices=[])
    method = SelectField(_l("How the patient said it"), choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.given.choices = options([("yes", _l("The patient agrees to share the goals")),
                                      ("no", _l("The patient does not agree (or no longer)"))])
        self.method.choices = options(CONSENT_METHODS.items())


class MinuteForm(PlainForm):
    """One point of a meeting's minutes (a part of MinutesForm; its CSRF is the parent's)."""

    text = StringField(_l("Point"), validators=[Length(max=MINUTE_MAX, message=_TOO_LONG)])
    #: "", "goal:<id>" or "measure:<id>"; checked by the service (it names the row).
    link = SelectField(_l("About"), choices=[], validate_choice=False)


class MinutesForm(Form):
    rows = FieldList(FormField(MinuteForm), min_entries=MINUTES_SHOWN, max_entries=MINUTES_MAX)
    #: The version of the minutes the page showed.
    based_on = HiddenField()

    def set_links(self, choices: list[tuple[str, str]]) -> None:
        """The goals and measures to choose from, and labels that say which point."""
        for n, row in enumerate(self.rows, start=1):
            row.form.link.choices = options([("", _l("Not about a goal")), *choices])
            row.form.text.label.text = str(_l("Point %(n)d", n=n))
            row.form.link.label.text = str(_l("Point %(n)d is about", n=n))

    def attach(self, field_name: str, message: str) -> bool:
        """Show a service error under the row's field it names ("rows-2-text")."""
        parts = field_name.split("-")
        if len(parts) == 3 and parts[0] == "rows" and parts[1].isdigit():
            n = int(parts[1])
            if n < len(self.rows.entries) and parts[2] in ("text", "link"):
                getattr(self.rows.entries[n].form, parts[2]).errors = [message]
                return True
        return False


class ParticipantsForm(Form):
    members = MultiCheckboxField(_l("Tick who is invited"), choices=[])
