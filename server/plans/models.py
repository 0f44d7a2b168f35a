"""The crisis plan, one row per saved version."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from server.care_team.models import TeamMember
    from server.models.appointment import Appointment
    from server.models.patient import PatientProfile
    from server.models.user import User


class CrisisPlanVersion(Base):
    """One saved version of a patient's crisis plan. The newest is the plan; the older ones
    stay, so the patient can see earlier versions and who changed what."""

    __tablename__ = "crisis_plan_version"
    __table_args__ = (UniqueConstraint("patient_id", "version", name="one_per_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    #: 1, 2, 3 ... per patient; a save names the version it was based on.
    version: Mapped[int] = mapped_column(Integer)
    #: The steps, as the patient wrote them (see server/plans/crisis.py, STEPS).
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The patient's choice: the care team may read it (relatives need their own scope).
    shared_with_team: Mapped[bool] = mapped_column(Boolean, default=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    saved_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    patient: Mapped[PatientProfile] = relationship()
    saved_by: Mapped[User] = relationship()


class AppointmentAgenda(Base):
    """"Before my appointment": what the patient wants to talk about at one clinic
    appointment, and afterwards "what we agreed", item by item, as staff wrote it."""

    __tablename__ = "appointment_agenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    #: Ticked topics (server/plans/agenda.py, TOPICS) and the patient's own words.
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text, default="")
    #: "app" or "sms": how the patient told us.
    via: Mapped[str] = mapped_column(String(8), default="app")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: After the appointment: what was agreed, one point per item, in plain words.
    agreed: Mapped[list[str]] = mapped_column(JSON, default=list)
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: For each item of ``agreed``, what it is about: None, {"goal": id} or {"measure": id}
    #: (minutes of a responsibility-group meeting are linked to goals and measures).
    agreed_links: Mapped[list[dict[str, int] | None]] = mapped_column(JSON, default=list)
    #: Counts the saves of ``agreed`` (0: none yet); a save names the one it started from.
    agreed_version: Mapped[int] = mapped_column(Integer, default=0)
    #: Earlier versions of ``agreed``, oldest first: {"items", "links", "at", "by_id"}.
    agreed_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: When the patient first opened what was agreed.
    agreed_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agreed_by: Mapped[User | None] = relationship()
    appointment: Mapped[Appointment] = relationship()

    @property
    def has_wishes(self) -> bool:
        return bool(self.topics or self.text)


class Goal(Base):
    """One of the patient's goals, in the patient's own words (the clinic's part of an
    individual plan). Staff may suggest one; it counts once the patient accepts it."""

    __tablename__ = "goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    #: The patient's order (1 first).
    position: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    #: started, going_well, stuck, reached, dropped (server/plans/goals.py, STATUSES)
    status: Mapped[str] = mapped_column(String(16), default="started")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    #: "active", or a staff suggestion: "suggested" until the patient accepts or "declined".
    state: Mapped[str] = mapped_column(String(16), default="active")
    suggested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Counts the changes to the words and the status: a save names the version it started
    #: from, so a second person's save cannot overwrite the first's unseen.
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[PatientProfile] = relationship()
    suggested_by: Mapped[User | None] = relationship(foreign_keys=[suggested_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    measures: Mapped[list[Measure]] = relationship(back_populates="goal",
                                                   order_by="Measure.due_on, Measure.id")
    notes: Mapped[list[GoalNote]] = relationship(back_populates="goal",
                                                 order_by="GoalNote.created_at.desc()")
    events: Mapped[list[GoalEvent]] = relationship(back_populates="goal",
                                                   order_by="GoalEvent.id.desc()")


class Measure(Base):
    """A step towards a goal, with one responsible member of the care team and a date."""

    __tablename__ = "goal_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    goal: Mapped[Goal] = relationship(back_populates="measures")
    member: Mapped[TeamMember] = relationship()


class GoalNote(Base):
    """Progress, in a few words, by the patient or the team."""

    __tablename__ = "goal_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()


class IpConsent(Base):
    """The patient's consent (or its withdrawal) to share the goals with the municipality's
    coordinator of the individual plan: how, when and by whom it was recorded. The newest row
    is what holds; the older ones stay."""

    __tablename__ = "ip_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    given: Mapped[bool] = mapped_column(Boolean)
    #: in_person, phone or in_writing (as for relatives, server/models/relatives.py)
    method: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    recorded_by: Mapped[User] = relationship()


class MeetingParticipant(Base):
    """A member of the care team (internal or external) invited to a responsibility-group
    meeting."""

    __tablename__ = "meeting_participant"
    __table_args__ = (UniqueConstraint("appointment_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    member: Mapped[TeamMember] = relationship()


class GoalEvent(Base):
    """One change to a goal, kept for "who changed what": the earlier words or status stay
    readable after every save (server/plans/goals.py)."""

    __tablename__ = "goal_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id"), index=True)
    #: added, suggested, accepted, declined, reworded, status, measure, note
    kind: Mapped[str] = mapped_column(String(16))
    #: What it was before (the old words, or the old status and reason), and what it became.
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()
