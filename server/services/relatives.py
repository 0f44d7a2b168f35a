"""Relatives (pårørende): invitations, scoped access, revocation, agreements, observations.

The patient decides. Nothing is in scope unless the patient (or staff, with
the patient's recorded consent) chose it; revoking ends the relative's
sessions at once, and an end date stops access without anyone acting. An
invitation never names the patient or the clinic: the SMS says only that
someone has invited the person to Følge.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.links import public_url
from server.models import (
    Channel,
    CodePurpose,
    ConsentMethod,
    InviteStatus,
    MessagePurpose,
    MessageStatus,
    ObservationKind,
    OutboxMessage,
    PatientProfile,
    RelativeAccess,
    RelativeAgreement,
    RelativeInvitation,
    RelativeObservation,
    RelativeScope,
    Role,
    User,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.notify import email, sms
from server.services import codes, outbox, sessions
from server.services.errors import DomainError
from server.services.local_time import oslo_today
from server.services.phone_numbers import InvalidPhoneNumber, normalize_mobile

INVITATION_DAYS = 7
#: Invitations a patient may send in 24 hours.
MAX_INVITATIONS_PER_DAY = 5
NAME_MAX, RELATIONSHIP_MAX, OBSERVATION_MAX, AGREEMENT_MAX = 120, 80, 1000, 2000
#: The team's note back on an observation.
OBSERVATION_ANSWER_MAX = 500
#: Scopes in the order they are offered.
SCOPES = [s.value for s in RelativeScope]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RelativeError(DomainError):
    """An invitation, access or observation that cannot be stored as given."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- inviting --------------------------------------------------------------------------------

@dataclass(frozen=True)
class InviteInput:
    name: str
    relationship: str
    phone: str = ""
    email: str = ""
    scopes: list[str] = field(default_factory=list)
    ends_on: date | None = None
    consent_method: ConsentMethod | None = None
    consent_on: date | None = None


def _check(patient: PatientProfile, data: InviteInput, today: date) -> tuple[str | None, str | None]:
    if not data.name.strip():
        raise RelativeError(_l("Write the person's name."), "no_name", "name")
    if len(data.name) > NAME_MAX or len(data.relationship) > RELATIONSHIP_MAX:
        raise RelativeError(_l("Please keep it shorter."), "too_long",
                            "name" if len(data.name) > NAME_MAX else "relationship")
    if not data.relationship.strip():
        raise RelativeError(_l("Write how the person is related to you, for example "
                               "“mother” or “friend”."), "no_relationship", "relationship")
    phone = address = None
    if data.phone.strip():
        try:
            phone = normalize_mobile(data.phone)
        except InvalidPhoneNumber as exc:
            raise RelativeError(exc.message, "bad_phone", "phone") from None
        if phone == patient.user.phone:
            raise RelativeError(_l("This is your own number. Write the number of the person you "
                                   "want to invite."), "own_number", "phone")
    elif data.email.strip():
        address = data.email.strip()
        if len(address) > 254 or not _EMAIL.match(address):
            raise RelativeError(_l("Write a whole email address, like navn@example.no."),
                                "bad_email", "email")
    else:
        raise RelativeError(_l("Write a mobile number or an email address."), "no_contact",
                            "phone")
    if any(scope not in SCOPES for scope in data.scopes):
        raise RelativeError(_l("Choose from the list."), "bad_scope", "scopes")
    if data.ends_on is not None and data.ends_on < today:
        raise RelativeError(_l("The end date has passed. Choose today or a later day."),
                            "ends_past", "ends_on")
    return phone, address


def first_name(name: str) -> str:
    """The first name a relative knows the patient by, for the invitation."""
    return (name.split() or [name])[0]


