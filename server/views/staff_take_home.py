"""Staff: take-home requests with their context, decisions, the pickup plan, clinic
rules and the variation figures."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.extensions import db
from server.forms.common import ConfirmForm, PeriodForm, attach_error, options
from server.forms.take_home import DecisionForm, PlanForm, RulesForm
from server.models import (
    AccessTarget,
    Attendance,
    Clinic,
    PickupPlace,
    RequestKind,
    StaffMembership,
    StaffRole,
    TakeHomeRequest,
    WorkStatus,
)
from server.services import feedback, relatives, take_home, take_home_figures
from server.services.dispensing_notice import render_dispensing_notice
from server.services.local_time import oslo_today
from server.services.take_home import DecisionInput, PlanInput, RulesInput, TakeHomeError
from server.views.staff_feedback import feedback_titles

bp = Blueprint("staff_take_home", __name__, url_prefix="/staff")


def _page(found: TakeHomeRequest, form: DecisionForm, conflict: str = "") -> str:
    """The request, with its context above the decision: the plan and granted periods,
    attendance in the last 3 months, earlier requests, recent feedback and what relatives
    have said. The feedback and the relatives' words are logged as read too."""
    patient = found.patient
    today = take_home.today_for(found.clinic)
    history = feedback.history(patient)
    recent_feedback = sorted((r for answers in history.values() for r in answers),
                             key=lambda r: r.created_at, reverse=True)[:3]
    observations = relatives.observations_of(patient)[:3]
    policy.record_reads([patient], AccessTarget.FEEDBACK)
    policy.record_reads([patient], AccessTarget.OBSERVATIONS)
    attendance = take_home.recent_attendance(patient)
    return render_template(
        "staff/take_home_request.html", item=found, form=form, confirm=ConfirmForm(),
        conflict=conflict, may_decide=policy.may("decide_take_home", patient),
        earlier=take_home.earlier_requests(found), attendance=attendance,
        attended=sum(a.attendance is Attendance.ATTENDED for a in attendance),
        missed=sum(a.attendance is Attendance.MISSED for a in attendance),
        granted=[g for g in take_home.granted_periods(patient, today) if g.id != found.id],
        plan=take_home.plan_for(patient), rules=take_home.rules_for(found.clinic),
        today=today, recent_feedback=recent_feedback, observations=observations,
        titles=feedback_titles(), alerts=[a for a in feedback.alerts_for(patient)
                                          if a.status is WorkStatus.OPEN])


@bp.get("/take-home/<int:request_id>")
def show(request_id: int) -> str:
    """The request with what is needed to decide it. Opening it is access-logged, and
    changes nothing the patient sees: "being looked at" is a deliberate step."""
    found = policy.get_take_home_or_404(request_id, "view")
    return _page(found, DecisionForm())


@bp.post("/take-home/<int:request_id>/start-review")
def start_review(request_id: int) -> WerkzeugResponse:
    """"Start review": the patient's request now says it is being looked at."""
    found = policy.get_take_home_or_404(request_id, "decide_take_home")
    if ConfirmForm().validate_on_submit():
        take_home.start_review(found)
        flash(_("The patient now sees that the request is being looked at."), "success")
    return redirect(url_for("staff_take_home.show", request_id=request_id))


@bp.post("/take-home/<int:request_id>/decide")
def decide(request_id: int) -> str | WerkzeugResponse:
    found = policy.get_take_home_or_404(request_id, "decide_take_home")
    form = DecisionForm()
    if form.validate_on_submit():
        data = DecisionInput(
            outcome=form.outcome.data or "", reason=form.reason.data or "",
            next_time=form.next_time.data or "", first_day=form.first_day.data,
            last_day=form.last_day.data,
            place=PickupPlace(form.place.data) if form.place.data else None,
            place_name=form.place_name.data or "")
        try:
            take_home.decide(found, data, current_user)
        except take_home.DecisionConflict as exc:
            return _page(found, form, conflict=str(exc.message))
        except TakeHomeError as exc:
            if not attach_error(form, exc):
                form.reason.errors = [str(exc.message)]
        else:
            flash(_("The decision is saved. The patient is told that an answer is ready."),
                  "success")
            return redirect(url_for("staff_take_home.show", request_id=request_id))
    return _page(found, form)


@bp.post("/take-home/<int:request_id>/certificate")
def certificate(request_id: int) -> WerkzeugResponse:
    """The Schengen certificate is ready; the patient sees it on the request."""
    found = policy.get_take_home_or_404(request_id, "decide_take_home")
    if ConfirmForm().validate_on_submit():
        take_home.mark_certificate_ready(found)
        flash(_("Marked as ready. The patient can see it."), "success")
    return redirect(url_for("staff_take_home.show", request_id=request_id))


