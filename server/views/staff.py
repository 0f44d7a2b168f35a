"""Staff pages: the clinic's patients, one page per patient, account actions."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import labels, policy
from server.care_team import team
from server.forms.common import ConfirmForm
from server.forms.staff import RegisterPhoneForm, VerifyPhoneForm
from server.forms.staff_appointments import AttendanceForm
from server.messages import conversations
from server.models import AccessTarget, WorkKind
from server.models.base import utcnow
from server.plans import agenda, crisis, meetings
from server.services import accounts, appointments, feedback, relatives, take_home, today, worklist
from server.services.errors import DomainError
from server.services.local_time import oslo_today
from server.services.phone_numbers import display_mobile
from server.views.staff_feedback import feedback_titles
from server.web import LANGUAGE_NAMES

bp = Blueprint("staff", __name__, url_prefix="/staff")

PHONE_ATTEMPT_KEY = "phone_verification"
OSLO = ZoneInfo("Europe/Oslo")


def _who() -> tuple[str, bool]:
    """"mine" (patients whose care team I am in) or "all" of the clinic, from the URL; "mine"
    is the default for those in a care team. The second value: the URL asked for something
    else, which is ignored."""
    asked = request.args.get("who", "")
    if asked in ("mine", "all"):
        return asked, False
    return ("mine" if today.has_patients(current_user) else "all"), asked != ""


@bp.get("/")
def home() -> str:
    """Today: the clinic's appointments today and tomorrow, attendance marked in the row, and
    what waits, in counts that lead to the filtered lists."""
    clinic_ids = policy.staff_clinic_ids(current_user)
    who, ignored = _who()
    first_day = oslo_today()
    rows = today.appointments(clinic_ids, first_day,
                              mine_of=current_user if who == "mine" else None)
    policy.record_reads([a.patient for a in rows], AccessTarget.APPOINTMENT)
    days = [(day, [a for a in rows if a.starts_at.astimezone(OSLO).date() == day])
            for day in (first_day, first_day + timedelta(days=1))]
    return render_template(
        "staff/today.html", days=days, total=len(rows), who=who, ignored=ignored,
        counts=today.counts(clinic_ids, current_user),
        form=AttendanceForm(), now=utcnow(), kinds=list(WorkKind), max_rows=today.TODAY_MAX,
        # The rows' labels in the reader's language, looked up once rather than per row.
        names={group: {key: str(text) for key, text in table.items()} for group, table in (
            ("service", labels.STAFF_SERVICES), ("meeting", labels.MEETINGS),
            ("answer", labels.STAFF_ANSWERS), ("attendance", labels.ATTENDANCE),
            ("talk", labels.TALK_TOPICS))},
        talks=agenda.for_appointments([a.id for a in rows]))


@bp.get("/patients")
def patients() -> str:
    """The patients of my clinics ("mine" or all), searchable by name, date of birth, phone
    number or patient number; each with date of birth and next appointment."""
    search = request.args.get("q", "")[:100]
    who, ignored = _who()
    found = policy.list_visible_patients(current_user, search,
                                         mine_only=who == "mine" and not search)
    clinic_ids = policy.staff_clinic_ids(current_user)
    return render_template("staff/patients.html", patients=found, search=search, who=who,
                           ignored=ignored,
                           next_at=appointments.next_for_patients([p.id for p in found]),
                           meeting_at={pid: a.starts_at for pid, a in
                                       meetings.next_meetings([p.id for p in found]).items()},
                           gaps=team.gap_counts(clinic_ids))


#: What each section of the patient overview shows of the patient, for the access log: one
#: entry per section type (the page itself is PATIENT_OVERVIEW: identity and channels).
OVERVIEW_SECTIONS = (AccessTarget.CARE_TEAM, AccessTarget.APPOINTMENT, AccessTarget.TAKE_HOME,
                     AccessTarget.FEEDBACK, AccessTarget.RELATIVES, AccessTarget.CONVERSATION)


@bp.get("/patients/<int:patient_id>")
def patient(patient_id: int) -> str:
    """The patient overview: identity, care team and gaps, next appointments, open work,
    take-home, latest feedback, relatives and messages, each linking to its full page.
    Opening it writes one access-log entry per section type."""
    profile = policy.get_patient_or_404(patient_id, "view", AccessTarget.PATIENT_OVERVIEW)
    open_work = worklist.open_for_patient(profile)
    for target in OVERVIEW_SECTIONS + tuple({policy.work_target(i) for i in open_work}):
        policy.record_reads([profile], target)
    observations = relatives.observations_of(profile)[:3]
    return render_template(
        "staff/patient.html", patient=profile, form=ConfirmForm(),
        may_manage=policy.may("manage_account", profile), display_mobile=display_mobile,
        appointment_list=appointments.for_patient(profile),
        upcoming=[a for a in appointments.upcoming_for(profile) if not a.is_cancelled][:3],
        plan=take_home.plan_for(profile), take_home_requests=take_home.requests_for(profile),
        team_view=team.team_for(profile, for_staff=True), open_work=open_work,
        patient_conversations=conversations.for_patient(profile)[:5],
        latest_feedback=feedback.latest_for(profile),
        alerts=[i for i in open_work if i.kind is WorkKind.FEEDBACK_ALERT],
        accesses=relatives.accesses_of_patient(profile), observations=observations,
        observation_map={o.id: o for o in observations}, today=oslo_today(),
        titles=feedback_titles(), language_names=LANGUAGE_NAMES, now=utcnow(),
        crisis_plan=crisis.current(profile), next_meeting=meetings.next_meeting(profile),
        pid_offered=bool(current_app.config["FOLGE"].pid_key),
    )


@bp.post("/patients/<int:patient_id>/disable")
def disable(patient_id: int) -> WerkzeugResponse:
    """Disable the patient's account; open sessions end on their next request."""
    profile = policy.get_patient_or_404(patient_id, "manage_account", AccessTarget.ACCOUNT)
    if ConfirmForm().validate_on_submit():
        accounts.disable(profile.user)
        flash(_("The account is disabled. Any open session has ended."), "success")
    return redirect(url_for("staff.patient", patient_id=patient_id))


