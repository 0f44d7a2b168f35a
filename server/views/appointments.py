"""The patient's appointments: one list across services, answers and calendar files."""

from __future__ import annotations

from urllib.parse import quote_plus

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from server import labels, policy
from server.care_team import team
from server.forms.appointments import CannotComeForm, NewTimeForm
from server.forms.common import ConfirmForm, attach_error
from server.models import Appointment, PatientAnswer
from server.models.base import utcnow
from server.plans import agenda, meetings
from server.plans.forms import WishesForm
from server.services import appointments
from server.services.calendar_export import appointment_ics
from server.services.errors import DomainError
from server.services.phone_numbers import display_phone

bp = Blueprint("appointments", __name__, url_prefix="/me/appointments")


def map_link(address: str) -> str:
    """A plain link to a map search for ``address``; no embedded third-party map."""
    return f"https://www.openstreetmap.org/search?query={quote_plus(address)}"


@bp.app_template_global()
def appointment_map_link(address: str) -> str:
    return map_link(address)


@bp.get("/")
def index() -> str:
    """Upcoming appointments from every service, soonest first."""
    patient = policy.current_patient()
    return render_template("appointments/index.html", patient=patient,
                           upcoming=appointments.upcoming_for(patient), form=ConfirmForm())


@bp.get("/past")
def past() -> str:
    patient = policy.current_patient()
    past = appointments.past_for(patient)
    return render_template("appointments/past.html", patient=patient, past=past,
                           talks=agenda.for_appointments([a.id for a in past]))


@bp.get("/<int:appointment_id>")
def show(appointment_id: int) -> str:
    appointment = policy.get_own_appointment_or_404(appointment_id)
    talk = agenda.for_appointment(appointment)
    meeting = {}
    if appointment.is_team_meeting:
        meeting = {"people": [team.member_view(m).label
                              for m in meetings.participants(appointment)],
                   "minutes": meetings.minutes(talk)}
    page = render_template("appointments/show.html", appointment=appointment, form=ConfirmForm(),
                           number=team.number_for_appointment(appointment), talk=talk,
                           may_ask=agenda.may_ask(appointment),
                           over=appointment.ends_at < utcnow(), **meeting)
    if talk is not None:
        agenda.mark_agreed_read(talk)  # after the page could show it as new
    return page


@bp.route("/<int:appointment_id>/before", methods=["GET", "POST"])
def before(appointment_id: int) -> str | WerkzeugResponse:
    """Before my appointment: what I want to talk about, and the three questions to ask."""
    appointment = policy.get_own_appointment_or_404(appointment_id)
    talk = agenda.for_appointment(appointment)
    form = WishesForm(data={"topics": talk.topics, "text": talk.text} if talk else None)
    if not agenda.may_ask(appointment):
        flash(_("This appointment has started or is not at the clinic."), "info")
        return redirect(url_for("appointments.show", appointment_id=appointment_id))
    if form.validate_on_submit():
        try:
            agenda.save_wishes(appointment, list(form.topics.data or []), form.text.data or "")
        except DomainError as exc:
            if not attach_error(form, exc):
                form.text.errors = [str(exc.message)]
        else:
            flash(_("Thank you. The clinic sees it before your appointment."), "success")
            return redirect(url_for("appointments.show", appointment_id=appointment_id))
    return render_template("appointments/before.html", appointment=appointment, form=form)


def call_back_text(appointment: Appointment) -> str:
    """Who will call, from which number, by when: the answer to "call me"."""
    promise = team.call_back(appointment.patient)
    return _("%(who)s will call you from %(phone)s, at the latest %(day)s.",
             who=promise.who or _("Your clinic"), phone=display_phone(promise.phone),
             day=format_date(promise.by, "full"))


def _answered(appointment: Appointment, choice: PatientAnswer, reason: str = "",
              call_me: bool = False, call_when: str = "") -> str | None:
    """Store the answer; returns an error message, or None when stored."""
    try:
        appointments.answer(appointment, choice, reason, call_me, call_when=call_when)
    except DomainError as exc:
        return str(exc.message)
    return None


@bp.post("/<int:appointment_id>/confirm")
def confirm(appointment_id: int) -> WerkzeugResponse:
    """'I'm coming'."""
    appointment = policy.get_own_appointment_or_404(appointment_id)
    if ConfirmForm().validate_on_submit():
        error = _answered(appointment, PatientAnswer.CONFIRMED)
        flash(error or _("Thank you. The clinic can see that you are coming."),
              "error" if error else "success")
    return redirect(url_for("appointments.show", appointment_id=appointment_id))


@bp.route("/<int:appointment_id>/cannot-come", methods=["GET", "POST"])
def cannot_come(appointment_id: int) -> str | WerkzeugResponse:
    """'I can't come', with an optional reason and 'call me'."""
    appointment = policy.get_own_appointment_or_404(appointment_id)
    form = CannotComeForm()
    if form.validate_on_submit():
        error = _answered(appointment, PatientAnswer.CANNOT_COME, form.reason.data or "",
                          bool(form.call_me.data),
                          (form.call_when.data or "") if form.call_me.data else "")
        if error is None:
            flash(_("Thank you for telling us.") + (" " + call_back_text(appointment)
                                                    if form.call_me.data else ""), "success")
            return redirect(url_for("appointments.show", appointment_id=appointment_id))
        form.reason.errors = [error]
    return render_template("appointments/cannot_come.html", appointment=appointment, form=form)


@bp.route("/<int:appointment_id>/new-time", methods=["GET", "POST"])
def new_time(appointment_id: int) -> str | WerkzeugResponse:
    """Ask for another time."""
    appointment = policy.get_own_appointment_or_404(appointment_id)
    form = NewTimeForm()
    if form.validate_on_submit():
        error = _answered(appointment, PatientAnswer.NEW_TIME, form.reason.data or "", True)
        if error is None:
            flash(_("Thank you. We will find a new time with you.") + " " +
                  call_back_text(appointment), "success")
            return redirect(url_for("appointments.show", appointment_id=appointment_id))
        form.reason.errors = [error]
    return render_template("appointments/new_time.html", appointment=appointment, form=form)


@bp.get("/<int:appointment_id>/calendar.ics")
def calendar(appointment_id: int) -> Response:
    """The appointment as a calendar file. The title says only "Appointment" unless
    the patient asked for details (``?details=1``)."""
    appointment = policy.get_own_appointment_or_404(appointment_id)
    detailed = request.args.get("details") == "1"
    title = _("Appointment")
    description = ""
    if detailed:
        title = _("Appointment: %(service)s", service=appointment.service_name or
                  labels.SERVICES[appointment.service.value])
        description = appointment.prepare
    body = appointment_ics(appointment, str(title), detailed, description)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="appointment-{appointment.id}.ics"'
    return response
