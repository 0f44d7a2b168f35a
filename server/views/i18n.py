"""The language switch on every page."""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server.forms.common import LanguageForm
from server.models.user import LANGUAGES
from server.services import accounts

bp = Blueprint("i18n", __name__)


def safe_next(target: str | None) -> str:
    """A local path to return to; anything else falls back to the front page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.index")


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
