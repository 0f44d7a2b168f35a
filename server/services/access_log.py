"""Write and read the access log ("who has seen my information")."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import AccessLogEntry, AccessTarget, PatientProfile, User
from server.models.base import utcnow


def record(
    viewer: User,
    patient: PatientProfile,
    target: AccessTarget,
    viewer_role: str,
    clinic_id: int | None,
    commit: bool = True,
) -> None:
    """Log that ``viewer`` opened ``target`` of ``patient``. Commits unless told not to.

    Called by the policy in the same request that shows the data; the
    patient's own views are never logged.
    """
    if viewer.id == patient.user_id:
        return
    db.session.add(
        AccessLogEntry(
            patient_id=patient.id,
            viewer_user_id=viewer.id,
            viewer_role=viewer_role,
            clinic_id=clinic_id,
            target=target,
        )
    )
    if commit:
        db.session.commit()


def record_many(viewer: User, shown: list[tuple[PatientProfile, str, int | None]],
                target: AccessTarget) -> None:
    """Log a list view: one entry per (patient, viewer role, clinic) shown, in one INSERT,
    and commit without expiring what was loaded, so the page that lists the patients does
    not read each of them again. The patient's own views are never logged."""
    rows = [{"patient_id": patient.id, "viewer_user_id": viewer.id, "viewer_role": role,
             "clinic_id": clinic_id, "target": target, "at": utcnow()}
            for patient, role, clinic_id in shown if patient.user_id != viewer.id]
    if rows:
        db.session.execute(insert(AccessLogEntry), rows)
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def entries_for(patient: PatientProfile, limit: int = 200) -> list[AccessLogEntry]:
    """The newest entries for ``patient``, with viewer and clinic loaded."""
    return list(
        db.session.scalars(
            select(AccessLogEntry)
            .where(AccessLogEntry.patient_id == patient.id)
            .options(joinedload(AccessLogEntry.viewer), joinedload(AccessLogEntry.clinic))
            .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
            .limit(limit)
        )
    )
