"""Moving a patient to another clinic in Følge (Lars's story: care that fell apart at a
move between health trusts).

A doctor or coordinator proposes the move with the patient's consent recorded.
The receiving clinic sees only what it needs to answer: name, date of birth,
the proposed day and the sending contact. Until it accepts, nothing moves and
the sending clinic stays responsible. Acceptance names the receiving clinic's
responsible doctor and coordinator, and moves everything in one transaction:
the patient (with appointments, reminder and channel choices, language, pickup
plan, take-home history and named feedback, which all hang on the patient),
the open work and undecided requests, and the care team, whose areas held by
the sending clinic's staff pass to the named doctor (medication) and
coordinator (everything else) at the same moment. Relatives' accesses pause
until the patient confirms each again. The statements are set-based, so the
number of queries does not grow with the patient's history (bench/transfer.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from server.care_team import areas, team
from server.care_team.models import (
    ExternalContact,
    Handover,
    HandoverStatus,
    Responsibility,
    TeamEventKind,
    TeamMember,
    TeamService,
    Transfer,
    TransferStatus,
)
from server.care_team.team import TeamError
from server.extensions import db
from server.labels import PICKUP_PLACES
from server.models import (
    UNDECIDED,
    Clinic,
    ConsentMethod,
    MessagePurpose,
    PatientProfile,
    RelativeAccess,
    StaffRole,
    TakeHomeRequest,
    User,
    WorkItem,
    WorkStatus,
)
from server.models.base import utcnow
from server.services import outbox, take_home
from server.services.local_time import oslo_today

NOTE_MAX = 500


class TransferConflict(TeamError):
    """Someone answered the transfer first."""


@dataclass(frozen=True)
class ProposalInput:
    to_clinic_id: int
    proposed_date: date | None
    consent_method: ConsentMethod | None
    consent_on: date | None
    note: str = ""


def open_transfer_conditions(patient_id: int) -> list[ColumnElement[bool]]:
    """A move of the patient that is proposed and not yet done or called off."""
    return [Transfer.patient_id == patient_id, Transfer.status == TransferStatus.PROPOSED]


def open_transfer(patient_id: int) -> Transfer | None:
    return db.session.scalar(select(Transfer).where(*open_transfer_conditions(patient_id))
                             .options(joinedload(Transfer.to_clinic)))


def propose(patient: PatientProfile, data: ProposalInput, by: User) -> Transfer:
    """Propose moving ``patient`` to another clinic; the patient is told. Commits."""
    to_clinic = db.session.get(Clinic, data.to_clinic_id)
    if to_clinic is None or to_clinic.id == patient.clinic_id:
        raise TeamError(_l("Choose another clinic in Følge."), "no_clinic", "to_clinic")
    today = oslo_today()
    if data.proposed_date is None or data.proposed_date < today:
        raise TeamError(_l("Choose a day from today on."), "bad_date", "proposed_date")
    if data.consent_method is None:
        raise TeamError(_l("Record how the patient gave consent."), "no_consent",
                        "consent_method")
    if data.consent_on is None or data.consent_on > today:
        raise TeamError(_l("Record the day the patient gave consent (today or earlier)."),
                        "bad_consent_date", "consent_on")
    if len(data.note) > NOTE_MAX:
        raise TeamError(_l("Please keep it under %(max)d characters.", max=NOTE_MAX),
                        "too_long", "note")
    transfer = Transfer(patient_id=patient.id, from_clinic_id=patient.clinic_id,
                        to_clinic_id=to_clinic.id, proposed_date=data.proposed_date,
                        note=data.note.strip(), consent_method=data.consent_method,
                        consent_on=data.consent_on, sending_contact_id=by.id,
                        proposed_by_id=by.id, proposed_at=utcnow())
    db.session.add(transfer)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise TeamError(_l("A move of this patient is already proposed."), "open",
                        "to_clinic") from None
    team._event(patient, TeamEventKind.TRANSFER_PROPOSED, by, transfer_id=transfer.id)
    outbox.enqueue(key=f"transfer_proposed:{transfer.id}", purpose=MessagePurpose.TRANSFER,
                   patient=patient, template="transfer_proposed",
                   params={"on_day": data.proposed_date.isoformat()},
                   channels=outbox.channel_plan(patient, MessagePurpose.NOTICE))
    db.session.commit()
    return transfer


def _claim(transfer: Transfer, status: TransferStatus, by: User, note: str = "",
           **values: object) -> None:
    won = db.session.execute(
        update(Transfer).where(Transfer.id == transfer.id,
                               Transfer.status == TransferStatus.PROPOSED)
        .values(status=status, decided_by_id=by.id, decided_at=utcnow(),
                decision_note=note.strip()[:NOTE_MAX], **values)
        .execution_options(synchronize_session=False)).rowcount
    if not won:
        db.session.rollback()
        db.session.refresh(transfer)
        raise TransferConflict(_l("Someone answered this move first. Nothing else was "
                                  "changed."), transfer.status.value)


def withdraw(transfer: Transfer, by: User) -> None:
    _claim(transfer, TransferStatus.WITHDRAWN, by)
    team._event(transfer.patient, TeamEventKind.TRANSFER_WITHDRAWN, by, transfer_id=transfer.id)
    db.session.commit()


def decline(transfer: Transfer, by: User, note: str) -> None:
    """The receiving clinic says no, with a reason the sending clinic reads. Commits."""
    if not note.strip():
        raise TeamError(_l("Write why, so the sending clinic can find another way."),
                        "no_reason", "note")
    _claim(transfer, TransferStatus.DECLINED, by, note)
    team._event(transfer.patient, TeamEventKind.TRANSFER_DECLINED, by, transfer_id=transfer.id)
    db.session.commit()


def _staff_of(clinic_id: int, user_id: int | None, roles: set[StaffRole]) -> User | None:
    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.disabled_at is not None:
        return None
    ok = any(m.clinic_id == clinic_id and m.role in roles for m in user.memberships)
    return user if ok else None


def accept(transfer: Transfer, by: User, doctor_id: int | None,
           coordinator_id: int | None, now: datetime | None = None) -> Transfer:
    """The receiving clinic accepts and everything moves at once (see the module text).
    Any failure rolls every step back. Commits; raises TransferConflict when too late."""
    to_id = transfer.to_clinic_id
    doctor = _staff_of(to_id, doctor_id, {StaffRole.DOCTOR})
    if doctor is None:
        raise TeamError(_l("Choose the doctor at your clinic who will be responsible."),
                        "no_doctor", "doctor")
    # Any staff member can be the coordinator (often a nurse or a social worker).
    coordinator = _staff_of(to_id, coordinator_id, set(StaffRole))
    if coordinator is None:
        raise TeamError(_l("Choose the coordinator at your clinic."), "no_coordinator",
                        "coordinator")
    now = now or utcnow()
    try:
        _claim(transfer, TransferStatus.ACCEPTED, by, receiving_doctor_id=doctor.id,
               receiving_coordinator_id=coordinator.id)
        _move(transfer, by, doctor, coordinator, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    db.session.refresh(transfer)
    return transfer


def _move(transfer: Transfer, by: User, doctor: User, coordinator: User, now: datetime) -> None:
    """Every step of an accepted move, in the caller's transaction."""
    patient_id, to_id, from_id = transfer.patient_id, transfer.to_clinic_id, \
        transfer.from_clinic_id
    run = db.session.execute
    run(update(PatientProfile).where(PatientProfile.id == patient_id)
        .values(clinic_id=to_id).execution_options(synchronize_session=False))
    run(update(WorkItem).where(WorkItem.patient_id == patient_id,
                               WorkItem.status == WorkStatus.OPEN)
        .values(clinic_id=to_id).execution_options(synchronize_session=False))
    run(update(TakeHomeRequest).where(TakeHomeRequest.patient_id == patient_id,
                                      TakeHomeRequest.status.in_(UNDECIDED))
        .values(clinic_id=to_id).execution_options(synchronize_session=False))
    # The patient confirms each relative again before they see anything at the new clinic.
    run(update(RelativeAccess).where(RelativeAccess.patient_id == patient_id,
                                     RelativeAccess.revoked_at.is_(None),
                                     RelativeAccess.paused_at.is_(None))
        .values(paused_at=now).execution_options(synchronize_session=False))
    run(update(Handover).where(Handover.patient_id == patient_id,
                               Handover.status == HandoverStatus.PROPOSED)
        .values(status=HandoverStatus.WITHDRAWN, decided_by_id=by.id, decided_at=now,
                decision_note="transfer").execution_options(synchronize_session=False))
    _move_team(transfer, doctor, coordinator, now)
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None:
        raise TeamError(_l("The patient was not found."), "gone")
    db.session.refresh(patient)
    from server.messages.conversations import after_transfer

    after_transfer(patient)  # open conversations go to the new coordinator
    team._event(patient, TeamEventKind.TRANSFER_ACCEPTED, by, transfer_id=transfer.id,
                details={"from_clinic_id": from_id, "to_clinic_id": to_id})
    outbox.enqueue(key=f"transfer_done:{transfer.id}", purpose=MessagePurpose.TRANSFER,
                   patient=patient, template="transfer_done", params={},
                   channels=outbox.channel_plan(patient, MessagePurpose.NOTICE))


