"""The FHIR R4 endpoints under /fhir, for the clinic's record system.

Every endpoint but /fhir/metadata needs a record system's access token (server/policy.py
checks it before the view runs, server/fhir/tokens.py says how); each then asks for its scope,
reaches patients only through the policy's system loaders (which write the patient's access
log) and answers FHIR JSON. Every refusal is an OperationOutcome; none is a server error.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request
from flask_babel import get_locale
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException, NotFound

from server import policy
from server.extensions import csrf, db
from server.fhir import capability, parse, resources, tokens
from server.fhir.models import SystemClient
from server.fhir.tokens import FhirProblem
from server.models import (
    AccessLogEntry,
    AccessTarget,
    Appointment,
    Attendance,
    FeedbackResponse,
    PatientAnswer,
    PatientProfile,
    TakeHomeRequest,
    User,
)
from server.services import appointments, instruments
from server.services.errors import DomainError

log = logging.getLogger("folge.fhir")

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
csrf.exempt(bp)  # bearer tokens, never cookies: nothing for a forged form to ride on

FHIR_JSON = "application/fhir+json"
#: Page size of a search unless _count says otherwise, and the most one page may hold.
PAGE = 100
MOST = 10_000
#: Parameters every search takes.
COMMON = frozenset({"_count", "_offset", "_format"})
_DATE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?)$")


# --- answers ---------------------------------------------------------------------------------

def fhir_response(resource: dict[str, Any], status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, status=status, mimetype=FHIR_JSON)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_response(problem: FhirProblem) -> Response:
    db.session.rollback()
    return fhir_response(resources.operation_outcome(problem.code, problem.diagnostics,
                                                     problem.expression),
                         problem.status, problem.headers)


_HTTP_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
               405: "not-supported", 406: "not-supported", 409: "conflict", 412: "conflict",
               413: "too-costly", 415: "not-supported", 422: "business-rule",
               429: "throttled"}


def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    texts = {404: "Not found: no such resource of this clinic.",
             405: "This interaction is not supported on this resource; see /fhir/metadata.",
             413: "The request body is too large."}
    return problem_response(FhirProblem(status, _HTTP_CODES.get(status, "exception"),
                                        texts.get(status, error.description or error.name)))


@bp.errorhandler(FhirProblem)
def _problem(problem: FhirProblem) -> Response:
    return problem_response(problem)


def _http(error: HTTPException) -> Response:
    return http_error(error)


# By code as well as by class: Flask looks for a handler of the code in the app before it
# looks for one of the class in the blueprint, and the app's are HTML pages.
bp.register_error_handler(HTTPException, _http)
for _code in (*_HTTP_CODES, 500):
    if _code not in (401, 409, 412, 422):  # only ever FhirProblem here
        bp.register_error_handler(_code, _http)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    log.exception("FHIR: unhandled error on %s %s", request.method, request.path)
    return problem_response(FhirProblem(500, "exception", "Something went wrong in Følge; "
                                        "nothing was changed. Try again later."))


def _etag(row: Appointment) -> str:
    return f'W/"{row.version}"'


def _written(row: Appointment, status: int) -> Response:
    return fhir_response(resources.appointment(row), status, {
        "ETag": _etag(row),
        "Location": f"{resources.base_url()}/Appointment/{row.id}/_history/{row.version}",
        "Last-Modified": (row.updated_at or row.created_at).astimezone(UTC)
        .strftime("%a, %d %b %Y %H:%M:%S GMT")})


# --- request parts ---------------------------------------------------------------------------

def _body() -> Any:
    if request.mimetype not in (FHIR_JSON, "application/json"):
        raise FhirProblem(415, "not-supported",
                          "Send the resource as application/fhir+json.")
    try:
        return json.loads(request.get_data(cache=False, as_text=False) or b"")
    except (ValueError, UnicodeDecodeError):
        raise FhirProblem(400, "structure", "The body is not JSON.") from None


def _params(allowed: set[str]) -> dict[str, list[str]]:
    """The query's parameters; an unknown one is refused, so a filter the server would ignore
    never returns more than was asked for (FHIR's strict handling)."""
    found: dict[str, list[str]] = {}
    for name, value in request.args.items(multi=True):
        if name not in allowed | COMMON:
            raise FhirProblem(400, "not-supported", f"Unknown search parameter {name!r}; see "
                              "/fhir/metadata for the ones this server takes.", [name])
        found.setdefault(name, []).append(value)
    return found


def _whole(value: str, name: str, most: int) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 7 or int(value) > most:
        raise FhirProblem(400, "value", f"{name} must be a whole number up to {most}.", [name])
    return int(value)


def _page(params: dict[str, list[str]]) -> tuple[int, int]:
    count = _whole(params["_count"][-1], "_count", MOST) if "_count" in params else PAGE
    offset = _whole(params["_offset"][-1], "_offset", 10**7) if "_offset" in params else 0
    return count, offset


def _id(value: str, name: str = "id") -> int:
    text = value.removeprefix("Patient/") if name == "patient" else value
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise NotFound()
    return int(text)


def _search(query: Select[Any], params: dict[str, list[str]],
            build: Callable[[Any], dict[str, Any]],
            patients: Callable[[Any], PatientProfile] | None, target: AccessTarget) -> Response:
    """Run a search, page it, log a read per patient in the page (``patients`` None: the one
    patient searched for, already logged by _patient_filter), answer a Bundle."""
    count, offset = _page(params)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(db.session.scalars(query.limit(count).offset(offset)).unique())
    if patients is not None:
        policy.record_system_reads([patients(r) for r in rows], target)
    links = {"self": request.url}
    if offset + count < (total or 0):
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "_offset"]
        links["next"] = f"{request.base_url}?{urlencode([*args, ('_offset', offset + count)])}"
    return fhir_response(resources.bundle([build(r) for r in rows], total or 0, links))


