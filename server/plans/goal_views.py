"""My goals: the patient's pages (/me/goals) and the care team's (/staff/patients/<id>/goals)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.care_team import team
from server.care_team.models import TeamMember
from server.extensions import db
from server.forms.common import ConfirmForm, attach_error, options
from server.models import AccessTarget, PatientProfile
from server.numbers import row_id, whole_number
from server.plans import goals, meetings
from server.plans import ip_export as ip_export_of
from server.plans.forms import (
    GoalForm,
    GoalNoteForm,
    GoalStatusForm,
    IpConsentForm,
    MeasureForm,
    SuggestGoalForm,
)
from server.plans.models import Goal
from server.services.errors import DomainError
from server.services.local_time import oslo_today

bp = Blueprint("goals", __name__, url_prefix="/me/goals")
staff_bp = Blueprint("staff_goals", __name__, url_prefix="/staff")


def _patient_label(member: TeamMember) -> str:
    """A member of the team as the patient reads it (roles only where names are hidden)."""
    return team.member_view(member).label


def _staff_label(member: TeamMember) -> str:
    return team.member_view(member, for_staff=True).label


def _try(form: object, action: object, done: str) -> bool:
    """Run a service call; on a DomainError show it under its field. True when it worked."""
    try:
        action()  # type: ignore[operator]
    except DomainError as exc:
        if not attach_error(form, exc):  # type: ignore[arg-type]
            flash(str(exc.message), "error")
        return False
    flash(done, "success")
    return True


@bp.route("", methods=["GET", "POST"])
def index() -> str | WerkzeugResponse:
    """My goals in my order, suggestions from the team to answer, and a new goal."""
    patient = policy.current_patient()
    form = GoalForm()
    if form.validate_on_submit() and _try(
            form, lambda: goals.add(patient, form.text.data or "", current_user),
            _("Your goal is added.")):
        return redirect(url_for("goals.index"))
    return render_template("plans/goals.html", goals=goals.of_patient(patient),
                           suggestions=goals.of_patient(patient, ("suggested",)), form=form,
                           confirm=ConfirmForm(), member_label=_patient_label,
                           consent=goals.ip_consent(patient),
                           next_meeting=meetings.next_meeting(patient))


@bp.post("/<int:goal_id>/answer")
def answer(goal_id: int) -> WerkzeugResponse:
    goal = policy.get_own_goal_or_404(goal_id)
    if ConfirmForm().validate_on_submit():
        accept = request.form.get("accept") == "yes"
        _try(None, lambda: goals.answer_suggestion(goal, accept),
             _("The goal is yours now.") if accept else _("The suggestion is declined."))
    return redirect(url_for("goals.index"))


@bp.post("/<int:goal_id>/move")
def move(goal_id: int) -> WerkzeugResponse:
    goal = policy.get_own_goal_or_404(goal_id)
    if ConfirmForm().validate_on_submit():
        goals.move(goal, up=request.form.get("direction") != "down")
    return redirect(url_for("goals.index") + f"#goal-{goal_id}")


def _goal_page(template: str, goal: Goal, **forms: object) -> str:
    """The goal page. A form that comes back with what was typed names the version the page
    now shows, so the next save, after comparing, goes through."""
    for form in forms.values():
        if isinstance(form, GoalForm | GoalStatusForm):
            form.based_on.data = str(goal.version)
    return render_template(template, goal=goal, member_label=_patient_label,
                           history=goals.history(goal), **{
        "text_form": GoalForm(formdata=None, data={"text": goal.text,
                                                   "based_on": goal.version}),
        "status_form": GoalStatusForm(formdata=None, data={"status": goal.status,
                                                           "reason": goal.status_reason,
                                                           "based_on": goal.version}),
        "note_form": GoalNoteForm(formdata=None), **forms})


def _based_on(form: GoalForm | GoalStatusForm) -> int | None:
    return whole_number(form.based_on.data, 1)


@bp.route("/<int:goal_id>", methods=["GET", "POST"])
def show(goal_id: int) -> str | WerkzeugResponse:
    """One goal: reword it, set its status with the reason, write how it is going."""
    goal = policy.get_own_goal_or_404(goal_id)
    which = request.form.get("form", "")
    forms: dict[str, object] = {}
    if request.method == "POST":
        if which == "text":
            form = GoalForm()
            forms["text_form"] = form
            if form.validate_on_submit() and _try(
                    form, lambda: goals.reword(goal, form.text.data or "", current_user,
                                               _based_on(form)), _("Saved.")):
                return redirect(url_for("goals.show", goal_id=goal_id))
        elif which == "status":
            status_form = GoalStatusForm()
            forms["status_form"] = status_form
            if status_form.validate_on_submit() and _try(
                    status_form, lambda: goals.set_status(
                        goal, status_form.status.data or "", status_form.reason.data or "",
                        current_user, _based_on(status_form)), _("Saved.")):
                return redirect(url_for("goals.show", goal_id=goal_id))
        else:
            note_form = GoalNoteForm()
            forms["note_form"] = note_form
            if note_form.validate_on_submit() and _try(
                    note_form, lambda: goals.add_note(goal, note_form.note.data or "",
                                                      current_user), _("Saved.")):
                return redirect(url_for("goals.show", goal_id=goal_id))
    return _goal_page("plans/goal.html", goal, **forms)


# --- the care team ------------------------------------------------------------------------------

def _members(patient: PatientProfile) -> list[TeamMember]:
    return team.active_members(patient)


def _measure_form(patient: PatientProfile, fresh: bool) -> MeasureForm:
    form = MeasureForm(formdata=None) if fresh else MeasureForm()
    form.member.choices = options([("", _("Choose")), *(
        (str(m.id), team.member_view(m, for_staff=True).label)
        for m in team.active_members(patient))])
    return form


def _staff_page(patient: PatientProfile, form_goal: int | None = None,
                **forms: object) -> str:
    """The goals page; ``forms`` (with their errors and what was typed) belong to
    ``form_goal``, or to the suggestion form."""
    return render_template(
        "plans/staff_goals.html", patient=patient, goals=goals.of_patient(patient),
        suggestions=goals.of_patient(patient, ("suggested", "declined")),
        form_goal=form_goal, member_label=_staff_label, consent=goals.ip_consent(patient),
        **{"form": SuggestGoalForm(formdata=None), "consent_form": IpConsentForm(formdata=None),
                                "measure_form": _measure_form(patient, fresh=True),
                                "note_form": GoalNoteForm(formdata=None),
                                "status_form": GoalStatusForm(formdata=None), **forms})


@staff_bp.route("/patients/<int:patient_id>/goals", methods=["GET", "POST"])
def staff_index(patient_id: int) -> str | WerkzeugResponse:
    """The patient's goals with measures and notes; suggest a goal (the patient decides)."""
    patient = policy.get_patient_or_404(patient_id, "view", AccessTarget.GOALS)
    form = SuggestGoalForm()
    if form.validate_on_submit() and _try(
            form, lambda: goals.add(patient, form.text.data or "", current_user),
            _("Suggested. The patient decides whether it becomes a goal.")):
        return redirect(url_for("staff_goals.staff_index", patient_id=patient_id))
    return _staff_page(patient, form=form if form.is_submitted() else SuggestGoalForm(formdata=None))