def _move_team(transfer: Transfer, doctor: User, coordinator: User, now: datetime) -> None:
    """The sending clinic's staff leave the team and their areas pass, at ``now``, to the
    named doctor (medication) and coordinator (all else); external members move into the
    receiving clinic's directory. Areas the receiving clinic does not have end."""
    patient_id, to_id = transfer.patient_id, transfer.to_clinic_id
    members = db.session.scalars(select(TeamMember).where(
        TeamMember.patient_id == patient_id, TeamMember.removed_at.is_(None))).all()
    leaving = [m.id for m in members if m.staff_user_id is not None]

    def new_member(user: User, role: str) -> TeamMember:
        member = TeamMember(patient_id=patient_id, clinic_id=to_id,
                            service=TeamService.CLINIC, staff_user_id=user.id, role_text=role,
                            added_by_id=transfer.decided_by_id, added_at=now)
        db.session.add(member)
        return member

    # An empty role is shown as the person's staff role, in the reader's language.
    doctor_member = new_member(doctor, "")
    coordinator_member = doctor_member if coordinator.id == doctor.id else \
        new_member(coordinator, "")
    for member in members:
        if member.external_contact_id is not None and member.external is not None:
            source = member.external
            copy = ExternalContact(
                clinic_id=to_id, service=source.service, organisation=source.organisation,
                name=source.name, role=source.role, phone=source.phone, address=source.address,
                open_days=list(source.open_days or []), opens_at=source.opens_at,
                closes_at=source.closes_at, answers_within_days=source.answers_within_days)
            db.session.add(copy)
            db.session.flush()
            member.external_contact_id, member.clinic_id = copy.id, to_id
    db.session.flush()
    keep = {a.key for a in areas.areas_for(to_id)}
    ended = db.session.scalars(select(Responsibility).where(
        Responsibility.patient_id == patient_id, Responsibility.until.is_(None))).all()
    for row in ended:
        if row.member_id in leaving or row.area_key not in keep:
            row.until = now
    db.session.flush()
    held = {r.area_key for r in ended if r.until is None}
    rows = []
    for row in ended:
        if row.member_id in leaving and row.area_key in keep:
            taker = doctor_member if row.area_key == areas.MEDICATION else coordinator_member
            rows.append({"patient_id": patient_id, "area_key": row.area_key,
                         "member_id": taker.id, "since": now})
            held.add(row.area_key)
    for area_key, taker in ((areas.COORDINATOR, coordinator_member),
                            (areas.MEDICATION, doctor_member)):
        if area_key not in held:  # a gap at the sending clinic: the named person takes it
            rows.append({"patient_id": patient_id, "area_key": area_key,
                         "member_id": taker.id, "since": now})
    if rows:
        db.session.execute(insert(Responsibility), rows)
    if leaving:
        db.session.execute(update(TeamMember).where(TeamMember.id.in_(leaving))
                           .values(removed_at=now).execution_options(synchronize_session=False))