def _patient_filter(params: dict[str, list[str]], target: AccessTarget,
                    required: bool = True) -> PatientProfile | None:
    """The patient=… of a search: a patient of this clinic, or 404; logged as a read of
    ``target`` (also when the search finds nothing: the caller learns that much)."""
    if "patient" not in params:
        if required:
            raise FhirProblem(400, "required", "Search by patient (patient=<id>).", ["patient"])
        return None
    return policy.get_patient_for_system_or_404(_id(params["patient"][-1], "patient"), target)


def _required_patient(params: dict[str, list[str]], target: AccessTarget) -> PatientProfile:
    patient = _patient_filter(params, target)
    if patient is None:  # pragma: no cover - _patient_filter refuses a missing patient
        raise NotFound()
    return patient


def _dates(values: list[str]) -> list[Any]:
    """date=ge2026-12-01 style filters on the appointment's start."""
    conditions = []
    for value in values:
        found = _DATE.match(value)
        if not found:
            raise FhirProblem(400, "value", "date must be like ge2026-12-01 or "
                              "lt2026-12-08T12:00:00+01:00.", ["date"])
        prefix, text = found.group(1) or "eq", found.group(2)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise FhirProblem(400, "value", f"{text} is not a date.", ["date"]) from None
        day_only = "T" not in text
        if moment.tzinfo is None:
            from zoneinfo import ZoneInfo

            moment = moment.replace(tzinfo=ZoneInfo("Europe/Oslo"))  # a day in Norway
        end = moment + (timedelta(days=1) if day_only else timedelta(seconds=1))
        column = Appointment.starts_at
        ops = {"eq": [column >= moment, column < end], "ge": [column >= moment],
               "gt": [column >= end], "le": [column < end], "lt": [column < moment],
               "sa": [column >= end], "eb": [column < moment]}
        if prefix == "ne":
            conditions.append((column < moment) | (column >= end))
        else:
            conditions.extend(ops[prefix])
    return conditions


def _identifier(value: str) -> tuple[str, str]:
    system, bar, code = value.partition("|")
    if not bar or not system or not code:
        raise FhirProblem(400, "value", "identifier must be system|value.", ["identifier"])
    return system, code


