"""An Appointment from the record system, read with fhirclient's R4 models (never by hand),
then turned into what the staff form gives the appointment service.

Problems with the resource itself are 400 with the element's path; problems with what it
asks for (a time in the past, an unknown patient, a status Følge does not take) are 422.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fhirclient.models.appointment import Appointment as FhirAppointment
from fhirclient.models.fhirabstractbase import FHIRValidationError

from server.fhir import resources
from server.fhir.tokens import FhirProblem
from server.models import MeetingKind, ServiceKind
from server.services.appointments import AppointmentInput

#: Statuses the record system may send, and what each means in Følge.
SCHEDULED = frozenset({"proposed", "pending", "booked"})
TAKEN = SCHEDULED | {"cancelled", "fulfilled", "noshow"}
LONGEST_TEXT = {"service_name": 200, "place_name": 200, "meet_role": 100, "meet_name": 200,
                "prepare": 2000}


@dataclass(frozen=True)
class Incoming:
    """One Appointment as Følge takes it."""

    patient_id: int
    status: str
    data: AppointmentInput
    identifier: tuple[str, str] | None
    cancel_reason: str
    #: The id in the resource, if any (PUT must match the URL).
    resource_id: str | None


def _bad(diagnostics: str, path: str) -> FhirProblem:
    return FhirProblem(400, "structure", diagnostics, [path])


def _rule(diagnostics: str, path: str) -> FhirProblem:
    return FhirProblem(422, "business-rule", diagnostics, [path])


def _paths(error: FHIRValidationError, prefix: str = "Appointment") -> list[str]:
    """The element paths fhirclient reports, e.g. Appointment.start."""
    found: list[str] = []
    for inner in error.errors:
        step = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", str(error.path or ""))
        path = f"{prefix}.{step}" if step else prefix
        if isinstance(inner, FHIRValidationError):
            found.extend(_paths(inner, path))
        else:
            found.append(path)
    return found or [prefix]


def _codes(concepts: list[Any] | None, system: str) -> list[str]:
    return [c.code for concept in concepts or [] for c in concept.coding or []
            if c.system == system and c.code]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _when(value: Any, path: str) -> datetime:
    moment = value.datetime if value is not None else None
    if not isinstance(moment, datetime):
        raise _bad("A start and an end with a date, a time and a time zone are needed.", path)
    if moment.tzinfo is None:
        raise _bad("The time needs a time zone (for example +01:00 or Z).", path)
    return moment.astimezone(UTC)


def appointment(document: Any) -> Incoming:
    """Read ``document`` (parsed JSON) as an R4 Appointment; raise FhirProblem if it is not one
    Følge can take."""
    if not isinstance(document, dict):
        raise _bad("The body must be a FHIR Appointment in JSON.", "Appointment")
    if document.get("resourceType") != "Appointment":
        raise _bad("The body must be an Appointment (resourceType).", "Appointment.resourceType")
    try:
        parsed = FhirAppointment(document, strict=True)
    except FHIRValidationError as exc:
        paths = _paths(exc)
        raise FhirProblem(400, "structure", f"Not a valid R4 Appointment: {exc}"[:1000],
                          paths) from None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise _bad(f"Not a valid R4 Appointment: {exc}"[:1000], "Appointment") from None
    status = parsed.status or ""
    if status not in TAKEN:
        raise _rule("Følge takes the statuses proposed, pending, booked, cancelled, fulfilled "
                    "and noshow.", "Appointment.status")
    starts = _when(parsed.start, "Appointment.start")
    if parsed.end is not None:
        minutes = int((_when(parsed.end, "Appointment.end") - starts).total_seconds() // 60)
    elif parsed.minutesDuration:
        minutes = int(parsed.minutesDuration)
    else:
        raise _bad("An end (or minutesDuration) is needed.", "Appointment.end")
    patient_id: int | None = None
    service_name = place = meet_role = meet_name = ""
    for index, participant in enumerate(parsed.participant or []):
        actor = participant.actor
        reference = _text(actor.reference) if actor is not None else ""
        kind = _text(actor.type) if actor is not None else ""
        display = _text(actor.display) if actor is not None else ""
        if reference.startswith("Patient/") or kind == "Patient":
            if patient_id is not None:
                raise _rule("One patient per appointment.",
                            f"Appointment.participant[{index}]")
            number = reference.removeprefix("Patient/")
            if not number.isascii() or not number.isdigit() or len(number) > 12:
                raise _rule("The patient must be a reference to a Patient of Følge "
                            "(Patient/<id>, found with GET /fhir/Patient?identifier=...).",
                            f"Appointment.participant[{index}].actor.reference")
            patient_id = int(number)
        elif reference.startswith("Location/") or kind == "Location":
            place = place or display
        elif reference.startswith("HealthcareService/") or kind == "HealthcareService":
            service_name = service_name or display
        else:
            meet_name = meet_name or display
            types = participant.type or []
            meet_role = meet_role or next((_text(t.text) for t in types if _text(t.text)), "")
    if patient_id is None:
        raise _rule("The appointment needs the patient as a participant (Patient/<id>).",
                    "Appointment.participant")
    kinds = _codes(parsed.serviceCategory, resources.SERVICE_KIND)
    try:
        service = ServiceKind(kinds[0]) if kinds else ServiceKind.CLINIC
    except ValueError:
        raise _rule(f"Unknown service kind {kinds[0]!r} in {resources.SERVICE_KIND}.",
                    "Appointment.serviceCategory") from None
    if not service_name:
        service_name = next((_text(t.text) for t in parsed.serviceType or [] if _text(t.text)),
                            "")
    meetings = _codes([parsed.appointmentType] if parsed.appointmentType else [],
                      resources.MEETING_KIND)
    try:
        meeting = MeetingKind(meetings[0]) if meetings else MeetingKind.IN_PERSON
    except ValueError:
        raise _rule(f"Unknown meeting kind {meetings[0]!r} in {resources.MEETING_KIND}.",
                    "Appointment.appointmentType") from None
    reasons = _codes([parsed.cancelationReason] if parsed.cancelationReason else [],
                     resources.CANCEL_REASON)
    if reasons and reasons[0] not in resources.CANCEL_CODES:
        raise _rule(f"Unknown cancellation reason {reasons[0]!r} in {resources.CANCEL_REASON}.",
                    "Appointment.cancelationReason")
    identifier = None
    for found in parsed.identifier or []:
        if _text(found.system) and _text(found.value):
            identifier = (_text(found.system)[:200], _text(found.value)[:200])
            break
    texts = {"service_name": service_name, "place_name": place, "meet_role": meet_role,
             "meet_name": meet_name, "prepare": _text(parsed.patientInstruction)}
    for name, longest in LONGEST_TEXT.items():
        if len(texts[name]) > longest:
            raise _rule(f"{name} is longer than {longest} characters.", "Appointment")
        if any(not ch.isprintable() and ch not in "\n\t" for ch in texts[name]):
            raise _bad("Text may not hold control characters.", "Appointment")
    data = AppointmentInput(
        starts_at=starts, duration_minutes=minutes, service=service,
        service_name=texts["service_name"], meeting=meeting,
        place_name=texts["place_name"], meet_role=texts["meet_role"],
        meet_name=texts["meet_name"], prepare=texts["prepare"])
    return Incoming(patient_id=patient_id, status=status, data=data, identifier=identifier,
                    cancel_reason=reasons[0] if reasons else "",
                    resource_id=_text(parsed.id) or None)
