"""The patient profile: clinic, contact preferences and postal address."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base

if TYPE_CHECKING:
    from server.models.clinic import Clinic
    from server.models.user import User


class Channel(enum.Enum):
    PUSH = "push"
    SMS = "sms"
    LETTER = "letter"


class PatientProfile(Base):
    __tablename__ = "patient_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    #: Contact channels in the patient's order of preference, e.g. ["sms", "letter"].
    contact_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Where letters go; may be empty for people without a fixed address.
    postal_address: Mapped[str] = mapped_column(String(500), default="")
    #: As the clinic has it; printed on dispensing notices.
    date_of_birth: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship(back_populates="patient_profile")
    clinic: Mapped[Clinic] = relationship()

    @property
    def display_name(self) -> str:
        return self.user.display_name

    @property
    def channels(self) -> list[Channel]:
        return [Channel(c) for c in self.contact_channels]
