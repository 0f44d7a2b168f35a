"""Staff: record, move, cancel appointments; attendance; the message trail; CSV import."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.care_team import team
from server.forms.common import ConfirmForm, attach_error, options
from server.forms.staff_appointments import AppointmentForm, AttendanceForm, ImportForm
from server.models import AccessTarget, Appointment, Attendance, MeetingKind, ServiceKind
from server.models.base import utcnow
from server.numbers import whole_number
from server.plans import agenda, meetings
from server.plans.forms import AgreedForm, MinutesForm, ParticipantsForm
from server.services import appointments, csv_import, outbox, worklist
from server.services.errors import DomainError
from server.services.local_time import to_utc

bp = Blueprint("staff_appointments", __name__, url_prefix="/staff")


def _input(form: AppointmentForm, zone: str) -> appointments.AppointmentInput:
    cancel_by = None
    if form.cancel_by_day.data:
        cancel_by = to_utc(form.cancel_by_day.data, form.cancel_by_at.data or time(23, 59), zone)
    return appointments.AppointmentInput(
        starts_at=to_utc(form.day.data, form.at.data, zone),
        duration_minutes=int(form.duration.data or 30),
        service=ServiceKind(form.service.data), service_name=form.service_name.data or "",
        meeting=MeetingKind(form.meeting.data), place_name=form.place_name.data or "",
        address=form.address.data or "", meet_role=form.meet_role.data or "",
        meet_name=form.meet_name.data or "", prepare=form.prepare.data or "",
        cancel_by=cancel_by, is_team_meeting=bool(form.team_meeting.data),
    )


def _fill(form: AppointmentForm, appointment: Appointment) -> None:
    tz = ZoneInfo(appointment.clinic.timezone)
    local = appointment.starts_at.astimezone(tz)
    form.day.data, form.at.data = local.date(), local.time()
    form.duration.data = appointment.duration_minutes
    form.service.data = appointment.service.value
    form.service_name.data = appointment.service_name
    form.meeting.data = appointment.meeting.value
    form.place_name.data = appointment.place_name
    form.address.data = appointment.address
    form.meet_role.data = appointment.meet_role
    form.meet_name.data = appointment.meet_name
    form.prepare.data = appointment.prepare
    form.team_meeting.data = appointment.is_team_meeting
    if appointment.cancel_by:
        cancel_local = appointment.cancel_by.astimezone(tz)
        form.cancel_by_day.data, form.cancel_by_at.data = cancel_local.date(), cancel_local.time()


@bp.route("/patients/<int:patient_id>/appointments/new", methods=["GET", "POST"])
def new(patient_id: int) -> str | WerkzeugResponse:
    """Record an appointment at the clinic or at another service."""
    patient = policy.get_patient_or_404(patient_id, "manage_appointments", AccessTarget.NAME)
    form = AppointmentForm()
    if form.validate_on_submit():
        try:
            appointment = appointments.create(patient, _input(form, patient.clinic.timezone),
                                              current_user)
        except DomainError as exc:
            if not attach_error(form, exc):  # under the field it is about, else the date
                form.day.errors = [str(exc.message)]
        else:
            flash(_("The appointment is saved, and reminders are planned."), "success")
            return redirect(url_for("staff_appointments.show", appointment_id=appointment.id))
    return render_template("staff/appointment_form.html", form=form, patient=patient,
                           appointment=None)


def _page(appointment: Appointment, **forms: object) -> str:
    """The appointment page; ``forms`` (with errors and what was typed) replace the fresh ones."""
    talk = agenda.for_appointment(appointment)
    meeting: dict[str, object] = {}
    if appointment.is_team_meeting:
        people = meetings.participants(appointment)
        chosen = ParticipantsForm(formdata=None, data={"members": [str(m.id) for m in people]})
        chosen.members.choices = options(
            (str(m.id), team.member_view(m, for_staff=True).label)
            for m in team.active_members(appointment.patient))
        minutes_form = MinutesForm(formdata=None, data={"rows": [
            {"text": m.text, "link": (f"goal:{m.goal.id}" if m.goal and not m.measure else
                                      f"measure:{m.measure.id}" if m.measure else "")}
            for m in meetings.minutes(talk)]})
        written = len(talk.agreed) if talk else 0
        while len(minutes_form.rows) < min(max(written + 2, meetings.MINUTES_SHOWN),
                                           meetings.MINUTES_MAX):
            minutes_form.rows.append_entry()  # room for two more points
        meeting = {"people": [team.member_view(m, for_staff=True).label for m in people],
                   "participants_form": chosen, "minutes_form": minutes_form,
                   "minutes": meetings.minutes(talk)}
        meeting.update({k: v for k, v in forms.items()
                        if k in ("participants_form", "minutes_form")})
        meeting["minutes_form"].set_links(  # type: ignore[attr-defined]
            meetings.link_choices(appointment.patient))
    version = str(talk.agreed_version or 0) if talk else "0"
    agreed_form = forms.get("agreed_form") or _agreed_form(appointment)
    for form in (agreed_form, meeting.get("minutes_form")):
        if isinstance(form, AgreedForm | MinutesForm):
            form.based_on.data = version  # the version this page shows
    return render_template(
        "staff/appointment.html", appointment=appointment, form=ConfirmForm(),
        attendance_form=AttendanceForm(), messages=outbox.messages_for_appointment(appointment.id),
        work=worklist.for_appointment(appointment.id), may_edit=not appointment.is_cancelled,
        talk=talk, agreed_form=agreed_form, earlier=agenda.earlier_versions(talk),
        started=appointment.starts_at <= utcnow(), **meeting)


@bp.get("/appointments/<int:appointment_id>")
def show(appointment_id: int) -> str:
    """The appointment with the patient's answer, attendance and every message about it."""
    return _page(policy.get_appointment_or_404(appointment_id, "view"))


