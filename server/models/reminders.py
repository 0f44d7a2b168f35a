"""Per-patient reminder settings and the push subscriptions of their phones."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Boolean, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class ReminderSettings(Base):
    """When reminders go out. Channels and their order live on the patient profile."""

    __tablename__ = "reminder_settings"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), primary_key=True)
    #: A reminder the evening before, at this local time (None: no evening reminder).
    evening_before_at: Mapped[time | None] = mapped_column(Time(), default=time(18, 0))
    #: A reminder this many hours before (None: none).
    hours_before: Mapped[int | None] = mapped_column(Integer, default=2)
    #: No SMS or push between these local times.
    quiet_from: Mapped[time] = mapped_column(Time(), default=time(22, 0))
    quiet_until: Mapped[time] = mapped_column(Time(), default=time(8, 0))


class PushSubscription(Base):
    """One phone's web push subscription (endpoint and RFC 8291 keys)."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Kept so a person can tell their phones apart ("Chrome on Android").
    label: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
