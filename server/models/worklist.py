"""The clinic's worklist: work waiting for staff, from every feature."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
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


#: How soon each kind of work should be done, counted from when it came in, when it is not
#: tied to an appointment that comes first. A choice of ours, written here so the worklist can
#: sort by it: a missed appointment or an undelivered message is followed up the next day, a
#: relative's words within two days, the rest within a week. An answer to an appointment is due
#: before the appointment starts.
DUE_WITHIN: dict[WorkKind, timedelta] = {
    WorkKind.OUTREACH: timedelta(days=1),
    WorkKind.MESSAGE_FAILED: timedelta(days=1),
    WorkKind.ANSWER: timedelta(days=2),
    WorkKind.RELATIVE_OBSERVATION: timedelta(days=2),
    WorkKind.FEEDBACK_ALERT: timedelta(days=7),
    WorkKind.SMS_STOPPED: timedelta(days=7),
    WorkKind.STOPPED_USING: timedelta(days=7),
}


class WorkItem(Base):
    __tablename__ = "work_item"
    __table_args__ = (Index("ix_work_item_open", "clinic_id", "status", "created_at"),
                      Index("ix_work_item_due", "clinic_id", "status", "due_at"),
                      Index("ix_work_item_assignee", "assigned_to_id", "status"))

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
    #: The staff member who has taken it; None while it is the clinic's to share.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: When it should be done (DUE_WITHIN), set when the item is added.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient: Mapped[PatientProfile] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    events: Mapped[list[WorkItemEvent]] = relationship(
        back_populates="item", order_by="WorkItemEvent.at, WorkItemEvent.id")


@event.listens_for(WorkItem, "before_insert")
def _set_due(_mapper: Any, _connection: Any, item: WorkItem) -> None:
    if item.due_at is not None:
        return
    came = item.created_at or utcnow()
    item.created_at = came
    due = came + DUE_WITHIN.get(item.kind, timedelta(days=7))
    if item.kind is WorkKind.ANSWER and item.appointment is not None:
        due = min(due, item.appointment.starts_at)
    item.due_at = due


class WorkEventKind(enum.Enum):
    ASSIGNED = "assigned"  # to a staff member (note: who), or back to the clinic
    UPDATED = "updated"  # the patient changed what the item is about, e.g. their answer
    DONE = "done"
    REOPENED = "reopened"


class WorkItemEvent(Base):
    """One step in an item's history: who did what, when. The item's arrival is its
    created_at."""

    __tablename__ = "work_item_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who did it; None when the patient or the system changed the item.
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[WorkEventKind] = mapped_column(enum_column(WorkEventKind, "work_event_kind"))
    #: For an assignment, to whom (None: back to the clinic).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(String(500), default="")

    item: Mapped[WorkItem] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship(foreign_keys=[by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