# --- metadata --------------------------------------------------------------------------------

@bp.get("/metadata")
def metadata() -> Response:
    """What this server implements, exactly (no token needed)."""
    return fhir_response(capability.statement())


# --- Patient ---------------------------------------------------------------------------------

@bp.get("/Patient")
def search_patients() -> Response:
    """Find a patient of the clinic by national identity number or D-number."""
    tokens.require("Patient", "s")
    params = _params({"identifier", "_id"})
    clinic_id = policy.system_clinic_id()
    query = select(PatientProfile).where(PatientProfile.clinic_id == clinic_id) \
        .options(joinedload(PatientProfile.user)).order_by(PatientProfile.id)
    searched: tuple[str, str] | None = None
    if "identifier" in params:
        system, number = _identifier(params["identifier"][-1])
        if system not in (resources.FNR, resources.DNR):
            raise FhirProblem(400, "value", f"Patients are found by {resources.FNR} "
                              f"(fødselsnummer) or {resources.DNR} (D-number).", ["identifier"])
        from server.national_id import pid

        try:
            normal = pid.normalize(number)
        except DomainError:
            raise FhirProblem(400, "value", "Not a valid fødselsnummer or D-number.",
                              ["identifier"]) from None
        if resources.national_system(normal) != system:
            raise FhirProblem(400, "value", "A D-number goes with the D-number system, a "
                              "fødselsnummer with the fødselsnummer system.", ["identifier"])
        searched = (system, normal)
        query = query.join(User, PatientProfile.user_id == User.id) \
            .where(User.pid_hash == pid.keyed_hash(normal))
    elif "_id" in params:
        query = query.where(PatientProfile.id == _id(params["_id"][-1]))
    else:
        raise FhirProblem(400, "required", "Search patients by identifier=system|value.",
                          ["identifier"])
    return _search(query, params, lambda p: resources.patient(p, searched), lambda p: p,
                   AccessTarget.NAME)


@bp.get("/Patient/<string:patient_id>")
def read_patient(patient_id: str) -> Response:
    tokens.require("Patient", "r")
    row = policy.get_patient_for_system_or_404(_id(patient_id), AccessTarget.NAME)
    return fhir_response(resources.patient(row))


# --- Appointment -----------------------------------------------------------------------------

def _appointments() -> Select[tuple[Appointment]]:
    return select(Appointment).where(Appointment.clinic_id == policy.system_clinic_id()) \
        .join(PatientProfile, Appointment.patient_id == PatientProfile.id) \
        .where(PatientProfile.clinic_id == policy.system_clinic_id()) \
        .options(joinedload(Appointment.patient).joinedload(PatientProfile.user))


@bp.get("/Appointment")
def search_appointments() -> Response:
    """The clinic's appointments: by patient, start (date=ge…), identifier or status."""
    tokens.require("Appointment", "s")
    params = _params({"patient", "date", "identifier", "status"})
    query = _appointments().order_by(Appointment.starts_at, Appointment.id)
    patient = _patient_filter(params, AccessTarget.APPOINTMENT, required=False)
    if patient is not None:
        query = query.where(Appointment.patient_id == patient.id)
    if "date" in params:
        query = query.where(*_dates(params["date"]))
    if "identifier" in params:
        system, value = _identifier(params["identifier"][-1])
        query = query.where(Appointment.external_system == system,
                            Appointment.external_id == value)
    if patient is None and "date" not in params and "identifier" not in params:
        raise FhirProblem(400, "required", "Search appointments by patient, date or "
                          "identifier.", ["patient"])
    rows_status = params.get("status")
    if rows_status:
        wanted = set(",".join(rows_status).split(","))
        query = _filtered_by_status(query, wanted)
    return _search(query, params, resources.appointment,
                   None if patient is not None else (lambda a: a.patient),
                   AccessTarget.APPOINTMENT)


