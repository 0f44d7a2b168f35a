"""Sign-in forms for patients, relatives and staff."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from server.forms.base import Form
from server.forms.common import MobileNumber


class PhoneForm(Form):
    phone = StringField(
        _l("Mobile number"),
        description=_l("The number your clinic has registered for you. We send a code to it."),
        validators=[MobileNumber()],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )

    #: Set by validation: the number in +47XXXXXXXX form.
    normalized: str = ""


class CodeForm(Form):
    code = StringField(
        _l("Code from the SMS"),
        description=_l("6 digits"),
        validators=[DataRequired(message=_l("Write the code from the SMS."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )

    def validate_code(self, field: StringField) -> None:
        cleaned = "".join((field.data or "").split())
        if not cleaned.isdigit():
            raise ValidationError(_l("The code has only digits."))
        if len(cleaned) != 6:
            raise ValidationError(_l("The code has 6 digits."))


class StaffPasswordForm(Form):
    email = EmailField(
        _l("Work email"),
        validators=[
            DataRequired(message=_l("Write your work email address.")),
            Length(max=254, message=_l("The email address is too long.")),
        ],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=_l("Write your password.")),
            Length(max=200, message=_l("The password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class TotpForm(Form):
    code = StringField(
        _l("Code from your authenticator app"),
        description=_l("6 digits"),
        validators=[DataRequired(message=_l("Write the 6 digits from your authenticator app."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
