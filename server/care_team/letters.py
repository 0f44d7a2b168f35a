"""The care team on paper and by SMS, in discreet words (no medication or treatment words:
the letter may be read by others, the SMS shows on a lock screen)."""

from __future__ import annotations

from typing import Any

from server.care_team import areas, team
from server.extensions import db
from server.models import PatientProfile
from server.services.phone_numbers import display_phone


def team_sheet_values(patient_id: int) -> dict[str, Any]:
    """Values for templates/notifications/letter/team_sheet.txt: one line per member, the
    coordinator first, each with what they are responsible for in paper words."""
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None:
        return {"members": [], "gaps": []}
    view = team.team_for(patient)
    members = [{
        "who": m.label, "organisation": str(m.organisation), "phone": display_phone(m.phone),
        "areas": ", ".join(str(areas.paper_label(a)) for a in m.areas),
        "hours": team.describe_hours(m.hours), "coordinator": m.is_coordinator,
    } for m in view.members]
    return {"members": members, "gaps": [str(areas.paper_label(a)) for a in view.gaps],
            "clinic_phone": display_phone(patient.clinic.phone)}


def team_reply_params(patient: PatientProfile) -> dict[str, str]:
    """For the SMS answer to "TEAM": the coordinator (or the clinic) and the number to call."""
    who, phone = team.coordinator_contact(patient)
    return {"who": who or "", "phone": display_phone(phone)}
