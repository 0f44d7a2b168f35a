"""A clinic (poliklinikk) run by a health trust."""

from __future__ import annotations

from sqlalchemy import String
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