def _filtered_by_status(query: Select[tuple[Appointment]], wanted: set[str],
                        ) -> Select[tuple[Appointment]]:
    known = {"booked", "cancelled", "fulfilled", "noshow"}
    if not wanted <= known:
        raise FhirProblem(400, "value", "status is one of booked, cancelled, fulfilled, noshow.",
                          ["status"])
    from server.models import AppointmentStatus

    options = []
    if "cancelled" in wanted:
        options.append(Appointment.status == AppointmentStatus.CANCELLED)
    live = Appointment.status == AppointmentStatus.SCHEDULED
    for status, attendance in (("booked", Attendance.UNKNOWN), ("fulfilled", Attendance.ATTENDED),
                               ("noshow", Attendance.MISSED)):
        if status in wanted:
            options.append(live & (Appointment.attendance == attendance))
    return query.where(or_(*options))


def _appointment_of_clinic(appointment_id: str, lock: bool = False) -> Appointment:
    """One appointment of the caller's clinic (404 otherwise); the read is logged."""
    query = select(Appointment).where(Appointment.id == _id(appointment_id))
    if lock:
        query = query.with_for_update()
    row = db.session.scalar(query)
    if row is None or row.clinic_id != policy.system_clinic_id():
        raise NotFound()
    policy.get_patient_for_system_or_404(row.patient_id, AccessTarget.APPOINTMENT,
                                         subject_id=row.id)
    return row


@bp.get("/Appointment/<string:appointment_id>")
def read_appointment(appointment_id: str) -> Response:
    tokens.require("Appointment", "r")
    row = _appointment_of_clinic(appointment_id)
    response = fhir_response(resources.appointment(row), headers={"ETag": _etag(row)})
    return response


def _patient_of(incoming: parse.Incoming) -> PatientProfile:
    """The appointment's patient, of this clinic; 422 for any other (a business rule: the
    body names someone Følge cannot book for), the same for another clinic's as for none."""
    try:
        return policy.get_patient_for_system_or_404(incoming.patient_id, AccessTarget.NAME)
    except NotFound:
        raise FhirProblem(422, "business-rule", "Unknown patient: no patient of this clinic "
                          f"has the id {incoming.patient_id}.",
                          ["Appointment.participant"]) from None


#: Where in the Appointment a service's refusal points (by its field, else its code).
_ELEMENTS = {"prepare": "Appointment.patientInstruction", "address": "Appointment.participant",
             "duration": "Appointment.end", "past": "Appointment.start",
             "future": "Appointment.start", "cancelled": "Appointment.status"}


def _service_error(exc: DomainError) -> FhirProblem:
    where = _ELEMENTS.get(exc.field) or _ELEMENTS.get(exc.code) or "Appointment"
    return FhirProblem(422, "business-rule", str(exc.message), [where])


def _by_identifier(identifier: tuple[str, str], lock: bool = True) -> Appointment | None:
    query = select(Appointment).where(
        Appointment.clinic_id == policy.system_clinic_id(),
        Appointment.external_system == identifier[0], Appointment.external_id == identifier[1])
    return db.session.scalar(query.with_for_update() if lock else query)


def _same(row: Appointment, incoming: parse.Incoming) -> bool:
    """Would ``incoming`` change nothing of ``row``? (A repeated create is then answered with
    what exists.)"""
    data = incoming.data
    return (resources.appointment_status(row) == _status_of(incoming)
            and row.starts_at == data.starts_at and row.duration_minutes == data.duration_minutes
            and row.service is data.service and row.meeting is data.meeting
            and row.service_name == (data.service_name or row.service_name)
            and row.place_name == data.place_name and row.meet_role == data.meet_role
            and row.meet_name == data.meet_name and row.prepare == data.prepare)


def _status_of(incoming: parse.Incoming) -> str:
    return "booked" if incoming.status in parse.SCHEDULED else incoming.status


