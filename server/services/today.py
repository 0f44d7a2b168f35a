"""The staff's Today: the clinic's appointments today and tomorrow, and the counts of what
waits, each leading to the filtered list behind it.

Every figure is counted in the database (a handful of queries whatever the clinic's size);
the counts name no patient, so only the appointment table is written to the access log (by
the view, through the policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from server.care_team import team
from server.care_team.models import Handover, HandoverStatus, Transfer, TransferStatus
from server.extensions import db
from server.messages import conversations
from server.messages.conversations import InboxCounts
from server.models import Appointment, PatientProfile, TakeHomeRequest, User, WorkItem, WorkKind
from server.models.base import utcnow
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
    """Every figure of Today in one query: each count is a subquery its module builds."""
    if not clinic_ids:
        return Counts({}, 0, 0, None, InboxCounts(0, 0, 0), 0, 0, 0)
    now = utcnow()
    overdue = conversations.overdue_values(clinic_ids, now)
    row = list(db.session.execute(
        _counts_statement(len(overdue) // 2),
        {"clinic_ids": clinic_ids, "user_id": user.id, "now": now, **overdue}).one())
    kinds = list(WorkKind)
    work = {kind: int(n) for kind, n in zip(kinds, row[:len(kinds)], strict=True) if n}
    mine, take_home_count, soonest, unanswered, late, mine_waiting, gaps, handovers, moves = \
        row[len(kinds):]
    return Counts(
        work=work, mine=int(mine), take_home=int(take_home_count), take_home_soonest=soonest,
        inbox=InboxCounts(int(unanswered), int(late), int(mine_waiting)), gaps=int(gaps),
        handovers=int(handovers), transfers=int(moves))


@cache
def _counts_statement(clinics: int) -> Select[Any]:
    """Today's counts as one statement, built once per number of clinics (building it costs
    more than running it) with bound parameters for the clinics, the reader and the time."""
    ids = bindparam("clinic_ids", expanding=True)
    undecided = select(TakeHomeRequest).where(TakeHomeRequest.clinic_id.in_(ids),
                                              TakeHomeRequest.status.in_(UNDECIDED))
    queries = [
        *(worklist.open_count_query(ids, WorkItem.kind == kind) for kind in WorkKind),
        worklist.open_count_query(ids, WorkItem.assigned_to_id == bindparam("user_id")),
        undecided.with_only_columns(func.count()),
        undecided.with_only_columns(func.min(TakeHomeRequest.first_day)),
        *conversations.count_queries(ids, bindparam("user_id"),
                                     conversations.overdue_condition(
                                         conversations.overdue_parameters(clinics))),
        team.gap_total_query(ids, bindparam("now")),
        select(func.count()).select_from(Handover).where(
            Handover.clinic_id.in_(ids), Handover.status == HandoverStatus.PROPOSED),
        select(func.count()).select_from(Transfer).where(
            Transfer.to_clinic_id.in_(ids), Transfer.status == TransferStatus.PROPOSED),
    ]
    return select(*(query.scalar_subquery() for query in queries))
