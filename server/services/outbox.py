"""Put messages in the outbox, in the caller's transaction, and take them back out.

Nothing here commits: the change that causes a message and the message
itself are committed together by the calling service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, insert, select, update

from server.extensions import db
from server.models import (
    Appointment,
    Channel,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientProfile,
    ServiceKind,
)
from server.models.base import copy_type, utcnow

#: Channels that interrupt a person (quiet hours apply) versus paper.
INSTANT = (Channel.PUSH.value, Channel.SMS.value)


def channel_plan(patient: PatientProfile, purpose: MessagePurpose) -> list[str]:
    """The channels to try for ``purpose``, in the patient's order, within what the clinic offers.

    Reminders and replies go by push and SMS, and end in the letter queue when
    the patient accepts letters, so a reminder that cannot be sent is never
    lost. Notices and no-show messages use every channel the patient chose.
    """
    offered = set(patient.clinic.offered_channels or [])
    chosen = [c for c in patient.contact_channels if c in offered]
    if purpose is MessagePurpose.PUSH_TEST:
        return [Channel.PUSH.value]
    if purpose is MessagePurpose.REPLY:
        return [Channel.SMS.value]
    instant = [c for c in chosen if c in INSTANT]
    if purpose is MessagePurpose.REMINDER and not instant:
        return []  # a paper reminder the evening before would arrive too late
    letters = [Channel.LETTER.value] if Channel.LETTER.value in chosen else []
    return instant + letters


def reads_on_paper(patient: PatientProfile) -> bool:
    """Whether the patient follows by letter rather than the app: letters chosen and offered,
    no push, and an address to send to. Such patients get the care team and the crisis plan
    on paper when they change."""
    return (Channel.PUSH.value not in patient.contact_channels
            and Channel.LETTER.value in patient.contact_channels
            and Channel.LETTER.value in (patient.clinic.offered_channels or [])
            and bool(patient.postal_address.strip()))


def appointment_params(appointment: Appointment) -> dict[str, Any]:
    """The values notification templates may use. Deliberately no service name."""
    return {
        "starts_at": appointment.starts_at.isoformat(),
        "address": appointment.address,
        "meeting": appointment.meeting.value,
        "prepare": appointment.prepare,
        # A reminder may invite a reply with what to talk about (the clinic's choice).
        "ask_topics": bool(appointment.clinic.asks_before_appointment
                           and appointment.service is ServiceKind.CLINIC),
    }


def enqueue(
    *,
    key: str,
    purpose: MessagePurpose,
    patient: PatientProfile,
    template: str,
    due_at: datetime | None = None,
    params: dict[str, Any] | None = None,
    appointment: Appointment | None = None,
    channels: list[str] | None = None,
    recipient_user_id: int | None = None,
) -> OutboxMessage | None:
    """Add one message to the session, unless its key exists already or no channel fits."""
    plan = channels if channels is not None else channel_plan(patient, purpose)
    if not plan:
        return None
    if db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        return None
    message = OutboxMessage(
        idempotency_key=key,
        purpose=purpose,
        patient_id=patient.id,
        patient=patient,
        appointment=appointment,
        recipient_user_id=recipient_user_id,
        template=template,
        params=params or {},
        channels=plan,
        channel_index=0,
        status=MessageStatus.PENDING,
        due_at=due_at or utcnow(),
        history=[],
    )
    db.session.add(message)
    return message


@dataclass(frozen=True)
class PlannedMessage:
    """A message computed by a planner, written in bulk by ``insert_planned``."""

    key: str
    purpose: MessagePurpose
    patient_id: int
    appointment_id: int | None
    template: str
    params: dict[str, Any]
    channels: list[str]
    due_at: datetime


def status_literal(status: MessageStatus) -> BindParameter[MessageStatus]:
    """A status written into the SQL rather than sent as a parameter, for the queries that
    the partial indexes by status serve (the worker's claims, the letter queue): a database
    uses a partial index only when it can prove the index's condition from the query, which
    a parameter does not allow (SQLite never; PostgreSQL not in the generic plan it switches
    to for a statement psycopg has prepared)."""
    return bindparam(None, status, type_=OutboxMessage.__table__.c.status.type,
                     literal_execute=True)


#: Every column ``insert_planned`` writes; the others keep their database defaults (NULL).
_BULK_COLUMNS = ("idempotency_key", "purpose", "patient_id", "appointment_id", "template",
                 "params", "channels", "channel_index", "status", "due_at", "attempts",
                 "claimed_by", "last_error", "history", "delivery_status", "sent_to", "created_at")


def insert_planned(messages: list[PlannedMessage]) -> int:
    """Write planned messages in the caller's transaction, fast; returns how many.

    On PostgreSQL this uses COPY (psycopg's ``Cursor.copy``), since planning
    reminders for a whole import or a clinic's migration means hundreds of
    thousands of rows; elsewhere one executemany INSERT. The rows are not
    loaded into the session.
    """
    if not messages:
        return 0
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        naive_now = now.replace(tzinfo=None)
        raw = db.session.connection().connection.driver_connection
        # Planners share one params dict per appointment and one channel list per patient:
        # each object is encoded once (keyed by identity; all of them live until the end).
        encoded: dict[int, str] = {}

        def as_json(value: object) -> str:
            found = encoded.get(id(value))
            if found is None:
                found = encoded[id(value)] = json.dumps(value)
            return found

        dialect = db.session.get_bind().dialect
        columns = OutboxMessage.__table__.columns
        with raw.cursor() as cursor, cursor.copy(
                f"COPY outbox_message ({', '.join(_BULK_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types([copy_type(columns[name], dialect) for name in _BULK_COLUMNS])
            for m in messages:
                copy.write_row((
                    m.key, m.purpose.value, m.patient_id, m.appointment_id, m.template,
                    as_json(m.params), as_json(m.channels), 0, MessageStatus.PENDING.value,
                    m.due_at.astimezone(UTC).replace(tzinfo=None), 0, "", "", "[]", "", "",
                    naive_now,
                ))
    else:
        db.session.execute(insert(OutboxMessage), [
            {"idempotency_key": m.key, "purpose": m.purpose, "patient_id": m.patient_id,
             "appointment_id": m.appointment_id, "template": m.template, "params": m.params,
             "channels": m.channels, "channel_index": 0, "status": MessageStatus.PENDING,
             "due_at": m.due_at, "attempts": 0, "claimed_by": "", "last_error": "",
             "history": [], "delivery_status": "", "sent_to": "", "created_at": now}
            for m in messages
        ])
    return len(messages)


def cancel_pending(appointment: Appointment, purposes: tuple[MessagePurpose, ...]) -> int:
    """Cancel messages about ``appointment`` not yet sent; returns how many."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.appointment_id == appointment.id,
            OutboxMessage.purpose.in_(purposes),
            OutboxMessage.status == MessageStatus.PENDING,
        )
        .values(status=MessageStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def messages_for_appointment(appointment_id: int) -> list[OutboxMessage]:
    """Every message about one appointment, for the staff view of its state."""
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.appointment_id == appointment_id)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
    ))
