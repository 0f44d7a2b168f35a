"""Følge's data as FHIR R4 resources (plain dicts; tests/fhir checks each with FHIR.js).

Identifiers and code systems are the Norwegian ones where they exist (no-basis: the national
identity number, the D-number and the HPR number as urn:oid systems) and HL7's for statuses
and reasons. What only Følge has (the kind of service, how one meets) uses Følge's own code
systems under ``FOLGE``. Texts come in the request's language (Norwegian Bokmål by default).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _

from server import labels
from server.fhir.models import SystemClient
from server.locales import babel_locale
from server.models import (
    AccessLogEntry,
    Appointment,
    AppointmentStatus,
    Attendance,
    FeedbackResponse,
    PatientAnswer,
    PatientProfile,
    RequestStatus,
    TakeHomeRequest,
)
from server.models.base import utcnow
from server.services.instruments import Instrument

#: no-basis identifier systems (Norwegian OIDs).
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
DNR = "urn:oid:2.16.578.1.12.4.1.4.2"
HPR = "urn:oid:2.16.578.1.12.4.1.4.4"
#: Følge's own canonical base, for its code systems and questionnaires.
FOLGE = "https://fhir.folge.no"
SERVICE_KIND = f"{FOLGE}/CodeSystem/service-kind"
MEETING_KIND = f"{FOLGE}/CodeSystem/meeting-kind"
#: HL7's reasons an appointment is cancelled (R4 Appointment.cancelationReason).
CANCEL_REASON = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
CANCEL_CODES = frozenset({
    "pat", "pat-crs", "pat-cpp", "pat-dec", "pat-fb", "pat-lt", "pat-mt", "pat-mv", "pat-preg",
    "pat-swl", "pat-ucp", "prov", "prov-dch", "prov-dec", "prov-dis", "prov-infec", "prov-mv",
    "prov-pers", "prov-adm", "maint", "meds-inc", "other", "oth-cms", "oth-err", "oth-fin",
    "oth-im", "oth-int", "oth-mu", "oth-room", "oth-oerr", "oth-swie", "oth-weath",
})
AUDIT_TYPE = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_PATIENT = "http://hl7.no/fhir/StructureDefinition/auditevent-patient-extension"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def instant(moment: datetime) -> str:
    """A FHIR instant (UTC, with the zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def base_url() -> str:
    """This FHIR server's base, for fullUrl and links (the configured audience if set)."""
    configured: str = current_app.config["FOLGE"].fhir_audience
    return configured.rstrip("/") if configured else request.url_root.rstrip("/") + "/fhir"


def patient_ref(patient: PatientProfile) -> dict[str, str]:
    return {"reference": f"Patient/{patient.id}", "display": patient.display_name}


def national_system(number: str) -> str:
    """FNR or D-number: a D-number's first digit is 4 to 7 (4 is added to the day)."""
    return DNR if number[:1] in "4567" else FNR


def patient(row: PatientProfile, identifier: tuple[str, str] | None = None) -> dict[str, Any]:
    """The patient as the clinic knows them. Følge keeps the national identity number only as
    a keyed hash, so the identifier is in the answer only when the caller searched by it."""
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": str(row.id),
        "active": row.user.disabled_at is None,
        "name": [{"text": row.display_name}],
        "managingOrganization": {"display": row.clinic.name},
    }
    if identifier is not None:
        resource["identifier"] = [{"use": "official", "system": identifier[0],
                                   "value": identifier[1]}]
    if row.date_of_birth:
        resource["birthDate"] = row.date_of_birth.isoformat()
    return resource


_ANSWER_STATUS = {PatientAnswer.NONE: "needs-action", PatientAnswer.CONFIRMED: "accepted",
                  PatientAnswer.CANNOT_COME: "declined", PatientAnswer.NEW_TIME: "tentative"}


def appointment_status(row: Appointment) -> str:
    if row.status is AppointmentStatus.CANCELLED:
        return "cancelled"
    if row.attendance is Attendance.ATTENDED:
        return "fulfilled"
    if row.attendance is Attendance.MISSED:
        return "noshow"
    return "booked"


def _participant_status(row: Appointment) -> str:
    if row.call_me and row.answer is PatientAnswer.NONE:
        return "tentative"
    return _ANSWER_STATUS[row.answer]


