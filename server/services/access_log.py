"""Write and read the access log ("who has seen my information")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import AccessLogEntry, AccessTarget, PatientProfile, User


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
