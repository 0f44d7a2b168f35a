"""Appointments at every service the patient deals with, in one list."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from server.models.clinic import Clinic
    from server.models.patient import PatientProfile
    from server.models.user import User


class ServiceKind(enum.Enum):
    """Which service the appointment is with."""

    CLINIC = "clinic"  # the patient's own LAR clinic
    GP = "gp"  # fastlege
    MUNICIPALITY = "municipality"  # kommune, NAV
    PSYCHIATRY = "psychiatry"
    OTHER = "other"


class MeetingKind(enum.Enum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"


class AppointmentStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Attendance(enum.Enum):
    UNKNOWN = "unknown"
    ATTENDED = "attended"
    MISSED = "missed"


class PatientAnswer(enum.Enum):
    """The patient's latest answer to the appointment."""

    NONE = "none"
    CONFIRMED = "confirmed"
    CANNOT_COME = "cannot_come"
    NEW_TIME = "new_time"


class Appointment(Base):
    __tablename__ = "appointment"
    #: The staff's Today: a clinic's appointments in a time window.
    __table_args__ = (
        Index("ix_appointment_clinic_start", "clinic_id", "starts_at"),
        # The record system's own id of the appointment (FHIR Appointment.identifier).
        UniqueConstraint("clinic_id", "external_system", "external_id",
                         name="uq_appointment_external"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    #: The clinic that recorded the appointment and follows it up.
    #: Indexed by ix_appointment_clinic_start, whose first column it is.
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    service: Mapped[ServiceKind] = mapped_column(enum_column(ServiceKind, "service_kind"))
    #: Name of the service as the patient knows it, e.g. "Legekontoret på Torget".
    service_name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    meeting: Mapped[MeetingKind] = mapped_column(enum_column(MeetingKind, "meeting_kind"))
    place_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    #: Whom the patient meets, by role ("doctor", "social worker") and, if allowed, by name.
    meet_role: Mapped[str] = mapped_column(String(100), default="")
    meet_name: Mapped[str] = mapped_column(String(200), default="")
    #: What to bring or prepare.
    prepare: Mapped[str] = mapped_column(Text, default="")
    #: A responsibility-group meeting (ansvarsgruppemøte): participants from the care team,
    #: the patient's agenda, minutes (server/plans/meetings.py).
    is_team_meeting: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Latest time to cancel without a fee, where the service charges one.
    cancel_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus, "appointment_status"), default=AppointmentStatus.SCHEDULED
    )
    attendance: Mapped[Attendance] = mapped_column(
        enum_column(Attendance, "attendance"), default=Attendance.UNKNOWN
    )
    answer: Mapped[PatientAnswer] = mapped_column(
        enum_column(PatientAnswer, "patient_answer"), default=PatientAnswer.NONE
    )
    answer_reason: Mapped[str] = mapped_column(String(500), default="")
    #: The patient asked the clinic to call to find a new time.
    call_me: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Bumped on every move, so re-planned reminders get new idempotency keys.
    plan_version: Mapped[int] = mapped_column(Integer, default=1)
    #: Why it was cancelled: a code of HL7's appointment-cancellation-reason ("" when not
    #: given or not cancelled). Never shown to the patient.
    cancel_reason: Mapped[str] = mapped_column(String(32), default="")
    #: The record system's identifier (FHIR Appointment.identifier system and value), when
    #: the appointment came through the FHIR interface.
    external_system: Mapped[str | None] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    #: Bumped on every change of the row: the FHIR interface's version id and ETag.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    patient: Mapped[PatientProfile] = relationship()
    clinic: Mapped[Clinic] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status is AppointmentStatus.CANCELLED


_BUMPED = "appointment_versions_bumped"


@event.listens_for(Appointment, "before_update")
def _next_version(_mapper: object, _connection: object, target: Appointment) -> None:
    """Every change of an appointment, from any page, SMS or import, is a new version: one per
    transaction, however many times it is flushed on the way."""
    session = object_session(target)
    if session is None or not session.is_modified(target, include_collections=False):
        return
    bumped: set[int] = session.info.setdefault(_BUMPED, set())
    if target.id not in bumped:
        bumped.add(target.id)
        target.version = (target.version or 0) + 1


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_over(session: Session) -> None:
    session.info.pop(_BUMPED, None)
