"""The letter queue: letters waiting to be printed, by clinic."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import MessageStatus, OutboxMessage, PatientProfile


def queued(clinic_ids: list[int]) -> list[OutboxMessage]:
    """Letters waiting for printing in these clinics, oldest first."""
    return list(db.session.scalars(
        select(OutboxMessage)
        .join(PatientProfile, OutboxMessage.patient_id == PatientProfile.id)
        .where(OutboxMessage.status == MessageStatus.LETTER_QUEUED,
               PatientProfile.clinic_id.in_(clinic_ids))
        .options(joinedload(OutboxMessage.patient).joinedload(PatientProfile.user),
                 joinedload(OutboxMessage.patient).joinedload(PatientProfile.clinic))
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
    ))


def mark_printed(clinic_ids: list[int], message_ids: list[int]) -> int:
    """Mark these queued letters of these clinics as printed. Commits; returns the count."""
    chosen = set(message_ids)
    messages = [m for m in queued(clinic_ids) if m.id in chosen]
    for message in messages:
        message.status = MessageStatus.PRINTED
        message.note("printed")
    db.session.commit()
    return len(messages)



