"""The language switch on every page."""

from __future__ import annotations

from flask import Blueprint, redirect, request, session
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server.forms.common import LanguageForm
from server.models.user import LANGUAGES
from server.services import accounts
from server.web import safe_next

bp = Blueprint("i18n", __name__)


@bp.post("/language")
def set_language() -> WerkzeugResponse:
    """Remember the language in the session and, when signed in, on the account."""
    form = LanguageForm()
    lang = request.form.get("lang", "")
    if form.validate_on_submit() and lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            accounts.set_language(current_user, lang)
    return redirect(safe_next(form.next.data))
