"""One-time SMS codes for signing in and for verifying a number.

A code has 6 random digits, lives at most 10 minutes, works once, is stored
only as an HMAC, and belongs to the attempt it was sent for (the attempt id
lives in the requesting browser's session). Five wrong tries void it.
Asking for a code for an unknown number creates an attempt without a code,
so the answer looks the same whether or not the number belongs to someone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.extensions import db
from server.models import (
    CodePurpose,
    OneTimeCode,
    Role,
    SignInMethod,
    SignInOutcome,
    User,
)
from server.models.base import utcnow
from server.notify import sms
from server.services import sign_in_log
from server.services.errors import DomainError

CODE_LIFETIME = timedelta(minutes=10)
MAX_WRONG_TRIES = 5


class CodeError(DomainError):
    """A code that cannot be accepted; ``code`` says why (for the event log)."""


def _digest(attempt_id: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{attempt_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _send(user: User | None, phone: str, code: str, template: str) -> None:
    with force_locale((user.language if user else None) or "nb"):
        body = render_template(template, code=code, minutes=10).strip()
    sms.provider().send(phone, body)


def request_sign_in_code(phone: str) -> str:
    """Start a sign-in attempt for ``phone`` (E.164) and return its id.

    A code is sent only when the number belongs to an active patient or
    relative whose number staff have verified.
    """
    user = db.session.scalar(
        select(User).where(
            User.phone == phone,
            User.phone_verified_at.is_not(None),
            User.disabled_at.is_(None),
            User.role.in_([Role.PATIENT, Role.RELATIVE]),
        )
    )
    attempt = OneTimeCode(
        id=secrets.token_urlsafe(32),
        purpose=CodePurpose.SIGN_IN,
        phone=phone,
        user_id=user.id if user else None,
        expires_at=utcnow() + CODE_LIFETIME,
    )
    code = None
    if user is not None:
        code = _new_code()
        attempt.code_hash = _digest(attempt.id, code)
    db.session.add(attempt)
    sign_in_log.record(
        SignInMethod.SMS_CODE_REQUEST,
        SignInOutcome.SUCCESS if user else SignInOutcome.FAILURE,
        user.id if user else None,
        "" if user else "unknown_number",
    )
    if user is not None and code is not None:
        _send(user, phone, code, "notifications/sms/sign_in_code.txt")
    db.session.commit()
    return attempt.id


def request_verification_code(user: User | None, phone: str,
                              purpose: CodePurpose = CodePurpose.VERIFY_PHONE) -> str:
    """Send a code to a number being confirmed for ``user`` (staff registering a patient's
    number, or a relative accepting an invitation); return the attempt id."""
    attempt = OneTimeCode(
        id=secrets.token_urlsafe(32),
        purpose=purpose,
        phone=phone,
        user_id=user.id if user else None,
        expires_at=utcnow() + CODE_LIFETIME,
    )
    code = _new_code()
    attempt.code_hash = _digest(attempt.id, code)
    db.session.add(attempt)
    template = ("notifications/sms/verify_number.txt" if purpose is CodePurpose.VERIFY_PHONE
                else "notifications/sms/sign_in_code.txt")
    _send(user, phone, code, template)
    db.session.commit()
    return attempt.id


def check_code(attempt_id: str | None, code: str, purpose: CodePurpose) -> OneTimeCode:
    """Accept ``code`` for the attempt, mark it used and return it, or raise CodeError.

    The caller commits after acting on the accepted code. Refusals are
    committed here, so a wrong try is counted even though the caller fails.
    """
    attempt = db.session.get(OneTimeCode, attempt_id) if attempt_id else None
    if attempt is None or attempt.purpose is not purpose:
        raise CodeError(_l("Ask for a new code first."), "no_attempt")
    now = utcnow()
    if attempt.used_at is not None:
        raise CodeError(_l("This code has already been used. Ask for a new code."), "reused")
    if attempt.voided_at is not None:
        raise CodeError(
            _l("The code was typed wrong too many times and no longer works. Ask for a new code."),
            "voided",
        )
    if now >= attempt.expires_at:
        raise CodeError(_l("The code has expired. Codes last 10 minutes. Ask for a new code."),
                        "expired")
    cleaned = "".join(ch for ch in code if not ch.isspace())
    ok = (
        attempt.code_hash is not None
        and len(cleaned) == 6
        and cleaned.isdigit()
        and hmac.compare_digest(attempt.code_hash, _digest(attempt.id, cleaned))
    )
    if not ok:
        attempt.failed_tries += 1
        if attempt.failed_tries >= MAX_WRONG_TRIES:
            attempt.voided_at = now
            db.session.commit()
            raise CodeError(
                _l("The code was typed wrong too many times and no longer works. "
                   "Ask for a new code."),
                "voided",
            )
        db.session.commit()
        left = MAX_WRONG_TRIES - attempt.failed_tries
        raise CodeError(
            _l("The code is not right. Check the SMS and try again (%(left)d tries left).",
               left=left),
            "wrong_code",
        )
    attempt.used_at = now
    return attempt


def sign_in_with_code(attempt_id: str | None, code: str) -> User:
    """Accept a sign-in code and return the account it belongs to, logging the attempt.

    Raises CodeError for every refusal, with the same message for an unknown
    number as for a wrong code.
    """
    try:
        attempt = check_code(attempt_id, code, CodePurpose.SIGN_IN)
    except CodeError as exc:
        sign_in_log.record_now(SignInMethod.SMS_CODE, SignInOutcome.FAILURE, None, exc.code)
        raise
    user = db.session.get(User, attempt.user_id) if attempt.user_id else None
    if user is None or user.disabled_at is not None:
        # Disabled between asking for the code and typing it.
        db.session.rollback()
        sign_in_log.record_now(SignInMethod.SMS_CODE, SignInOutcome.FAILURE, None, "disabled")
        raise CodeError(_l("The code is not right. Check the SMS and try again."), "disabled")
    sign_in_log.record(SignInMethod.SMS_CODE, SignInOutcome.SUCCESS, user.id)
    db.session.commit()
    return user
