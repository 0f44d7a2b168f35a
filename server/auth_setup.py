"""flask-login wiring: sessions are loaded from the server-side session table."""

from __future__ import annotations

from flask import Flask, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from server.extensions import login_manager
from server.models import User
from server.services import sessions


def _load_user(token: str) -> User | None:
    user, reason = sessions.load(token)
    if reason:
        g.session_end_reason = reason
    return user


def _unauthorized() -> WerkzeugResponse:
    """Send an anonymous visitor to the right sign-in page, saying why when we know."""
    reason = g.get("session_end_reason")
    if reason == "idle":
        flash(_("You were signed out because you were inactive for a while. Sign in again."),
              "info")
    elif reason == "expired":
        flash(_("You have been signed in for a long time, so we signed you out. Sign in again."),
              "info")
    elif reason == "disabled":
        flash(_("This account cannot be used right now. Contact your clinic."), "info")
    elif reason == "signed_out_elsewhere":
        flash(_("You were signed out from another phone or computer. Sign in again."), "info")
    elif reason == "access_revoked":
        # Never why, and never whose: the same words whatever happened.
        flash(_("Your access in Følge has changed, so you were signed out. Sign in again to "
                "see what you can see now."), "info")
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        response = jsonify(error=_("Sign in first."))
        response.status_code = 401
        return response
    if reason not in ("access_revoked", "disabled"):  # what they saw may be gone now
        _keep_the_way_back()
    if request.blueprint == "staff":
        return redirect(url_for("auth.staff_sign_in"))
    return redirect(url_for("auth.sign_in"))


def _keep_the_way_back() -> None:
    """Remember the page to come back to after signing in: this one, or for a form sent
    after the session ended, the page of the form (its URL, when it answers GET). What was
    typed is kept on the phone by static/js/drafts.js and put back there."""
    from server.views.auth import RETURN_TO_KEY

    path = request.full_path.rstrip("?") if request.method == "GET" else request.path
    if request.method != "GET":
        try:
            current_app.url_map.bind("localhost").match(request.path, method="GET")
        except HTTPException:
            return
    if len(path) <= 500:
        session[RETURN_TO_KEY] = path


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.session_protection = None  # the server-side session table does this job
