"""A missed appointment is a signal, not a sanction: outreach work and a kind message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import (
    Attendance,
    Channel,
    MessagePurpose,
    OutboxMessage,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from tests.conftest import Client, Factory, World, sign_in_as


def started(make: Factory, patient, **fields):  # type: ignore[no-untyped-def]
    appointment = make.appointment(patient, **fields)
    appointment.starts_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    return appointment


def test_marking_missed_creates_outreach_and_a_kind_message(client: Client, world: World,
                                                            make: Factory) -> None:
    world.patient_x.contact_channels = [Channel.SMS.value, Channel.LETTER.value]
    db.session.commit()
    appointment = started(make, world.patient_x)
    sign_in_as(client, world.coordinator_a)
    response = client.submit(f"/staff/appointments/{appointment.id}/attendance",
                             {"attendance": "missed"}, page=f"/staff/appointments/{appointment.id}",
                             follow_redirects=True)
    assert "An outreach task is on the worklist." in response.text
    db.session.refresh(appointment)
    assert appointment.attendance is Attendance.MISSED
    item = db.session.scalars(select(WorkItem)).one()
    assert item.kind is WorkKind.OUTREACH
    assert item.details["methods"] == ["call", "sms", "letter", "home_visit"]
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.NO_SHOW)).one()
    assert message.template == "no_show" and message.channels == ["sms", "letter"]
    worklist = client.get("/staff/worklist").text
    assert "Missed appointment: reach out" in worklist
    assert "Call, SMS, Letter, Home visit" in worklist


def test_nothing_about_the_patient_changes(client: Client, world: World, make: Factory) -> None:
    appointment = started(make, world.patient_x)
    other = make.appointment(world.patient_x, starts_in=timedelta(days=7))
    before = (world.patient_x.user.disabled_at, list(world.patient_x.contact_channels))
    sign_in_as(client, world.doctor_a)
    client.submit(f"/staff/appointments/{appointment.id}/attendance", {"attendance": "missed"},
                  page=f"/staff/appointments/{appointment.id}")
    db.session.refresh(world.patient_x.user)
    db.session.refresh(other)
    assert (world.patient_x.user.disabled_at, world.patient_x.contact_channels) == before
    assert other.status.value == "scheduled" and other.attendance is Attendance.UNKNOWN
    # The patient can still sign in and sees the next appointment as before.
    patient = client.application.test_client()
    sign_in_as(patient, world.patient_x.user)
    assert patient.get("/me/appointments/").status_code == 200


def test_marking_missed_twice_creates_one_task(client: Client, world: World,
                                               make: Factory) -> None:
    appointment = started(make, world.patient_x)
    sign_in_as(client, world.doctor_a)
    for _ in range(2):
        client.submit(f"/staff/appointments/{appointment.id}/attendance",
                      {"attendance": "missed"}, page=f"/staff/appointments/{appointment.id}")
    assert len(db.session.scalars(select(WorkItem)).all()) == 1


def test_future_appointments_cannot_be_marked(client: Client, world: World,
                                              make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.doctor_a)
    response = client.submit(f"/staff/appointments/{appointment.id}/attendance",
                             {"attendance": "missed"}, page=f"/staff/appointments/{appointment.id}",
                             follow_redirects=True)
    assert "once the appointment has started" in response.text
    assert db.session.scalar(select(WorkItem)) is None


def test_worklist_item_is_marked_done_with_a_note(client: Client, world: World,
                                                  make: Factory, new_client) -> None:  # type: ignore[no-untyped-def]
    appointment = started(make, world.patient_x)
    sign_in_as(client, world.doctor_a)
    client.submit(f"/staff/appointments/{appointment.id}/attendance", {"attendance": "missed"},
                  page=f"/staff/appointments/{appointment.id}")
    item = db.session.scalars(select(WorkItem)).one()
    other = new_client()
    sign_in_as(other, world.nurse_b)
    assert other.post(f"/staff/worklist/{item.id}/done",
                      data={"csrf_token": other.csrf_token("/staff/")}).status_code == 404
    client.submit(f"/staff/worklist/{item.id}/done", {"note": "Ringte, ny time fredag"},
                  page="/staff/worklist")
    db.session.refresh(item)
    assert item.status.value == "done" and item.done_note == "Ringte, ny time fredag"
    assert "Nothing is waiting." in client.get("/staff/worklist").text


def test_worklist_shows_only_my_clinic(client: Client, world: World, make: Factory) -> None:
    started(make, world.patient_b)
    appointment_b = make.appointment(world.patient_b)
    from server.models import PatientAnswer
    from server.services import appointments

    appointments.answer(appointment_b, PatientAnswer.CONFIRMED)
    sign_in_as(client, world.doctor_a)
    assert "Berit Pasient" not in client.get("/staff/worklist").text
