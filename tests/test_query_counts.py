"""The busiest pages send the same number of SQL statements with 10 rows as with 200.

A page whose statement count grows with the data loads something per row (an N+1) and
gets slower for every patient a clinic takes on. Each test fills the rows a page lists
(bulk INSERTs, like bench/staff_workspace.py, so the test stays fast), renders the page
and counts statements with a ``before_cursor_execute`` listener, then adds rows up to 200
and counts again. The figures of time live in bench/; here only counts are compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert

from server.extensions import db
from server.messages.models import Conversation, ConversationMessage, ConversationStatus, MessageVia
from server.models import (
    Appointment,
    AppointmentStatus,
    MeetingKind,
    PatientAnswer,
    PatientProfile,
    RequestKind,
    RequestStatus,
    Role,
    ServiceKind,
    TakeHomeRequest,
    User,
    WorkItem,
    WorkKind,
    WorkStatus,
)
from server.models.base import utcnow
from server.plans.models import AppointmentAgenda
from server.services.local_time import oslo_today, to_utc
from tests.conftest import World, sign_in_as

SMALL, LARGE = 10, 200


class Statements:
    """Counts statements sent to the database while active (and what they were)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.sent.append(" ".join(statement.split())[:120])


@contextmanager
def counting() -> Iterator[Statements]:
    found = Statements()
    event.listen(db.engine, "before_cursor_execute", found)
    try:
        yield found
    finally:
        event.remove(db.engine, "before_cursor_execute", found)


def _ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    return list(db.session.scalars(
        insert(model).returning(model.id, sort_by_parameter_order=True), rows))


