"""The relative's (pårørende) own pages: only what each patient's scopes allow.

Every page loads the access through ``policy.get_relative_access_or_404``: a
missing scope, an ended or revoked access all answer 404, and links are shown
only for scopes the relative has, so nothing hints at what is hidden.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.forms.common import ConfirmForm
from server.forms.relatives import ObservationForm
from server.models import AccessTarget, ObservationKind, RelativeScope, RequestKind
from server.services import appointments, relatives, take_home
from server.services.phone_numbers import display_mobile
from server.services.relatives import RelativeError

bp = Blueprint("relative", __name__, url_prefix="/relative")


@bp.get("/")
def home() -> str:
    """Everyone who has given me access, to switch between."""
    return render_template("relative/home.html",
                           accesses=relatives.active_for_relative(current_user),
                           form=ConfirmForm())


@bp.get("/settings")
def me() -> str:
    """Me: the number I sign in with, signing in with fingerprint or face, where I am
    signed in."""
    return render_template("relative/me.html", display_mobile=display_mobile)


@bp.get("/patients/<int:patient_id>/")
def patient(patient_id: int) -> str:
    """What I may see or do for this person: links for my scopes only."""
    access = policy.get_relative_access_or_404(patient_id, None, AccessTarget.NAME)
    return render_template("relative/patient.html", access=access, form=ConfirmForm())


@bp.get("/patients/<int:patient_id>/appointments")
def appointment_list(patient_id: int) -> str:
    access = policy.get_relative_access_or_404(patient_id, RelativeScope.APPOINTMENTS,
                                               AccessTarget.APPOINTMENT)
    upcoming = [a for a in appointments.upcoming_for(access.patient) if not a.is_cancelled]
    return render_template("relative/appointments.html", access=access, upcoming=upcoming)


@bp.get("/patients/<int:patient_id>/take-home")
def decisions(patient_id: int) -> str:
    access = policy.get_relative_access_or_404(patient_id, RelativeScope.TAKE_HOME,
                                               AccessTarget.TAKE_HOME)
    decided = [r for r in take_home.requests_for(access.patient)
               if r.decided_at is not None and r.kind is RequestKind.PERIOD]
    return render_template("relative/take_home.html", access=access, decided=decided)


@bp.get("/patients/<int:patient_id>/pickup-plan")
def pickup_plan(patient_id: int) -> str:
    access = policy.get_relative_access_or_404(patient_id, RelativeScope.PICKUP_PLAN,
                                               AccessTarget.PICKUP_PLAN)
    today = take_home.today_for(access.patient.clinic)
    return render_template("relative/pickup_plan.html", access=access,
                           plan=take_home.plan_for(access.patient),
                           periods=take_home.granted_periods(access.patient, today))


@bp.route("/patients/<int:patient_id>/observations", methods=["GET", "POST"])
def observe(patient_id: int) -> str | WerkzeugResponse:
    """Tell the care team what I see. The patient can read it too, and the page says so."""
    access = policy.get_relative_access_or_404(patient_id, RelativeScope.OBSERVATIONS,
                                               AccessTarget.OBSERVATIONS)
    form = ObservationForm()
    if form.validate_on_submit():
        try:
            relatives.observe(access, ObservationKind(form.kind.data), form.text.data or "")
        except RelativeError as exc:
            form.text.errors = [str(exc.message)]
        else:
            flash(_("Sent to the care team. Thank you for telling us."), "success")
            return redirect(url_for("relative.patient", patient_id=patient_id))
    return render_template("relative/observe.html", access=access, form=form,
                           sent=relatives.observations_by(access))


@bp.post("/access/<int:patient_id>/leave")
def leave(patient_id: int) -> WerkzeugResponse:
    """End my own access to this person's information."""
    access = policy.get_relative_access_or_404(patient_id, None, AccessTarget.NAME)
    if ConfirmForm().validate_on_submit():
        relatives.revoke(access, "relative")
        flash(_("Your access has ended."), "success")
    return redirect(url_for("relative.home"))
