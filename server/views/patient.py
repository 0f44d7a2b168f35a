"""The patient's own pages."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from server import policy
from server.messages import conversations
from server.services import access_log, appointments, for_you
from server.services.local_time import oslo_today
from server.services.phone_numbers import display_mobile

bp = Blueprint("patient", __name__, url_prefix="/me")


@bp.get("/")
def home() -> str:
    """Home: the sections a patient uses, each ready for its own feature."""
    patient = policy.current_patient()
    upcoming = [a for a in appointments.upcoming_for(patient) if not a.is_cancelled]
    return render_template("patient/home.html", patient=patient,
                           next_appointment=upcoming[0] if upcoming else None,
                           for_you=for_you.items_for(patient),
                           unread_messages=conversations.unread_for_patient(patient))


@bp.get("/settings")
def me() -> str:
    """Me: the number I sign in with, reminders, signing in with fingerprint or face, where
    I am signed in, and who has seen my information."""
    patient = policy.current_patient()
    return render_template("patient/me.html", patient=patient,
                           display_mobile=display_mobile)


@bp.get("/who-has-seen")
def access_log_page() -> str:
    """Who has opened my information, a month at a time, newest first, in plain words;
    reads of the same thing by the same person on the same day as one line."""
    patient = policy.current_patient()
    months = access_log.months_with_entries(patient)
    month = _month(request.args.get("month", ""), months)
    index = months.index(month) if month in months else -1
    return render_template(
        "patient/access_log.html", patient=patient, month=month,
        groups=access_log.grouped_for(patient, month),
        newer=months[index - 1] if index > 0 else None,
        older=months[index + 1] if 0 <= index < len(months) - 1 else None)


def _month(text: str, months: list[date]) -> date:
    """The month asked for (2026-12), else the newest with entries, else this one."""
    try:
        year, number = (int(part) for part in text.split("-"))
        return date(year, number, 1) if 2000 <= year <= 2999 and 1 <= number <= 12 else \
            _month("", months)
    except ValueError:
        today = oslo_today()
        return months[0] if months else date(today.year, today.month, 1)
