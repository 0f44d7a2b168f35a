"""The patient's relatives: invite, choose what each may do, change or end it at once."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.forms.common import ConfirmForm, attach_error
from server.forms.relatives import AccessForm, InviteForm
from server.services import access_log, relatives
from server.services.agreement_pdf import render_agreement
from server.services.local_time import oslo_today
from server.services.relatives import InviteInput, RelativeError

bp = Blueprint("relatives", __name__, url_prefix="/me/relatives")


@bp.get("/")
def index() -> str:
    """Who has access to what, since when; invitations; what relatives have sent."""
    patient = policy.current_patient()
    entries = [e for e in access_log.entries_for(patient) if e.viewer_role == "relative"]
    return render_template(
        "relatives/index.html", patient=patient, accesses=relatives.accesses_of_patient(patient),
        pending=relatives.pending_invitations(patient),
        observations=relatives.observations_of(patient), entries=entries, form=ConfirmForm(),
        agreement_for=relatives.agreement_for, today=oslo_today())


def _field_error(form: InviteForm | AccessForm, exc: RelativeError) -> None:
    if not attach_error(form, exc):
        flash(str(exc.message), "error")


@bp.route("/invite", methods=["GET", "POST"])
def invite() -> str | WerkzeugResponse:
    """Invite someone by mobile number or email, with the scopes chosen here (none by default)."""
    patient = policy.current_patient()
    form = InviteForm()
    if form.validate_on_submit():
        try:
            relatives.invite(patient, InviteInput(
                name=form.name.data or "", relationship=form.relationship.data or "",
                phone=form.phone.data or "", email=form.email.data or "",
                scopes=list(form.scopes.data or []), ends_on=form.ends_on.data))
        except RelativeError as exc:
            _field_error(form, exc)
        else:
            flash(_("The invitation is sent. It works for 7 days."), "success")
            return redirect(url_for("relatives.index"))
    return render_template("relatives/invite.html", form=form)


@bp.post("/invitations/<int:invitation_id>/cancel")
def cancel(invitation_id: int) -> WerkzeugResponse:
    invitation = policy.get_own_invitation_or_404(invitation_id)
    if ConfirmForm().validate_on_submit():
        relatives.cancel(invitation)
        flash(_("The invitation is cancelled. The link no longer works."), "success")
    return redirect(url_for("relatives.index"))


@bp.route("/access/<int:access_id>", methods=["GET", "POST"])
def access(access_id: int) -> str | WerkzeugResponse:
    """Change what one person may do, or when it ends."""
    found = policy.get_own_relative_access_or_404(access_id)
    form = AccessForm()
    if request.method == "GET":
        form.scopes.data = list(found.scopes or [])
        form.ends_on.data = found.ends_on
    if found.revoked_at is None and form.validate_on_submit():
        try:
            relatives.change(found, list(form.scopes.data or []), form.ends_on.data)
        except RelativeError as exc:
            _field_error(form, exc)
        else:
            flash(_("Saved. It applies from their next click."), "success")
            return redirect(url_for("relatives.index"))
    return render_template("relatives/access.html", access=found, form=form,
                           confirm=ConfirmForm(), agreement=relatives.agreement_for(found))


@bp.post("/access/<int:access_id>/confirm")
def confirm_again(access_id: int) -> WerkzeugResponse:
    """After a move to a new clinic: one tap lets this relative see what they saw before."""
    found = policy.get_own_relative_access_or_404(access_id)
    if ConfirmForm().validate_on_submit():
        relatives.confirm_again(found)
        flash(_("Confirmed. They can see what you chose again."), "success")
    return redirect(url_for("relatives.index"))


@bp.post("/access/<int:access_id>/revoke")
def revoke(access_id: int) -> WerkzeugResponse:
    found = policy.get_own_relative_access_or_404(access_id)
    if ConfirmForm().validate_on_submit():
        relatives.revoke(found, "patient")
        flash(_("Access ended. They can no longer see anything of yours."), "success")
    return redirect(url_for("relatives.index"))


@bp.get("/access/<int:access_id>/agreement.pdf")
def agreement_pdf(access_id: int) -> Response:
    found = policy.get_own_relative_access_or_404(access_id)
    agreement = relatives.agreement_for(found)
    if agreement is None:
        return Response(status=404)
    response = Response(render_agreement(found, agreement), mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="agreement.pdf"'
    return response
