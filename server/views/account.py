"""Account settings for patients and relatives: passkeys."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server.forms.common import ConfirmForm
from server.models.base import utcnow
from server.national_id import levels
from server.services import passkeys
from server.services.errors import DomainError
from server.views.webauthn_context import expected_origins, rp_id

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/passkeys")
def passkeys_page() -> str:
    """List passkeys and offer to add one."""
    return render_template(
        "account/passkeys.html", passkeys=passkeys.list_for(current_user), form=ConfirmForm()
    )


@bp.post("/passkeys/options")
def passkey_options() -> Response | tuple[Response, int]:
    """Challenge for adding a passkey."""
    try:
        options, challenge = passkeys.registration_options(current_user, rp_id())
    except DomainError as exc:
        return jsonify(error=str(exc.message)), 400
    session["passkey_reg_challenge"] = challenge.hex()
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/passkeys")
def passkey_add() -> Response | tuple[Response, int]:
    """Store the new passkey after checking the browser's answer."""
    challenge_hex = session.pop("passkey_reg_challenge", None)
    credential = request.get_json(silent=True)
    if not challenge_hex or not isinstance(credential, dict):
        return jsonify(error=_("Start again: choose “Add a passkey”.")), 400
    name = _("Passkey added %(date)s", date=format_date(utcnow(), "medium"))
    try:
        passkeys.finish_registration(
            current_user, credential, bytes.fromhex(challenge_hex), rp_id(), expected_origins(),
            name, level=levels.current_level(),
        )
    except DomainError as exc:
        return jsonify(error=str(exc.message)), 400
    flash(_("The passkey is added. Next time you can sign in with it."), "success")
    return jsonify(redirect=url_for("account.passkeys_page"))


@bp.post("/passkeys/<int:passkey_id>/remove")
def passkey_remove(passkey_id: int) -> WerkzeugResponse:
    """Remove one of my passkeys."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            passkeys.remove(current_user, passkey_id)
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The passkey is removed."), "success")
    return redirect(url_for("account.passkeys_page"))
