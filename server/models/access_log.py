"""Access log: who opened a patient's information, when, and what.

Rows are append-only. The migration adds database triggers that refuse
UPDATE and DELETE on this table, so not even a bug in the app can edit it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow
from server.models.clinic import Clinic
from server.models.user import User


class AccessTarget(enum.Enum):
    """What was opened; each value has a plain-language sentence in the patient view."""

    PATIENT_OVERVIEW = "patient_overview"
    CONTACT_DETAILS = "contact_details"
    APPOINTMENT = "appointment"
    MESSAGES = "messages"
    TAKE_HOME = "take_home"  # a take-home request, its context or its dispensing notice
    FEEDBACK = "feedback"  # the patient's check-in answers
    RELATIVES = "relatives"  # the patient's relatives, their scopes, agreements and observations
    PICKUP_PLAN = "pickup_plan"  # the pickup plan (a relative with that scope)
    NAME = "name"  # the patient's name only: in a list, a search result or a form heading
    ACCOUNT = "account"  # the patient's account: sign-in number, disabling, enabling
    CARE_TEAM = "care_team"  # the care team: who is responsible for what, handovers
    TRANSFER = "transfer"  # a proposal to move the patient to another clinic
    ARCHIVE = "archive"  # a former clinic reading, read-only, what it kept from before a move
    CONVERSATION = "conversation"  # the patient's messages to and from the care team
    OBSERVATIONS = "observations"  # what a relative told the team, and the team's answers
    EXPORT = "export"  # the patient downloaded all their information (the one own read logged)
    CRISIS_PLAN = "crisis_plan"  # the crisis plan, or one of its earlier versions
    GOALS = "goals"  # the patient's goals, their measures and notes
    IP_EXPORT = "ip_export"  # the goals exported for the municipality's individual plan
    MEETINGS = "meetings"  # responsibility-group meetings: the next date and the minutes
    ACCESS_LOG = "access_log"  # this log itself (the record system reads it as AuditEvent)


class AccessLogEntry(Base):
    __tablename__ = "access_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    viewer_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: Role at the time of viewing: a staff role (doctor, nurse ...) or "relative".
    viewer_role: Mapped[str] = mapped_column(String(32))
    #: Clinic the viewer acted for; None for relatives.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    target: Mapped[AccessTarget] = mapped_column(enum_column(AccessTarget, "access_target"))
    #: The one row that was opened, when the target is one: the appointment, take-home
    #: request or conversation (which one follows from the target). None for pages.
    subject_id: Mapped[int | None] = mapped_column(Integer)

    viewer: Mapped[User] = relationship()
    clinic: Mapped[Clinic | None] = relationship()
