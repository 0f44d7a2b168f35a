"""Staff membership of a clinic, with the role held there."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, enum_column

if TYPE_CHECKING:
    from server.models.clinic import Clinic
    from server.models.user import User


class StaffRole(enum.Enum):
    DOCTOR = "doctor"
    NURSE = "nurse"
    SOCIAL_WORKER = "social_worker"
    COORDINATOR = "coordinator"
    CLINIC_ADMIN = "clinic_admin"


class StaffMembership(Base):
    __tablename__ = "staff_membership"
    __table_args__ = (UniqueConstraint("user_id", "clinic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, "staff_role"))
    #: Given by a clinic admin: may decide take-home requests without the doctor role.
    decides_take_home: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="memberships")
    clinic: Mapped[Clinic] = relationship()
