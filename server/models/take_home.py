"""Take-home doses: the pickup plan, the clinic's rules, and requests with decisions.

No table names a medication. A request is either a period of take-home
(travel, work, illness ...) or a change to the regular arrangement. Its
decision is recorded on the request itself, so the patient and the clinic
read the same facts; a new assessment is a new request linked to the old one.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from server.models.clinic import Clinic
    from server.models.patient import PatientProfile
    from server.models.user import User


class PickupPlace(enum.Enum):
    CLINIC = "clinic"
    PHARMACY = "pharmacy"
    HOME_SERVICE = "home_service"  # the municipal home service brings it
    TRAVEL_PHARMACY = "travel_pharmacy"  # a pharmacy where the patient is travelling


class RequestKind(enum.Enum):
    PERIOD = "period"  # take-home for a period
    ARRANGEMENT = "arrangement"  # a change to the regular arrangement


class PeriodReason(enum.Enum):
    TRAVEL = "travel"
    WORK = "work"
    HOLIDAY = "holiday"
    ILLNESS = "illness"
    FAMILY = "family"
    OTHER = "other"


class ArrangementChange(enum.Enum):
    FEWER_PICKUPS = "fewer_pickups"
    OTHER_PLACE = "other_place"
    OTHER_DAYS = "other_days"
    OTHER = "other"


class Abroad(enum.Enum):
    NO = "no"
    SCHENGEN = "schengen"  # the clinic arranges a Schengen certificate (up to 30 days)
    OUTSIDE_SCHENGEN = "outside_schengen"


class RequestStatus(enum.Enum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    PARTLY_APPROVED = "partly_approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


UNDECIDED = (RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW)
DECIDED = (RequestStatus.APPROVED, RequestStatus.PARTLY_APPROVED, RequestStatus.DECLINED)
GRANTED = (RequestStatus.APPROVED, RequestStatus.PARTLY_APPROVED)


class TakeHomeRules(Base):
    """What a clinic tells patients before they ask; maintained by its clinic admins."""

    __tablename__ = "take_home_rules"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), primary_key=True)
    #: The clinic's own words on what it takes into account.
    rules_text: Mapped[str] = mapped_column(Text, default="")
    notice_days: Mapped[int] = mapped_column(Integer, default=14)
    usual_max_days: Mapped[int] = mapped_column(Integer, default=14)
    #: PickupPlace values patients may choose.
    allowed_places: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: [p.value for p in PickupPlace])
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class PickupPlan(Base):
    """The patient's regular pickup arrangement (henteplan)."""

    __tablename__ = "pickup_plan"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), primary_key=True)
    place: Mapped[PickupPlace] = mapped_column(enum_column(PickupPlace, "pickup_place"))
    #: The pharmacy or clinic by name, e.g. "Apotek 1 Torget".
    place_name: Mapped[str] = mapped_column(String(200), default="")
    #: Pickup weekdays, 0 = Monday.
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: How many days each pickup covers.
    days_per_pickup: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class TakeHomeRequest(Base):
    __tablename__ = "take_home_request"
    __table_args__ = (
        # One request per form the patient opened: a double tap or a resend of
        # a request kept offline finds the first one.
        UniqueConstraint("patient_id", "client_key", name="uq_take_home_request_client_key"),
        Index("ix_take_home_request_open", "clinic_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind, "take_home_kind"))
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "take_home_status"), default=RequestStatus.SUBMITTED)
    client_key: Mapped[str] = mapped_column(String(64))

    # What the patient asked for.
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[PeriodReason | None] = mapped_column(enum_column(PeriodReason, "period_reason"))
    change: Mapped[ArrangementChange | None] = mapped_column(
        enum_column(ArrangementChange, "arrangement_change"))
    #: In the patient's words: why, or what should change.
    explanation: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[PickupPlace | None] = mapped_column(enum_column(PickupPlace, "pickup_place"))
    place_name: Mapped[str] = mapped_column(String(200), default="")
    abroad: Mapped[Abroad] = mapped_column(enum_column(Abroad, "abroad"), default=Abroad.NO)
    note: Mapped[str] = mapped_column(Text, default="")
    #: Marks for the clinic: the patient asked beyond the usual rules (never a refusal).
    over_usual_max: Mapped[bool] = mapped_column(Boolean, default=False)
    short_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The decided request this one asks to have assessed again.
    reassessment_of_id: Mapped[int | None] = mapped_column(ForeignKey("take_home_request.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # The clinic's handling.
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The reason, written for the patient.
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    #: For a no or a partial yes: what would make a yes possible next time.
    next_time: Mapped[str] = mapped_column(Text, default="")
    approved_first_day: Mapped[date | None] = mapped_column(Date)
    approved_last_day: Mapped[date | None] = mapped_column(Date)
    approved_place: Mapped[PickupPlace | None] = mapped_column(
        enum_column(PickupPlace, "approved_pickup_place"))
    approved_place_name: Mapped[str] = mapped_column(String(200), default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    certificate_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    storage_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the patient first opened the decision (home lists unread answers until then).
    decision_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient: Mapped[PatientProfile] = relationship()
    clinic: Mapped[Clinic] = relationship()
    decided_by: Mapped[User | None] = relationship()
    reassessment_of: Mapped[TakeHomeRequest | None] = relationship(remote_side=[id])

    @property
    def days(self) -> int:
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1

    @property
    def approved_days(self) -> int:
        if self.approved_first_day is None or self.approved_last_day is None:
            return 0
        return (self.approved_last_day - self.approved_first_day).days + 1

    @property
    def is_undecided(self) -> bool:
        return self.status in UNDECIDED

    @property
    def is_granted(self) -> bool:
        return self.status in GRANTED

    @property
    def needs_certificate(self) -> bool:
        return self.abroad is Abroad.SCHENGEN
