"""Small forms used across areas."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class ConfirmForm(FlaskForm):
    """A button-only form: CSRF protection for a single action."""


class LanguageForm(FlaskForm):
    #: Where to go back to; only a local path is accepted.
    next = HiddenField()