def _create(incoming: parse.Incoming) -> Response:
    if incoming.identifier is None:
        raise FhirProblem(422, "business-rule", "An identifier (system and value) of the record "
                          "system is needed, so that sending the same appointment again does "
                          "not book it twice.", ["Appointment.identifier"])
    if incoming.status not in parse.SCHEDULED:
        raise FhirProblem(422, "business-rule", "A new appointment must be proposed, pending or "
                          "booked.", ["Appointment.status"])
    patient = _patient_of(incoming)
    data = incoming.data
    if not data.service_name:
        data = dataclasses.replace(data, service_name=patient.clinic.name)
    data = dataclasses.replace(data, identifier=incoming.identifier)
    try:
        row = appointments.create_many([(patient, data)], tokens.current().client.user,
                                       commit=False)[0]
        db.session.commit()
    except DomainError as exc:
        raise _service_error(exc) from None
    except IntegrityError:  # the same identifier, sent twice at once: the other one won
        db.session.rollback()
        existing = _by_identifier(incoming.identifier, lock=False)
        if existing is None:
            raise
        return _repeat(existing, incoming)
    return _written(row, 201)


def _repeat(existing: Appointment, incoming: parse.Incoming) -> Response:
    policy.get_patient_for_system_or_404(existing.patient_id, AccessTarget.APPOINTMENT,
                                         subject_id=existing.id)
    if existing.patient_id == incoming.patient_id and _same(existing, incoming):
        return _written(existing, 200)
    raise FhirProblem(409, "duplicate", f"An appointment with this identifier exists "
                      f"(Appointment/{existing.id}) and differs: change it with PUT "
                      f"/fhir/Appointment/{existing.id}.", ["Appointment.identifier"])


@bp.post("/Appointment")
def create_appointment() -> Response:
    """Book an appointment, idempotent by the record system's identifier: sent again, the
    same appointment is answered (200) and nothing is booked twice."""
    tokens.require("Appointment", "c")
    incoming = parse.appointment(_body())
    if incoming.identifier is not None:
        existing = _by_identifier(incoming.identifier)
        if existing is not None:
            return _repeat(existing, incoming)
    return _create(incoming)


def _if_match(row: Appointment) -> None:
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return
    if wanted.strip() not in (_etag(row), f'"{row.version}"', f"W/{row.version}"):
        raise FhirProblem(412, "conflict", f"The appointment has changed since version "
                          f"{wanted.strip()}: it is now {_etag(row)}. Read it again and send "
                          "the change on top of that.", ["Appointment"])


def _update(row: Appointment, incoming: parse.Incoming) -> Response:
    """Apply a PUT: change, move, cancel or record attendance, through the same service
    functions as the staff pages (reminders re-planned on a move, stopped on a cancel)."""
    _if_match(row)
    if incoming.patient_id != row.patient_id:
        raise FhirProblem(422, "business-rule", "An appointment cannot move to another "
                          "patient: cancel it and book a new one.", ["Appointment.participant"])
    if incoming.identifier is not None and row.external_id is not None and \
            incoming.identifier != (row.external_system, row.external_id):
        raise FhirProblem(422, "business-rule", "The identifier of an appointment cannot "
                          "change.", ["Appointment.identifier"])
    by = tokens.current().client.user
    try:
        if incoming.identifier is not None and row.external_id is None:
            row.external_system, row.external_id = incoming.identifier
        if row.is_cancelled:
            if incoming.status != "cancelled":
                raise FhirProblem(422, "business-rule", "A cancelled appointment cannot be "
                                  "booked again: book a new one.", ["Appointment.status"])
            row.cancel_reason = incoming.cancel_reason or row.cancel_reason
            db.session.commit()
        elif incoming.status == "cancelled":
            row.cancel_reason = incoming.cancel_reason
            appointments.cancel(row)
        else:
            # What FHIR has no place for stays as staff wrote it: the address, the last time
            # to cancel, and whether it is a responsibility-group meeting.
            data = dataclasses.replace(
                incoming.data, service_name=incoming.data.service_name or row.service_name,
                address=row.address, cancel_by=row.cancel_by,
                is_team_meeting=row.is_team_meeting)
            if not _same(row, incoming):
                appointments.update(row, data)
            if incoming.status in ("fulfilled", "noshow"):
                wanted = Attendance.ATTENDED if incoming.status == "fulfilled" else \
                    Attendance.MISSED
                if row.attendance is not wanted:
                    appointments.mark_attendance(row, wanted, by)
            db.session.commit()
    except DomainError as exc:
        raise _service_error(exc) from None
    return _written(row, 200)


