"""Staff: a patient's relatives, their scopes, agreements and observations; registering a
relative for a low-digital patient with the patient's recorded consent."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.forms.common import attach_error
from server.forms.relatives import AgreementForm, ObservationAnswerForm, StaffRegisterForm
from server.models import AccessTarget, ConsentMethod
from server.services import relatives
from server.services.agreement_pdf import render_agreement
from server.services.local_time import oslo_today
from server.services.relatives import AgreementInput, InviteInput, RelativeError

bp = Blueprint("staff_relatives", __name__, url_prefix="/staff")


@bp.get("/patients/<int:patient_id>/relatives")
def index(patient_id: int) -> str:
    """Only this clinic's patient: other clinics' relatives are never shown (404)."""
    patient = policy.get_patient_or_404(patient_id, "view", AccessTarget.RELATIVES)
    observations = relatives.observations_of(patient)
    page = render_template(
        "staff/relatives.html", patient=patient, accesses=relatives.accesses_of_patient(patient),
        pending=relatives.pending_invitations(patient), answer_form=ObservationAnswerForm(),
        observations=observations, agreement_for=relatives.agreement_for,
        today=oslo_today(), may_manage=policy.may("manage_relatives", patient))
    relatives.mark_observations_read(current_user, patient=patient)  # after the page shows "new"
    return page


@bp.post("/observations/<int:observation_id>/answer")
def answer_observation(observation_id: int) -> WerkzeugResponse:
    """A short note back to the relative; the patient can read it too (the form says so)."""
    observation = policy.get_observation_or_404(observation_id)
    form = ObservationAnswerForm()
    if form.validate_on_submit():
        try:
            relatives.answer_observation(observation, current_user, form.answer.data or "")
        except RelativeError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Answer saved. The relative and the patient can read it."), "success")
    else:
        for errors in form.errors.values():
            flash(str(errors[0]), "error")
    return redirect(url_for("staff_relatives.index", patient_id=observation.patient_id,
                            _anchor=f"observation-{observation.id}"))


@bp.route("/patients/<int:patient_id>/relatives/new", methods=["GET", "POST"])
def register(patient_id: int) -> str | WerkzeugResponse:
    patient = policy.get_patient_or_404(patient_id, "manage_relatives", AccessTarget.NAME)
    form = StaffRegisterForm()
    if form.validate_on_submit():
        try:
            relatives.invite(patient, InviteInput(
                name=form.name.data or "", relationship=form.relationship.data or "",
                phone=form.phone.data or "", email=form.email.data or "",
                scopes=list(form.scopes.data or []), ends_on=form.ends_on.data,
                consent_method=ConsentMethod(form.consent_method.data),
                consent_on=form.consent_on.data), by_staff=current_user)
        except RelativeError as exc:
            if not attach_error(form, exc):
                flash(str(exc.message), "error")
        else:
            flash(_("Registered. The relative gets an invitation, and the patient is told."),
                  "success")
            return redirect(url_for("staff_relatives.index", patient_id=patient_id))
    return render_template("staff/relative_register.html", form=form, patient=patient)


@bp.route("/relatives/<int:access_id>/agreement", methods=["GET", "POST"])
def agreement(access_id: int) -> str | WerkzeugResponse:
    """Record the relative agreement (pårørendeavtale) made together with the patient."""
    access = policy.get_staff_relative_access_or_404(access_id, "manage_relatives")
    current = relatives.agreement_for(access)
    form = AgreementForm()
    if request.method == "GET" and current is not None:
        form.role.data, form.expectations.data = current.role, current.expectations
        form.contact.data, form.frequency.data = current.contact, current.frequency
    if form.validate_on_submit():
        relatives.save_agreement(access, AgreementInput(
            form.role.data or "", form.expectations.data or "", form.contact.data or "",
            form.frequency.data or ""), current_user)
        flash(_("The agreement is saved. The patient can read and print it."), "success")
        return redirect(url_for("staff_relatives.index", patient_id=access.patient_id))
    return render_template("staff/relative_agreement.html", form=form, access=access)


@bp.get("/relatives/<int:access_id>/agreement.pdf")
def agreement_pdf(access_id: int) -> Response:
    access = policy.get_staff_relative_access_or_404(access_id, "view")
    found = relatives.agreement_for(access)
    if found is None:
        return Response(status=404)
    response = Response(render_agreement(access, found), mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="agreement.pdf"'
    return response
