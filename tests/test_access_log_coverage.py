"""Every staff and relative page that reaches a patient writes the access log
(security review item 6).

The walk below covers every registered endpoint of the staff and relative areas
whose URL names a patient or something of a patient's, so a new page cannot
forget: the loaders in server/policy.py take the log's target as an argument
and write the entry themselves.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from server import policy
from server.extensions import db
from server.models import AccessLogEntry, AccessTarget, Role
from tests.conftest import Client, World, call, endpoint_urls, sign_in_as

#: URL arguments that lead to one patient.
PATIENT_ARGUMENTS = {"patient_id", "appointment_id", "request_id", "access_id", "item_id"}
#: Only for a clinic's former patients (404 for patient X, who is still at clinic A); their
#: log entries are checked in tests/test_transfers.py.
FORMER_ONLY = ("staff_team.former_patient",)
#: Run last: they end what later requests need.
LAST = ("relative.leave",)


def _entries_for(patient_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.patient_id == patient_id)) or 0


def _patient_endpoints(app: Flask, things: dict[str, Any], role: Role) -> list[tuple[str, str, str]]:
    by_endpoint = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    found = []
    for endpoint, method, url in endpoint_urls(app, things):
        area = policy.AREA_ROLES.get(endpoint.split(".")[0], frozenset())
        if role in area and PATIENT_ARGUMENTS & set(by_endpoint[endpoint].arguments) and \
                endpoint not in FORMER_ONLY:
            found.append((endpoint, method, url))
    return sorted(found, key=lambda e: (e[0] in LAST, e[1] == "POST", e[0]))


def test_every_staff_page_that_reaches_a_patient_writes_an_entry(
        app: Flask, world: World, things: dict[str, Any], new_client: Any) -> None:
    doctor, coordinator = new_client(), new_client()
    sign_in_as(doctor, world.doctor_a)
    sign_in_as(coordinator, world.coordinator_a)
    walked = _patient_endpoints(app, things, Role.STAFF)
    assert len(walked) >= 20
    silent = []
    for endpoint, method, url in walked:
        before = _entries_for(world.patient_x.id)
        response = call(doctor, method, url)
        if response.status_code == 403:  # a coordinator's action (disable, enable)
            response = call(coordinator, method, url)
        assert response.status_code in (200, 302, 400), f"{endpoint}: {response.status_code}"
        if _entries_for(world.patient_x.id) == before:
            silent.append(endpoint)
    assert silent == []


def test_every_relative_page_that_reaches_a_patient_writes_an_entry(
        app: Flask, world: World, things: dict[str, Any], client: Client) -> None:
    sign_in_as(client, world.relative)
    walked = _patient_endpoints(app, things, Role.RELATIVE)
    assert {e for e, _, _ in walked} >= {"relative.patient", "relative.appointment_list",
                                         "relative.observe", "relative.leave"}
    silent = []
    for endpoint, method, url in walked:
        before = _entries_for(world.patient_x.id)
        response = call(client, method, url)
        assert response.status_code in (200, 302), f"{endpoint}: {response.status_code}"
        if _entries_for(world.patient_x.id) == before:
            silent.append(endpoint)
    assert silent == []
    roles = {e.viewer_role for e in db.session.scalars(select(AccessLogEntry))}
    assert roles == {"relative"}


def test_a_search_by_number_logs_each_patient_it_shows(client: Client, world: World) -> None:
    """The review's case: a search by phone number returned a patient's name unlogged."""
    sign_in_as(client, world.doctor_a)
    digits = (world.patient_y.user.phone or "")[-6:]
    page = client.get(f"/staff/patients?q={digits}")
    assert "Yngve Pasient" in page.text and "Xena Pasient" not in page.text
    [entry] = db.session.scalars(select(AccessLogEntry)).all()
    assert entry.patient_id == world.patient_y.id and entry.target is AccessTarget.NAME


def test_the_appointment_edit_page_is_logged_as_the_appointment(
        client: Client, world: World, things: dict[str, Any]) -> None:
    sign_in_as(client, world.doctor_a)
    before = set(db.session.scalars(select(AccessLogEntry.id)))
    assert client.get(f"/staff/appointments/{things['appointment_id']}/edit").status_code == 200
    [entry] = [e for e in db.session.scalars(select(AccessLogEntry)) if e.id not in before]
    assert entry.target is AccessTarget.APPOINTMENT and entry.viewer_user_id == world.doctor_a.id


def test_the_patient_sees_name_only_reads_in_plain_words(client: Client, world: World,
                                                          new_client: Any) -> None:
    staff = new_client()
    sign_in_as(staff, world.doctor_a)
    staff.get(f"/staff/patients/{world.patient_x.id}/appointments/new")
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/who-has-seen").text
    assert "Doktor A" in page and "a page with your name on it" in page
