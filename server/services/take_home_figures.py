"""Variation figures: how a clinic decides take-home requests, per period.

A group of requests (a clinic, or one decider) is described by: the number of
requests made in the period, the shares approved / partly approved / declined
among those decided, and the median days from request to decision. A figure
built from fewer than ``MIN_GROUP`` requests is withheld (None), so that
nobody can be recognised in a small clinic. No figure carries patient data.

"In the period" means the request was made on a day from ``first`` to
``last`` inclusive, widened to whole calendar months, in the clinic's time
zone (Europe/Oslo). Deciders with fewer than ``MIN_GROUP`` decisions are shown
together as one row, and not at all when that row, too, would be under it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.extensions import db
from server.models import (
    DECIDED,
    Clinic,
    RequestStatus,
    TakeHomeRequest,
    User,
)
from server.services.local_time import to_utc

#: The smallest group whose figures are shown.
MIN_GROUP = 5


@dataclass(frozen=True)
class Figures:
    """Figures for one group; None where fewer than MIN_GROUP requests lie behind them."""

    label: str
    requests: int | None
    decided: int | None
    approved_share: float | None
    partly_share: float | None
    declined_share: float | None
    median_days: float | None

    @property
    def hidden(self) -> bool:
        return self.requests is None and self.decided is None


def _days(request: TakeHomeRequest) -> float:
    if request.decided_at is None:
        raise ValueError("only decided requests have a time to decision")
    return (request.decided_at - request.created_at) / timedelta(days=1)


def _figures(label: str, made: list[TakeHomeRequest], decided: list[TakeHomeRequest]) -> Figures:
    shown_made = len(made) if len(made) >= MIN_GROUP else None
    if len(decided) < MIN_GROUP:
        return Figures(label, shown_made, None, None, None, None, None)
    total = len(decided)

    def share(status: RequestStatus) -> float:
        return sum(1 for r in decided if r.status is status) / total

    return Figures(
        label=label, requests=shown_made, decided=total,
        approved_share=share(RequestStatus.APPROVED),
        partly_share=share(RequestStatus.PARTLY_APPROVED),
        declined_share=share(RequestStatus.DECLINED),
        median_days=statistics.median(_days(r) for r in decided),
    )


def _window(first: date, last: date) -> tuple[datetime, datetime]:
    """Whole calendar months: two periods a day apart must not single out one request."""
    after = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    return to_utc(date(first.year, first.month, 1), time(0, 0)), to_utc(after, time(0, 0))


def _made_in(clinic_ids: list[int] | None, first: date, last: date) -> list[TakeHomeRequest]:
    start, end = _window(first, last)
    query = select(TakeHomeRequest).where(TakeHomeRequest.created_at >= start,
                                          TakeHomeRequest.created_at < end)
    if clinic_ids is not None:
        query = query.where(TakeHomeRequest.clinic_id.in_(clinic_ids))
    return list(db.session.scalars(query))


def for_clinic(clinic: Clinic, first: date, last: date) -> Figures:
    made = _made_in([clinic.id], first, last)
    return _figures(clinic.name, made, [r for r in made if r.status in DECIDED])


def by_decider(clinic: Clinic, first: date, last: date) -> list[Figures]:
    """One row per decider with at least MIN_GROUP decisions; for clinic admins only."""
    made = _made_in([clinic.id], first, last)
    groups: dict[int, list[TakeHomeRequest]] = defaultdict(list)
    for request in made:
        if request.status in DECIDED and request.decided_by_id is not None:
            groups[request.decided_by_id].append(request)
    rows = []
    others: list[TakeHomeRequest] = []
    for user_id, decided in groups.items():
        if len(decided) < MIN_GROUP:
            others.extend(decided)
            continue
        user = db.session.get(User, user_id)
        rows.append(_figures(user.display_name if user else "?", decided, decided))
    if 0 < len(others) < MIN_GROUP:
        # The clinic's total minus the rows shown would give these few decisions away.
        return []
    rows.sort(key=lambda f: f.label.lower())
    if others:
        rows.append(_figures(str(_l("Other deciders together")), others, others))
    return rows


def comparison(first: date, last: date) -> list[Figures]:
    """Every clinic's figures side by side, by clinic name; no patient data."""
    made = _made_in(None, first, last)
    per_clinic: dict[int, list[TakeHomeRequest]] = defaultdict(list)
    for request in made:
        per_clinic[request.clinic_id].append(request)
    clinics = db.session.scalars(select(Clinic).order_by(Clinic.name))
    return [_figures(c.name, per_clinic[c.id], [r for r in per_clinic[c.id] if r.status in DECIDED])
            for c in clinics]
