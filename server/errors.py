"""Error pages: translated, never a stack trace, never losing what was typed.

Every handler first rolls the database session back, so an error inside a
transaction (a unique key, a value PostgreSQL refused) cannot poison the rest
of the request; and if even the error page cannot be drawn, a plain page is
sent instead of a second error.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request, session
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from server.extensions import db
from server.forms.auth import CodeForm, PhoneForm, StaffPasswordForm, TotpForm
from server.models import SignInMethod, SignInOutcome
from server.services import sign_in_log

log = logging.getLogger("folge.errors")

#: Sign-in forms shown again, with what was typed, when a rate limit is hit.
_SIGN_IN_FORMS: dict[str, tuple[str, type[FlaskForm], str]] = {
    "auth.sign_in": ("auth/sign_in.html", PhoneForm, "phone"),
    "auth.enter_code": ("auth/enter_code.html", CodeForm, "code"),
    "auth.staff_sign_in": ("auth/staff_sign_in.html", StaffPasswordForm, "password"),
    "auth.staff_totp": ("auth/staff_totp.html", TotpForm, "code"),
}

_METHODS = {
    "auth.sign_in": SignInMethod.SMS_CODE_REQUEST,
    "auth.enter_code": SignInMethod.SMS_CODE,
    "auth.staff_sign_in": SignInMethod.PASSWORD,
    "auth.staff_totp": SignInMethod.TOTP,
    "auth.passkey_options": SignInMethod.PASSKEY,
    "auth.passkey_finish": SignInMethod.PASSKEY,
}


def _too_many(error: HTTPException) -> tuple[str, int] | tuple[object, int]:
    """Rate limit hit: say so plainly and show the form again with what was typed."""
    db.session.rollback()
    message = _("Too many tries in a short time. Wait a few minutes and try again.")
    method = _METHODS.get(request.endpoint or "")
    if method is not None:
        sign_in_log.record_now(method, SignInOutcome.RATE_LIMITED, None, "rate_limited")
    if request.is_json or request.endpoint in ("auth.passkey_options", "auth.passkey_finish"):
        return jsonify(error=message), 429
    spec = _SIGN_IN_FORMS.get(request.endpoint or "")
    if spec is not None:
        template, form_cls, field = spec
        form = form_cls()
        if field == "password":
            form.password.data = ""
        getattr(form, field).errors = [message]
        return render_template(template, form=form, phone=session.get("sign_in_phone"),
                               rate_limited=True), 429
    return render_template("errors/error.html", title=_("Too many tries"), message=message), 429


#: Sent when the error page itself cannot be drawn: no template, no translation, no data.
_PLAIN = ("<!doctype html><html lang=\"nb\"><meta charset=\"utf-8\"><title>Følge</title>"
          "<p>Noe gikk galt. Prøv igjen om litt. / Something went wrong. Try again in a while.</p>"
          "</html>")


def _page(title: LazyString, message: LazyString, status: int) -> tuple[str, int]:
    """The error page, after rolling back whatever the failed request left in the session.

    The texts are lazy: translating them picks the user's language, which reads the
    user from the database, so that must wait until the session is usable again.
    """
    db.session.rollback()
    try:
        return render_template("errors/error.html", title=str(title),
                               message=str(message)), status
    except Exception:  # the page must not fail in turn; log it and send the plain one
        log.exception("the error page failed on %s", request.path)
        db.session.rollback()
        return _PLAIN, status


def init_app(app: Flask) -> None:
    def not_found(error: HTTPException) -> tuple[str, int] | Response:
        if request.path == "/fhir" or request.path.startswith("/fhir/"):
            from server.fhir.views import http_error  # a record system reads OperationOutcome

            return http_error(error)
        # 405 looks the same as 404: a wrong method says nothing useful to a person.
        return _page(_l("Page not found"),
                     _l("We could not find this page. It may have moved, or the link is wrong."),
                     error.code or 404)

    app.register_error_handler(404, not_found)
    app.register_error_handler(405, not_found)

    @app.errorhandler(403)
    def forbidden(error: HTTPException) -> tuple[str, int]:
        return _page(_l("Not available to you"),
                     _l("Your role does not allow this. Ask a colleague who has the right role."),
                     403)

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        return _page(_l("The form had expired"),
                     _l("For your safety the form only works for a while. Go back, reload the "
                        "page and try again."), 400)

    @app.errorhandler(400)
    def bad_request(error: HTTPException) -> tuple[str, int]:
        return _page(_l("Something in the request was wrong"), _l("Go back and try again."), 400)

    @app.errorhandler(413)
    def too_large(error: HTTPException) -> tuple[str, int]:
        return _page(_l("Something in the request was wrong"),
                     _l("What you sent is too large. Go back and try again."), 413)

    @app.errorhandler(415)
    def wrong_format(error: HTTPException) -> tuple[str, int]:
        return _page(_l("Something in the request was wrong"), _l("Go back and try again."), 415)

    app.register_error_handler(429, _too_many)

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error on %s", request.path)
        return _page(_l("Something went wrong on our side"),
                     _l("Nothing you did caused this. Try again in a little while."), 500)
