"""The letter queue: letters waiting to be printed, by clinic."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import MessageStatus, OutboxMessage, PatientProfile
from server.services.outbox import status_literal


def queued(clinic_ids: list[int]) -> list[OutboxMessage]:
    """Letters waiting for printing in these clinics, oldest first."""
    return list(db.session.scalars(queued_statement(clinic_ids)))


def queued_statement(clinic_ids: list[int]) -> Select[tuple[OutboxMessage]]:
    """The letter queue's query, served by the partial index ix_outbox_message_letter_queue
    (the status is in the SQL, see ``outbox.status_literal``)."""
    return (
        select(OutboxMessage)
        .join(PatientProfile, OutboxMessage.patient_id == PatientProfile.id)
        .where(OutboxMessage.status == status_literal(MessageStatus.LETTER_QUEUED),
               PatientProfile.clinic_id.in_(clinic_ids))
        .options(joinedload(OutboxMessage.patient).joinedload(PatientProfile.user),
                 joinedload(OutboxMessage.patient).joinedload(PatientProfile.clinic))
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
    )


def mark_printed(clinic_ids: list[int], message_ids: list[int]) -> int:
    """Mark these queued letters of these clinics as printed. Commits; returns the count."""
    chosen = set(message_ids)
    messages = [m for m in queued(clinic_ids) if m.id in chosen]
    for message in messages:
        message.status = MessageStatus.PRINTED
        message.note("printed")
    db.session.commit()
    return len(messages)