@bp.get("/take-home/<int:request_id>/dispensing-notice.pdf")
def dispensing_notice(request_id: int) -> Response:
    """The notice for the pickup place, for the clinic to send."""
    found = policy.get_take_home_or_404(request_id, "view")
    if found.kind is not RequestKind.PERIOD or not found.is_granted:
        abort(404)
    response = Response(render_dispensing_notice(found), mimetype="application/pdf")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="dispensing-notice-{found.id}.pdf"'
    return response


@bp.route("/patients/<int:patient_id>/pickup-plan", methods=["GET", "POST"])
def pickup_plan(patient_id: int) -> str | WerkzeugResponse:
    """Set the patient's regular pickup plan."""
    patient = policy.get_patient_or_404(patient_id, "manage_pickup_plan", AccessTarget.TAKE_HOME)
    plan = take_home.plan_for(patient)
    form = PlanForm()
    if request.method == "GET" and plan is not None:
        form.place.data = plan.place.value
        form.place_name.data = plan.place_name
        form.weekdays.data = list(plan.weekdays)
        form.days_per_pickup.data = plan.days_per_pickup
        form.note.data = plan.note
    if form.validate_on_submit():
        try:
            take_home.save_plan(patient, PlanInput(
                place=PickupPlace(form.place.data), place_name=form.place_name.data or "",
                weekdays=list(form.weekdays.data or []),
                days_per_pickup=form.days_per_pickup.data or 1, note=form.note.data or ""),
                current_user)
        except TakeHomeError as exc:
            form.weekdays.errors = [str(exc.message)]
        else:
            flash(_("The pickup plan is saved. The patient sees it in Følge."), "success")
            return redirect(url_for("staff.patient", patient_id=patient_id))
    return render_template("staff/pickup_plan.html", form=form, patient=patient)


def _other_staff(clinic: Clinic) -> list[StaffMembership]:
    return list(db.session.scalars(
        select(StaffMembership).where(StaffMembership.clinic_id == clinic.id,
                                      StaffMembership.role != StaffRole.DOCTOR)))


@bp.route("/clinics/<int:clinic_id>/take-home", methods=["GET", "POST"])
def settings(clinic_id: int) -> str | WerkzeugResponse:
    """Clinic admins: the rules text, notice, usual maximum, places and who may decide."""
    clinic = policy.get_clinic_or_404(clinic_id, "manage_clinic")
    rules = take_home.rules_for(clinic)
    members = _other_staff(clinic)
    form = RulesForm()
    form.deciders.choices = options((m.id, m.user.display_name) for m in members)
    if request.method == "GET":
        form.rules_text.data = rules.rules_text
        form.notice_days.data = rules.notice_days
        form.usual_max_days.data = rules.usual_max_days
        form.allowed_places.data = list(rules.allowed_places)
        form.deciders.data = [m.id for m in members if m.decides_take_home]
    if form.validate_on_submit():
        try:
            take_home.save_rules(clinic, RulesInput(
                rules_text=form.rules_text.data or "", notice_days=form.notice_days.data or 0,
                usual_max_days=form.usual_max_days.data or 1,
                allowed_places=[PickupPlace(v) for v in form.allowed_places.data or []]),
                current_user)
        except TakeHomeError as exc:
            if not attach_error(form, exc):
                form.rules_text.errors = [str(exc.message)]
        else:
            chosen = set(form.deciders.data or [])
            for member in members:
                member.decides_take_home = member.id in chosen
            db.session.commit()
            flash(_("The rules are saved. Patients see them before they ask."), "success")
            return redirect(url_for("staff_take_home.settings", clinic_id=clinic_id))
    return render_template("staff/take_home_settings.html", form=form, clinic=clinic,
                           members=members)


@bp.get("/take-home/figures")
def figures() -> str:
    """Variation figures for my clinics, by decider for clinic admins, and all clinics."""
    form = PeriodForm(formdata=request.args)
    form.validate()
    first, last = form.period(oslo_today())
    own = [m.clinic for m in current_user.memberships]
    rows = []
    for clinic in own:
        by_decider = (take_home_figures.by_decider(clinic, first, last)
                      if policy.may_in_clinic("manage_clinic", clinic.id) else None)
        rows.append((clinic, take_home_figures.for_clinic(clinic, first, last), by_decider))
    return render_template("staff/take_home_figures.html", form=form, first=first, last=last,
                           rows=rows, comparison=take_home_figures.comparison(first, last),
                           min_group=take_home_figures.MIN_GROUP)
