"""The clinic's worklist: open items first, oldest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import PatientProfile, User, WorkItem, WorkStatus
from server.models.base import utcnow


def open_items(clinic_ids: list[int], limit: int = 300) -> list[WorkItem]:
    """Open work for these clinics, oldest first, with patient and appointment loaded."""
    return list(db.session.scalars(
        select(WorkItem)
        .where(WorkItem.clinic_id.in_(clinic_ids), WorkItem.status == WorkStatus.OPEN)
        .options(joinedload(WorkItem.patient).joinedload(PatientProfile.user),
                 joinedload(WorkItem.appointment))
        .order_by(WorkItem.created_at, WorkItem.id)
        .limit(limit)
    ))


def for_appointment(appointment_id: int) -> list[WorkItem]:
    return list(db.session.scalars(
        select(WorkItem).where(WorkItem.appointment_id == appointment_id)
        .order_by(WorkItem.created_at)
    ))


def mark_done(item: WorkItem, by: User, note: str = "") -> None:
    """Close an item, saying who did and, optionally, what was done. Commits."""
    if item.status is WorkStatus.DONE:
        return
    item.status = WorkStatus.DONE
    item.done_at = utcnow()
    item.done_by_id = by.id
    item.done_note = note.strip()[:500]
    db.session.commit()
