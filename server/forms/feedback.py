"""Forms for check-ins (patients) and the clinic's feedback settings (clinic admins).

The 0-10 items come from the instrument file, so they are read from the
request by server/services/feedback.check_scores rather than declared here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import Length, Optional

from server.forms.base import Form
from server.forms.common import options
from server.services.feedback import COMMENT_MAX

TEAM = "team"
ANONYMOUS = "anonymous"


class CheckInForm(Form):
    client_key = HiddenField()
    invitation = HiddenField()
    comment = TextAreaField(
        _l("Anything you want to add? (optional)"),
        validators=[Optional(), Length(max=COMMENT_MAX, message=_l(
            "Please keep it under %(max)d characters.", max=COMMENT_MAX))])
    destination = RadioField(
        _l("Who gets your answer?"), default=TEAM,
        choices=options([(TEAM, _l("My care team, with my name (they can follow up)")),
                         (ANONYMOUS, _l("The clinic as a whole, without my name"))]))


class FeedbackSettingsForm(Form):
    you_said_we_did = TextAreaField(
        _l("“You said, we did”: what the clinic changed after feedback"),
        validators=[Optional(), Length(max=8000, message=_l(
            "Please keep it under %(max)d characters.", max=8000))])
