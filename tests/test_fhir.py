"""The record system's FHIR R4 interface (server/fhir), against a real token issuer.

The test OpenID provider (tests/oidc/provider.js) issues the record systems' access tokens by
the client-credentials grant with private_key_jwt, as HelseID does. Every resource the
interface returns in these tests is checked by FHIR.js (tests/fhir) when the test ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwskate import Jwk, Jwt
from sqlalchemy import func, select

from server.extensions import db
from server.fhir import capability, clients, resources, tokens
from server.models import (
    AccessLogEntry,
    AccessTarget,
    AnonymousFeedback,
    Appointment,
    FeedbackResponse,
    FeedbackVia,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientAnswer,
)
from server.models.base import utcnow
from server.national_id import pid
from server.services import appointments, take_home
from server.services.errors import DomainError
from tests.conftest import FUZZ_FIGURES, Client, Factory, World, sign_in_as
from tests.fhir_validator import validate_many
from tests.oidc_provider import RunningProvider, openid_provider

BASE = "http://localhost/fhir"
EPJ = "https://epj.example.no/appointments"  # the record system's identifier system
ALL = " ".join([*capability.SCOPE_EXAMPLES, "system/Appointment.cruds"])
SCOPES = ALL.split()
KARI = "01017010170"  # a valid test fødselsnummer (tests/oidc_provider.py ACCOUNTS)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    tokens.forget_keys()
    fhir = {"resource": BASE, "scopes": SCOPES,
            "clients": {"epj-a": SCOPES, "epj-b": SCOPES, "epj-stranger": SCOPES,
                        "epj-narrow": ["system/Patient.rs"]}}
    with openid_provider(tmp_path_factory.mktemp("op"), fhir=fhir) as running:
        yield running
    tokens.forget_keys()


@pytest.fixture(scope="module")
def token_cache() -> dict[tuple[str, str], str]:
    return {}


@pytest.fixture
def config_overrides(provider: RunningProvider) -> dict[str, Any]:
    return {"fhir_issuer": provider.issuer, "fhir_audience": BASE, "pid_key": "k" * 40}


@dataclass
class Epj:
    """A record system calling the interface; every answer is kept for FHIR.js."""

    client: Client
    provider: RunningProvider
    cache: dict[tuple[str, str], str]
    seen: list[dict[str, Any]] = field(default_factory=list)

    def token(self, client_id: str = "epj-a", scope: str = ALL) -> str:
        key = (client_id, scope)
        if key not in self.cache:
            self.cache[key] = self.provider.system_token(client_id, scope, BASE)
        return self.cache[key]

    def call(self, method: str, path: str, body: Any = None, client_id: str = "epj-a",
             scope: str = ALL, token: str | None = None, **headers: str) -> Any:
        sent = {"Authorization": f"Bearer {token or self.token(client_id, scope)}", **headers}
        kwargs: dict[str, Any] = {"headers": sent}
        if body is not None:
            kwargs["data"] = json.dumps(body) if not isinstance(body, str | bytes) else body
            kwargs["content_type"] = "application/fhir+json"
        response = self.client.open(path, method=method, **kwargs)
        assert response.status_code != 500, response.get_data(as_text=True)
        assert response.mimetype == "application/fhir+json", (path, response.status_code)
        assert "Set-Cookie" not in response.headers  # never a session
        self.seen.append(response.get_json())
        return response


@pytest.fixture
def epj(app: Flask, client: Client, world: World, provider: RunningProvider,
        token_cache: dict[tuple[str, str], str], tmp_path: Path) -> Iterator[Epj]:
    clients.register(world.clinic_a, "epj-a", "DIPS Arena")
    clients.register(world.clinic_b, "epj-b", "Other clinic's EPJ")
    clients.register(world.clinic_a, "epj-narrow", "Narrow EPJ", "system/Patient.rs")
    caller = Epj(client, provider, token_cache)
    yield caller
    systems = {system for document in caller.seen for system in _systems(document)}
    assert systems <= KNOWN_SYSTEMS, systems - KNOWN_SYSTEMS
    verdicts = validate_many(caller.seen, tmp_path)
    bad = [(doc, v["messages"]) for doc, v in zip(caller.seen, verdicts, strict=True)
           if not v["valid"]]
    assert not bad, bad


#: Every identifier and code system an answer may use: the no-basis OIDs for people, HL7's
#: code systems, Følge's own, and the record system's own identifiers (in these tests EPJ).
KNOWN_SYSTEMS = {
    resources.FNR, resources.DNR, resources.HPR, resources.SERVICE_KIND, resources.MEETING_KIND,
    resources.CANCEL_REASON, resources.AUDIT_TYPE, f"{resources.FOLGE}/system-client",
    "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    "http://terminology.hl7.org/CodeSystem/goal-achievement",
    "http://terminology.hl7.org/CodeSystem/restful-security-service", EPJ,
}


def _systems(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "system" and isinstance(inner, str):
                yield inner
            else:
                yield from _systems(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _systems(inner)


def test_the_national_identifier_systems_are_no_basis_oids() -> None:
    assert (resources.FNR, resources.DNR, resources.HPR) == (
        "urn:oid:2.16.578.1.12.4.1.4.1", "urn:oid:2.16.578.1.12.4.1.4.2",
        "urn:oid:2.16.578.1.12.4.1.4.4")
    assert resources.national_system("41017012345") == resources.DNR  # day + 40
    assert resources.national_system(KARI) == resources.FNR


def booking(patient_id: int, starts: datetime, ident: str = "A-1",
            **changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "identifier": [{"system": EPJ, "value": ident}],
        "status": "booked",
        "serviceCategory": [{"coding": [{"system": resources.SERVICE_KIND, "code": "clinic"}]}],
        "serviceType": [{"text": "Poliklinikken"}],
        "appointmentType": {"coding": [{"system": resources.MEETING_KIND, "code": "in_person"}]},
        "start": starts.isoformat(), "end": (starts + timedelta(minutes=45)).isoformat(),
        "patientInstruction": "Ta med timeplanen din.",
        "participant": [
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "needs-action"},
            {"type": [{"text": "lege"}], "actor": {"display": "Dr. Lie"}, "status": "accepted"},
            {"actor": {"type": "Location", "display": "2. etasje"}, "status": "accepted"},
        ],
    }
    resource.update(changes)
    return resource


def soon(days: int = 3) -> datetime:
    return (utcnow() + timedelta(days=days)).replace(microsecond=0, second=0)


def planned(appointment_id: int) -> set[str]:
    return set(db.session.scalars(select(OutboxMessage.idempotency_key).where(
        OutboxMessage.appointment_id == appointment_id,
        OutboxMessage.status == MessageStatus.PENDING)))


def system_reads(patient_id: int, target: AccessTarget | None = None) -> int:
    query = select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.patient_id == patient_id, AccessLogEntry.viewer_role == "record_system")
    if target is not None:
        query = query.where(AccessLogEntry.target == target)
    return int(db.session.scalar(query) or 0)


def outcome(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]  # type: ignore[no-any-return]


# --- tokens and scopes -----------------------------------------------------------------------

def test_metadata_lists_exactly_the_routes(app: Flask, epj: Epj) -> None:
    response = epj.client.get("/fhir/metadata")
    epj.seen.append(response.get_json())
    statement = response.get_json()
    assert response.status_code == 200 and statement["fhirVersion"] == "4.0.1"
    listed = {(r["type"], i["code"]) for r in statement["rest"][0]["resource"]
              for i in r["interaction"]}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/fhir/") or rule.endpoint == "fhir.metadata":
            continue
        kind = rule.rule.split("/")[2]
        for method in rule.methods or ():
            one = "<" in rule.rule
            code = {"GET": "read" if one else "search-type", "POST": "create",
                    "PUT": "update"}.get(method)
            if code:
                routed.add((kind, code))
    assert listed == routed


def test_without_a_good_token_nothing_is_shown(epj: Epj, world: World,
                                               provider: RunningProvider) -> None:
    path = f"/fhir/Patient/{world.patient_x.id}"
    bare = epj.client.get(path)
    epj.seen.append(bare.get_json())
    assert bare.status_code == 401 and "Bearer" in bare.headers["WWW-Authenticate"]
    assert outcome(bare)["code"] == "login"
    assert epj.call("GET", path, token="not-a-jwt").status_code == 401
    now = int(utcnow().timestamp())
    claims = {"iss": provider.issuer, "aud": BASE, "client_id": "epj-a", "scope": ALL,
              "iat": now - 600, "exp": now - 300, "jti": "x"}
    expired = Jwt.sign(claims, provider.signing_key, alg="RS256", typ="at+jwt")
    answer = epj.call("GET", path, token=str(expired))
    assert answer.status_code == 401 and "expired" in outcome(answer)["diagnostics"]
    forged = Jwt.sign({**claims, "exp": now + 300}, Jwk.generate(alg="RS256", kid="provider-1"),
                      alg="RS256", typ="at+jwt")
    assert epj.call("GET", path, token=str(forged)).status_code == 401
    elsewhere = Jwt.sign({**claims, "exp": now + 300, "aud": "https://other.example/fhir"},
                         provider.signing_key, alg="RS256", typ="at+jwt")
    assert epj.call("GET", path, token=str(elsewhere)).status_code == 401
    id_token_like = Jwt.sign({**claims, "exp": now + 300}, provider.signing_key, alg="RS256")
    assert epj.call("GET", path, token=str(id_token_like)).status_code == 401
    # A real token, for a client no clinic registered; and one whose registration ended.
    assert epj.call("GET", path, client_id="epj-stranger").status_code == 403
    clients.disable("epj-a")
    assert epj.call("GET", path).status_code == 403
    assert system_reads(world.patient_x.id) == 0


def test_each_call_needs_its_scope(epj: Epj, world: World) -> None:
    narrow = "system/Patient.rs"
    answer = epj.call("GET", f"/fhir/Appointment?patient={world.patient_x.id}", scope=narrow)
    assert answer.status_code == 403 and "insufficient_scope" in \
        answer.headers["WWW-Authenticate"]
    made = epj.call("POST", "/fhir/Appointment", booking(world.patient_x.id, soon()),
                    scope="system/Appointment.rs")
    assert made.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
    # A scope the token has but the registration does not allow counts for nothing.
    assert epj.call("GET", f"/fhir/Appointment?patient={world.patient_x.id}",
                    client_id="epj-narrow", scope="system/Patient.rs").status_code == 403
    assert epj.call("GET", f"/fhir/Patient/{world.patient_x.id}", scope=narrow).status_code \
        == 200


@pytest.mark.parametrize(("scope", "interaction", "allowed"), [
    ("system/Appointment.cru", "u", True), ("system/Appointment.cru", "d", False),
    ("system/Appointment.read", "s", True), ("system/Appointment.write", "r", False),
    ("system/*.rs", "r", True), ("patient/Appointment.rs", "r", False),
    ("system/Appointment.urc", "r", False), ("system/Patient.rs", "r", False),
])
def test_smart_scopes(scope: str, interaction: str, allowed: bool) -> None:
    assert tokens.grants(scope, "Appointment", interaction) is allowed


# --- patients --------------------------------------------------------------------------------

def test_a_patient_is_found_by_national_identity_number_in_the_own_clinic_only(
        epj: Epj, world: World) -> None:
    world.patient_x.date_of_birth = None
    db.session.commit()
    pid.register(world.patient_x, KARI)
    found = epj.call("GET", f"/fhir/Patient?identifier={resources.FNR}|{KARI}").get_json()
    assert found["total"] == 1
    person = found["entry"][0]["resource"]
    assert person["id"] == str(world.patient_x.id)
    assert person["identifier"] == [{"use": "official", "system": resources.FNR, "value": KARI}]
    assert system_reads(world.patient_x.id, AccessTarget.NAME) == 1
    other = epj.call("GET", f"/fhir/Patient?identifier={resources.FNR}|{KARI}",
                     client_id="epj-b").get_json()
    assert other["total"] == 0 and "entry" not in other or other["entry"] == []
    wrong = epj.call("GET", f"/fhir/Patient?identifier={resources.DNR}|{KARI}")
    assert wrong.status_code == 400 and outcome(wrong)["expression"] == ["identifier"]
    assert epj.call("GET", f"/fhir/Patient?identifier={resources.FNR}|12345678901") \
        .status_code == 400
    assert epj.call("GET", "/fhir/Patient?name=Kari").status_code == 400  # strict
    # Another clinic's patient is as absent as one that never existed.
    theirs = epj.call("GET", f"/fhir/Patient/{world.patient_b.id}")
    nobody = epj.call("GET", "/fhir/Patient/987654")
    assert theirs.status_code == nobody.status_code == 404
    assert outcome(theirs) == outcome(nobody)
    assert system_reads(world.patient_b.id) == 0


# --- appointments ----------------------------------------------------------------------------

def test_booking_through_fhir_plans_what_the_staff_form_plans_and_is_idempotent(
        epj: Epj, world: World, make: Factory) -> None:
    starts = soon()
    made = epj.call("POST", "/fhir/Appointment", booking(world.patient_x.id, starts))
    assert made.status_code == 201 and made.headers["ETag"] == 'W/"1"'
    body = made.get_json()
    row = db.session.get(Appointment, int(body["id"]))
    assert made.headers["Location"].endswith(f"/fhir/Appointment/{row.id}/_history/1")
    assert (row.external_system, row.external_id) == (EPJ, "A-1")
    assert row.meet_role == "lege" and row.meet_name == "Dr. Lie" and row.place_name == "2. etasje"
    assert row.duration_minutes == 45 and row.created_by_id is not None
    # The same messages as an appointment booked by staff at the same time.
    twin = make.appointment(world.patient_y, starts_in=starts - utcnow(),
                            service=row.service, service_name=row.service_name)
    assert {k.split(":", 2)[0] + ":" + k.split(":", 2)[2] for k in planned(row.id)} == \
        {k.split(":", 2)[0] + ":" + k.split(":", 2)[2] for k in planned(twin.id)}
    assert any(k.startswith("notice:") for k in planned(row.id))
    # Sent again (a retry after a timeout): the same appointment, nothing new.
    again = epj.call("POST", "/fhir/Appointment", booking(world.patient_x.id, starts))
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    assert db.session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.patient_id == world.patient_x.id)) == 1
    # The same identifier for something else is a conflict, not a second booking.
    clash = epj.call("POST", "/fhir/Appointment", booking(world.patient_x.id, starts + timedelta(
        hours=2)))
    assert clash.status_code == 409 and f"Appointment/{row.id}" in outcome(clash)["diagnostics"]


def test_a_move_replans_an_old_etag_is_refused_and_a_cancel_stops_the_messages(
        epj: Epj, world: World) -> None:
    starts = soon()
    body = epj.call("POST", "/fhir/Appointment", booking(world.patient_x.id, starts)).get_json()
    path = f"/fhir/Appointment/{body['id']}"
    before = planned(int(body["id"]))
    moved = booking(world.patient_x.id, starts + timedelta(days=1), id=body["id"])
    answer = epj.call("PUT", path, moved, **{"If-Match": 'W/"1"'})
    assert answer.status_code == 200 and answer.headers["ETag"] == 'W/"2"'
    after = planned(int(body["id"]))
    assert after and not after & before and all(":v2" in k for k in after)
    stale = epj.call("PUT", path, booking(world.patient_x.id, starts + timedelta(days=2)),
                     **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert db.session.get(Appointment, int(body["id"])).starts_at == starts + timedelta(days=1)
    cancelled = booking(world.patient_x.id, starts + timedelta(days=1), status="cancelled",
                        cancelationReason={"coding": [{"system": resources.CANCEL_REASON,
                                                       "code": "prov"}]})
    done = epj.call("PUT", path, cancelled, **{"If-Match": 'W/"2"'}).get_json()
    assert done["status"] == "cancelled" and done["cancelationReason"]["coding"][0]["code"] == "prov"
    assert planned(int(body["id"])) == set()
    again = epj.call("PUT", path, booking(world.patient_x.id, starts + timedelta(days=1)))
    assert again.status_code == 422


def test_a_staff_edit_changes_the_etag(epj: Epj, world: World, client: Client) -> None:
    body = epj.call("POST", "/fhir/Appointment", booking(world.patient_x.id, soon())).get_json()
    row = db.session.get(Appointment, int(body["id"]))
    appointments.answer(row, PatientAnswer.CANNOT_COME, reason="Syk")
    read = epj.call("GET", f"/fhir/Appointment/{row.id}")
    assert read.headers["ETag"] == 'W/"2"'
    patient = read.get_json()["participant"][0]
    assert patient["status"] == "declined"
    conflict = epj.call("PUT", f"/fhir/Appointment/{row.id}",
                        booking(world.patient_x.id, soon(4)), **{"If-Match": 'W/"1"'})
    assert conflict.status_code == 412


def test_conditional_update_books_then_changes(epj: Epj, world: World) -> None:
    path = f"/fhir/Appointment?identifier={EPJ}|B-7"
    first = epj.call("PUT", path, booking(world.patient_x.id, soon(), ident="B-7"))
    assert first.status_code == 201
    second = epj.call("PUT", path, booking(world.patient_x.id, soon(5), ident="B-7"))
    assert second.status_code == 200 and second.get_json()["id"] == first.get_json()["id"]
    assert second.get_json()["meta"]["versionId"] == "2"


@pytest.mark.parametrize(("change", "status", "where"), [
    ({"start": "not a time"}, 400, "Appointment.start"),
    ({"identifier": [{"system": EPJ, "value": ["A"]}]}, 400, "Appointment.identifier[0].value"),
    ({"status": "arrived"}, 422, "Appointment.status"),
    ({"identifier": [{"system": EPJ}]}, 422, "Appointment.identifier"),
    ({"participant": [{"actor": {"reference": "Patient/987654"}, "status": "accepted"}]}, 422,
     "Appointment.participant"),
    ({"patientInstruction": "Husk metadonen"}, 422, "Appointment.patientInstruction"),
    ({"cancelationReason": {"coding": [{"system": resources.CANCEL_REASON, "code": "zzz"}]}},
     422, "Appointment.cancelationReason"),
    ({"resourceType": "Patient"}, 400, "Appointment.resourceType"),
])
def test_a_bad_appointment_is_refused_with_the_element_and_nothing_is_booked(
        epj: Epj, world: World, change: dict[str, Any], status: int, where: str) -> None:
    answer = epj.call("POST", "/fhir/Appointment", booking(world.patient_x.id, soon(), **change))
    assert answer.status_code == status
    assert where in outcome(answer)["expression"][0]
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_time_in_the_past_and_another_clinics_patient_are_business_rules(
        epj: Epj, world: World) -> None:
    past = epj.call("POST", "/fhir/Appointment",
                    booking(world.patient_x.id, utcnow() - timedelta(hours=1)))
    assert past.status_code == 422 and outcome(past)["code"] == "business-rule"
    theirs = epj.call("POST", "/fhir/Appointment", booking(world.patient_b.id, soon()))
    assert theirs.status_code == 422 and "Unknown patient" in outcome(theirs)["diagnostics"]
    assert epj.call("POST", "/fhir/Appointment", "{not json").status_code == 400
    wrong_type = epj.client.post("/fhir/Appointment", data="x", content_type="text/plain",
                                 headers={"Authorization": f"Bearer {epj.token()}"})
    assert wrong_type.status_code == 415
    epj.seen.append(wrong_type.get_json())


def test_searching_appointments_logs_each_patient_and_never_crosses_clinics(
        epj: Epj, world: World, make: Factory) -> None:
    mine = make.appointment(world.patient_x, starts_in=timedelta(days=2))
    make.appointment(world.patient_y, starts_in=timedelta(days=3))
    make.appointment(world.patient_b, starts_in=timedelta(days=2))
    day = (utcnow() + timedelta(days=1)).date().isoformat()
    found = epj.call("GET", f"/fhir/Appointment?date=ge{day}").get_json()
    assert found["type"] == "searchset" and found["total"] == 2
    assert system_reads(world.patient_x.id, AccessTarget.APPOINTMENT) == 1
    assert system_reads(world.patient_y.id, AccessTarget.APPOINTMENT) == 1
    assert system_reads(world.patient_b.id) == 0
    one = epj.call("GET", f"/fhir/Appointment?patient={world.patient_x.id}&date=ge{day}"
                   f"&_count=1").get_json()
    assert [e["resource"]["id"] for e in one["entry"]] == [str(mine.id)]
    paged = epj.call("GET", f"/fhir/Appointment?date=ge{day}&_count=1").get_json()
    assert any(link["relation"] == "next" for link in paged["link"])
    theirs = epj.call("GET", f"/fhir/Appointment?patient={world.patient_b.id}")
    assert theirs.status_code == 404
    assert epj.call("GET", f"/fhir/Appointment/{mine.id}", client_id="epj-b").status_code == 404
    assert epj.call("GET", "/fhir/Appointment?date=tomorrow").status_code == 400
    assert epj.call("DELETE", f"/fhir/Appointment/{mine.id}").status_code == 405
    assert epj.call("GET", "/fhir/Encounter").status_code == 404


def test_answers_come_back_as_appointment_responses(epj: Epj, world: World,
                                                    make: Factory) -> None:
    coming = make.appointment(world.patient_x, starts_in=timedelta(days=2))
    not_coming = make.appointment(world.patient_x, starts_in=timedelta(days=4))
    call = make.appointment(world.patient_x, starts_in=timedelta(days=6))
    make.appointment(world.patient_x, starts_in=timedelta(days=8))  # no answer
    appointments.answer(coming, PatientAnswer.CONFIRMED)
    appointments.answer(not_coming, PatientAnswer.CANNOT_COME, reason="Jobb")
    appointments.answer(call, PatientAnswer.NEW_TIME, reason="Kan etter kl. 12", call_me=True)
    found = epj.call("GET", f"/fhir/AppointmentResponse?patient={world.patient_x.id}").get_json()
    status = {e["resource"]["appointment"]["reference"]: (e["resource"]["participantStatus"],
                                                          e["resource"].get("comment", ""))
              for e in found["entry"]}
    assert status[f"Appointment/{coming.id}"] == ("accepted", "")
    assert status[f"Appointment/{not_coming.id}"] == ("declined", "Jobb")
    assert status[f"Appointment/{call.id}"][0] == "tentative"
    assert "Kan etter kl. 12" in status[f"Appointment/{call.id}"][1]
    assert found["total"] == 3


# --- take-home, feedback, team, plan, access log ---------------------------------------------

def test_take_home_requests_are_tasks_with_the_reason(epj: Epj, world: World,
                                                      make: Factory) -> None:
    request = make.take_home(world.patient_x)
    decided = make.take_home(world.patient_x, starts_in_days=60)
    take_home.decide(decided, take_home.DecisionInput(
        outcome=take_home.Outcome.DECLINE, reason="Vi trenger en samtale først."),
        world.doctor_a)
    tasks = epj.call("GET", f"/fhir/Task?patient={world.patient_x.id}").get_json()
    by_id = {e["resource"]["id"]: e["resource"] for e in tasks["entry"]}
    assert by_id[str(request.id)]["status"] == "requested"
    assert by_id[str(decided.id)]["status"] == "rejected"
    assert by_id[str(decided.id)]["statusReason"]["text"] == "Vi trenger en samtale først."
    focus = epj.call("GET", f"/fhir/{by_id[str(request.id)]['focus']['reference']}").get_json()
    assert focus["intent"] == "proposal" and "coding" not in focus["medicationCodeableConcept"]
    assert system_reads(world.patient_x.id, AccessTarget.TAKE_HOME) == 2


def test_named_check_ins_only_never_anonymous_ones(epj: Epj, world: World) -> None:
    named = FeedbackResponse(patient_id=world.patient_x.id, clinic_id=world.clinic_a.id,
                             instrument_key="how_are_things", instrument_version=1,
                             scores={"feel": 6, "close": 7, "social": 5, "overall": 6},
                             total=24, comment="Bedre", via=FeedbackVia.APP, week="2026-W48")
    db.session.add_all([named, AnonymousFeedback(
        clinic_id=world.clinic_a.id, instrument_key="how_are_things", instrument_version=1,
        scores={"feel": 1}, total=1, comment="anonym", week="2026-W48")])
    db.session.commit()
    listed = epj.call("GET", "/fhir/Questionnaire").get_json()
    assert {e["resource"]["id"] for e in listed["entry"]} >= {"how-are-things-v1"}
    found = epj.call("GET", f"/fhir/QuestionnaireResponse?patient={world.patient_x.id}") \
        .get_json()
    assert found["total"] == 1
    answer = found["entry"][0]["resource"]
    assert answer["questionnaire"].endswith("/Questionnaire/how-are-things|1")
    assert {"linkId": "comment", "answer": [{"valueString": "Bedre"}]} in answer["item"]
    assert "anonym" not in json.dumps(epj.seen)


def test_care_team_plan_and_goals(epj: Epj, world: World, make: Factory) -> None:
    from server.plans import goals

    made = make.care_team(world)
    made.doctor.staff_user.hpr_number = "9144889"  # as HelseID gave it at the last sign-in
    db.session.commit()
    goal = goals.add(world.patient_x, "Få en fast jobb", world.patient_x.user)
    goals.add_measure(goal, "Møte med NAV", made.coordinator, utcnow().date() + timedelta(days=9),
                      world.coordinator_a, utcnow().date())
    team = epj.call("GET", f"/fhir/CareTeam?patient={world.patient_x.id}").get_json()
    members = team["entry"][0]["resource"]["participant"]
    assert len(members) >= 3
    assert {"system": resources.HPR, "value": "9144889"} in [
        m["member"].get("identifier") for m in members]
    plan = epj.call("GET", f"/fhir/CarePlan/{world.patient_x.id}").get_json()
    assert plan["goal"] == [{"reference": f"Goal/{goal.id}"}]
    found = epj.call("GET", f"/fhir/Goal?patient={world.patient_x.id}").get_json()
    assert found["entry"][0]["resource"]["description"]["text"] == "Få en fast jobb"
    assert system_reads(world.patient_x.id, AccessTarget.CARE_TEAM) == 1
    assert system_reads(world.patient_x.id, AccessTarget.GOALS) == 2


def test_the_access_log_as_audit_events_and_the_patient_reads_who_it_was(
        epj: Epj, world: World, client: Client) -> None:
    epj.call("GET", f"/fhir/Patient/{world.patient_x.id}")
    epj.call("GET", f"/fhir/Appointment?patient={world.patient_x.id}")
    events = epj.call("GET", f"/fhir/AuditEvent?patient={world.patient_x.id}").get_json()
    # The two reads before, and this one: reading the log is a read too, newest first.
    assert events["total"] == 3
    assert events["entry"][0]["resource"]["entity"][0]["description"] == \
        "the list of who has seen your information"
    event = events["entry"][1]["resource"]
    assert event["type"]["code"] == "110110" and event["action"] == "R"
    assert event["extension"][0]["valueReference"]["reference"] == f"Patient/{world.patient_x.id}"
    assert event["agent"][0]["who"]["identifier"]["value"] == "epj-a"
    assert system_reads(world.patient_x.id, AccessTarget.ACCESS_LOG) == 1
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/who-has-seen")
    words = re.sub(r"\s+", " ", page.get_data(as_text=True))
    assert "DIPS Arena, the clinic&#39;s record system at" in words or \
        "DIPS Arena, the clinic's record system at" in words


# --- the rule behind the free text, at the service and on the staff form ---------------------

def test_words_that_would_tell_what_the_appointment_is_about_are_refused(
        app: Flask, world: World, client: Client) -> None:
    data = appointments.AppointmentInput(
        starts_at=soon(), duration_minutes=30, service=appointments.ServiceKind.CLINIC,
        service_name="Poliklinikken", meeting=appointments.MeetingKind.IN_PERSON,
        prepare="Ta med medisinlisten")
    with pytest.raises(DomainError) as caught:
        appointments.create(world.patient_x, data, world.doctor_a)
    assert caught.value.field == "prepare" and "medisinlisten" in str(caught.value.message)
    sign_in_as(client, world.doctor_a)
    day = soon().astimezone(UTC)
    page = client.submit(f"/staff/patients/{world.patient_x.id}/appointments/new", {
        "day": day.strftime("%Y-%m-%d"), "at": "10:00", "duration": "30", "service": "clinic",
        "service_name": "Poliklinikken", "meeting": "in_person", "place_name": "",
        "address": "LAR-poliklinikken, Storgata 1", "meet_role": "", "meet_name": "",
        "prepare": "Ta med timeplanen"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "LAR" in text and "Storgata 1" in text  # kept as typed
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_cancel_through_fhir_stops_reminders_as_the_staff_button_does(
        epj: Epj, world: World, make: Factory) -> None:
    staff_made = make.appointment(world.patient_y)
    appointments.cancel(staff_made)
    body = epj.call("POST", "/fhir/Appointment", booking(world.patient_x.id, soon())).get_json()
    epj.call("PUT", f"/fhir/Appointment/{body['id']}",
             booking(world.patient_x.id, soon(), status="cancelled"))
    for appointment_id in (staff_made.id, int(body["id"])):
        statuses = set(db.session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.purpose == MessagePurpose.REMINDER)))
        assert statuses == {MessageStatus.CANCELLED}


# --- hostile input ---------------------------------------------------------------------------

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                     | st.text(max_size=40), lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=12), inner, max_size=3), max_leaves=8)
_ODD_TEXT = st.sampled_from(["", " ", "\x00", "²", "9" * 300, "x" * 3000, "Patient/-1",
                             "Patient/99999999999999", "2026-13-40T25:61:00Z", "metadon",
                             "Patient/1/../2", "booked\n", "<script>"])
_FIELDS = ["resourceType", "id", "identifier", "status", "serviceCategory", "serviceType",
           "appointmentType", "start", "end", "minutesDuration", "patientInstruction",
           "participant", "cancelationReason", "meta", "contained", "extension"]


@st.composite
def hostile_appointments(draw: st.DrawFn, patient_id: int) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(_JSON)  # not an Appointment at all
    resource = booking(patient_id, soon(), ident=draw(st.text(max_size=8)) or "x")
    for name in draw(st.lists(st.sampled_from(_FIELDS), min_size=1, max_size=3)):
        resource[name] = draw(_ODD_TEXT | _JSON)
    if draw(st.booleans()):
        resource["participant"] = [{"actor": {"reference": draw(_ODD_TEXT)},
                                    "status": draw(st.sampled_from(["accepted", "x"]))}]
    return resource


def test_no_appointment_a_record_system_can_send_is_a_server_error(
        epj: Epj, world: World) -> None:
    existing = epj.call("POST", "/fhir/Appointment",
                        booking(world.patient_x.id, soon(), ident="fuzz-base")).get_json()
    statuses: dict[int, int] = {}

    @settings(max_examples=120, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(body=hostile_appointments(world.patient_x.id), put=st.booleans())
    def one(body: Any, put: bool) -> None:
        path = f"/fhir/Appointment/{existing['id']}" if put else "/fhir/Appointment"
        answer = epj.call("PUT" if put else "POST", path, body)
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        kind = answer.get_json()["resourceType"]
        assert kind == ("Appointment" if answer.status_code < 300 else "OperationOutcome")

    one()
    epj.seen[:] = epj.seen[:40]  # FHIR.js checks a sample; every answer was JSON of its kind
    assert 500 not in statuses and sum(statuses.values()) >= 120
    FUZZ_FIGURES.append(f"hostile FHIR Appointments: {sum(statuses.values())} requests, "
                        f"answers {dict(sorted(statuses.items()))}, 0 server errors")


# --- the policy matrix: every read, for the clinic's own record system and another's --------

def test_every_read_reaches_the_own_clinic_and_nothing_of_another(
        app: Flask, epj: Epj, world: World, make: Factory) -> None:
    from server.plans import goals

    patient = world.patient_x
    answered = make.appointment(patient)
    appointments.answer(answered, PatientAnswer.CONFIRMED)
    request = make.take_home(patient)
    goal = goals.add(patient, "Bo i egen leilighet", patient.user)
    named = FeedbackResponse(patient_id=patient.id, clinic_id=world.clinic_a.id,
                             instrument_key="how_are_things", instrument_version=1,
                             scores={"feel": 5}, total=5, via=FeedbackVia.APP, week="2026-W48")
    db.session.add(named)
    db.session.commit()
    epj.call("GET", f"/fhir/Patient/{patient.id}")
    event = db.session.scalars(select(AccessLogEntry.id).where(
        AccessLogEntry.patient_id == patient.id)).first()
    p = patient.id
    reads = {
        "fhir.read_patient": f"/fhir/Patient/{p}",
        "fhir.search_patients": f"/fhir/Patient?_id={p}",
        "fhir.read_appointment": f"/fhir/Appointment/{answered.id}",
        "fhir.search_appointments": f"/fhir/Appointment?patient={p}",
        "fhir.read_response": f"/fhir/AppointmentResponse/{answered.id}",
        "fhir.search_responses": f"/fhir/AppointmentResponse?patient={p}",
        "fhir.read_task": f"/fhir/Task/{request.id}",
        "fhir.search_tasks": f"/fhir/Task?patient={p}",
        "fhir.read_medication_request": f"/fhir/MedicationRequest/{request.id}",
        "fhir.search_medication_requests": f"/fhir/MedicationRequest?patient={p}",
        "fhir.read_questionnaire": "/fhir/Questionnaire/how-are-things-v1",
        "fhir.search_questionnaires": "/fhir/Questionnaire",
        "fhir.read_questionnaire_response": f"/fhir/QuestionnaireResponse/{named.id}",
        "fhir.search_questionnaire_responses": f"/fhir/QuestionnaireResponse?patient={p}",
        "fhir.read_care_team": f"/fhir/CareTeam/{p}",
        "fhir.search_care_teams": f"/fhir/CareTeam?patient={p}",
        "fhir.read_care_plan": f"/fhir/CarePlan/{p}",
        "fhir.search_care_plans": f"/fhir/CarePlan?patient={p}",
        "fhir.read_goal": f"/fhir/Goal/{goal.id}",
        "fhir.search_goals": f"/fhir/Goal?patient={p}",
        "fhir.read_audit_event": f"/fhir/AuditEvent/{event}",
        "fhir.search_audit_events": f"/fhir/AuditEvent?patient={p}",
    }
    gets = {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("fhir.") and "GET" in (rule.methods or ())}
    assert set(reads) == gets - {"fhir.metadata"}
    no_patient_data = {"fhir.read_questionnaire", "fhir.search_questionnaires"}
    for endpoint, path in reads.items():
        own = epj.call("GET", path)
        assert own.status_code == 200, (endpoint, own.get_json())
        other = epj.call("GET", path, client_id="epj-b")
        if endpoint in no_patient_data:
            assert other.status_code == 200
        elif endpoint == "fhir.search_patients":  # a search by id finds no one there
            assert other.status_code == 200 and other.get_json()["total"] == 0
        else:
            assert other.status_code == 404, endpoint
    assert system_reads(patient.id) >= len(reads) - len(no_patient_data)
    assert not db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.clinic_id == world.clinic_b.id))


def test_a_former_clinic_s_record_system_reaches_nothing_after_a_move(
        epj: Epj, world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    assert epj.call("GET", f"/fhir/Appointment/{appointment.id}").status_code == 200
    world.patient_x.clinic_id = world.clinic_b.id  # the move between clinics went through
    db.session.commit()
    for path in (f"/fhir/Patient/{world.patient_x.id}", f"/fhir/Appointment/{appointment.id}",
                 f"/fhir/Appointment?patient={world.patient_x.id}",
                 f"/fhir/AuditEvent?patient={world.patient_x.id}"):
        assert epj.call("GET", path).status_code == 404, path
    assert epj.call("GET", f"/fhir/Patient/{world.patient_x.id}", client_id="epj-b") \
        .status_code == 200  # the new clinic's record system
