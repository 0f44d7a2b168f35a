"""The patient's own pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from server import policy
from server.messages import conversations
from server.services import access_log, appointments, feedback

bp = Blueprint("patient", __name__, url_prefix="/me")


@bp.get("/")
def home() -> str:
    """Home: the sections a patient uses, each ready for its own feature."""
    patient = policy.current_patient()
    upcoming = [a for a in appointments.upcoming_for(patient) if not a.is_cancelled]
    return render_template("patient/home.html", patient=patient,
                           next_appointment=upcoming[0] if upcoming else None,
                           feedback_invitation=feedback.open_invitation(patient),
                           unread_messages=conversations.unread_for_patient(patient))


@bp.get("/who-has-seen")
def access_log_page() -> str:
    """Who has opened my information: every entry, newest first, in plain words."""
    patient = policy.current_patient()
    return render_template(
        "patient/access_log.html", patient=patient, entries=access_log.entries_for(patient)
    )
