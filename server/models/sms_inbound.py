"""SMS received from people, stored once per provider message id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class InboundSms(Base):
    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The provider's id; unique, so a repeated webhook has no effect.
    provider_message_id: Mapped[str] = mapped_column(String(120), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(String(1600))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: What the reply was understood as (confirm, cancel, call_me, stop, unknown, no_match).
    understood_as: Mapped[str] = mapped_column(String(32), default="")
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient_profile.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
