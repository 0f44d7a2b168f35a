"""A clinic (poliklinikk) run by a health trust."""

from __future__ import annotations

from datetime import time

from sqlalchemy import JSON, Boolean, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class OpeningHours:
    """Weekdays and a time span, shared by clinics and external contacts (a mixin)."""

    #: Weekdays the phone is answered, 0 = Monday.
    open_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)
    #: How soon they usually answer a message or a call-back, in working days (0 = same day).
    answers_within_days: Mapped[int | None] = mapped_column(Integer)


class Clinic(OpeningHours, Base):
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
    #: After "call me": the clinic calls within this many working days (0 = the same day).
    call_back_days: Mapped[int] = mapped_column(Integer, default=1)
    #: The sign-in level patients need for their messages and their take-home pages: "low"
    #: (a code by SMS is enough) or an ID-porten level (server/national_id/levels.py).
    messages_level: Mapped[str] = mapped_column(String(32), default="low")
    take_home_level: Mapped[str] = mapped_column(String(32), default="low")
    #: A crisis line the clinic gives its patients, besides 113 and legevakt 116 117.
    crisis_line_name: Mapped[str] = mapped_column(String(100), default="")
    crisis_line_phone: Mapped[str] = mapped_column(String(32), default="")
    #: Reminder SMS of clinic appointments invite a reply with what to talk about, which goes
    #: to "before my appointment" instead of the inbox (server/plans/agenda.py).
    asks_before_appointment: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A handover not accepted after this many days goes to the clinic admin.
    handover_escalation_days: Mapped[int] = mapped_column(Integer, default=7)
