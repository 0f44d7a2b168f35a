"""Feedback (tilbakemeldingsverktøy): invitations, responses, and the clinic's settings.

Identified responses go to the care team and carry the patient. Anonymous
responses are a separate table with no patient, no invitation and no precise
time: only the clinic, the instrument and the ISO week ("2026-W48"). Their
id is random, so not even the order of rows hints at who answered when.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from server.models.appointment import Appointment
    from server.models.patient import PatientProfile


class InvitationStatus(enum.Enum):
    OPEN = "open"
    ANSWERED = "answered"  # by the care-team route or anonymously: the row does not say which


class FeedbackVia(enum.Enum):
    APP = "app"
    SMS = "sms"


class FeedbackInvitation(Base):
    """One invitation to check in, after an attended appointment."""

    __tablename__ = "feedback_invitation"
    __table_args__ = (Index("ix_feedback_invitation_clinic", "clinic_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    #: The appointment that prompted it; at most one invitation per appointment.
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), unique=True)
    instrument_key: Mapped[str] = mapped_column(String(60))
    status: Mapped[InvitationStatus] = mapped_column(
        enum_column(InvitationStatus, "invitation_status"), default=InvitationStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Deliberately no "answered at": with it, the time of an anonymous answer
    # could be matched to the person.

    patient: Mapped[PatientProfile] = relationship()
    appointment: Mapped[Appointment | None] = relationship()

    def is_open(self, now: datetime) -> bool:
        return self.status is InvitationStatus.OPEN and now < self.expires_at


class FeedbackResponse(Base):
    """An answer with the patient's name on it, for the care team."""

    __tablename__ = "feedback_response"
    __table_args__ = (
        Index("ix_feedback_response_patient", "patient_id", "instrument_key", "created_at"),
        Index("ix_feedback_response_clinic_week", "clinic_id", "week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_invitation.id"),
                                                      unique=True)
    instrument_key: Mapped[str] = mapped_column(String(60))
    instrument_version: Mapped[int] = mapped_column(Integer)
    #: {item key: 0-10}; an SMS answer with one number has only the overall item.
    scores: Mapped[dict[str, int]] = mapped_column(JSON)
    #: Sum of the scores when every item is answered, else None.
    total: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[FeedbackVia] = mapped_column(enum_column(FeedbackVia, "feedback_via"))
    #: ISO week, the unit shared with anonymous answers for clinic figures.
    week: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: One response per form: a double submit finds the first.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    patient: Mapped[PatientProfile] = relationship()


def random_id() -> str:
    return secrets.token_hex(16)


class AnonymousFeedback(Base):
    """An answer to the clinic as a whole. Never linked to a person."""

    __tablename__ = "anonymous_feedback"
    __table_args__ = (Index("ix_anonymous_feedback_clinic_week", "clinic_id", "week"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    instrument_key: Mapped[str] = mapped_column(String(60))
    instrument_version: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: ISO week only ("2026-W48"); never a date or a time.
    week: Mapped[str] = mapped_column(String(8))
    #: Random per form, to make a double submit store one answer; says nothing about anyone.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class FeedbackSettings(Base):
    """A clinic's alert thresholds and its "You said, we did" page."""

    __tablename__ = "feedback_settings"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), primary_key=True)
    #: {instrument key: threshold}; missing keys use the instrument's default.
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    you_said_we_did: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
