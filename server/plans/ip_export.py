"""The goals as an export for the municipality's individual plan (IP): a PDF to file, and a
FHIR R4 Bundle (Patient, CarePlan, Goal) for an IP system that reads FHIR.

Følge is not the IP system of record: this is the clinic's part, handed over only while the
patient's consent to share with the IP coordinator holds (server/plans/goals.py,
``ip_consent``). The export holds the patient's accepted goals (not suggestions), their
status and its reason, the measures with who is responsible and by when, and the progress
notes. The JSON is built as plain dictionaries and checked in the tests by an independent
validator (FHIR.js, tests/fhir/); nothing here parses FHIR.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from server.care_team import team
from server.labels import CONSENT_METHODS, GOAL_STATUSES
from server.locales import babel_locale
from server.models import PatientProfile
from server.models.base import utcnow
from server.notify.letter import FONT, clinic_document, latin1, small_print, write_sections
from server.plans import goals
from server.plans.models import Goal, IpConsent, Measure

#: Our status -> FHIR Goal.lifecycleStatus and achievementStatus (goal-achievement codes).
LIFECYCLE = {"started": ("active", "in-progress"), "going_well": ("active", "improving"),
             "stuck": ("active", "no-progress"), "reached": ("completed", "achieved"),
             "dropped": ("cancelled", None)}
ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
#: Stable ids for the Bundle's entries: the same goal has the same fullUrl in every export.
_NAMESPACE = uuid.UUID("6f1d7b52-1d0e-4a4b-9a43-8b0a4f3e1c55")


class NoConsent(Exception):
    """The patient's consent to share with the IP coordinator does not hold."""


def consent_holding(patient: PatientProfile) -> IpConsent:
    """The consent that allows the export, or NoConsent."""
    consent = goals.ip_consent(patient)
    if consent is None or not consent.given:
        raise NoConsent
    return consent


def _urn(kind: str, row_id: int) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}:{row_id}')}"


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _member(measure: Measure) -> str:
    return team.member_view(measure.member, for_staff=True).label


def measure_activity(measure: Measure, goal_reference: str, scheduled: dict[str, Any]
                     ) -> dict[str, Any]:
    """A measure as a CarePlan activity: what, for which goal, when (``scheduled``: the
    scheduled[x] element) and the care-team member responsible (also server/fhir)."""
    return {"detail": {
        "status": "completed" if measure.done_at else "scheduled",
        "description": measure.text,
        "goal": [{"reference": goal_reference}],
        **scheduled,
        "performer": [{"display": _member(measure)}],
    }}


def goal_resource(goal: Goal, patient_ref: dict[str, str]) -> dict[str, Any]:
    lifecycle, achievement = LIFECYCLE[goal.status]
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "lifecycleStatus": lifecycle,
        "description": {"text": goal.text},
        "subject": patient_ref,
        "startDate": goal.created_at.date().isoformat(),
        "statusDate": goal.updated_at.date().isoformat(),
    }
    if achievement:
        resource["achievementStatus"] = {"coding": [{"system": ACHIEVEMENT_SYSTEM,
                                                     "code": achievement}],
                                         "text": str(GOAL_STATUSES[goal.status])}
    if goal.status_reason:
        resource["statusReason"] = goal.status_reason
    if goal.notes:
        resource["note"] = [{"text": note.text, "time": _instant(note.created_at),
                             "authorString": note.author.display_name}
                            for note in sorted(goal.notes, key=lambda n: n.created_at)]
    return resource


def fhir_bundle(patient: PatientProfile, now: datetime | None = None) -> dict[str, Any]:
    """A Bundle of type collection: the Patient, one CarePlan and its Goals. Raises NoConsent."""
    consent = consent_holding(patient)
    now = now or utcnow()
    with force_locale(babel_locale(patient.user.language)):
        patient_url = _urn("patient", patient.id)
        patient_ref = {"reference": patient_url, "display": patient.display_name}
        person: dict[str, Any] = {"resourceType": "Patient",
                                  "name": [{"text": patient.display_name}]}
        if patient.date_of_birth:
            person["birthDate"] = patient.date_of_birth.isoformat()
        found = goals.of_patient(patient)
        activities = []
        for goal in found:
            for measure in goal.measures:
                activities.append(measure_activity(measure, _urn("goal", goal.id), {
                    "scheduledString": _("By %(date)s", date=format_date(measure.due_on, "long"))}))
        plan: dict[str, Any] = {
            "resourceType": "CarePlan",
            "status": "active",
            "intent": "plan",
            "title": _("Individual plan: the clinic's part"),
            "description": _("The patient's goals in their own words, and what is being done "
                             "for them. Shared with the individual plan coordinator with the "
                             "patient's consent of %(date)s (%(how)s).",
                             date=format_date(consent.recorded_at, "long"),
                             how=CONSENT_METHODS[consent.method]),
            "subject": patient_ref,
            "created": _instant(now),
            "author": {"display": patient.clinic.name},
            "goal": [{"reference": _urn("goal", goal.id)} for goal in found],
        }
        if activities:
            plan["activity"] = activities
        entries = [{"fullUrl": patient_url, "resource": person},
                   {"fullUrl": _urn("careplan", patient.id), "resource": plan},
                   *({"fullUrl": _urn("goal", goal.id), "resource": goal_resource(goal, patient_ref)}
                     for goal in found)]
    return {"resourceType": "Bundle", "type": "collection", "timestamp": _instant(now),
            "entry": entries}


def pdf(patient: PatientProfile, now: datetime | None = None) -> bytes:
    """The same content as a document to print or file. Raises NoConsent."""
    consent = consent_holding(patient)
    now = now or utcnow()
    with force_locale(babel_locale(patient.user.language)):
        title = _("Individual plan: the clinic's part")
        intro = [patient.display_name + (
            f", {_('born')} {format_date(patient.date_of_birth, 'long')}"
            if patient.date_of_birth else ""),
            _("Shared with the individual plan coordinator with the patient's consent of "
              "%(date)s (%(how)s, recorded by %(who)s).",
              date=format_date(consent.recorded_at, "long"), how=CONSENT_METHODS[consent.method],
              who=consent.recorded_by.display_name)]
        sections: list[tuple[str, list[str]]] = []
        found = goals.of_patient(patient)
        for n, goal in enumerate(found, start=1):
            lines = [_("Status: %(status)s", status=GOAL_STATUSES[goal.status])
                     + (f" - {goal.status_reason}" if goal.status_reason else "")]
            for measure in goal.measures:
                done = _(" (done)") if measure.done_at else ""
                lines.append(_("Measure: %(what)s. Responsible: %(who)s. By %(date)s.",
                               what=measure.text, who=_member(measure),
                               date=format_date(measure.due_on, "long")) + done)
            for note in sorted(goal.notes, key=lambda x: x.created_at):
                lines.append(f"{format_date(note.created_at, 'short')}, "
                             f"{note.author.display_name}: {note.text}")
            sections.append((f"{n}. {goal.text}", lines))
        if not sections:
            sections.append((_("No goals yet"), ["-"]))
        footer = _("Made by Følge on %(date)s. The municipality's individual plan is the plan of "
                   "record; this is the clinic's part of it.", date=format_date(now, "long"))
    document = clinic_document(title, patient.clinic, now)
    document.set_font(FONT, size=11)
    for line in intro:
        document.multi_cell(0, 6, latin1(line), new_x="LMARGIN", new_y="NEXT")
    document.ln(3)
    write_sections(document, sections, size=10, line_height=5, gap=3)
    small_print(document, footer)
    return bytes(document.output())
