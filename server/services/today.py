"""The staff's Today: the clinic's appointments today and tomorrow, and the counts of what
waits, each leading to the filtered list behind it.

Every figure is counted in the database (a handful of queries whatever the clinic's size);
the counts name no patient, so only the appointment table is written to the access log (by
the view, through the policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from server.care_team import team
from server.care_team.models import Handover, HandoverStatus, Transfer, TransferStatus
from server.extensions import db
from server.messages import conversations
from server.messages.conversations import InboxCounts
from server.models import Appointment, PatientProfile, TakeHomeRequest, User, WorkKind
from server.models.take_home import UNDECIDED
from server.services import worklist
from server.services.local_time import to_utc

#: Rows on Today at most (a clinic day is far shorter; the page says if there are more).
TODAY_MAX = 400


@dataclass(frozen=True)
class Counts:
    work: dict[WorkKind, int]
    mine: int
    take_home: int
    take_home_soonest: date | None
    inbox: InboxCounts
    gaps: int
    handovers: int
    transfers: int

    @property
    def work_total(self) -> int:
        return sum(self.work.values())


def appointments(clinic_ids: list[int], first_day: date, days: int = 2,
                 mine_of: User | None = None) -> list[Appointment]:
    """The clinics' appointments from ``first_day`` for ``days`` days (Norwegian days), by
    time, cancelled ones included; only patients whose care team ``mine_of`` is in, if
    given. One query, with each patient."""
    start = to_utc(first_day, time(0))
    end = to_utc(first_day + timedelta(days=days), time(0))
    query = (select(Appointment)
             .where(Appointment.clinic_id.in_(clinic_ids), Appointment.starts_at >= start,
                    Appointment.starts_at < end)
             .options(joinedload(Appointment.patient).joinedload(PatientProfile.user))
             .order_by(Appointment.starts_at, Appointment.id).limit(TODAY_MAX))
    if mine_of is not None:
        query = query.where(Appointment.patient_id.in_(team.patient_ids_of(mine_of)))
    return list(db.session.scalars(query))


def has_patients(user: User) -> bool:
    """True when ``user`` is in at least one care team."""
    return db.session.scalar(select(team.patient_ids_of(user).limit(1).exists())) or False


def counts(clinic_ids: list[int], user: User) -> Counts:
    if not clinic_ids:
        return Counts({}, 0, 0, None, InboxCounts(0, 0, 0), 0, 0, 0)
    take_home_count, soonest = db.session.execute(
        select(func.count(), func.min(TakeHomeRequest.first_day))
        .where(TakeHomeRequest.clinic_id.in_(clinic_ids),
               TakeHomeRequest.status.in_(UNDECIDED))).one()
    handovers = db.session.scalar(select(func.count()).select_from(Handover).where(
        Handover.clinic_id.in_(clinic_ids), Handover.status == HandoverStatus.PROPOSED)) or 0
    moves = db.session.scalar(select(func.count()).select_from(Transfer).where(
        Transfer.to_clinic_id.in_(clinic_ids), Transfer.status == TransferStatus.PROPOSED)) or 0
    return Counts(
        work=worklist.open_counts(clinic_ids), mine=worklist.mine_count(clinic_ids, user),
        take_home=take_home_count, take_home_soonest=soonest,
        inbox=conversations.counts(clinic_ids, user),
        gaps=sum(team.gap_counts(clinic_ids).values()), handovers=handovers, transfers=moves)
