"""The patient's own pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from server import policy
from server.services import access_log

bp = Blueprint("patient", __name__, url_prefix="/me")


@bp.get("/")
def home() -> str:
    """Home: the sections a patient uses, each ready for its own feature."""
    return render_template("patient/home.html", patient=policy.current_patient())


@bp.get("/who-has-seen")
def access_log_page() -> str:
    """Who has opened my information: every entry, newest first, in plain words."""
    patient = policy.current_patient()
    return render_template(
        "patient/access_log.html", patient=patient, entries=access_log.entries_for(patient)
    )
