"""The patient's reminder settings and web push on this phone."""

from __future__ import annotations

from datetime import time

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import labels, policy
from server.forms.appointments import WAY_LABELS, WAYS, ReminderSettingsForm
from server.forms.common import ConfirmForm, options
from server.services import push, reminder_settings
from server.services.devices import device_label
from server.services.errors import DomainError
from server.services.phone_numbers import display_mobile

bp = Blueprint("reminders", __name__, url_prefix="/me")


def _hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def _parse(value: str | None) -> time | None:
    if not value:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@bp.route("/reminders", methods=["GET", "POST"])
def settings() -> str | WerkzeugResponse:
    """Channels in order of preference, lead times and quiet hours."""
    patient = policy.current_patient()
    offered = [c for c in ("push", "sms", "letter") if c in (patient.clinic.offered_channels or [])]
    form = ReminderSettingsForm()
    # As list choices, each starts with a capital, like the answers above them.
    choices = options([("", _("Nothing")), *((c, _first_up(str(labels.CHANNELS[c])))
                                            for c in offered)])
    for field in (form.first, form.second, form.third):
        field.choices = choices
    ways = [w for w, channels in WAYS.items() if all(c in offered for c in channels)]
    form.way.choices = options([(w, WAY_LABELS[w]) for w in [*ways, "custom"]])
    if request.method == "GET":
        saved = reminder_settings.current(patient)
        chosen = (patient.contact_channels + ["", "", ""])[:3]
        form.first.data, form.second.data, form.third.data = chosen
        form.way.data = next((w for w in ways if list(WAYS[w]) == patient.contact_channels),
                             "custom")
        form.evening_before.data = _hhmm(saved.evening_before_at)
        form.hours_before.data = str(saved.hours_before or "")
        form.quiet_from.data = _hhmm(saved.quiet_from)
        form.quiet_until.data = _hhmm(saved.quiet_until)
    if form.validate_on_submit():
        ranked = [form.first.data or "", form.second.data or "", form.third.data or ""]
        choices = reminder_settings.Choices(
            channels=list(WAYS[form.way.data]) if form.way.data in WAYS else ranked,
            evening_before_at=_parse(form.evening_before.data),
            hours_before=int(form.hours_before.data) if form.hours_before.data else None,
            quiet_from=_parse(form.quiet_from.data) or time(22, 0),
            quiet_until=_parse(form.quiet_until.data) or time(8, 0),
        )
        try:
            reminder_settings.save(patient, choices)
        except DomainError as exc:
            (form.way if form.way.data in WAYS else form.first).errors = [str(exc.message)]
        else:
            flash(_("Your reminder settings are saved."), "success")
            return redirect(url_for("reminders.settings"))
    return render_template("reminders/settings.html", form=form, patient=patient,
                           phones=len(push.subscriptions_of(current_user)),
                           sms_number=display_mobile(current_user.phone or ""))


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


@bp.get("/push")
def push_page() -> str:
    """Turn notifications on or off for this phone, and send a test."""
    patient = policy.current_patient()
    return render_template(
        "reminders/push.html", patient=patient, form=ConfirmForm(),
        vapid_public_key=current_app.config["FOLGE"].vapid_public_key,
        phones=len(push.subscriptions_of(current_user)),
    )


@bp.post("/push/subscription")
def push_subscribe() -> Response | tuple[Response, int]:
    """Store this phone's push subscription (JSON from the page's script)."""
    policy.current_patient()
    try:
        push.subscribe(current_user, request.get_json(silent=True),
                       label=device_label(request.user_agent.string))
    except push.EndpointTaken as exc:
        # This browser's endpoint is another account's (a shared phone): the page drops it
        # and subscribes again, which gives this account an endpoint of its own.
        return jsonify(error=str(exc.message), resubscribe=True), 409
    except DomainError as exc:
        return jsonify(error=str(exc.message)), 400
    return jsonify(ok=True, message=_("Notifications are on for this phone."))


@bp.post("/push/subscription/delete")
def push_unsubscribe() -> Response:
    """Forget this phone's push subscription."""
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if isinstance(endpoint, str):
        push.unsubscribe(current_user, endpoint)
    return jsonify(ok=True, message=_("Notifications are off for this phone."))


@bp.post("/push/test")
def push_test() -> WerkzeugResponse:
    """Queue a test notification; the worker sends it within seconds."""
    patient = policy.current_patient()
    if ConfirmForm().validate_on_submit():
        try:
            push.send_test(patient)
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("A test notification is on its way. It should arrive within a minute."),
                  "success")
    return redirect(url_for("reminders.push_page"))
