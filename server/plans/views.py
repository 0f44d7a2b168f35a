"""The crisis plan: the patient's own pages (/me/crisis-plan), a relative's with the scope, and
the care team's while the patient shares it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.forms.common import attach_error
from server.models import AccessTarget, PatientProfile, RelativeScope
from server.numbers import whole_number
from server.plans import crisis, crisis_pdf, meetings
from server.plans.forms import CrisisPlanForm
from server.plans.models import CrisisPlanVersion
from server.services.errors import DomainError

bp = Blueprint("plans", __name__, url_prefix="/me/crisis-plan")
relative_bp = Blueprint("relative_plans", __name__, url_prefix="/relative")
staff_bp = Blueprint("staff_plans", __name__, url_prefix="/staff")


def _numbers(patient: PatientProfile) -> dict[str, str]:
    """Step 5: the clinic, the emergency numbers and the clinic's crisis line."""
    clinic = patient.clinic
    return {"clinic_name": clinic.name, "clinic_phone": clinic.phone,
            "crisis_name": clinic.crisis_line_name, "crisis_phone": clinic.crisis_line_phone,
            "emergency": crisis.EMERGENCY, "legevakt": crisis.LEGEVAKT}


def _plan_page(template: str, patient: PatientProfile, plan: CrisisPlanVersion | None,
               **extra: object) -> str:
    return render_template(template, patient=patient, plan=plan, numbers=_numbers(patient),
                           steps=crisis.TEXT_STEPS, headings=crisis.HEADINGS,
                           first_aid=crisis.FIRST_AID, **extra)


@bp.get("")
def show() -> str:
    """"When things get hard": the plan, the numbers that always apply, and "keep on this
    phone" (the service worker keeps this page for use without a network)."""
    patient = policy.current_patient()
    return _plan_page("plans/crisis.html", patient, crisis.current(patient), own=True)


def _attach(form: CrisisPlanForm, error: DomainError) -> None:
    """Show a service error under its field, also inside the list of contacts."""
    if error.field and error.field.startswith("contacts-"):
        _, n, part = error.field.split("-")
        form.contacts[int(n)][part].errors = [str(error.message)]
    elif not attach_error(form, error):
        form.warning_signs.errors = [str(error.message)]


@bp.route("/edit", methods=["GET", "POST"])
def edit() -> str | WerkzeugResponse:
    """Write or change the plan. Each save is a new version; a save on top of a version
    someone saved meanwhile is refused and what was typed stays in the form."""
    patient = policy.current_patient()
    latest = crisis.current(patient)
    form = CrisisPlanForm()
    changed: CrisisPlanVersion | None = None
    if not form.is_submitted():
        if latest is not None:
            form.process(data={**{s: latest.content.get(s, "") for s in crisis.TEXT_STEPS},
                               "contacts": latest.content.get("contacts", []),
                               "shared_with_team": latest.shared_with_team,
                               "based_on": str(latest.version)})
    elif form.validate():
        data = crisis.PlanInput(
            texts={s: form[s].data or "" for s in crisis.TEXT_STEPS},
            contacts=[crisis.Contact(c["name"].data or "", c["phone"].data or "")
                      for c in form.contacts],
            shared_with_team=bool(form.shared_with_team.data))
        try:
            crisis.save(patient, data, current_user, whole_number(form.based_on.data, 1))
        except crisis.PlanChanged as exc:
            changed = exc.current
            flash(str(exc.message), "error")
        except DomainError as exc:
            _attach(form, exc)
        else:
            flash(_("Your crisis plan is saved."), "success")
            return redirect(url_for("plans.show"))
    return _plan_page("plans/crisis_form.html", patient, latest, form=form, changed=changed)


def _pdf(patient: PatientProfile, plan: CrisisPlanVersion) -> Response:
    response = Response(crisis_pdf.render(patient, plan), mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="crisis-plan.pdf"'
    return response


@bp.get("/crisis-plan.pdf")
def pdf() -> Response:
    """The plan to print and keep on paper."""
    patient = policy.current_patient()
    plan = crisis.current(patient)
    if plan is None:
        abort(404)
    return _pdf(patient, plan)


@bp.get("/versions")
def versions() -> str:
    """Every saved version: when, who, and which steps changed."""
    patient = policy.current_patient()
    found = crisis.versions(patient)
    changes = {v.version: crisis.changed_steps(found[i + 1] if i + 1 < len(found) else None, v)
               for i, v in enumerate(found)}
    return render_template("plans/versions.html", versions=found, changes=changes)


@bp.get("/versions/<int:number>")
def old_version(number: int) -> str:
    patient = policy.current_patient()
    found = crisis.version(patient, number)
    if found is None:
        abort(404)
    return _plan_page("plans/crisis.html", patient, found, own=True, old=True)


@relative_bp.get("/patients/<int:patient_id>/crisis-plan")
def relative_show(patient_id: int) -> str:
    """The plan, for a relative the patient gave the "see my crisis plan" scope."""
    access = policy.get_relative_access_or_404(patient_id, RelativeScope.CRISIS_PLAN,
                                               AccessTarget.CRISIS_PLAN)
    return _plan_page("plans/crisis.html", access.patient, crisis.current(access.patient),
                      access=access)


@relative_bp.get("/patients/<int:patient_id>/meetings")
def relative_meetings(patient_id: int) -> str:
    """Responsibility group meetings, for a relative with the "see meeting notes" scope: the
    next one, and the minutes of earlier ones (without the goals they link to)."""
    access = policy.get_relative_access_or_404(patient_id, RelativeScope.MEETING_NOTES,
                                               AccessTarget.MEETINGS)
    return render_template("plans/relative_meetings.html", access=access,
                           upcoming=meetings.next_meeting(access.patient),
                           past=meetings.meetings_with_notes(access.patient))


@staff_bp.get("/patients/<int:patient_id>/crisis-plan")
def staff_show(patient_id: int) -> str:
    """The plan, for the care team while the patient shares it (404 otherwise)."""
    patient, plan = policy.get_shared_crisis_plan_or_404(patient_id)
    return _plan_page("plans/crisis.html", patient, plan, staff=True)


@staff_bp.get("/patients/<int:patient_id>/crisis-plan.pdf")
def staff_pdf(patient_id: int) -> Response:
    """The shared plan printed for the patient (in the patient's language)."""
    patient, plan = policy.get_shared_crisis_plan_or_404(patient_id)
    return _pdf(patient, plan)