def invite(patient: PatientProfile, data: InviteInput, by_staff: User | None = None,
           now: datetime | None = None) -> RelativeInvitation:
    """Store an invitation and send its link by SMS or email. Commits."""
    now = now or utcnow()
    phone, address = _check(patient, data, oslo_today())
    recent = db.session.scalar(select(func.count()).select_from(RelativeInvitation).where(
        RelativeInvitation.patient_id == patient.id,
        RelativeInvitation.created_at > now - timedelta(days=1))) or 0
    if recent >= MAX_INVITATIONS_PER_DAY:
        raise RelativeError(_l("You have sent many invitations today. Please try again "
                               "tomorrow."), "rate_limited")
    if by_staff is not None and (data.consent_method is None or data.consent_on is None):
        raise RelativeError(_l("Record how and when the patient gave consent."), "no_consent",
                            "consent_method")
    token = secrets.token_urlsafe(32)
    invitation = RelativeInvitation(
        patient_id=patient.id, name=data.name.strip(), relationship_text=data.relationship.strip(),
        phone=phone, email=address, scopes=[s for s in SCOPES if s in data.scopes],
        ends_on=data.ends_on, token_hash=_hash(token), status=InviteStatus.PENDING,
        created_at=now, expires_at=now + timedelta(days=INVITATION_DAYS),
        registered_by_id=by_staff.id if by_staff else None,
        consent_method=data.consent_method if by_staff else None,
        consent_on=data.consent_on if by_staff else None)
    db.session.add(invitation)
    db.session.flush()
    link = invite_link(token)
    with force_locale("nb"):
        text = render_template("notifications/sms/relative_invite.txt", link=link,
                               inviter=first_name(patient.user.display_name)).strip()
        subject = _("You are invited to Følge")
    if phone:
        sms.provider().send(phone, text)
    else:
        email.provider().send(str(address), subject, text)
    if by_staff is not None:
        outbox.enqueue(key=f"relative_added:{invitation.id}",
                       purpose=MessagePurpose.RELATIVE_ADDED, patient=patient,
                       template="relative_added",
                       channels=outbox.channel_plan(patient, MessagePurpose.NOTICE))
    db.session.commit()
    return invitation


def invite_link(token: str) -> str:
    """The link in the invitation, on FOLGE_PUBLIC_BASE_URL (never on the request's host)."""
    return public_url("invite.show", token=token)


def invitation_for(token: str) -> RelativeInvitation | None:
    return db.session.scalar(select(RelativeInvitation).where(
        RelativeInvitation.token_hash == _hash(token)))


def usable(invitation: RelativeInvitation | None, now: datetime | None = None) -> str:
    """"ok", or why the link no longer works: "unknown", "used", "cancelled", "expired"."""
    if invitation is None:
        return "unknown"
    if invitation.status is InviteStatus.ACCEPTED:
        return "used"
    if invitation.status is InviteStatus.CANCELLED:
        return "cancelled"
    if (now or utcnow()) >= invitation.expires_at:
        return "expired"
    return "ok"


def cancel(invitation: RelativeInvitation) -> None:
    if invitation.status is InviteStatus.PENDING:
        invitation.status = InviteStatus.CANCELLED
        db.session.commit()


def tell_patient_link_failed(invitation: RelativeInvitation) -> None:
    """The person behind an old link asks us to tell the patient; once per invitation."""
    outbox.enqueue(key=f"invite_failed:{invitation.id}", purpose=MessagePurpose.INVITE_FAILED,
                   patient=invitation.patient, template="invite_failed",
                   channels=outbox.channel_plan(invitation.patient, MessagePurpose.NOTICE))
    db.session.commit()


# --- accepting -------------------------------------------------------------------------------

def start_accept(invitation: RelativeInvitation, phone_typed: str) -> str:
    """Send a code to the relative's number; returns the attempt id. Commits."""
    try:
        phone = normalize_mobile(phone_typed)
    except InvalidPhoneNumber as exc:
        raise RelativeError(exc.message, "bad_phone", "phone") from None
    if invitation.phone and phone != invitation.phone:
        raise RelativeError(_l("Use the number the invitation was sent to."), "other_number",
                            "phone")
    # Whose number it is stays unsaid until the code proves the person holds it: telling
    # anyone with the link that a number belongs to a patient would break discretion.
    user = db.session.scalar(select(User).where(User.phone == phone, User.role == Role.RELATIVE))
    # No account is made until the code is right, so typing a number never takes it.
    return codes.request_verification_code(user, phone, CodePurpose.ACCEPT_INVITE)