@bp.put("/Appointment/<string:appointment_id>")
def update_appointment(appointment_id: str) -> Response:
    """Change an appointment; If-Match with its ETag refuses a change on top of another."""
    tokens.require("Appointment", "u")
    row = _appointment_of_clinic(appointment_id, lock=True)
    incoming = parse.appointment(_body())
    if incoming.resource_id is not None and incoming.resource_id != str(row.id):
        raise FhirProblem(400, "invalid", "The id in the body is not the id in the address.",
                          ["Appointment.id"])
    return _update(row, incoming)


@bp.put("/Appointment")
def upsert_appointment() -> Response:
    """Conditional update by the record system's identifier (PUT /fhir/Appointment?identifier
    =system|value): changes the one it finds, books it when there is none."""
    tokens.require("Appointment", "u")
    params = _params({"identifier"})
    if "identifier" not in params:
        raise FhirProblem(400, "required", "PUT without an id needs identifier=system|value.",
                          ["identifier"])
    identifier = _identifier(params["identifier"][-1])
    incoming = parse.appointment(_body())
    if incoming.identifier is not None and incoming.identifier != identifier:
        raise FhirProblem(400, "invalid", "The identifier in the body is not the one in the "
                          "address.", ["Appointment.identifier"])
    incoming = dataclasses.replace(incoming, identifier=identifier)
    existing = _by_identifier(identifier)
    if existing is None:
        tokens.require("Appointment", "c")
        return _create(incoming)
    policy.get_patient_for_system_or_404(existing.patient_id, AccessTarget.APPOINTMENT,
                                         subject_id=existing.id)
    return _update(existing, incoming)


# --- AppointmentResponse ---------------------------------------------------------------------

def _answered() -> Select[tuple[Appointment]]:
    return _appointments().where(
        (Appointment.answer != PatientAnswer.NONE) | Appointment.call_me.is_(True)) \
        .order_by(Appointment.answered_at.desc(), Appointment.id)


@bp.get("/AppointmentResponse")
def search_responses() -> Response:
    """The patients' answers: coming, cannot come, call me."""
    tokens.require("AppointmentResponse", "s")
    params = _params({"patient", "appointment"})
    query = _answered()
    if "appointment" in params:
        query = query.where(Appointment.id == _id(params["appointment"][-1]
                                                  .removeprefix("Appointment/")))
    patient = _patient_filter(params, AccessTarget.APPOINTMENT,
                              required="appointment" not in params)
    if patient is not None:
        query = query.where(Appointment.patient_id == patient.id)
    return _search(query, params, resources.appointment_response,
                   None if patient is not None else (lambda a: a.patient),
                   AccessTarget.APPOINTMENT)


@bp.get("/AppointmentResponse/<string:response_id>")
def read_response(response_id: str) -> Response:
    tokens.require("AppointmentResponse", "r")
    row = _appointment_of_clinic(response_id)
    if row.answer is PatientAnswer.NONE and not row.call_me:
        raise NotFound()
    return fhir_response(resources.appointment_response(row))


# --- Task and MedicationRequest (take-home requests) -----------------------------------------

def _take_home() -> Select[tuple[TakeHomeRequest]]:
    clinic_id = policy.system_clinic_id()
    return select(TakeHomeRequest).where(TakeHomeRequest.clinic_id == clinic_id) \
        .join(PatientProfile, TakeHomeRequest.patient_id == PatientProfile.id) \
        .where(PatientProfile.clinic_id == clinic_id) \
        .options(joinedload(TakeHomeRequest.patient).joinedload(PatientProfile.user)) \
        .order_by(TakeHomeRequest.created_at.desc(), TakeHomeRequest.id)


