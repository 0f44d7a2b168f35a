"""Staff sign-in: email and argon2 password, then a TOTP code that works once."""

from __future__ import annotations

import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from server.extensions import db
from server.models import Role, SignInMethod, SignInOutcome, TotpSecret, User
from server.services import sign_in_log
from server.services.errors import DomainError

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


def verify_totp_for(user_id: int, code: str) -> User:
    """Second step for the account that passed the password step; returns it, or raises."""
    user = db.session.get(User, user_id)
    if user is None or user.disabled_at is not None or user.role is not Role.STAFF:
        raise StaffSignInError(_l("Sign in with your email and password first."), "gone")
    verify_totp(user, code)
    return user
