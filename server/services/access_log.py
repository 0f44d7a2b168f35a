"""Write and read the access log ("who has seen my information")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import AccessLogEntry, AccessTarget, PatientProfile, User
from server.models.base import utcnow

OSLO = ZoneInfo("Europe/Oslo")


def record(
    viewer: User,
    patient: PatientProfile,
    target: AccessTarget,
    viewer_role: str,
    clinic_id: int | None,
    commit: bool = True,
    subject_id: int | None = None,
) -> None:
    """Log that ``viewer`` opened ``target`` of ``patient``. Commits unless told not to.

    Called by the policy in the same request that shows the data; the
    patient's own views are never logged.
    """
    if viewer.id == patient.user_id:
        return
    db.session.add(
        AccessLogEntry(
            patient_id=patient.id,
            viewer_user_id=viewer.id,
            viewer_role=viewer_role,
            clinic_id=clinic_id,
            target=target,
            subject_id=subject_id,
        )
    )
    if commit:
        db.session.commit()


def record_many(viewer: User,
                shown: list[tuple[PatientProfile, str, int | None, AccessTarget]]) -> None:
    """Log a list view: one entry per (patient, viewer role, clinic, what) shown, in one
    INSERT, and commit without expiring what was loaded, so the page that lists the
    patients does not read each of them again. The patient's own views are never logged."""
    rows = [{"patient_id": patient.id, "viewer_user_id": viewer.id, "viewer_role": role,
             "clinic_id": clinic_id, "target": target, "at": utcnow()}
            for patient, role, clinic_id, target in shown if patient.user_id != viewer.id]
    if rows:
        db.session.execute(insert(AccessLogEntry), rows)
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def entry_of(patient: PatientProfile, entry_id: int | None) -> AccessLogEntry | None:
    """One entry of the patient's own log (for "Do not recognise this?"), or None."""
    entry = db.session.get(AccessLogEntry, entry_id) if entry_id else None
    return entry if entry is not None and entry.patient_id == patient.id else None


def entries_for(patient: PatientProfile, limit: int = 200) -> list[AccessLogEntry]:
    """The newest entries for ``patient``, with viewer and clinic loaded."""
    return list(
        db.session.scalars(
            select(AccessLogEntry)
            .where(AccessLogEntry.patient_id == patient.id)
            .options(joinedload(AccessLogEntry.viewer), joinedload(AccessLogEntry.clinic))
            .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
            .limit(limit)
        )
    )


# --- the patient's page: reads grouped, a month at a time ------------------------------------

#: Reads this close together by one person are one page: the staff's patient overview writes
#: an entry per section it shows, and the patient reads them as one line.
SAME_PAGE = timedelta(seconds=2)
#: What one staff page may show together (the overview's sections, the decision's context).
PAGE_PARTS = frozenset({AccessTarget.CARE_TEAM, AccessTarget.APPOINTMENT, AccessTarget.TAKE_HOME,
                        AccessTarget.FEEDBACK, AccessTarget.RELATIVES, AccessTarget.CONVERSATION,
                        AccessTarget.OBSERVATIONS})


@dataclass
class Group:
    """Consecutive reads by one person, on one day, of the same thing; or the entries one
    page wrote at once (``also``: the other things it showed)."""

    first: AccessLogEntry
    count: int = 1
    #: The earliest read of the group (entries come newest first).
    earliest_at: datetime | None = None
    #: Which request, appointment or conversation it was, in words ("" for a page).
    subject: str = ""
    also: list[AccessTarget] = field(default_factory=list)

    @property
    def latest_at(self) -> datetime:
        return self.first.at

    @property
    def targets(self) -> list[AccessTarget]:
        """What the group showed, the page itself first (it was written first)."""
        return list(reversed([self.first.target, *self.also]))

    def same(self, entry: AccessLogEntry) -> bool:
        return (entry.viewer_user_id == self.first.viewer_user_id
                and entry.target is self.first.target
                and entry.subject_id == self.first.subject_id
                and not self.also
                and _day(entry.at) == _day(self.first.at))

    def same_page(self, entry: AccessLogEntry) -> bool:
        """``entry`` was written by the same page view as this group: a part of a page that
        shows several things, up to the page's own entry (written first, so read last)."""
        return (entry.viewer_user_id == self.first.viewer_user_id and self.count == 1
                and self.first.target in PAGE_PARTS and entry.subject_id is None
                and (entry.target in PAGE_PARTS or entry.target is AccessTarget.PATIENT_OVERVIEW)
                and entry.target not in self.targets
                and AccessTarget.PATIENT_OVERVIEW not in self.also
                and abs(self.first.at - entry.at) <= SAME_PAGE)


