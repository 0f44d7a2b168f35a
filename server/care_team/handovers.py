"""Handing an area of responsibility over from its holder to another member.

The rule: a responsibility is not let go until someone has taken it over. So a
proposal changes nothing about who is responsible; the holder stays responsible
and sees the handover on the worklist, as does the receiver. Acceptance ends the
old holder's row at the very moment the new one starts (at acceptance, or at the
start of the planned day), in one transaction. Accepting, declining and
withdrawing are conditional UPDATEs on a proposed handover: of two people acting
at once exactly one wins, and the other is told what happened.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from server.care_team import areas, team
from server.care_team.models import (
    ExternalConfirmation,
    Handover,
    HandoverStatus,
    Responsibility,
    TeamEventKind,
    TeamMember,
)
from server.care_team.team import TeamError
from server.extensions import db
from server.models import Clinic, PatientProfile, User
from server.models.base import utcnow
from server.services.local_time import oslo_today, to_utc

NOTE_MAX = 500
#: How far ahead a handover can be planned.
MAX_DAYS_AHEAD = 180


class HandoverConflict(TeamError):
    """Someone else answered the handover first; ``status`` is what they did."""


def propose(patient: PatientProfile, area_key: str, to_member: TeamMember, by: User,
            takes_effect_on: date | None = None, note: str = "") -> Handover:
    """Propose that ``to_member`` takes over ``area_key`` from its holder. Commits."""
    current = team.holder(patient.id, area_key)
    if current is None:
        raise TeamError(_l("Nobody holds this yet. Choose who is responsible instead."),
                        "gap", "area")
    if any(r.area_key == area_key for r in team.future_responsibilities(patient.id)):
        raise TeamError(_l("A handover of this is already agreed for a later day. Wait until "
                           "it has taken effect."), "agreed", "area")
    if to_member.patient_id != patient.id or to_member.removed_at is not None:
        raise TeamError(_l("Choose a member of this patient's team."), "not_member",
                        "to_member")
    if to_member.id == current.member_id:
        raise TeamError(_l("They are already responsible for this."), "same", "to_member")
    today = oslo_today()
    if takes_effect_on is not None and not today <= takes_effect_on <= \
            today + timedelta(days=MAX_DAYS_AHEAD):
        raise TeamError(_l("Choose a day from today and at most %(n)d days ahead.",
                           n=MAX_DAYS_AHEAD), "bad_date", "takes_effect_on")
    if len(note) > NOTE_MAX:
        raise TeamError(_l("Please keep it under %(max)d characters.", max=NOTE_MAX),
                        "too_long", "note")
    handover = Handover(patient_id=patient.id, clinic_id=patient.clinic_id, area_key=area_key,
                        from_member_id=current.member_id, to_member_id=to_member.id,
                        takes_effect_on=takes_effect_on if takes_effect_on != today else None,
                        note=note.strip(), proposed_by_id=by.id, proposed_at=utcnow())
    db.session.add(handover)
    try:
        db.session.flush()
    except IntegrityError:  # one open handover per area
        db.session.rollback()
        raise TeamError(_l("A handover of this is already waiting. Withdraw it first."),
                        "open", "area") from None
    team._event(patient, TeamEventKind.HANDOVER_PROPOSED, by, area_key=area_key,
                handover_id=handover.id, member_id=to_member.id)
    db.session.commit()
    return handover


def _claim(handover: Handover, status: HandoverStatus, by: User, note: str = "",
           **values: object) -> None:
    """Move a proposed handover to ``status``, or raise HandoverConflict."""
    won = db.session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.status == HandoverStatus.PROPOSED)
        .values(status=status, decided_by_id=by.id, decided_at=utcnow(),
                decision_note=note.strip()[:NOTE_MAX], **values)
        .execution_options(synchronize_session=False)).rowcount
    if not won:
        db.session.rollback()
        db.session.refresh(handover)
        raise HandoverConflict(_CONFLICT[handover.status], handover.status.value)


_CONFLICT = {
    HandoverStatus.ACCEPTED: _l("Someone answered this handover first: it was accepted. "
                                "Nothing else was changed."),
    HandoverStatus.DECLINED: _l("Someone answered this handover first: it was declined. "
                                "Nothing else was changed."),
    HandoverStatus.WITHDRAWN: _l("This handover was withdrawn. Nothing was changed."),
    HandoverStatus.PROPOSED: _l("This handover is still waiting."),
}


def _effective(handover: Handover, clinic: Clinic, now: datetime) -> datetime:
    """When the receiver takes over: the start of the planned day, or now."""
    if handover.takes_effect_on is None:
        return now
    start = to_utc(handover.takes_effect_on, time(0, 0), clinic.timezone or "Europe/Oslo")
    return max(start, now)


def accept(handover: Handover, by: User, confirmed_how: ExternalConfirmation | None = None,
           confirmed_on: date | None = None, note: str = "") -> Handover:
    """The receiver takes over. For an external receiver, the staff member who spoke to them
    records how and when they said yes. Commits; raises HandoverConflict when too late."""
    if handover.to_member.external_contact_id is not None:
        if confirmed_how is None:
            raise TeamError(_l("Record how they said yes."), "no_confirmation",
                            "confirmed_how")
        if confirmed_on is None or confirmed_on > oslo_today():
            raise TeamError(_l("Record the day they said yes (today or earlier)."), "bad_date",
                            "confirmed_on")
    now = utcnow()
    _claim(handover, HandoverStatus.ACCEPTED, by, note, confirmed_how=confirmed_how,
           confirmed_on=confirmed_on)
    patient = handover.patient
    starts = _effective(handover, patient.clinic, now)
    # End the holder's row at the moment the receiver's begins: never a gap, never two.
    db.session.execute(
        update(Responsibility)
        .where(Responsibility.patient_id == handover.patient_id,
               Responsibility.area_key == handover.area_key, Responsibility.until.is_(None))
        .values(until=starts).execution_options(synchronize_session=False))
    db.session.add(Responsibility(patient_id=handover.patient_id, area_key=handover.area_key,
                                  member_id=handover.to_member_id, since=starts,
                                  handover_id=handover.id))
    team._event(patient, TeamEventKind.HANDOVER_ACCEPTED, by, area_key=handover.area_key,
                handover_id=handover.id, member_id=handover.to_member_id,
                details={"takes_effect": starts.isoformat()})
    team.send_team_sheet(patient)
    db.session.commit()
    db.session.refresh(handover)
    return handover


def decline(handover: Handover, by: User, note: str = "") -> Handover:
    """The receiver says no; the holder stays responsible. Commits."""
    _claim(handover, HandoverStatus.DECLINED, by, note)
    team._event(handover.patient, TeamEventKind.HANDOVER_DECLINED, by,
                area_key=handover.area_key, handover_id=handover.id)
    db.session.commit()
    db.session.refresh(handover)
    return handover


def withdraw(handover: Handover, by: User) -> Handover:
    """The proposer (or the holder, a coordinator, the clinic admin) takes it back."""
    _claim(handover, HandoverStatus.WITHDRAWN, by)
    team._event(handover.patient, TeamEventKind.HANDOVER_WITHDRAWN, by,
                area_key=handover.area_key, handover_id=handover.id)
    db.session.commit()
    db.session.refresh(handover)
    return handover


def escalate_overdue(now: datetime | None = None) -> int:
    """Handovers waiting longer than their clinic allows go to the clinic admin: marked once,
    with an event. Returns how many. Commits. Called by the worker and the worklist."""
    now = now or utcnow()
    waiting = db.session.execute(
        select(Handover, Clinic.handover_escalation_days)
        .join(Clinic, Clinic.id == Handover.clinic_id)
        .where(Handover.status == HandoverStatus.PROPOSED, Handover.escalated_at.is_(None))
    ).all()
    count = 0
    for handover, days in waiting:
        if handover.proposed_at > now - timedelta(days=days or 7):
            continue
        marked = db.session.execute(
            update(Handover).where(Handover.id == handover.id, Handover.escalated_at.is_(None),
                                   Handover.status == HandoverStatus.PROPOSED)
            .values(escalated_at=now).execution_options(synchronize_session=False)).rowcount
        if marked:
            team._event(handover.patient, TeamEventKind.HANDOVER_ESCALATED, None,
                        area_key=handover.area_key, handover_id=handover.id)
            count += 1
    db.session.commit()
    return count


def waiting_for(user: User, clinic_ids: list[int]) -> dict[str, list[Handover]]:
    """The worklist's handovers for ``user``: to accept (to them, or to an external contact
    they can record), handed over by them and still waiting, and (for clinic admins) those
    waiting too long."""
    proposed = list(db.session.scalars(
        select(Handover).where(Handover.clinic_id.in_(clinic_ids),
                               Handover.status == HandoverStatus.PROPOSED)
        .order_by(Handover.proposed_at)))
    admin_of = {m.clinic_id for m in user.memberships if m.role.value == "clinic_admin"}
    result: dict[str, list[Handover]] = {"to_me": [], "from_me": [], "external": [],
                                         "overdue": []}
    for handover in proposed:
        if handover.to_member.staff_user_id == user.id:
            result["to_me"].append(handover)
        elif handover.to_member.external_contact_id is not None and (
                handover.proposed_by_id == user.id or
                handover.from_member.staff_user_id == user.id):
            result["external"].append(handover)
        if handover.from_member.staff_user_id == user.id or handover.proposed_by_id == user.id:
            result["from_me"].append(handover)
        if handover.escalated_at is not None and handover.clinic_id in admin_of:
            result["overdue"].append(handover)
    return result


def area_label(handover: Handover) -> str:
    return str(areas.area(handover.area_key).label)
