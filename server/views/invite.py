"""Accepting an invitation to be a relative or close person.

Public pages reached by the link in the SMS or email: the token is the key.
Until the invitation is accepted, nothing here names the patient or the clinic.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server.extensions import limiter
from server.forms.auth import CodeForm
from server.forms.common import ConfirmForm
from server.forms.relatives import AcceptForm
from server.models import RelativeInvitation
from server.services import codes, relatives
from server.services.relatives import RelativeError
from server.views.auth import CODE_REQUEST_LIMIT_PER_NUMBER_AND_ADDRESS, _begin_session, _phone_key

bp = Blueprint("invite", __name__, url_prefix="/invite")

ATTEMPT_KEY = "invite_attempt"
TOKEN_KEY = "invite_token_hash"  # noqa: S105 (the session key's name, not a token)


def _invitation(token: str) -> tuple[RelativeInvitation | None, str]:
    found = relatives.invitation_for(token[:100])
    return found, relatives.usable(found)


def _signed_in_elsewhere() -> bool:
    return bool(current_user.is_authenticated and not current_user.is_relative)


@bp.route("/<token>", methods=["GET"])
def show(token: str) -> str:
    invitation, state = _invitation(token)
    if state != "ok":
        return render_template("invite/unusable.html", state=state, token=token,
                               form=ConfirmForm())
    return render_template("invite/show.html", token=token, form=AcceptForm(),
                           confirm=ConfirmForm(), elsewhere=_signed_in_elsewhere(),
                           idporten_offered=current_app.config["FOLGE"].idporten is not None)


@bp.route("/<token>", methods=["POST"])
@limiter.limit(CODE_REQUEST_LIMIT_PER_NUMBER_AND_ADDRESS, key_func=_phone_key)
@limiter.limit("30 per hour")
def start(token: str) -> str | WerkzeugResponse:
    """Accept: a signed-in relative accepts at once; others confirm their number first."""
    invitation, state = _invitation(token)
    if invitation is None or state != "ok":
        return redirect(url_for("invite.show", token=token))
    if _signed_in_elsewhere():
        abort(404)
    if current_user.is_authenticated:
        if invitation.phone and invitation.phone != current_user.phone:
            # Sent to another number: being signed in is no proof of owning that one.
            flash(_("Use the number the invitation was sent to."), "error")
            return redirect(url_for("invite.show", token=token))
        if ConfirmForm().validate_on_submit():
            try:
                relatives.accept(invitation, current_user)
            except RelativeError as exc:
                flash(str(exc.message), "error")
                return redirect(url_for("invite.show", token=token))
            return redirect(url_for("relative.home"))
        return redirect(url_for("invite.show", token=token))
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            session[ATTEMPT_KEY] = relatives.start_accept(invitation, form.phone.data or "")
            session[TOKEN_KEY] = invitation.token_hash  # the code is for this invitation only
        except RelativeError as exc:
            form.phone.errors = [str(exc.message)]
        else:
            return redirect(url_for("invite.code", token=token))
    return render_template("invite/show.html", token=token, form=form, confirm=ConfirmForm(),
                           elsewhere=False,
                           idporten_offered=current_app.config["FOLGE"].idporten is not None)


@bp.route("/<token>/code", methods=["GET", "POST"])
@limiter.limit("30 per 15 minutes", methods=["POST"])
def code(token: str) -> str | WerkzeugResponse:
    invitation, state = _invitation(token)
    if invitation is None or state != "ok" or not session.get(ATTEMPT_KEY) or \
            session.get(TOKEN_KEY) != invitation.token_hash:
        return redirect(url_for("invite.show", token=token))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = relatives.finish_accept(invitation, session.get(ATTEMPT_KEY),
                                           form.code.data or "")
        except (codes.CodeError, RelativeError) as exc:
            form.code.errors = [str(exc.message)]
        else:
            _begin_session(user)
            return redirect(url_for("relative.home"))
    return render_template("invite/code.html", form=form, token=token)


@bp.post("/<token>/tell")
@limiter.limit("5 per hour")
def tell(token: str) -> str:
    """The link no longer works: tell the patient, who can send a new one."""
    invitation, state = _invitation(token)
    told = False
    if invitation is not None and state != "ok" and ConfirmForm().validate_on_submit():
        relatives.tell_patient_link_failed(invitation)
        told = True
    return render_template("invite/unusable.html", state=state, token=token, form=ConfirmForm(),
                           told=told, message=_("Thank you. We have told them.") if told else "")
