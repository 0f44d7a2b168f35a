"""Patients see every appointment in one list and answer; staff record, move and cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    Appointment,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientAnswer,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from tests.conftest import Client, Factory, World, sign_in_as


def messages_of(appointment: Appointment) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment.id).order_by(OutboxMessage.id)))


def test_reminders_are_planned_in_the_same_transaction(world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    kinds = sorted((m.purpose.value, m.idempotency_key.split(":")[-1]) for m in
                   messages_of(appointment))
    assert kinds == [("notice", "v1"), ("reminder", "evening"), ("reminder", "h2")]
    assert all(m.status is MessageStatus.PENDING and m.channels == ["sms"]
               for m in messages_of(appointment))


def test_patient_sees_one_compact_list_and_every_detail_on_the_appointment(
        client: Client, world: World, make: Factory) -> None:
    first = make.appointment(world.patient_x, starts_in=timedelta(days=1),
                             cancel_by=utcnow() + timedelta(hours=12))
    make.appointment(world.patient_x, starts_in=timedelta(days=4), service_name="NAV Sentrum",
                     meet_role="veileder", meet_name="Nina", address="Karl Johans gate 1")
    make.appointment(world.patient_y, service_name="Yngves time")
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/appointments/").text
    assert page.index("Legekontoret på Torget") < page.index("NAV Sentrum")
    assert "Yngves time" not in page
    assert "Tomorrow at" in page  # the day in words, relative to today
    assert page.count("You have not answered yet.") == 2  # the answer as a tag on each card
    assert page.count(">I'm coming<") == 1  # the buttons on the next one only
    detail = client.get(f"/me/appointments/{first.id}").text
    assert "Meeting in person" in detail and "fastlege, Dr. Berg" in detail
    assert "https://www.openstreetmap.org/search?query=Torget+1%2C+0150+Oslo" in detail
    assert "Ta med bankkortet ditt" in detail
    assert "Cancel without a fee" in detail
    assert "<iframe" not in page + detail


def test_names_hidden_when_the_clinic_does_not_allow(client: Client, world: World,
                                                      make: Factory) -> None:
    world.clinic_a.show_staff_names = False
    db.session.commit()
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.patient_x.user)
    page = client.get(f"/me/appointments/{appointment.id}").text
    assert "fastlege" in page and "Dr. Berg" not in page


def test_times_are_shown_in_oslo_time(client: Client, world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    appointment.starts_at = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in summer
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    page = client.get(f"/me/appointments/{appointment.id}").text
    assert "Thursday, 1 July 2027 at 10:00" in page  # British English, Oslo time


def test_past_appointments_are_listed_apart(client: Client, world: World, make: Factory) -> None:
    old = make.appointment(world.patient_x, service_name="Gammel time")
    old.starts_at = utcnow() - timedelta(days=3)
    db.session.commit()
    make.appointment(world.patient_x, service_name="Ny time")
    sign_in_as(client, world.patient_x.user)
    upcoming = client.get("/me/appointments/").text
    assert "Ny time" in upcoming and "Gammel time" not in upcoming
    past = client.get("/me/appointments/past").text
    assert "Gammel time" in past and "Ny time" not in past


def test_confirm_shows_on_the_appointment_and_the_worklist(
    client: Client, world: World, make: Factory, new_client  # type: ignore[no-untyped-def]
) -> None:
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.patient_x.user)
    url = f"/me/appointments/{appointment.id}"
    response = client.submit(f"{url}/confirm", page=url, follow_redirects=True)
    assert "The clinic can see that you are coming." in response.text
    assert "You said you are coming." in response.text
    staff = new_client()
    sign_in_as(staff, world.doctor_a)
    worklist = staff.get("/staff/worklist").text
    assert "Xena Pasient" in worklist and "Answer: Coming" in worklist
    assert "Coming" in staff.get(f"/staff/appointments/{appointment.id}").text


def test_cannot_come_with_reason_and_call_me(client: Client, world: World,
                                             make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.patient_x.user)
    url = f"/me/appointments/{appointment.id}/cannot-come"
    response = client.submit(url, {"reason": "Syk", "call_me": "y"})
    assert response.status_code == 302
    db.session.refresh(appointment)
    assert appointment.answer is PatientAnswer.CANNOT_COME
    assert appointment.call_me and appointment.answer_reason == "Syk"
    item = db.session.scalars(select(WorkItem).where(WorkItem.kind == WorkKind.ANSWER)).one()
    assert item.details == {"answer": "cannot_come", "reason": "Syk", "call_me": True,
                            "via": "app"}


def test_too_long_reason_keeps_the_text_and_changes_nothing(
    client: Client, world: World, make: Factory
) -> None:
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.patient_x.user)
    text = "å" * 501
    response = client.submit(f"/me/appointments/{appointment.id}/cannot-come",
                             {"reason": text, "call_me": "y"})
    assert response.status_code == 200
    assert "Please keep it under 500 characters." in response.text
    assert text in response.text
    db.session.refresh(appointment)
    assert appointment.answer is PatientAnswer.NONE
    assert db.session.scalar(select(WorkItem)) is None


def test_ask_for_another_time(client: Client, world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.patient_x.user)
    client.submit(f"/me/appointments/{appointment.id}/new-time", {"reason": "Etter kl. 12"})
    db.session.refresh(appointment)
    assert appointment.answer is PatientAnswer.NEW_TIME
    assert appointment.answer_reason == "Etter kl. 12"


def test_answering_a_started_appointment_is_refused_kindly(client: Client, world: World,
                                                            make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    appointment.starts_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    url = f"/me/appointments/{appointment.id}"
    response = client.submit(f"{url}/confirm", page=url, follow_redirects=True)
    assert "This appointment has already started." in response.text


def test_calendar_file_is_discreet_by_default(client: Client, world: World,
                                              make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.patient_x.user)
    response = client.get(f"/me/appointments/{appointment.id}/calendar.ics")
    assert response.mimetype == "text/calendar"
    body = response.data.decode()
    assert "SUMMARY:Appointment\r\n" in body
    assert "Legekontoret" not in body and "medisin" not in body
    assert "DTSTART:" in body and "LOCATION:Torget 1" in body
    detailed = client.get(f"/me/appointments/{appointment.id}/calendar.ics?details=1")
    assert "Legekontoret på Torget" in detailed.data.decode()


def test_staff_record_move_and_cancel(client: Client, world: World) -> None:
    sign_in_as(client, world.doctor_a)
    day = (utcnow() + timedelta(days=5)).date().isoformat()
    response = client.submit(f"/staff/patients/{world.patient_x.id}/appointments/new", {
        "day": day, "at": "10:30", "duration": "45", "service": "municipality",
        "service_name": "NAV Grünerløkka", "meeting": "in_person", "place_name": "NAV",
        "address": "Thorvald Meyers gate 1", "meet_role": "veileder", "meet_name": "",
        "prepare": "", "cancel_by_day": "", "cancel_by_at": "",
    })
    assert response.status_code == 302
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.starts_at.astimezone().tzinfo is not None
    first = {m.idempotency_key for m in messages_of(appointment)}
    assert {"notice:1:v1", "reminder:1:v1:evening", "reminder:1:v1:h2"} == first
    # Moving re-plans: old pending reminders are cancelled, new ones planned.
    new_day = (utcnow() + timedelta(days=8)).date().isoformat()
    response = client.submit(f"/staff/appointments/{appointment.id}/edit", {
        "day": new_day, "at": "13:00", "duration": "45", "service": "municipality",
        "service_name": "NAV Grünerløkka", "meeting": "phone",
    })
    assert response.status_code == 302
    states = {m.idempotency_key: m.status for m in messages_of(appointment)}
    assert states["reminder:1:v1:evening"] is MessageStatus.CANCELLED
    assert states["reminder:1:v2:evening"] is MessageStatus.PENDING
    # Cancelling stops everything not yet sent.
    client.submit(f"/staff/appointments/{appointment.id}/cancel",
                  page=f"/staff/appointments/{appointment.id}")
    assert all(m.status is MessageStatus.CANCELLED for m in messages_of(appointment))


@pytest.mark.parametrize(("fields", "message"), [
    ({"day": "", "at": "10:30"}, "Choose a date."),
    ({"day": "2031-01-01", "at": "25:99"}, "time"),
    ({"day": "2020-01-01", "at": "10:00"}, "The appointment must be in the future."),
    ({"day": "2031-03-30", "at": "02:30"}, "the clocks go forward"),
    ({"day": "2031-01-01", "at": "10:00", "service_name": ""}, "Write the name of the service."),
    ({"day": "2031-01-01", "at": "10:00", "duration": "0"}, "Between 5 and 720 minutes."),
])
def test_staff_bad_input_keeps_what_was_typed(client: Client, world: World,
                                              fields: dict[str, str], message: str) -> None:
    sign_in_as(client, world.doctor_a)
    data = {"duration": "30", "service": "gp", "service_name": "Fastlegen",
            "meeting": "in_person", "address": "Min adresse 7"}
    data.update(fields)
    response = client.submit(f"/staff/patients/{world.patient_x.id}/appointments/new", data)
    assert response.status_code == 200
    assert message in response.text
    assert "Min adresse 7" in response.text
    assert db.session.scalar(select(Appointment)) is None


def test_staff_opening_an_appointment_is_logged(client: Client, world: World,
                                                make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.doctor_a)
    client.get(f"/staff/appointments/{appointment.id}")
    targets = [e.target.value for e in db.session.scalars(select(AccessLogEntry))]
    assert targets == ["appointment"]


def test_other_clinic_and_other_roles_are_refused(client: Client, world: World, make: Factory,
                                                  new_client) -> None:  # type: ignore[no-untyped-def]
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.nurse_b)
    for url in (f"/staff/appointments/{appointment.id}",
                f"/staff/appointments/{appointment.id}/edit"):
        assert client.get(url).status_code == 404
    relative = new_client()
    sign_in_as(relative, world.relative)
    assert relative.get(f"/me/appointments/{appointment.id}").status_code == 404
    assert relative.get("/me/appointments/").status_code == 404


def test_reminder_message_is_cancelled_if_the_appointment_is_cancelled_meanwhile(
    world: World, make: Factory
) -> None:
    from server.notify.worker import Worker
    from server.services import appointments

    appointment = make.appointment(world.patient_x)
    for message in messages_of(appointment):
        message.due_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    worker = Worker(name="test")
    claimed = worker.claim()
    appointments.cancel(appointment)  # after the claim: the messages are in flight
    for message_id in claimed:
        worker.deliver_one(message_id)
    assert {m.status for m in messages_of(appointment)} == {MessageStatus.CANCELLED}
    assert MessagePurpose.NOTICE in {m.purpose for m in messages_of(appointment)}