def _agreed_form(appointment: Appointment) -> AgreedForm:
    talk = agenda.for_appointment(appointment)
    return AgreedForm(data={"agreed": "\n".join(talk.agreed)} if talk and talk.agreed else None)


@bp.post("/appointments/<int:appointment_id>/agreed")
def agreed(appointment_id: int) -> str | WerkzeugResponse:
    """After the appointment: what was agreed, in plain words; the patient reads it."""
    appointment = policy.get_appointment_or_404(appointment_id, "manage_appointments")
    form = AgreedForm()
    if form.validate_on_submit():
        try:
            agenda.save_agreed(appointment, form.agreed.data or "", current_user,
                               whole_number(form.based_on.data, 0))
        except DomainError as exc:
            form.agreed.errors = [str(exc.message)]
        else:
            flash(_("Saved. The patient can read what you agreed in the app."), "success")
            return redirect(url_for("staff_appointments.show", appointment_id=appointment_id))
    return _page(appointment, agreed_form=form)


@bp.post("/appointments/<int:appointment_id>/participants")
def participants(appointment_id: int) -> str | WerkzeugResponse:
    """Who from the care team takes part in a responsibility group meeting."""
    appointment = policy.get_appointment_or_404(appointment_id, "manage_appointments")
    form = ParticipantsForm()
    form.members.choices = options((str(m.id), "") for m in
                                   team.active_members(appointment.patient))
    if form.validate_on_submit():
        try:
            meetings.set_participants(appointment, [int(v) for v in form.members.data or []],
                                      current_user)
        except DomainError as exc:
            form.members.errors = [str(exc.message)]
        else:
            flash(_("Saved. The participants are on the patient's appointment."), "success")
            return redirect(url_for("staff_appointments.show", appointment_id=appointment_id)
                            + "#participants")
    return _page(appointment, participants_form=form)


@bp.post("/appointments/<int:appointment_id>/minutes")
def minutes(appointment_id: int) -> str | WerkzeugResponse:
    """After a responsibility group meeting: short minutes, each point optionally about a
    goal or a measure. The patient reads them; relatives with the scope do too."""
    appointment = policy.get_appointment_or_404(appointment_id, "manage_appointments")
    form = MinutesForm()
    form.set_links(meetings.link_choices(appointment.patient))
    if form.validate_on_submit():
        try:
            meetings.save_minutes(appointment, [(r.form.text.data or "", r.form.link.data or "")
                                                for r in form.rows], current_user,
                                  whole_number(form.based_on.data, 0))
        except DomainError as exc:
            if not form.attach(exc.field or "", str(exc.message)):
                flash(str(exc.message), "error")
        else:
            flash(_("Saved. The patient can read the minutes in the app."), "success")
            return redirect(url_for("staff_appointments.show", appointment_id=appointment_id)
                            + "#minutes")
    return _page(appointment, minutes_form=form)


