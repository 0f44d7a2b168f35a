"""Staff forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired

from server.forms.base import Form
from server.forms.common import MobileNumber


class RegisterPhoneForm(Form):
    phone = StringField(
        _l("The patient's mobile number"),
        description=_l("We send a code to this number. Ask the patient to read it to you."),
        validators=[MobileNumber()],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    #: Set by validation: the number in +47XXXXXXXX form.
    normalized: str = ""


class VerifyPhoneForm(Form):
    code = StringField(
        _l("Code the patient read to you"),
        description=_l("6 digits"),
        validators=[DataRequired(message=_l("Write the code from the SMS."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
