"""Small forms used across areas."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField
from wtforms.validators import ValidationError

from server.services.phone_numbers import InvalidPhoneNumber, normalize_mobile


class MobileNumber:
    """Validator: a Norwegian mobile number. Puts the +47 form on ``form.normalized``."""

    def __call__(self, form: Any, field: Field) -> None:
        try:
            form.normalized = normalize_mobile(field.data or "")
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc.message)) from None


class ConfirmForm(FlaskForm):
    """A button-only form: CSRF protection for a single action."""


class LanguageForm(FlaskForm):
    #: Where to go back to; only a local path is accepted.
    next = HiddenField()
