"""Forms of the conversations: the patient's message, the team's answer, the inbox's tools."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from server.forms.base import Form
from server.forms.common import options
from server.labels import TOPICS
from server.messages.conversations import QUICK_TITLE_MAX, TEXT_MAX


class MessageTextField(TextAreaField):
    """A message: control characters are left out (NUL is refused), the limit is stated."""

    strips_control_characters = True


def _text(label: str | object, limit: int = TEXT_MAX, **kwargs: object) -> MessageTextField:
    return MessageTextField(
        label, validators=[DataRequired(message=_l("Write your message first.")),
                           Length(max=limit, message=_l(
                               "Please keep it under %(max)d characters.", max=limit))],
        render_kw={"maxlength": limit, "rows": 6}, **kwargs)


class NewMessageForm(Form):
    client_key = HiddenField()
    topic = RadioField(_l("What is it about? (you can skip this)"), default="",
                       choices=options([*TOPICS.items(), ("", _l("Not sure, or several things"))]))
    body = _text(_l("Your message"), description=_l(
        "Up to %(max)s characters.", max=f"{TEXT_MAX:,}".replace(",", "\u00a0")))


class ReplyForm(Form):
    client_key = HiddenField()
    body = _text(_l("Write again"), description=_l(
        "Up to %(max)s characters.", max=f"{TEXT_MAX:,}".replace(",", "\u00a0")))


class AnswerForm(Form):
    """The team's answer; "use" puts a quick answer into the text without sending."""

    quick = SelectField(_l("Start from a quick answer"), choices=[], default="")
    body = _text(_l("Answer"), description=_l(
        "Up to %(max)s characters. A patient who writes by SMS gets it by SMS (up to 3 SMS); "
        "a longer answer tells them to open Følge or call.", max=f"{TEXT_MAX:,}".replace(
            ",", "\u00a0")))


class StaffMessageForm(Form):
    topic = RadioField(_l("What is it about?"), default="",
                       choices=options([*TOPICS.items(), ("", _l("No topic"))]))
    body = _text(_l("Message"), description=_l(
        "Up to %(max)s characters. The patient is told by their own channels; a letter "
        "patient gets it as a letter.", max=f"{TEXT_MAX:,}".replace(",", "\u00a0")))


class CalledForm(Form):
    note = MessageTextField(
        _l("Note for the record (optional; the patient reads only that you called)"),
        validators=[Length(max=500, message=_l("Please keep it under %(max)d characters.",
                                               max=500))], render_kw={"rows": 2})


class AssignForm(Form):
    assignee = SelectField(_l("Assigned to"), choices=[], default="")


class QuickAnswerForm(Form):
    title = StringField(_l("Short title (only staff see it)"), validators=[
        DataRequired(message=_l("Give it a short title.")),
        Length(max=QUICK_TITLE_MAX, message=_l("Please keep it under %(max)d characters.",
                                               max=QUICK_TITLE_MAX))])
    body = _text(_l("The answer"))


class EmailSettingsForm(Form):
    notify = BooleanField(_l("Email me when a conversation assigned to me gets a new message"))


class InboxFilterForm(Form):
    """The inbox's filters (a GET form: it only chooses what to show)."""

    class Meta:
        csrf = False

    show = SelectField(_l("Show"), default="unanswered", choices=options([
        ("unanswered", _l("Unanswered")), ("mine", _l("Assigned to me")),
        ("my_patients", _l("My patients")), ("overdue", _l("Waiting too long")),
        ("all", _l("All")), ("closed", _l("Closed"))]))
    topic = SelectField(_l("Topic"), default="", choices=options(
        [("", _l("Any topic")), *TOPICS.items()]))
