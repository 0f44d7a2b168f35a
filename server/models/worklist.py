"""The clinic's worklist: work waiting for staff, from every feature."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from server.models.appointment import Appointment
    from server.models.patient import PatientProfile
    from server.models.user import User


class WorkKind(enum.Enum):
    OUTREACH = "outreach"  # a missed appointment: reach out, never sanction
    ANSWER = "answer"  # the patient answered an appointment
    SMS_STOPPED = "sms_stopped"  # the patient sent STOPP: arrange letters instead
    MESSAGE_FAILED = "message_failed"  # a message could not be delivered on any channel
    FEEDBACK_ALERT = "feedback_alert"  # a check-in went the wrong way: discuss at the next meeting
    RELATIVE_OBSERVATION = "relative_observation"  # a relative told the care team something
    STOPPED_USING = "stopped_using"  # the patient stopped using Følge: agree on another way


class WorkStatus(enum.Enum):
    OPEN = "open"
    DONE = "done"


class WorkItem(Base):
    __tablename__ = "work_item"
    __table_args__ = (Index("ix_work_item_open", "clinic_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    kind: Mapped[WorkKind] = mapped_column(enum_column(WorkKind, "work_kind"))
    status: Mapped[WorkStatus] = mapped_column(enum_column(WorkStatus, "work_status"),
                                               default=WorkStatus.OPEN)
    #: Facts for the item's text: the answer, the proposed ways to make contact, ...
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    done_note: Mapped[str] = mapped_column(String(500), default="")

    patient: Mapped[PatientProfile] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    done_by: Mapped[User | None] = relationship()