def finish_accept(invitation: RelativeInvitation, attempt_id: str | None, code: str) -> User:
    """Check the code, confirm the number, and give the access. Commits."""
    attempt = codes.check_code(attempt_id, code, CodePurpose.ACCEPT_INVITE)
    if invitation.phone and attempt.phone != invitation.phone:
        # A code for another number (asked for on another invitation) proves nothing here.
        db.session.rollback()
        raise RelativeError(_l("Use the number the invitation was sent to."), "other_number")
    user = db.session.scalar(select(User).where(User.phone == attempt.phone)) or \
        User(role=Role.RELATIVE, display_name=invitation.name, phone=attempt.phone)
    _check_relative_account(invitation, user, _l(
        "This number is already used for another kind of account in Følge. Ask the person "
        "who invited you to use another number or an email address."))
    if user.phone_verified_at is None:
        user.phone_verified_at = utcnow()
    accept(invitation, user)
    return user


def accept_with_national_id(invitation: RelativeInvitation, pid_hash: str,
                            pid_masked: str) -> User:
    """Accept with ID-porten instead of an SMS code: the person is the one with this national
    identity number (a new relative account when Følge does not know them). Commits."""
    user = db.session.scalar(select(User).where(User.pid_hash == pid_hash)) or \
        User(role=Role.RELATIVE, display_name=invitation.name, pid_hash=pid_hash,
             pid_masked=pid_masked)
    _check_relative_account(invitation, user, _l(
        "You already have another kind of account in Følge, so you cannot be a relative with "
        "it. Ask the person who invited you what to do."))
    accept(invitation, user)
    return user


def _check_relative_account(invitation: RelativeInvitation, user: User,
                            taken: object) -> None:
    """The account an invitation is accepted with (a new one is added to the session): a
    relative's, not disabled, and the invitation still usable; else nothing is kept."""
    if user.id is None:
        db.session.add(user)
        db.session.flush()
    problem: RelativeError | None = None
    if user.role is not Role.RELATIVE:
        problem = RelativeError(taken, "taken")  # type: ignore[arg-type]
    elif user.disabled_at is not None:
        problem = RelativeError(_l("This account cannot be used. Contact the clinic."),
                                "disabled")
    elif usable(invitation) != "ok":
        problem = RelativeError(_l("This invitation can no longer be used."), "unusable")
    if problem is not None:
        db.session.rollback()
        raise problem


def accept(invitation: RelativeInvitation, user: User) -> RelativeAccess:
    """Give ``user`` the invitation's access (replacing an earlier active one). Commits.

    The invitation is claimed with a conditional UPDATE, so two people accepting the
    same link at the same moment cannot both get access.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(RelativeInvitation)
        .where(RelativeInvitation.id == invitation.id,
               RelativeInvitation.status == InviteStatus.PENDING,
               RelativeInvitation.expires_at > now)
        .values(status=InviteStatus.ACCEPTED, accepted_at=now)).rowcount
    if not claimed:
        db.session.rollback()
        raise RelativeError(_l("This invitation can no longer be used."), "unusable")
    today = oslo_today()
    for earlier in db.session.scalars(select(RelativeAccess).where(
            RelativeAccess.patient_id == invitation.patient_id,
            RelativeAccess.relative_user_id == user.id, RelativeAccess.revoked_at.is_(None))):
        if earlier.is_active(today):
            earlier.revoked_at, earlier.revoked_by = utcnow(), "replaced"
    access = RelativeAccess(
        patient_id=invitation.patient_id, relative_user_id=user.id, invitation_id=invitation.id,
        name=invitation.name, relationship_text=invitation.relationship_text,
        scopes=list(invitation.scopes), ends_on=invitation.ends_on, starts_at=utcnow())
    db.session.add(access)
    db.session.commit()
    db.session.refresh(invitation)
    return access


# --- the patient's control -------------------------------------------------------------------

def accesses_of_patient(patient: PatientProfile) -> list[RelativeAccess]:
    return list(db.session.scalars(
        select(RelativeAccess).where(RelativeAccess.patient_id == patient.id)
        .order_by(RelativeAccess.revoked_at.is_not(None), RelativeAccess.starts_at.desc())))


def pending_invitations(patient: PatientProfile) -> list[RelativeInvitation]:
    return list(db.session.scalars(
        select(RelativeInvitation).where(RelativeInvitation.patient_id == patient.id,
                                         RelativeInvitation.status == InviteStatus.PENDING)
        .order_by(RelativeInvitation.created_at.desc())))


def change(access: RelativeAccess, scopes: list[str], ends_on: date | None) -> None:
    """New scopes and end date; they apply on the relative's next request. Commits."""
    if any(scope not in SCOPES for scope in scopes):
        raise RelativeError(_l("Choose from the list."), "bad_scope", "scopes")
    if ends_on is not None and ends_on < oslo_today():
        raise RelativeError(_l("The end date has passed. Choose today or a later day."),
                            "ends_past", "ends_on")
    access.scopes = [s for s in SCOPES if s in scopes]
    access.ends_on = ends_on
    if RelativeScope.REMINDERS.value not in access.scopes:
        _cancel_pending_copies(access)
    db.session.commit()


