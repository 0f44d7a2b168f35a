"""Error pages: translated, never a stack trace, never losing what was typed."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request, session
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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


def init_app(app: Flask) -> None:
    def not_found(error: HTTPException) -> tuple[str, int]:
        # 405 looks the same as 404: a wrong method says nothing useful to a person.
        return render_template(
            "errors/error.html",
            title=_("Page not found"),
            message=_("We could not find this page. It may have moved, or the link is wrong."),
        ), error.code or 404

    app.register_error_handler(404, not_found)
    app.register_error_handler(405, not_found)

    @app.errorhandler(403)
    def forbidden(error: HTTPException) -> tuple[str, int]:
        return render_template(
            "errors/error.html",
            title=_("Not available to you"),
            message=_("Your role does not allow this. Ask a colleague who has the right role."),
        ), 403

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        return render_template(
            "errors/error.html",
            title=_("The form had expired"),
            message=_("For your safety the form only works for a while. Go back, reload the "
                      "page and try again."),
        ), 400

    @app.errorhandler(400)
    def bad_request(error: HTTPException) -> tuple[str, int]:
        return render_template(
            "errors/error.html",
            title=_("Something in the request was wrong"),
            message=_("Go back and try again."),
        ), 400

    app.register_error_handler(429, _too_many)

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error on %s", request.path)
        return render_template(
            "errors/error.html",
            title=_("Something went wrong on our side"),
            message=_("Nothing you did caused this. Try again in a little while."),
        ), 500