def _day(moment: datetime) -> date:
    return moment.astimezone(OSLO).date()


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first moment of ``month`` and of the next one, in Oslo time, as UTC."""
    start = datetime(month.year, month.month, 1, tzinfo=OSLO)
    following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=OSLO)
    return start.astimezone(UTC), following.astimezone(UTC)


def months_with_entries(patient: PatientProfile) -> list[date]:
    """The months (their first day) in which someone read the patient's information."""
    found = db.session.scalars(select(AccessLogEntry.at).where(
        AccessLogEntry.patient_id == patient.id).order_by(AccessLogEntry.at.desc()))
    months: list[date] = []
    for moment in found:
        local = moment.astimezone(OSLO)
        first = date(local.year, local.month, 1)
        if not months or months[-1] != first:
            months.append(first)
    return months


def grouped_for(patient: PatientProfile, month: date) -> list[Group]:
    """The month's reads, newest first, consecutive reads of the same thing by the same
    person on the same day as one group, each with what it was in words."""
    start, end = month_bounds(month)
    entries = db.session.scalars(
        select(AccessLogEntry)
        .where(AccessLogEntry.patient_id == patient.id, AccessLogEntry.at >= start,
               AccessLogEntry.at < end)
        .options(joinedload(AccessLogEntry.viewer), joinedload(AccessLogEntry.clinic))
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc()))
    groups: list[Group] = []
    for entry in entries:
        if groups and groups[-1].same(entry):
            groups[-1].count += 1
            groups[-1].earliest_at = entry.at
        elif groups and groups[-1].same_page(entry):
            groups[-1].also.append(entry.target)
            groups[-1].earliest_at = entry.at
        else:
            groups.append(Group(entry, earliest_at=entry.at))
    subjects = _subjects(groups)
    for group in groups:
        group.subject = subjects.get((group.first.target, group.first.subject_id), "")
    return groups


def _subjects(groups: list[Group]) -> dict[tuple[AccessTarget, int | None], str]:
    """Words for the rows the groups are about, a query per kind of row."""
    from flask_babel import format_time

    from server.labels import TOPICS
    from server.locales import day_month
    from server.messages.models import Conversation
    from server.models import Appointment, TakeHomeRequest

    wanted: dict[AccessTarget, set[int]] = {}
    for group in groups:
        if group.first.subject_id is not None:
            wanted.setdefault(group.first.target, set()).add(group.first.subject_id)
    words: dict[tuple[AccessTarget, int | None], str] = {}
    requests = wanted.get(AccessTarget.TAKE_HOME)
    if requests:
        for request in db.session.scalars(select(TakeHomeRequest).where(
                TakeHomeRequest.id.in_(requests))):
            if request.first_day and request.last_day:
                words[(AccessTarget.TAKE_HOME, request.id)] = (
                    f"{day_month(request.first_day)}–{day_month(request.last_day)}")
    visits = wanted.get(AccessTarget.APPOINTMENT)
    if visits:
        for appointment in db.session.scalars(select(Appointment).where(
                Appointment.id.in_(visits))):
            words[(AccessTarget.APPOINTMENT, appointment.id)] = (
                f"{day_month(appointment.starts_at)} {format_time(appointment.starts_at, 'HH:mm')}")
    threads = wanted.get(AccessTarget.CONVERSATION)
    if threads:
        for conversation in db.session.scalars(select(Conversation).where(
                Conversation.id.in_(threads))):
            if conversation.topic is not None:
                words[(AccessTarget.CONVERSATION, conversation.id)] = str(
                    TOPICS[conversation.topic.value])
    return words