def _cancel_pending_copies(access: RelativeAccess) -> None:
    """Reminder copies for this relative that have not gone out are stopped (caller commits)."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.patient_id == access.patient_id,
               OutboxMessage.recipient_user_id == access.relative_user_id,
               OutboxMessage.purpose == MessagePurpose.REMINDER,
               OutboxMessage.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED))


def copy_still_allowed(message: OutboxMessage) -> bool:
    """For the worker: may this relative still get this reminder copy right now?"""
    access = access_to(message.receiver, message.patient_id)
    return access is not None and RelativeScope.REMINDERS.value in (access.scopes or [])


def confirm_again(access: RelativeAccess) -> None:
    """The patient confirms an access paused by a move to another clinic. Commits."""
    if access.revoked_at is None and access.paused_at is not None:
        access.paused_at = None
        db.session.commit()


def revoke(access: RelativeAccess, by: str) -> None:
    """End an access now. The patient or staff ending it also ends the relative's open
    sessions, and the relative is told, without a reason. Commits."""
    if access.revoked_at is not None:
        return
    access.revoked_at = utcnow()
    access.revoked_by = by
    if by != "relative":
        outbox.enqueue(key=f"access_ended:{access.id}", purpose=MessagePurpose.ACCESS_ENDED,
                       patient=access.patient, template="access_ended",
                       channels=[Channel.PUSH.value, Channel.SMS.value],
                       recipient_user_id=access.relative_user_id)
        sessions.end_all_for(access.relative_user_id, "access_revoked")
    _cancel_pending_copies(access)
    db.session.commit()


# --- the relative's side ---------------------------------------------------------------------

def active_for_relative(user: User, today: date | None = None) -> list[RelativeAccess]:
    today = today or oslo_today()
    found = db.session.scalars(
        select(RelativeAccess).where(RelativeAccess.relative_user_id == user.id,
                                     RelativeAccess.revoked_at.is_(None))
        .order_by(RelativeAccess.starts_at))
    return [a for a in found if a.is_active(today)]


def access_to(user: User, patient_id: int, today: date | None = None) -> RelativeAccess | None:
    return next((a for a in active_for_relative(user, today) if a.patient_id == patient_id),
                None)


def observe(access: RelativeAccess, kind: ObservationKind, text: str) -> RelativeObservation:
    """A relative tells the care team what they see. Goes on the worklist. Commits."""
    if not text.strip():
        raise RelativeError(_l("Write what you want to tell the care team."), "empty", "text")
    if len(text) > OBSERVATION_MAX:
        raise RelativeError(_l("Please keep it under %(max)d characters.", max=OBSERVATION_MAX),
                            "too_long", "text")
    patient = access.patient
    observation = RelativeObservation(access_id=access.id, patient_id=patient.id,
                                      clinic_id=patient.clinic_id, kind=kind, text=text.strip())
    db.session.add(observation)
    db.session.flush()
    db.session.add(WorkItem(clinic_id=patient.clinic_id, patient_id=patient.id,
                            kind=WorkKind.RELATIVE_OBSERVATION,
                            details={"observation_id": observation.id}))
    db.session.commit()
    return observation


def observations_by_id(ids: list[int]) -> dict[int, RelativeObservation]:
    """Observations with their access, in one query (for the worklist)."""
    if not ids:
        return {}
    return {o.id: o for o in db.session.scalars(
        select(RelativeObservation).where(RelativeObservation.id.in_(ids))
        .options(joinedload(RelativeObservation.access)))}


def observations_of(patient: PatientProfile) -> list[RelativeObservation]:
    return list(db.session.scalars(
        select(RelativeObservation).where(RelativeObservation.patient_id == patient.id)
        .order_by(RelativeObservation.created_at.desc())))


def observations_by(access: RelativeAccess) -> list[RelativeObservation]:
    """What this relative sent (through this access), newest first: for their own page."""
    return list(db.session.scalars(
        select(RelativeObservation).where(RelativeObservation.access_id == access.id)
        .order_by(RelativeObservation.created_at.desc())))


def mark_observations_read(staff: User, patient: PatientProfile | None = None,
                           ids: list[int] | None = None) -> None:
    """Staff saw observations (of a patient, or these on the worklist): the relatives see
    that the team has read them. Commits."""
    which = RelativeObservation.patient_id == patient.id if patient is not None else \
        RelativeObservation.id.in_(ids or [])
    db.session.execute(
        update(RelativeObservation).where(which, RelativeObservation.read_at.is_(None))
        .values(read_at=utcnow(), read_by_id=staff.id)
        .execution_options(synchronize_session=False))
    db.session.commit()


def answer_observation(observation: RelativeObservation, staff: User, text: str) -> None:
    """A short note back to the relative, which the patient can read too. Commits."""
    if "\x00" in text:
        raise RelativeError(_l("This contains a character that cannot be saved. Remove it and "
                               "try again."), "nul", "answer")
    text = text.strip()
    if not text:
        raise RelativeError(_l("Write the answer first."), "empty", "answer")
    if len(text) > OBSERVATION_ANSWER_MAX:
        raise RelativeError(_l("Please keep it under %(max)d characters.",
                               max=OBSERVATION_ANSWER_MAX), "too_long", "answer")
    now = utcnow()
    observation.answer, observation.answered_at, observation.answered_by_id = text, now, staff.id
    observation.read_at = observation.read_at or now
    observation.read_by_id = observation.read_by_id or staff.id
    db.session.commit()


# --- reminders and outreach ------------------------------------------------------------------

def fan_out_reminder(message: OutboxMessage) -> int:
    """Copies of a patient's reminder for relatives with the reminders scope, in their own
    channels, decided when the reminder goes out (so a revocation always counts)."""
    if message.recipient_user_id is not None:
        return 0
    added = 0
    today = oslo_today()
    for access in db.session.scalars(select(RelativeAccess).where(
            RelativeAccess.patient_id == message.patient_id,
            RelativeAccess.revoked_at.is_(None))):
        if not access.allows(RelativeScope.REMINDERS, today):
            continue
        copy = outbox.enqueue(
            key=f"{message.idempotency_key}:relative:{access.id}"[:120],
            # The relative's own words: no "reply YES", since replies come from the patient.
            purpose=message.purpose, patient=message.patient, template="reminder_relative",
            params=dict(message.params or {}), appointment=message.appointment,
            channels=[Channel.PUSH.value, Channel.SMS.value], due_at=utcnow(),
            recipient_user_id=access.relative_user_id)
        added += copy is not None
    return added


def no_show_contacts(patient: PatientProfile) -> list[RelativeAccess]:
    today = oslo_today()
    return [a for a in accesses_of_patient(patient)
            if a.allows(RelativeScope.NO_SHOW_CONTACT, today)]


# --- agreements ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgreementInput:
    role: str
    expectations: str
    contact: str
    frequency: str


def save_agreement(access: RelativeAccess, data: AgreementInput, by: User) -> RelativeAgreement:
    for name in ("role", "expectations", "contact", "frequency"):
        if len(getattr(data, name)) > AGREEMENT_MAX:
            raise RelativeError(_l("Please keep it under %(max)d characters.", max=AGREEMENT_MAX),
                                "too_long", name)
    agreement = db.session.get(RelativeAgreement, access.id) or RelativeAgreement(
        access_id=access.id)
    agreement.role = data.role.strip()
    agreement.expectations = data.expectations.strip()
    agreement.contact = data.contact.strip()
    agreement.frequency = data.frequency.strip()
    agreement.recorded_by_id = by.id
    db.session.add(agreement)
    db.session.commit()
    return agreement


def agreement_for(access: RelativeAccess) -> RelativeAgreement | None:
    return db.session.get(RelativeAgreement, access.id)
