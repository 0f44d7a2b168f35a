"""Relatives and close persons (pårørende): invitations, scoped access, agreements
and observations sent to the care team.

An access is active while it is not revoked and its end date (if any) has not
passed; every relative page checks that on every request, so a revocation or an
end date takes effect on the relative's very next click.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from server.models.patient import PatientProfile
    from server.models.user import User


class RelativeScope(enum.Enum):
    APPOINTMENTS = "appointments"  # see upcoming appointments
    REMINDERS = "reminders"  # get appointment reminders
    TAKE_HOME = "take_home"  # see take-home decisions
    PICKUP_PLAN = "pickup_plan"  # see the pickup plan
    OBSERVATIONS = "observations"  # send observations to the care team
    NO_SHOW_CONTACT = "no_show_contact"  # may be contacted by the clinic after a missed appointment
    CARE_TEAM = "care_team"  # see the care team's contacts (server/care_team)
    CRISIS_PLAN = "crisis_plan"  # see the crisis plan (server/plans)
    MEETING_NOTES = "meeting_notes"  # see responsibility-group meetings and their minutes


class InviteStatus(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


class ConsentMethod(enum.Enum):
    """How a low-digital patient gave consent to staff."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    IN_WRITING = "in_writing"


class ObservationKind(enum.Enum):
    WORRY = "worry"
    CHANGE = "change"
    PRACTICAL = "practical"


class RelativeInvitation(Base):
    __tablename__ = "relative_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    #: As the patient calls them, and their relationship ("mother", "friend").
    name: Mapped[str] = mapped_column(String(120))
    relationship_text: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    ends_on: Mapped[date | None] = mapped_column(Date)
    #: SHA-256 of the link's token; the token itself is only in the SMS or email.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[InviteStatus] = mapped_column(enum_column(InviteStatus, "invite_status"),
                                                 default=InviteStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set when staff registered the relative for a low-digital patient.
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    consent_method: Mapped[ConsentMethod | None] = mapped_column(
        enum_column(ConsentMethod, "consent_method"))
    consent_on: Mapped[date | None] = mapped_column(Date)

    patient: Mapped[PatientProfile] = relationship()
    registered_by: Mapped[User | None] = relationship()


class RelativeAccess(Base):
    __tablename__ = "relative_access"
    __table_args__ = (Index("ix_relative_access_relative", "relative_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    relative_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("relative_invitation.id"))
    name: Mapped[str] = mapped_column(String(120))
    relationship_text: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ends_on: Mapped[date | None] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: "patient", "relative" (left by themself) or "staff".
    revoked_by: Mapped[str] = mapped_column(String(16), default="")
    #: Set when the patient moved to another clinic: the relative sees nothing until the
    #: patient confirms this access again (server/care_team/transfers.py).
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient: Mapped[PatientProfile] = relationship()
    relative: Mapped[User] = relationship()
    invitation: Mapped[RelativeInvitation | None] = relationship()

    def is_active(self, today: date) -> bool:
        return self.revoked_at is None and self.paused_at is None and \
            (self.ends_on is None or today <= self.ends_on)

    def allows(self, scope: RelativeScope, today: date) -> bool:
        return self.is_active(today) and scope.value in (self.scopes or [])


class RelativeAgreement(Base):
    """A pårørendeavtale, recorded by the clinic together with the patient."""

    __tablename__ = "relative_agreement"

    access_id: Mapped[int] = mapped_column(ForeignKey("relative_access.id"), primary_key=True)
    role: Mapped[str] = mapped_column(Text, default="")
    expectations: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(Text, default="")
    frequency: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    access: Mapped[RelativeAccess] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class RelativeObservation(Base):
    """What a relative tells the care team; the patient can read it too."""

    __tablename__ = "relative_observation"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_id: Mapped[int] = mapped_column(ForeignKey("relative_access.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    kind: Mapped[ObservationKind] = mapped_column(enum_column(ObservationKind, "observation_kind"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the team first read it (the relative sees this), and who.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: A short note back from the team; the patient can read it too, and the relative is
    #: told so before it is written.
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    access: Mapped[RelativeAccess] = relationship()


class DevEmail(Base):
    """Emails the development adapter "sent"; shown on /dev/outbox. Never used in production."""

    __tablename__ = "dev_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
