"""Put messages in the outbox, in the caller's transaction, and take them back out.

Nothing here commits: the change that causes a message and the message
itself are committed together by the calling service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from server.extensions import db
from server.models import (
    Appointment,
    Channel,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientProfile,
)
from server.models.base import utcnow

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


def appointment_params(appointment: Appointment) -> dict[str, Any]:
    """The values notification templates may use. Deliberately no service name."""
    return {
        "starts_at": appointment.starts_at.isoformat(),
        "address": appointment.address,
        "meeting": appointment.meeting.value,
        "prepare": appointment.prepare,
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
    check_existing: bool = True,
) -> OutboxMessage | None:
    """Add one message to the session, unless its key exists already or no channel fits.

    ``check_existing=False`` skips the look-up for keys that cannot exist yet
    (a new appointment's); the unique constraint still guards them.
    """
    plan = channels if channels is not None else channel_plan(patient, purpose)
    if not plan:
        return None
    if check_existing and db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        return None
    message = OutboxMessage(
        idempotency_key=key,
        purpose=purpose,
        patient_id=patient.id,
        patient=patient,
        appointment=appointment,
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