def _one_take_home(request_id: str) -> TakeHomeRequest:
    row = db.session.get(TakeHomeRequest, _id(request_id))
    if row is None or row.clinic_id != policy.system_clinic_id():
        raise NotFound()
    policy.get_patient_for_system_or_404(row.patient_id, AccessTarget.TAKE_HOME,
                                         subject_id=row.id)
    return row


def _take_home_search(resource: str, build: Callable[[TakeHomeRequest], dict[str, Any]]
                      ) -> Response:
    tokens.require(resource, "s")
    params = _params({"patient"})
    patient = _required_patient(params, AccessTarget.TAKE_HOME)
    return _search(_take_home().where(TakeHomeRequest.patient_id == patient.id), params, build,
                   None, AccessTarget.TAKE_HOME)


@bp.get("/Task")
def search_tasks() -> Response:
    """A patient's take-home requests, each a Task with the decision and its reason."""
    return _take_home_search("Task", resources.task)


@bp.get("/Task/<string:request_id>")
def read_task(request_id: str) -> Response:
    tokens.require("Task", "r")
    return fhir_response(resources.task(_one_take_home(request_id)))


@bp.get("/MedicationRequest")
def search_medication_requests() -> Response:
    return _take_home_search("MedicationRequest", resources.medication_request)


@bp.get("/MedicationRequest/<string:request_id>")
def read_medication_request(request_id: str) -> Response:
    tokens.require("MedicationRequest", "r")
    return fhir_response(resources.medication_request(_one_take_home(request_id)))


# --- Questionnaire and QuestionnaireResponse (feedback) --------------------------------------

def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in ("nb", "nn", "en") \
        else "nb"


@bp.get("/Questionnaire")
def search_questionnaires() -> Response:
    """Every feedback instrument in every version Følge has (no patient data)."""
    tokens.require("Questionnaire", "s")
    params = _params({"url", "version"})
    found = [resources.questionnaire(i, _language()) for i in instruments.every_version()]
    if "url" in params:
        found = [q for q in found if q["url"] == params["url"][-1]]
    if "version" in params:
        found = [q for q in found if q["version"] == params["version"][-1]]
    count, offset = _page(params)
    return fhir_response(resources.bundle(found[offset:offset + count], len(found),
                                          {"self": request.url}))


@bp.get("/Questionnaire/<string:questionnaire_id>")
def read_questionnaire(questionnaire_id: str) -> Response:
    tokens.require("Questionnaire", "r")
    for instrument in instruments.every_version():
        if resources.questionnaire_id(instrument.key, instrument.version) == questionnaire_id:
            return fhir_response(resources.questionnaire(instrument, _language()))
    raise NotFound()


def _feedback_resource(row: FeedbackResponse) -> dict[str, Any]:
    return resources.questionnaire_response(
        row, instruments.get(row.instrument_key, row.instrument_version), _language())


@bp.get("/QuestionnaireResponse")
def search_questionnaire_responses() -> Response:
    """A patient's named check-ins. Anonymous answers are never here, not even counted."""
    tokens.require("QuestionnaireResponse", "s")
    params = _params({"patient"})
    patient = _required_patient(params, AccessTarget.FEEDBACK)
    query = select(FeedbackResponse).where(FeedbackResponse.patient_id == patient.id) \
        .options(joinedload(FeedbackResponse.patient)) \
        .order_by(FeedbackResponse.created_at.desc(), FeedbackResponse.id)
    return _search(query, params, _feedback_resource, None, AccessTarget.FEEDBACK)


@bp.get("/QuestionnaireResponse/<string:response_id>")
def read_questionnaire_response(response_id: str) -> Response:
    tokens.require("QuestionnaireResponse", "r")
    row = db.session.get(FeedbackResponse, _id(response_id))
    if row is None:
        raise NotFound()
    policy.get_patient_for_system_or_404(row.patient_id, AccessTarget.FEEDBACK)
    return fhir_response(_feedback_resource(row))