@staff_bp.post("/goals/<int:goal_id>/<any(measure, note, status):what>")
def staff_change(goal_id: int, what: str) -> str | WerkzeugResponse:
    """A measure, a progress note or a status, from the care team. On a problem the page
    comes back with the message under the field and what was typed."""
    goal = policy.get_goal_or_404(goal_id)
    patient = goal.patient
    back = url_for("staff_goals.staff_index", patient_id=patient.id) + f"#goal-{goal_id}"
    if what == "measure":
        form = _measure_form(patient, fresh=False)
        if form.validate_on_submit():
            member = db.session.get(TeamMember, row_id(form.member.data) or 0)
            if _try(form, lambda: goals.add_measure(goal, form.text.data or "", member,
                                                     form.due_on.data, current_user,
                                                     oslo_today()), _("The measure is added.")):
                return redirect(back)
        return _staff_page(patient, goal.id, measure_form=form)
    if what == "note":
        note_form = GoalNoteForm()
        if note_form.validate_on_submit() and _try(
                note_form, lambda: goals.add_note(goal, note_form.note.data or "",
                                                  current_user), _("Saved.")):
            return redirect(back)
        return _staff_page(patient, goal.id, note_form=note_form)
    status_form = GoalStatusForm()
    if status_form.validate_on_submit() and _try(
            status_form, lambda: goals.set_status(goal, status_form.status.data or "",
                                                  status_form.reason.data or "",
                                                  current_user, _based_on(status_form)),
            _("Saved.")):
        return redirect(back)
    return _staff_page(patient, goal.id, status_form=status_form)


@staff_bp.get("/patients/<int:patient_id>/goals/ip-plan.<any(pdf, json):kind>")
def ip_export(patient_id: int, kind: str) -> Response | WerkzeugResponse:
    """The goals for the municipality's IP coordinator, as a PDF or a FHIR R4 Bundle, only
    while the patient's consent holds (otherwise back to the page, with why)."""
    patient = policy.get_patient_or_404(patient_id, "view", AccessTarget.IP_EXPORT)
    try:
        if kind == "pdf":
            body, mimetype = ip_export_of.pdf(patient), "application/pdf"
        else:
            body = json.dumps(ip_export_of.fhir_bundle(patient), ensure_ascii=False, indent=2)
            mimetype = "application/fhir+json"
    except ip_export_of.NoConsent:
        flash(_("The patient has not agreed to share the goals with the IP coordinator. Record "
                "the consent first."), "error")
        return redirect(url_for("staff_goals.staff_index", patient_id=patient_id) + "#consent")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="ip-plan.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@staff_bp.post("/patients/<int:patient_id>/goals/consent")
def staff_consent(patient_id: int) -> str | WerkzeugResponse:
    """Record the patient's consent (or withdrawal) to share the goals with the IP
    coordinator, with how the patient said it; who and when are kept."""
    patient = policy.get_patient_or_404(patient_id, "view", AccessTarget.GOALS)
    form = IpConsentForm()
    if form.validate_on_submit() and _try(
            form, lambda: goals.record_consent(patient, form.given.data == "yes",
                                               form.method.data or "", current_user),
            _("Saved.")):
        return redirect(url_for("staff_goals.staff_index", patient_id=patient_id) + "#consent")
    return _staff_page(patient, consent_form=form)
