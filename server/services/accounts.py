"""Account changes: language, disabling, registering a verified number."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.extensions import db
from server.models import CodePurpose, PatientProfile, User
from server.models.base import utcnow
from server.models.user import LANGUAGES
from server.services import codes, sessions
from server.services.errors import DomainError


class AccountError(DomainError):
    """An account change that cannot be made."""


def set_language(user: User, language: str) -> None:
    """Remember the chosen language for ``user``. Commits."""
    if language not in LANGUAGES:
        raise AccountError(_l("Choose one of the languages offered."), "language")
    user.language = language
    db.session.commit()


def disable(user: User) -> None:
    """Disable the account and end its sessions at once. Commits."""
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    sessions.end_all_for(user.id, "disabled")
    db.session.commit()


def enable(user: User) -> None:
    """Let a disabled account sign in again. Commits."""
    user.disabled_at = None
    db.session.commit()


def start_number_registration(user: User, phone: str) -> str:
    """Send a verification code to ``phone`` for ``user``; return the attempt id."""
    owner = db.session.scalar(select(User).where(User.phone == phone, User.id != user.id))
    if owner is not None:
        raise AccountError(
            _l("This number is already registered for another person in Følge."), "taken"
        )
    return codes.request_verification_code(user, phone)


def finish_number_registration(user: User, attempt_id: str | None, code: str) -> None:
    """Check the code read back by the patient and store the number as verified."""
    attempt = codes.check_code(attempt_id, code, CodePurpose.VERIFY_PHONE)
    if attempt.user_id != user.id:
        db.session.rollback()
        raise AccountError(_l("Ask for a new code first."), "other_user")
    owner = db.session.scalar(select(User).where(User.phone == attempt.phone, User.id != user.id))
    if owner is not None:
        db.session.rollback()
        raise AccountError(
            _l("This number is already registered for another person in Følge."), "taken"
        )
    user.phone = attempt.phone
    user.phone_verified_at = utcnow()
    db.session.commit()


def stop_using(patient: PatientProfile) -> None:
    """The patient stops using Følge: every session, passkey and app notification ends, and
    the clinic gets a worklist item to agree on another way to keep in touch. Reminders
    that came as app notifications come by SMS (or letter) instead. Nothing the clinic must
    keep is deleted, and the patient can sign in again later with a code. Commits."""
    from sqlalchemy import delete

    from server.models import Passkey, PushSubscription, WorkItem, WorkKind
    from server.services.reminder_settings import replan_upcoming

    user = patient.user
    ended = {
        "passkeys": db.session.execute(delete(Passkey).where(Passkey.user_id == user.id)).rowcount,
        "phones": db.session.execute(delete(PushSubscription).where(
            PushSubscription.user_id == user.id)).rowcount,
    }
    channels = [c for c in patient.contact_channels if c != "push"]
    if not channels:
        channels = ["sms"] if user.phone else ["letter"]
    patient.contact_channels = channels
    db.session.add(WorkItem(clinic_id=patient.clinic_id, patient_id=patient.id,
                            kind=WorkKind.STOPPED_USING,
                            details={k: int(v or 0) for k, v in ended.items()}))
    sessions.end_all_for(user.id, "stopped_using")
    db.session.flush()
    replan_upcoming(patient)
    db.session.commit()
