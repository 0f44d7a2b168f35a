"""The crisis plan, one row per saved version."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from server.models.patient import PatientProfile
    from server.models.user import User


class CrisisPlanVersion(Base):
    """One saved version of a patient's crisis plan. The newest is the plan; the older ones
    stay, so the patient can see earlier versions and who changed what."""

    __tablename__ = "crisis_plan_version"
    __table_args__ = (UniqueConstraint("patient_id", "version", name="one_per_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    #: 1, 2, 3 ... per patient; a save names the version it was based on.
    version: Mapped[int] = mapped_column(Integer)
    #: The steps, as the patient wrote them (see server/plans/crisis.py, STEPS).
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The patient's choice: the care team may read it (relatives need their own scope).
    shared_with_team: Mapped[bool] = mapped_column(Boolean, default=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    saved_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    patient: Mapped[PatientProfile] = relationship()
    saved_by: Mapped[User] = relationship()