@bp.post("/patients/<int:patient_id>/enable")
def enable(patient_id: int) -> WerkzeugResponse:
    """Let the patient sign in again."""
    profile = policy.get_patient_or_404(patient_id, "manage_account", AccessTarget.ACCOUNT)
    if ConfirmForm().validate_on_submit():
        accounts.enable(profile.user)
        flash(_("The account can be used again."), "success")
    return redirect(url_for("staff.patient", patient_id=patient_id))


@bp.route("/patients/<int:patient_id>/phone", methods=["GET", "POST"])
def register_phone(patient_id: int) -> str | WerkzeugResponse:
    """Register a mobile number: we send a code that the patient reads back."""
    profile = policy.get_patient_or_404(patient_id, "register_phone",
                                        AccessTarget.CONTACT_DETAILS)
    form = RegisterPhoneForm()
    if form.validate_on_submit():
        try:
            attempt = accounts.start_number_registration(profile.user, form.normalized)
        except DomainError as exc:
            form.phone.errors = [str(exc.message)]
        else:
            session[PHONE_ATTEMPT_KEY] = {"patient_id": patient_id, "attempt": attempt}
            return redirect(url_for("staff.verify_phone", patient_id=patient_id))
    return render_template("staff/register_phone.html", patient=profile, form=form)


@bp.route("/patients/<int:patient_id>/phone/verify", methods=["GET", "POST"])
def verify_phone(patient_id: int) -> str | WerkzeugResponse:
    """Check the code the patient read back, then the number may sign in."""
    profile = policy.get_patient_or_404(patient_id, "register_phone",
                                        AccessTarget.CONTACT_DETAILS)
    pending = session.get(PHONE_ATTEMPT_KEY) or {}
    if pending.get("patient_id") != patient_id:
        flash(_("Write the number first, and we will send a code to it."), "info")
        return redirect(url_for("staff.register_phone", patient_id=patient_id))
    form = VerifyPhoneForm()
    if form.validate_on_submit():
        try:
            accounts.finish_number_registration(profile.user, pending.get("attempt"),
                                                form.code.data or "")
        except DomainError as exc:
            form.code.errors = [str(exc.message)]
        else:
            session.pop(PHONE_ATTEMPT_KEY, None)
            flash(_("The number is verified. The patient can now sign in with it."), "success")
            return redirect(url_for("staff.patient", patient_id=patient_id))
    return render_template("staff/verify_phone.html", patient=profile, form=form)
