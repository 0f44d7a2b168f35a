"""appointments.record_many, the bulk path of the CSV import, stores what create_many stores.

The import writes its rows with COPY on PostgreSQL and without ORM objects; these tests hold
it to the one-by-one path: the same appointments (every column but the id and the moments
of writing), the same messages with the same keys, purposes, channels and due times.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from server.extensions import db
from server.models import (
    Appointment,
    Channel,
    MeetingKind,
    OutboxMessage,
    PatientProfile,
    ReminderSettings,
    ServiceKind,
    User,
)
from server.models.base import utcnow
from server.services import appointments
from tests.conftest import Factory, World

SKIPPED = {"id", "created_at", "updated_at"}


def _inputs(patients: list[PatientProfile]) -> list[tuple[PatientProfile,
                                                          appointments.AppointmentInput]]:
    """60 appointments: every patient, times in and out of quiet hours, one within a day
    (no evening reminder), padded text, optional fields set on some."""
    start = utcnow().replace(second=0, microsecond=0)
    items = []
    for n in range(60):
        starts_at = start + timedelta(hours=5 + 7 * n, minutes=5 * (n % 12))
        items.append((patients[n % len(patients)], appointments.AppointmentInput(
            starts_at=starts_at, duration_minutes=(30, 45, 720)[n % 3],
            service=(ServiceKind.CLINIC, ServiceKind.GP, ServiceKind.OTHER)[n % 3],
            service_name=f"  Tjeneste {n} ", meeting=(MeetingKind.IN_PERSON,
                                                        MeetingKind.VIDEO)[n % 2],
            place_name=" Poliklinikken" if n % 2 else "", address=f"Gate {n}, 0150 Oslo ",
            meet_role="lege " if n % 3 else "", meet_name="Dr. Berg" if n % 4 else "",
            prepare=" Ta med bankkortet ditt" if n % 5 else "",
            cancel_by=starts_at - timedelta(hours=20) if n % 6 == 0 else None,
            is_team_meeting=n % 7 == 0,
            identifier=("urn:oid:2.16.578.1", f"A-{n}") if n % 8 == 0 else None)))
    return items


def _stored(ids: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The appointments ``ids`` and their messages, with the ids replaced by positions."""
    db.session.expire_all()
    position = {appointment_id: n for n, appointment_id in enumerate(ids)}
    rows = {a.id: a for a in db.session.scalars(select(Appointment).where(
        Appointment.id.in_(ids)))}
    stored = []
    for appointment_id in ids:
        row = rows[appointment_id]
        assert row.created_at is not None and row.updated_at is not None
        stored.append({c.key: getattr(row, c.key) for c in Appointment.__table__.columns
                       if c.key not in SKIPPED})
    messages = []
    for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.appointment_id.in_(ids))
                                .order_by(OutboxMessage.idempotency_key)):
        n = position[m.appointment_id]
        values = {c.key: getattr(m, c.key) for c in OutboxMessage.__table__.columns
                  if c.key not in SKIPPED}
        values["appointment_id"] = n
        values["idempotency_key"] = m.idempotency_key.replace(f":{m.appointment_id}:", f":#{n}:")
        messages.append(values)
    messages.sort(key=lambda v: v["idempotency_key"])
    return stored, messages


def test_record_many_stores_what_create_many_stores(make: Factory, world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    clinic = make.clinic()
    clinic.offered_channels = ["push", "sms", "letter"]
    clinic.asks_before_appointment = True
    patients = [make.patient(clinic, channels=channels) for channels in (
        (Channel.SMS,), (Channel.PUSH, Channel.SMS), (Channel.LETTER,),
        (Channel.SMS, Channel.LETTER))]
    db.session.add_all([
        ReminderSettings(patient_id=patients[1].id, evening_before_at=time(19, 0),
                         hours_before=3, quiet_from=time(23, 0), quiet_until=time(7, 0)),
        # Quiet all day but an hour: the notice and most reminders move.
        ReminderSettings(patient_id=patients[3].id, evening_before_at=None, hours_before=4,
                         quiet_from=time(9, 0), quiet_until=time(8, 0))])
    db.session.commit()
    by = db.session.get(User, world.coordinator_a.id)
    now = utcnow()
    monkeypatch.setattr(appointments, "utcnow", lambda: now)  # one moment for both paths
    items = _inputs(patients)

    assert appointments.record_many(items, by) == 60
    bulk_ids = list(db.session.scalars(select(Appointment.id).order_by(Appointment.id)))
    bulk = _stored(bulk_ids)
    db.session.execute(delete(OutboxMessage))
    db.session.execute(delete(Appointment))
    db.session.commit()

    one_by_one_ids = [a.id for a in appointments.create_many(items, by)]
    one_by_one = _stored(one_by_one_ids)

    assert len(bulk[0]) == 60 and len(bulk[1]) > 60  # notices and reminders were planned
    assert {m["channels"][0] for m in bulk[1]} == {"sms", "push", "letter"}
    assert bulk[0][0]["created_by_id"] == world.coordinator_a.id
    assert bulk[0][0]["external_id"] == "A-0" and bulk[0][1]["external_id"] is None
    assert bulk_ids == sorted(bulk_ids) and len(set(bulk_ids)) == 60  # in the items' order
    assert bulk[0] == one_by_one[0]
    assert bulk[1] == one_by_one[1]


def test_record_many_refuses_the_first_bad_item_and_writes_nothing(make: Factory,
                                                                   world: World) -> None:
    patient = world.patient_x
    good = appointments.AppointmentInput(
        starts_at=utcnow() + timedelta(days=3), duration_minutes=30, service=ServiceKind.GP,
        service_name="Legekontoret", meeting=MeetingKind.IN_PERSON)
    telling = appointments.AppointmentInput(
        starts_at=utcnow() + timedelta(days=4), duration_minutes=30, service=ServiceKind.GP,
        service_name="Legekontoret", meeting=MeetingKind.IN_PERSON, prepare="Ta med metadon")
    past = appointments.AppointmentInput(
        starts_at=utcnow() - timedelta(days=1), duration_minutes=30, service=ServiceKind.GP,
        service_name="Legekontoret", meeting=MeetingKind.IN_PERSON)
    for items, code in (([good, telling, past], "discreet"), ([good, past, telling], "past")):
        with pytest.raises(appointments.AppointmentError) as raised:
            appointments.record_many([(patient, data) for data in items], None)
        assert raised.value.code == code
        db.session.rollback()
    assert db.session.scalar(select(Appointment.id)) is None
    assert db.session.scalar(select(OutboxMessage.id)) is None