# --- CareTeam, CarePlan, Goal ----------------------------------------------------------------

def _one_per_patient(params: dict[str, list[str]], target: AccessTarget,
                     build: Callable[[PatientProfile], dict[str, Any]]) -> Response:
    patient = _required_patient(params, target)
    return fhir_response(resources.bundle([build(patient)], 1, {"self": request.url}))


def _team(patient: PatientProfile) -> dict[str, Any]:
    from server.care_team import team

    return resources.care_team(patient, team.active_members(patient))


def _plan(patient: PatientProfile) -> dict[str, Any]:
    from server.plans import goals

    return resources.care_plan(patient, goals.of_patient(patient))


@bp.get("/CareTeam")
def search_care_teams() -> Response:
    """The patient's care team: who is responsible for what."""
    tokens.require("CareTeam", "s")
    return _one_per_patient(_params({"patient"}), AccessTarget.CARE_TEAM, _team)


@bp.get("/CareTeam/<string:patient_id>")
def read_care_team(patient_id: str) -> Response:
    tokens.require("CareTeam", "r")
    return fhir_response(_team(policy.get_patient_for_system_or_404(
        _id(patient_id), AccessTarget.CARE_TEAM)))


@bp.get("/CarePlan")
def search_care_plans() -> Response:
    tokens.require("CarePlan", "s")
    return _one_per_patient(_params({"patient"}), AccessTarget.GOALS, _plan)


@bp.get("/CarePlan/<string:patient_id>")
def read_care_plan(patient_id: str) -> Response:
    tokens.require("CarePlan", "r")
    return fhir_response(_plan(policy.get_patient_for_system_or_404(
        _id(patient_id), AccessTarget.GOALS)))


@bp.get("/Goal")
def search_goals() -> Response:
    """The patient's goals in their own words (active ones)."""
    tokens.require("Goal", "s")
    from server.plans import goals

    params = _params({"patient"})
    patient = _required_patient(params, AccessTarget.GOALS)
    found = goals.of_patient(patient)
    count, offset = _page(params)
    return fhir_response(resources.bundle([resources.goal(g) for g in
                                           found[offset:offset + count]], len(found),
                                          {"self": request.url}))


@bp.get("/Goal/<string:goal_id>")
def read_goal(goal_id: str) -> Response:
    tokens.require("Goal", "r")
    from server.plans.models import Goal

    row = db.session.get(Goal, _id(goal_id))
    if row is None or row.state != "active":
        raise NotFound()
    policy.get_patient_for_system_or_404(row.patient_id, AccessTarget.GOALS)
    return fhir_response(resources.goal(row))


# --- AuditEvent ------------------------------------------------------------------------------

def _systems() -> dict[int, SystemClient]:
    return {c.user_id: c for c in db.session.scalars(select(SystemClient))}


@bp.get("/AuditEvent")
def search_audit_events() -> Response:
    """Who has read the patient's information (the patient's own access log), newest first.
    Reading it is itself a read, written to the log."""
    tokens.require("AuditEvent", "s")
    params = _params({"patient"})
    patient = _required_patient(params, AccessTarget.ACCESS_LOG)
    query = select(AccessLogEntry).where(AccessLogEntry.patient_id == patient.id) \
        .options(joinedload(AccessLogEntry.viewer), joinedload(AccessLogEntry.clinic)) \
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
    systems = _systems()
    return _search(query, params, lambda e: resources.audit_event(e, patient, systems), None,
                   AccessTarget.ACCESS_LOG)


@bp.get("/AuditEvent/<string:event_id>")
def read_audit_event(event_id: str) -> Response:
    tokens.require("AuditEvent", "r")
    entry = db.session.get(AccessLogEntry, _id(event_id))
    if entry is None:
        raise NotFound()
    patient = policy.get_patient_for_system_or_404(entry.patient_id, AccessTarget.ACCESS_LOG)
    return fhir_response(resources.audit_event(entry, patient, _systems()))
