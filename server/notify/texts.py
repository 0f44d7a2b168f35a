"""Notification text: rendered at delivery time, per channel, in the patient's language.

Texts live in ``templates/notifications/<channel>/<template>.txt``. They are
discreet by design (DOMAIN.md): a day and a time, never the service, the
clinic's type, a drug or a treatment. Rendering at delivery time keeps words
like "tomorrow" true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import force_locale, format_date, format_time
from flask_babel import gettext as _

from server.locales import babel_locale
from server.models import OutboxMessage
from server.models.base import utcnow

OSLO = ZoneInfo("Europe/Oslo")


@dataclass(frozen=True)
class RenderedText:
    title: str
    body: str


def day_phrase(moment: datetime, now: datetime, tz: ZoneInfo = OSLO) -> str:
    """'today', 'tomorrow' or 'on Tuesday 3 March', from the local calendar day."""
    local_day = moment.astimezone(tz).date()
    today = now.astimezone(tz).date()
    delta = (local_day - today).days
    if delta == 0:
        return _("today")
    if delta == 1:
        return _("tomorrow")
    return _("on %(date)s", date=format_date(moment, "full"))


def _values(template: str, params: dict[str, Any], now: datetime) -> dict[str, Any]:
    values = dict(params)
    if "on_day" in params:
        values["on_day_text"] = format_date(date.fromisoformat(params["on_day"]), "long")
    if template == "team_sheet" and "patient_id" in params:
        # The team as it is when the letter is printed, not when the change was made.
        from server.care_team.letters import team_sheet_values

        values.update(team_sheet_values(int(params["patient_id"])))
    if template == "crisis_plan" and "patient_id" in params:
        # The newest plan as it stands when the letter is printed.
        from server.plans.crisis_pdf import letter_values

        values.update(letter_values(int(params["patient_id"])))
    if template == "agreed" and "appointment_id" in params:
        # What was agreed as it stands when the letter is printed.
        from server.plans.agenda import agreed_items

        values["items"] = agreed_items(int(params["appointment_id"]))
    if template == "message" and "message_id" in params:
        values.update(_message_values(int(params["message_id"])))
    if "starts_at" in params:
        starts = datetime.fromisoformat(params["starts_at"])
        values["starts"] = starts
        values["day"] = day_phrase(starts, now)
        values["date"] = format_date(starts, "full")
        values["time"] = format_time(starts, "HH:mm")
    return values


def _message_values(message_id: int) -> dict[str, Any]:
    """The team's words, for an SMS to a patient who talks to us by SMS, or a letter."""
    from server.extensions import db
    from server.messages.conversations import SMS_MAX_SEGMENTS, sms_segments
    from server.messages.models import ConversationMessage

    message = db.session.get(ConversationMessage, message_id)
    if message is None:
        return {"text": "", "sms_text": "", "text_fits": False, "phone": ""}
    from server.services.phone_numbers import display_phone

    phone = display_phone(message.conversation.patient.clinic.phone)
    sms_text = _("Følge, from your team: %(text)s", text=" ".join(message.body.split()))
    return {"text": message.body, "sms_text": sms_text, "phone": phone,
            "text_fits": sms_segments(sms_text) <= SMS_MAX_SEGMENTS}


def message_text_fits(message_id: int, language: str | None) -> bool:
    """Whether the team's words fit in the SMS to the patient (else it says "open Følge")."""
    with force_locale(babel_locale(language)):
        return bool(_message_values(message_id)["text_fits"])


def render(template: str, channel: str, params: dict[str, Any], language: str | None,
           now: datetime | None = None, keep_lines: bool = False) -> RenderedText:
    """Render one notification. Needs an app context, not a request. Letters (and
    ``keep_lines``) keep their lines; other channels get one line."""
    now = now or utcnow()
    with force_locale(babel_locale(language)):
        values = _values(template, params, now)
        body = render_template(f"notifications/{channel}/{template}.txt", **values).strip()
        title = "Følge"
    one_line = channel != "letter" and not keep_lines
    return RenderedText(title=title, body=" ".join(body.split()) if one_line else body)


def render_message(message: OutboxMessage, channel: str, now: datetime | None = None) -> RenderedText:
    """Render an outbox message for one of its channels, in its receiver's language."""
    return render(message.template, channel, message.params, message.receiver.language, now)