def meta(version: int, updated: datetime) -> dict[str, str]:
    return {"versionId": str(version), "lastUpdated": instant(updated)}


def appointment(row: Appointment) -> dict[str, Any]:
    """One appointment: when, with which service, where, whom the patient meets, and the
    patient's answer as the patient participant's status."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment", "id": str(row.id),
        "meta": meta(row.version, row.updated_at or row.created_at),
        "status": appointment_status(row),
        "serviceCategory": [{"coding": [{"system": SERVICE_KIND, "code": row.service.value,
                                         "display": str(labels.STAFF_SERVICES[row.service.value])}]}],
        "serviceType": [{"text": row.service_name}],
        "appointmentType": {"coding": [{"system": MEETING_KIND, "code": row.meeting.value,
                                        "display": str(labels.MEETINGS[row.meeting.value])}]},
        "start": instant(row.starts_at),
        "end": instant(row.ends_at),
        "minutesDuration": row.duration_minutes,
        "created": instant(row.created_at),
    }
    if row.external_system and row.external_id:
        resource["identifier"] = [{"system": row.external_system, "value": row.external_id}]
    if row.is_cancelled and row.cancel_reason:
        resource["cancelationReason"] = {"coding": [{"system": CANCEL_REASON,
                                                     "code": row.cancel_reason}]}
    if row.prepare:
        resource["patientInstruction"] = row.prepare
    participants: list[dict[str, Any]] = [
        {"actor": patient_ref(row.patient), "required": "required",
         "status": _participant_status(row)},
        {"actor": {"type": "HealthcareService", "display": row.service_name},
         "status": "accepted"},
    ]
    if row.meet_role or row.meet_name:
        person: dict[str, Any] = {"status": "accepted"}
        if row.meet_role:
            person["type"] = [{"text": row.meet_role}]
        if row.meet_name:
            person["actor"] = {"type": "Practitioner", "display": row.meet_name}
        participants.append(person)
    place = ", ".join(p for p in (row.place_name, row.address) if p)
    if place:
        participants.append({"actor": {"type": "Location", "display": place},
                             "status": "accepted"})
    resource["participant"] = participants
    return resource


def appointment_response(row: Appointment) -> dict[str, Any]:
    """The patient's latest answer to an appointment (the id is the appointment's): coming,
    cannot come, or "call me" (tentative, with what the patient wrote)."""
    status = _participant_status(row)
    resource: dict[str, Any] = {
        "resourceType": "AppointmentResponse", "id": str(row.id),
        "appointment": {"reference": f"Appointment/{row.id}"},
        "actor": patient_ref(row.patient),
        "participantStatus": status,
    }
    comment = []
    if row.call_me:
        comment.append(_("The patient asks to be called") if status == "tentative" else
                       _("The patient also asks to be called"))
    if row.answer_reason:
        comment.append(row.answer_reason)
    if comment:
        resource["comment"] = ". ".join(comment)
    return resource


_TASK_STATUS = {
    RequestStatus.SUBMITTED: "requested", RequestStatus.UNDER_REVIEW: "received",
    RequestStatus.APPROVED: "accepted", RequestStatus.PARTLY_APPROVED: "accepted",
    RequestStatus.DECLINED: "rejected", RequestStatus.WITHDRAWN: "cancelled",
}


def _granted_over(row: TakeHomeRequest, today: date) -> bool:
    last = row.approved_last_day or row.last_day
    return row.status in (RequestStatus.APPROVED, RequestStatus.PARTLY_APPROVED) and \
        last is not None and last < today


def _period(first: date | None, last: date | None) -> dict[str, str] | None:
    if first is None and last is None:
        return None
    period = {}
    if first:
        period["start"] = first.isoformat()
    if last:
        period["end"] = last.isoformat()
    return period


def task(row: TakeHomeRequest) -> dict[str, Any]:
    """A take-home request as a Task the clinic works on; the decision's reason is the
    statusReason. Completed once an approved period is over."""
    today = utcnow().date()
    status = "completed" if _granted_over(row, today) else _TASK_STATUS[row.status]
    resource: dict[str, Any] = {
        "resourceType": "Task", "id": str(row.id),
        "status": status,
        "businessStatus": {"text": str(labels.REQUEST_STATUSES[row.status.value])},
        "intent": "proposal",
        "focus": {"reference": f"MedicationRequest/{row.id}"},
        "for": patient_ref(row.patient),
        "requester": patient_ref(row.patient),
        "owner": {"display": row.clinic.name},
        "authoredOn": instant(row.created_at),
        "lastModified": instant(row.decided_at or row.review_started_at or row.created_at),
    }
    if row.decision_reason:
        resource["statusReason"] = {"text": row.decision_reason}
    period = _period(row.first_day, row.last_day)
    if period:
        resource["restriction"] = {"period": period}
    return resource


def medication_request(row: TakeHomeRequest) -> dict[str, Any]:
    """What the request asks for, as a proposal. Følge does not know the medication (the
    patient never names it), so the medication is marked as not supported here."""
    today = utcnow().date()
    if row.status in (RequestStatus.DECLINED, RequestStatus.WITHDRAWN):
        status = "cancelled"
    elif _granted_over(row, today):
        status = "completed"
    elif row.status in (RequestStatus.APPROVED, RequestStatus.PARTLY_APPROVED):
        status = "active"
    else:
        status = "draft"
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": str(row.id),
        "status": status, "intent": "proposal",
        "medicationCodeableConcept": {"extension": [{"url": DATA_ABSENT,
                                                     "valueCode": "unsupported"}]},
        "subject": patient_ref(row.patient),
        "authoredOn": instant(row.created_at),
    }
    if row.reason is not None:
        resource["reasonCode"] = [{"text": str(labels.PERIOD_REASONS[row.reason.value])}]
    granted = _period(row.approved_first_day, row.approved_last_day)
    if granted and status in ("active", "completed"):
        resource["dispenseRequest"] = {"validityPeriod": granted}
    return resource


def questionnaire_id(instrument_key: str, version: int) -> str:
    return f"{instrument_key.replace('_', '-')}-v{version}"


def questionnaire_url(instrument_key: str) -> str:
    return f"{FOLGE}/Questionnaire/{instrument_key.replace('_', '-')}"


def questionnaire(instrument: Instrument, language: str) -> dict[str, Any]:
    """A feedback instrument: one 0-10 item per question and a free comment."""
    items = [{"linkId": item.key, "text": instrument.text(item.text, language),
              "type": "integer", "required": True} for item in instrument.items]
    with force_locale(babel_locale(language)):
        comment = _("Comment (optional)")
    items.append({"linkId": "comment", "text": comment, "type": "text"})
    return {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument.key, instrument.version),
        "url": questionnaire_url(instrument.key),
        "version": str(instrument.version),
        "name": instrument.key.replace("_", " ").title().replace(" ", ""),
        "title": instrument.text(instrument.title, language),
        "status": "active",
        "description": instrument.text(instrument.intro, language),
        "item": items,
    }


def questionnaire_response(row: FeedbackResponse, instrument: Instrument | None,
                           language: str) -> dict[str, Any]:
    """One named check-in: the score of each question and the comment. (Anonymous answers
    have no patient and are never in the interface.)"""
    texts = {item.key: instrument.text(item.text, language) for item in instrument.items} \
        if instrument else {}
    items: list[dict[str, Any]] = [
        {"linkId": key, **({"text": texts[key]} if key in texts else {}),
         "answer": [{"valueInteger": int(score)}]}
        for key, score in row.scores.items()]
    if row.comment:
        items.append({"linkId": "comment", "answer": [{"valueString": row.comment}]})
    return {
        "resourceType": "QuestionnaireResponse", "id": str(row.id),
        "questionnaire": f"{questionnaire_url(row.instrument_key)}|{row.instrument_version}",
        "status": "completed",
        "subject": patient_ref(row.patient),
        "authored": instant(row.created_at),
        "source": patient_ref(row.patient),
        "item": items,
    }


def care_team(row: PatientProfile, members: list[Any]) -> dict[str, Any]:
    """Who is responsible for what (server/care_team): each member with their role and,
    for the clinic's staff, their HPR number when HelseID gave it."""
    from server.care_team import team

    participants = []
    for member in members:
        view = team.member_view(member, for_staff=True)
        who: dict[str, Any] = {"display": view.label}
        staff = member.staff_user
        if staff is not None and staff.hpr_number:
            who["identifier"] = {"system": HPR, "value": staff.hpr_number}
            who["type"] = "Practitioner"
        entry: dict[str, Any] = {"member": who, "period": {"start": instant(member.added_at)}}
        role = view.role or str(view.organisation)
        if role:
            entry["role"] = [{"text": role}]
        participants.append(entry)
    resource: dict[str, Any] = {
        "resourceType": "CareTeam", "id": str(row.id), "status": "active",
        "name": _care_team_name(),
        "subject": patient_ref(row),
        "managingOrganization": [{"display": row.clinic.name}],
    }
    if participants:
        resource["participant"] = participants
    return resource