def rule_differences(from_clinic: Clinic, to_clinic: Clinic) -> list[LazyString]:
    """What changes for take-home requests at the new clinic, in sentences for the patient."""
    old, new = take_home.rules_for(from_clinic), take_home.rules_for(to_clinic)
    found: list[LazyString] = []
    if new.notice_days != old.notice_days:
        found.append(_l("At your new clinic, take-home requests need %(new)d days' notice "
                        "(now %(old)d).", new=new.notice_days, old=old.notice_days))
    if new.usual_max_days != old.usual_max_days:
        found.append(_l("At your new clinic, one request usually covers at most %(new)d days "
                        "(now %(old)d).", new=new.usual_max_days, old=old.usual_max_days))
    if set(new.allowed_places or []) != set(old.allowed_places or []):
        places = ", ".join(str(PICKUP_PLACES[p]) for p in new.allowed_places or []
                           if p in PICKUP_PLACES)
        found.append(_l("At your new clinic you can pick up at: %(places)s.", places=places))
    return found


def incoming(clinic_ids: list[int]) -> list[Transfer]:
    """Proposals waiting for these clinics' answer."""
    return list(db.session.scalars(select(Transfer).where(
        Transfer.to_clinic_id.in_(clinic_ids), Transfer.status == TransferStatus.PROPOSED)
        .order_by(Transfer.proposed_at)))


def outgoing(clinic_ids: list[int]) -> list[Transfer]:
    """Proposals these clinics made that wait for an answer."""
    return list(db.session.scalars(select(Transfer).where(
        Transfer.from_clinic_id.in_(clinic_ids), Transfer.status == TransferStatus.PROPOSED)
        .order_by(Transfer.proposed_at)))


def moved_out(patient_id: int, clinic_ids: list[int]) -> Transfer | None:
    """The latest accepted move of this patient out of one of these clinics."""
    return db.session.scalar(select(Transfer).where(
        Transfer.patient_id == patient_id, Transfer.from_clinic_id.in_(clinic_ids),
        Transfer.status == TransferStatus.ACCEPTED).order_by(Transfer.decided_at.desc())
        .limit(1))


def former_patients(clinic_ids: list[int]) -> list[Transfer]:
    """Accepted moves out of these clinics, newest first (the read-only archive's list)."""
    return list(db.session.scalars(select(Transfer).where(
        Transfer.from_clinic_id.in_(clinic_ids), Transfer.status == TransferStatus.ACCEPTED)
        .order_by(Transfer.decided_at.desc()).limit(200)))
