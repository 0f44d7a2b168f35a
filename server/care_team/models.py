"""Tables of the care team.

The rule the user organisations gave, kept by the schema and the services:
a responsibility is not let go until someone has taken it over. Each area of
a patient has at most one current holder (a partial unique index); a holder
changes only through an accepted handover, which ends the old row at the
moment the new one starts, so there is never a moment without a holder once
an area is filled.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow
from server.models.clinic import OpeningHours
from server.models.relatives import ConsentMethod

if TYPE_CHECKING:
    from server.models.clinic import Clinic
    from server.models.patient import PatientProfile
    from server.models.user import User


class TeamService(enum.Enum):
    """The service a team member works for."""

    CLINIC = "clinic"  # the patient's own clinic
    GP = "gp"  # fastlege
    MUNICIPALITY = "municipality"  # kommune: home services, housing, individual plan
    NAV = "nav"
    PSYCHIATRY = "psychiatry"
    OTHER = "other"


class ExternalContact(OpeningHours, Base):
    """A contact outside the clinic (a GP office, a municipality or NAV contact), kept in
    the clinic's directory so it is entered once and chosen after that."""

    __tablename__ = "external_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    service: Mapped[TeamService] = mapped_column(enum_column(TeamService, "team_service"))
    #: The office or unit, e.g. "Legekontoret på Torget", "NAV Sentrum".
    organisation: Mapped[str] = mapped_column(String(200))
    #: A named person, when there is one (a GP, a case worker).
    name: Mapped[str] = mapped_column(String(200), default="")
    #: Their role in plain words, e.g. "fastlege", "veileder".
    role: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32))
    #: The office's address (for a GP).
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClinicArea(Base):
    """An area of responsibility a clinic admin added to the built-in ones (areas.py)."""

    __tablename__ = "clinic_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    #: What the holder does, in plain words the patient reads.
    description: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TeamMember(Base):
    """One person or service following one patient: a staff member of the clinic or an
    external contact from the directory."""

    __tablename__ = "team_member"
    __table_args__ = (
        CheckConstraint("(staff_user_id IS NULL) <> (external_contact_id IS NULL)",
                        name="one_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    #: The clinic that keeps this team (the patient's clinic when the member was added).
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    service: Mapped[TeamService] = mapped_column(enum_column(TeamService, "team_service"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    external_contact_id: Mapped[int | None] = mapped_column(ForeignKey("external_contact.id"))
    #: The role the patient reads, e.g. "lege", "koordinator", "fastlege".
    role_text: Mapped[str] = mapped_column(String(100), default="")
    #: A direct number; else the clinic's (staff) or the contact's (external).
    direct_phone: Mapped[str] = mapped_column(String(32), default="")
    #: The patient's choice: relatives with the care-team scope may see this member.
    visible_to_relatives: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    patient: Mapped[PatientProfile] = relationship()
    clinic: Mapped[Clinic] = relationship()
    staff_user: Mapped[User | None] = relationship(foreign_keys=[staff_user_id])
    external: Mapped[ExternalContact | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Responsibility(Base):
    """Who held an area for a patient, from when until when (open-ended while current).

    History is kept: the patient reads who was responsible when. A row whose
    ``since`` lies ahead (a handover accepted for a later date) takes over then,
    and the old row's ``until`` is the same moment, so there is no gap.
    """

    __tablename__ = "responsibility"
    __table_args__ = (
        Index("uq_responsibility_open", "patient_id", "area_key", unique=True,
              sqlite_where=text("until IS NULL"), postgresql_where=text("until IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    #: A built-in area's key, or "clinic:<id>" for a clinic's own area (areas.py).
    area_key: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The accepted handover that started this row, if any.
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handover.id"))

    member: Mapped[TeamMember] = relationship()


class HandoverStatus(enum.Enum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class ExternalConfirmation(enum.Enum):
    """How an external receiver said yes (recorded by the staff member who spoke to them)."""

    PHONE = "phone"
    MEETING = "meeting"
    IN_WRITING = "in_writing"


class Handover(Base):
    """A proposed change of holder for one area. The current holder stays responsible
    until the receiver accepts."""

    __tablename__ = "handover"
    __table_args__ = (
        Index("uq_handover_open", "patient_id", "area_key", unique=True,
              sqlite_where=text("status = 'proposed'"),
              postgresql_where=text("status = 'proposed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    area_key: Mapped[str] = mapped_column(String(40))
    from_member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"))
    to_member_id: Mapped[int] = mapped_column(ForeignKey("team_member.id"))
    status: Mapped[HandoverStatus] = mapped_column(
        enum_column(HandoverStatus, "handover_status"), default=HandoverStatus.PROPOSED)
    #: The day the receiver takes over, when planned ahead; else at acceptance.
    takes_effect_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    #: For an external receiver: how and when they said yes.
    confirmed_how: Mapped[ExternalConfirmation | None] = mapped_column(
        enum_column(ExternalConfirmation, "external_confirmation"))
    confirmed_on: Mapped[date | None] = mapped_column(Date)
    #: Set once when the handover has waited too long and went to the clinic admin.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient: Mapped[PatientProfile] = relationship()
    from_member: Mapped[TeamMember] = relationship(foreign_keys=[from_member_id])
    to_member: Mapped[TeamMember] = relationship(foreign_keys=[to_member_id])
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])


class TransferStatus(enum.Enum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Transfer(Base):
    """Moving a patient's follow-up to another clinic in Følge. The sending clinic stays
    responsible until the receiving clinic accepts."""

    __tablename__ = "transfer"
    __table_args__ = (
        Index("uq_transfer_open", "patient_id", unique=True,
              sqlite_where=text("status = 'proposed'"),
              postgresql_where=text("status = 'proposed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    from_clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    to_clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    status: Mapped[TransferStatus] = mapped_column(
        enum_column(TransferStatus, "transfer_status"), default=TransferStatus.PROPOSED)
    proposed_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    consent_method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod,
                                                                      "consent_method"))
    consent_on: Mapped[date] = mapped_column(Date)
    #: The sending clinic's contact for the receiving clinic (the proposer by default).
    sending_contact_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    receiving_doctor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    receiving_coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    patient: Mapped[PatientProfile] = relationship()
    from_clinic: Mapped[Clinic] = relationship(foreign_keys=[from_clinic_id])
    to_clinic: Mapped[Clinic] = relationship(foreign_keys=[to_clinic_id])
    sending_contact: Mapped[User] = relationship(foreign_keys=[sending_contact_id])


class TeamEventKind(enum.Enum):
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    AREA_FILLED = "area_filled"  # a gap got its first holder (no one held it before)
    HANDOVER_PROPOSED = "handover_proposed"
    HANDOVER_ACCEPTED = "handover_accepted"
    HANDOVER_DECLINED = "handover_declined"
    HANDOVER_WITHDRAWN = "handover_withdrawn"
    HANDOVER_ESCALATED = "handover_escalated"
    TRANSFER_PROPOSED = "transfer_proposed"
    TRANSFER_ACCEPTED = "transfer_accepted"
    TRANSFER_DECLINED = "transfer_declined"
    TRANSFER_WITHDRAWN = "transfer_withdrawn"


class TeamEvent(Base):
    """Every change of the care team, with who and when (never edited)."""

    __tablename__ = "team_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    kind: Mapped[TeamEventKind] = mapped_column(enum_column(TeamEventKind, "team_event_kind"))
    #: None when the software did it (an escalation).
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    area_key: Mapped[str] = mapped_column(String(40), default="")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id"))
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handover.id"))
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfer.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    by_user: Mapped[User | None] = relationship()
