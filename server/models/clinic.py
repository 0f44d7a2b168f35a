"""A clinic (poliklinikk) run by a health trust."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class Clinic(Base):
    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The regional health trust (helseforetak) that runs the clinic.
    health_trust: Mapped[str] = mapped_column(String(200))
    #: Return address printed on letters; several lines.
    address: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str] = mapped_column(String(32))
    #: IANA zone used to show times; Norway has one, the field keeps it explicit.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    #: Reminder channels the clinic offers; patients choose their order within these.
    offered_channels: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["push", "sms", "letter"]
    )
    #: Whether patients see the names of the staff they meet, or only their roles.
    show_staff_names: Mapped[bool] = mapped_column(Boolean, default=True)
