"""Staff sign-in: email and argon2 password, then a TOTP code that works once.

The step between the two is a pending sign-in kept on the server
(``StaffPendingSignIn``), so wrong second-factor codes are counted where no
replayed cookie or parallel request can reset them: each try is taken with a
conditional UPDATE before the code is checked. After MAX_TOTP_TRIES on one
pending sign-in, or MAX_TOTP_TRIES wrong codes on the account over all its
pending sign-ins, those are void and the staff member starts again with the
password.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import (
    Role,
    SignInMethod,
    SignInOutcome,
    StaffPendingSignIn,
    TotpSecret,
    User,
)
from server.models.base import utcnow
from server.services import sign_in_log
from server.services.errors import DomainError

#: Time between a correct password and the second step.
PENDING_LIFETIME = timedelta(minutes=5)
#: Codes per pending sign-in, and wrong codes per account, before starting again.
MAX_TOTP_TRIES = 5

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class StaffSignInError(DomainError):
    """Email, password or TOTP code not accepted."""


def hash_password(password: str) -> str:
    """argon2id hash of ``password``."""
    return _hasher.hash(password)


def check_password(email: str, password: str) -> User:
    """Return the active staff account for email and password, or raise."""
    user = db.session.scalar(
        select(User).where(func.lower(User.email) == email.strip().lower(), User.role == Role.STAFF)
    )
    refused = StaffSignInError(_l("The email address or the password is not right."), "password")
    if user is None or not user.password_hash:
        try:
            _hasher.verify(_DUMMY_HASH, password + "x")
        except VerificationError:
            pass
        sign_in_log.record_now(SignInMethod.PASSWORD, SignInOutcome.FAILURE, None, "unknown_email")
        raise refused
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        sign_in_log.record_now(SignInMethod.PASSWORD, SignInOutcome.FAILURE, user.id, "password")
        raise refused from None
    if user.disabled_at is not None:
        sign_in_log.record_now(SignInMethod.PASSWORD, SignInOutcome.FAILURE, user.id, "disabled")
        raise StaffSignInError(
            _l("This account is disabled. Ask your clinic's administrator."), "disabled"
        )
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    sign_in_log.record_now(SignInMethod.PASSWORD, SignInOutcome.SUCCESS, user.id)
    return user


def verify_totp(user: User, code: str, now: float | None = None) -> None:
    """Accept a TOTP code for ``user`` once, or raise. Commits either way.

    Codes from the previous, current and next 30-second step are accepted
    (clock drift), but never a step at or before the last one used, so a code
    cannot be replayed.
    """
    now = time.time() if now is None else now
    secret = db.session.get(TotpSecret, user.id)
    cleaned = "".join(ch for ch in code if not ch.isspace())
    if secret is None or not (len(cleaned) == 6 and cleaned.isdigit()):
        sign_in_log.record_now(SignInMethod.TOTP, SignInOutcome.FAILURE, user.id, "format")
        raise StaffSignInError(_l("Write the 6 digits from your authenticator app."), "format")
    totp = pyotp.TOTP(secret.secret)
    current_step = int(now // totp.interval)
    for step in (current_step - 1, current_step, current_step + 1):
        if totp.at(step * totp.interval) == cleaned:
            if step <= secret.last_used_step:
                sign_in_log.record_now(SignInMethod.TOTP, SignInOutcome.FAILURE, user.id, "reused")
                raise StaffSignInError(
                    _l("This code has already been used. Wait for the next code in your app."),
                    "reused",
                )
            secret.last_used_step = step
            sign_in_log.record_now(SignInMethod.TOTP, SignInOutcome.SUCCESS, user.id)
            return
    sign_in_log.record_now(SignInMethod.TOTP, SignInOutcome.FAILURE, user.id, "wrong_code")
    raise StaffSignInError(_l("The code is not right. Try the code your app shows now."),
                           "wrong_code")


def start_pending(user: User) -> str:
    """After a correct password: open the second step and return its id. Commits."""
    pending = StaffPendingSignIn(id=secrets.token_urlsafe(32), user_id=user.id,
                                 expires_at=utcnow() + PENDING_LIFETIME)
    db.session.add(pending)
    db.session.commit()
    return pending.id


_START_AGAIN = _l("Too many wrong codes. For your safety, sign in again with your email and "
                  "password.")


def _void_pending_of(user_id: int) -> None:
    db.session.execute(
        update(StaffPendingSignIn)
        .where(StaffPendingSignIn.user_id == user_id, StaffPendingSignIn.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(synchronize_session=False))


def verify_pending(pending_id: str | None, code: str) -> User:
    """Second step of a pending sign-in; returns the account, or raises StaffSignInError
    (code "gone" when the pending sign-in is over and the person must start again)."""
    now = utcnow()
    gone = StaffSignInError(_l("Sign in with your email and password first."), "gone")
    pending = db.session.get(StaffPendingSignIn, pending_id) if pending_id else None
    if pending is None or pending.ended_at is not None or pending.expires_at <= now:
        raise gone
    # Take one try before looking at the code, so parallel requests cannot share a try.
    taken = db.session.execute(
        update(StaffPendingSignIn)
        .where(StaffPendingSignIn.id == pending.id, StaffPendingSignIn.ended_at.is_(None),
               StaffPendingSignIn.tries < MAX_TOTP_TRIES)
        .values(tries=StaffPendingSignIn.tries + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not taken:
        raise StaffSignInError(_START_AGAIN, "gone")
    user = db.session.get(User, pending.user_id)
    if user is None or user.disabled_at is not None or user.role is not Role.STAFF:
        raise gone
    try:
        verify_totp(user, code)
    except StaffSignInError as exc:
        if exc.code == "reused":
            raise
        db.session.execute(update(TotpSecret).where(TotpSecret.user_id == user.id)
                           .values(failed_tries=TotpSecret.failed_tries + 1))
        wrong = db.session.scalar(select(TotpSecret.failed_tries).where(
            TotpSecret.user_id == user.id)) or 0
        db.session.refresh(pending)
        if wrong >= MAX_TOTP_TRIES:
            # Over all of the account's pending sign-ins: every one ends, and the count
            # starts again with the next correct password.
            _void_pending_of(user.id)
            db.session.execute(update(TotpSecret).where(TotpSecret.user_id == user.id)
                               .values(failed_tries=0))
        elif pending.tries >= MAX_TOTP_TRIES:
            pending.ended_at = now
        else:
            db.session.commit()
            if exc.code != "wrong_code":
                raise
            left = MAX_TOTP_TRIES - max(pending.tries, wrong)
            raise StaffSignInError(_l("The code is not right. Try the code your app shows now "
                                      "(%(left)d tries left).", left=left), exc.code) from None
        sign_in_log.record(SignInMethod.TOTP, SignInOutcome.FAILURE, user.id, "too_many")
        db.session.commit()
        raise StaffSignInError(_START_AGAIN, "gone") from None
    pending.ended_at = now
    db.session.execute(update(TotpSecret).where(TotpSecret.user_id == user.id)
                       .values(failed_tries=0))
    db.session.commit()
    return user


def pending_is_open(pending_id: str) -> bool:
    """Is this pending sign-in still waiting for its second step?"""
    pending = db.session.get(StaffPendingSignIn, pending_id[:43])
    return pending is not None and pending.ended_at is None and pending.expires_at > utcnow()


def email_of(user_id: int) -> str:
    """The staff account's email in lower case ("" when there is none)."""
    user = db.session.get(User, user_id)
    return (user.email or "").lower() if user is not None and user.role is Role.STAFF else ""