class Crowd:
    """Patients of clinic A, each with the rows the staff pages list, added in steps."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.patients: list[int] = []
        self.users: list[int] = []

    def grow_to(self, total: int) -> None:
        first, now = len(self.patients), utcnow()
        clinic = self.world.clinic_a.id
        new = range(first, total)
        users = _ids(User, [{"role": Role.PATIENT, "display_name": f"Mengde {n}",
                             "phone": f"+4798{n:06d}", "phone_verified_at": now,
                             "language": "nb"} for n in new])
        patients = _ids(PatientProfile, [
            {"user_id": user_id, "clinic_id": clinic, "contact_channels": ["sms"],
             "postal_address": f"Gate {n}, 0001 Testby"} for n, user_id in zip(new, users, strict=True)])
        day_start = to_utc(oslo_today(), _time(8))
        kinds = list(WorkKind)
        appointments = _ids(Appointment, [
            {"patient_id": pid, "clinic_id": clinic, "service": ServiceKind.CLINIC,
             "service_name": "Poliklinikken", "starts_at": day_start + timedelta(minutes=2 * n),
             "duration_minutes": 30, "meeting": MeetingKind.IN_PERSON,
             "place_name": "Poliklinikken", "address": "Storgata 10", "meet_role": "lege",
             "status": AppointmentStatus.SCHEDULED,
             "answer": list(PatientAnswer)[n % len(PatientAnswer)],
             "created_at": now, "updated_at": now, "plan_version": 1}
            for n, pid in zip(new, patients, strict=True)])
        db.session.execute(insert(WorkItem), [
            {"clinic_id": clinic, "patient_id": pid,
             "appointment_id": aid if kinds[n % len(kinds)] in (WorkKind.OUTREACH,
                                                                WorkKind.ANSWER) else None,
             "kind": kinds[n % len(kinds)], "status": WorkStatus.OPEN,
             "details": {"answer": "cannot_come", "methods": ["call", "sms"]},
             "created_at": now - timedelta(hours=n), "due_at": now + timedelta(days=1),
             "assigned_to_id": self.world.doctor_a.id if n % 3 == 0 else None}
            for n, pid, aid in zip(new, patients, appointments, strict=True)])
        db.session.execute(insert(TakeHomeRequest), [
            {"patient_id": pid, "clinic_id": clinic, "kind": RequestKind.PERIOD,
             "status": RequestStatus.SUBMITTED, "client_key": f"crowd-{n}",
             "first_day": oslo_today() + timedelta(days=20 + n % 30),
             "last_day": oslo_today() + timedelta(days=24 + n % 30), "created_at": now}
            for n, pid in zip(new, patients, strict=True)])
        conversations = _ids(Conversation, [
            {"patient_id": pid, "status": ConversationStatus.OPEN,
             "assigned_to_id": self.world.coordinator_a.id if n % 2 else None,
             "started_via": MessageVia.APP, "created_at": now - timedelta(hours=n),
             "last_message_at": now - timedelta(minutes=n), "waiting_since": now}
            for n, pid in zip(new, patients, strict=True)])
        db.session.execute(insert(ConversationMessage), [
            {"conversation_id": cid, "author_id": uid, "from_patient": True,
             "via": MessageVia.APP, "body": f"Spørsmål nummer {n}", "created_at": now}
            for n, cid, uid in zip(new, conversations, users, strict=True)])
        db.session.commit()
        self.patients += patients
        self.users += users


def _time(hour: int) -> Any:
    from datetime import time

    return time(hour, 0)


def fill_patient_home(world: World, total: int, have: int) -> None:
    """Patient X's own rows home looks at: appointments this week without an answer,
    decided take-home requests not yet opened, unread answers, notes not yet read."""
    now, patient = utcnow(), world.patient_x
    new = range(have, total)
    appointments = _ids(Appointment, [
        {"patient_id": patient.id, "clinic_id": patient.clinic_id, "service": ServiceKind.GP,
         "service_name": "Legekontoret", "starts_at": now + timedelta(days=2, minutes=n),
         "duration_minutes": 30, "meeting": MeetingKind.IN_PERSON, "place_name": "Legekontoret",
         "address": "Torget 1", "meet_role": "fastlege", "status": AppointmentStatus.SCHEDULED,
         "answer": PatientAnswer.NONE, "created_at": now, "updated_at": now,
         "plan_version": 1} for n in new])
    db.session.execute(insert(AppointmentAgenda), [
        {"appointment_id": aid, "patient_id": patient.id, "agreed": ["Ny time om en uke."],
         "agreed_at": now - timedelta(minutes=n), "agreed_by_id": world.doctor_a.id}
        for n, aid in zip(new, appointments, strict=True)])
    db.session.execute(insert(TakeHomeRequest), [
        {"patient_id": patient.id, "clinic_id": patient.clinic_id, "kind": RequestKind.PERIOD,
         "status": RequestStatus.APPROVED, "client_key": f"home-{n}",
         "first_day": oslo_today() + timedelta(days=40), "created_at": now,
         "last_day": oslo_today() + timedelta(days=44), "decided_at": now - timedelta(hours=n),
         "decided_by_id": world.doctor_a.id, "decision_reason": "Stabil."} for n in new])
    conversations = _ids(Conversation, [
        {"patient_id": patient.id, "status": ConversationStatus.OPEN,
         "started_via": MessageVia.APP, "created_at": now, "last_message_at": now}
        for _ in new])
    db.session.execute(insert(ConversationMessage), [
        {"conversation_id": cid, "author_id": world.coordinator_a.id, "from_patient": False,
         "via": MessageVia.APP, "body": f"Svar {n}", "created_at": now}
        for n, cid in zip(new, conversations, strict=True)])
    db.session.commit()


def statements_for(client: Any, url: str, expect: str) -> tuple[list[str], str]:
    """The statements of one GET of ``url`` (after one unmeasured GET, so what a first visit
    sets up is not counted), and the page."""
    client.get(url)
    with counting() as found:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert expect in response.text, (url, expect)
    return found.sent, response.text


def assert_same(small: list[str], large: list[str], page: str) -> None:
    assert len(small) == len(large), (
        f"{page}: {len(small)} statements with {SMALL} rows, {len(large)} with {LARGE}; the "
        "extra ones:\n" + "\n".join(s for s in large if large.count(s) > small.count(s)))


def test_patient_home_sends_as_many_statements_for_200_rows_as_for_10(
        app: Flask, world: World, client: Any) -> None:
    fill_patient_home(world, SMALL, 0)
    sign_in_as(client, world.patient_x.user)
    small, page = statements_for(client, "/me/", "for-you-decision")
    assert page.count("for-you-appointment") == SMALL
    assert "for-you-message" in page and "for-you-notes" in page
    fill_patient_home(world, LARGE, SMALL)
    large, page = statements_for(client, "/me/", "for-you-decision")
    assert page.count("for-you-appointment") == LARGE
    assert_same(small, large, "home")
    # The session, the upcoming appointments, one summary of what is new, and the decisions
    # and notes that summary found.
    assert len(small) == 5, small


@pytest.mark.parametrize(("url", "newest"), [
    # Today lists every appointment of the day; the worklist and the inbox show a page of
    # rows, the newest first.
    ("/staff/?who=all", "Mengde 199"),
    ("/staff/worklist", "Mengde 199"),
    ("/staff/messages/", "Mengde 0"),
])
def test_staff_pages_send_as_many_statements_for_200_rows_as_for_10(
        app: Flask, world: World, client: Any, url: str, newest: str) -> None:
    crowd = Crowd(world)
    crowd.grow_to(SMALL)
    sign_in_as(client, world.doctor_a)
    small, page = statements_for(client, url, "Mengde 9<")
    crowd.grow_to(LARGE)
    large, page = statements_for(client, url, newest)
    assert_same(small, large, url)