@bp.route("/appointments/<int:appointment_id>/edit", methods=["GET", "POST"])
def edit(appointment_id: int) -> str | WerkzeugResponse:
    """Change or move an appointment; a new time re-plans its reminders."""
    appointment = policy.get_appointment_or_404(appointment_id, "manage_appointments")
    form = AppointmentForm()
    if request.method == "GET":
        _fill(form, appointment)
    if form.validate_on_submit():
        try:
            appointments.update(appointment, _input(form, appointment.clinic.timezone))
        except DomainError as exc:
            if not attach_error(form, exc):  # under the field it is about, else the date
                form.day.errors = [str(exc.message)]
        else:
            flash(_("The appointment is changed."), "success")
            return redirect(url_for("staff_appointments.show", appointment_id=appointment.id))
    return render_template("staff/appointment_form.html", form=form, patient=appointment.patient,
                           appointment=appointment)


@bp.post("/appointments/<int:appointment_id>/cancel")
def cancel(appointment_id: int) -> WerkzeugResponse:
    appointment = policy.get_appointment_or_404(appointment_id, "manage_appointments")
    if ConfirmForm().validate_on_submit():
        appointments.cancel(appointment)
        flash(_("The appointment is cancelled. Reminders not yet sent are stopped."), "success")
    return redirect(url_for("staff_appointments.show", appointment_id=appointment_id))


@bp.post("/appointments/<int:appointment_id>/attendance")
def attendance(appointment_id: int) -> WerkzeugResponse:
    """Mark attended or missed. Missed creates outreach work, never a sanction."""
    appointment = policy.get_appointment_or_404(appointment_id, "manage_appointments")
    form = AttendanceForm()
    if form.validate_on_submit():
        try:
            appointments.mark_attendance(appointment, Attendance(form.attendance.data),
                                         current_user)
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Marked as missed. An outreach task is on the worklist.")
                  if form.attendance.data == "missed" else _("Marked as attended."), "success")
    if form.back.data in ("today-mine", "today-all"):
        return redirect(url_for("staff.home", who=form.back.data.removeprefix("today-"))
                        + f"#appointment-{appointment_id}")
    return redirect(url_for("staff_appointments.show", appointment_id=appointment_id))


@bp.route("/appointments/import", methods=["GET", "POST"])
def import_csv() -> str | WerkzeugResponse:
    """Import appointments from a CSV file; all lines or none."""
    form = ImportForm()
    errors: list[csv_import.RowError] = []
    if form.validate_on_submit():
        try:
            count = csv_import.import_csv(form.file.data.read(),
                                          policy.staff_clinic_ids(current_user), current_user)
        except csv_import.ImportRejected as exc:
            errors = exc.errors
        else:
            flash(_("%(n)d appointments were imported.", n=count), "success")
            return redirect(url_for("staff.home"))
    return render_template("staff/import.html", form=form, errors=errors)


#: The example file on the import page: the columns, and two lines that import as they are
#: (patient numbers 1 and 2 of the demo; a real clinic puts its own).
EXAMPLE_CSV = (
    "patient,date,time,duration,service,service_name,meeting,place_name,address,meet_role,"
    "meet_name,prepare,cancel_by\r\n"
    "1,2027-02-03,10:00,30,gp,Legekontoret på Torget,in_person,Legekontoret,"
    "\"Torget 1, 0150 Oslo\",fastlege,Dr. Berg,Ta med bankkortet ditt,2027-02-02 12:00\r\n"
    "2,2027-02-04,13:30,45,municipality,NAV Sentrum,phone,,,veileder,Nina,,\r\n"
)


@bp.get("/appointments/import/example.csv")
def import_example() -> Response:
    """An example CSV file with every column, to fill in and upload."""
    response = Response(EXAMPLE_CSV.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="folge-appointments.csv"'
    return response