def _care_team_name() -> str:
    return _("The patient's care team")


def care_plan(row: PatientProfile, goals: list[Any]) -> dict[str, Any]:
    """The patient's goals as one plan, each measure an activity with who is responsible."""
    from server.plans.ip_export import measure_activity

    activities = [measure_activity(measure, f"Goal/{goal.id}",
                                   {"scheduledPeriod": {"end": measure.due_on.isoformat()}})
                  for goal in goals for measure in goal.measures]
    resource: dict[str, Any] = {
        "resourceType": "CarePlan", "id": str(row.id), "status": "active", "intent": "plan",
        "subject": patient_ref(row),
        "author": {"display": row.clinic.name},
        "goal": [{"reference": f"Goal/{goal.id}"} for goal in goals],
    }
    if activities:
        resource["activity"] = activities
    return resource


def goal(row: Any) -> dict[str, Any]:
    """One goal in the patient's words (server/plans/ip_export.py builds it the same way)."""
    from server.plans.ip_export import goal_resource

    resource = goal_resource(row, patient_ref(row.patient))
    resource["id"] = str(row.id)
    resource["meta"] = meta(row.version, row.updated_at)
    return resource


def audit_event(entry: AccessLogEntry, patient_row: PatientProfile,
                systems: dict[int, SystemClient]) -> dict[str, Any]:
    """One read of the patient's information, after the HL7 Norway AuditEvent guide: a
    patient-record event (DICOM 110110), action R, the patient in the patient extension,
    the reader as the requesting agent (their HPR number when known)."""
    role = str(labels.STAFF_ROLES.get(entry.viewer_role, entry.viewer_role))
    who: dict[str, Any] = {"display": entry.viewer.display_name}
    if entry.viewer.hpr_number:
        who["identifier"] = {"system": HPR, "value": entry.viewer.hpr_number}
    elif entry.viewer_user_id in systems:
        who["type"] = "Device"
        who["identifier"] = {"system": f"{FOLGE}/system-client",
                             "value": systems[entry.viewer_user_id].client_id}
    agent: dict[str, Any] = {"who": who, "requestor": True, "role": [{"text": role}]}
    if entry.clinic is not None:
        agent["location"] = {"display": entry.clinic.name}
    return {
        "resourceType": "AuditEvent", "id": str(entry.id),
        "extension": [{"url": AUDIT_PATIENT, "valueReference": patient_ref(patient_row)}],
        "type": {"system": AUDIT_TYPE, "code": "110110", "display": "Patient Record"},
        "action": "R",
        "recorded": instant(entry.at),
        "purposeOfEvent": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}]}],
        "agent": [agent],
        "source": {"observer": {"display": "Følge"}},
        "entity": [{"what": patient_ref(patient_row),
                    "description": str(labels.ACCESS_TARGETS[entry.target])}],
    }


def bundle(resources: list[dict[str, Any]], total: int, links: dict[str, str]) -> dict[str, Any]:
    """A search result."""
    base = base_url()
    return {
        "resourceType": "Bundle", "type": "searchset", "total": total,
        "timestamp": instant(utcnow()),
        "link": [{"relation": relation, "url": url} for relation, url in links.items()],
        "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                   "search": {"mode": "match"}} for r in resources],
    }


def operation_outcome(code: str, diagnostics: str, expression: list[str] | None = None,
                      severity: str = "error") -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}
