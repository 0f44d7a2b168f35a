"""One-time SMS codes for signing in and for verifying a number.

A code has 6 digits, lives at most 10 minutes, works once, is stored only as
an HMAC, and belongs to the attempt it was sent for (the attempt id lives in
the requesting browser's session). Five wrong tries void an attempt.

Sign-in codes are made so that a stranger cannot lock the owner out:

- A number has one live code at a time. Asking again while it is valid (from
  this browser or another) gives a new attempt with the same code (derived
  from the first attempt's id with the secret key, so it is never stored) and
  re-sends it; each browser's attempt counts its own wrong tries. So whoever
  asks, the SMS the owner has is the code that works, and a stranger's wrong
  tries void only the stranger's attempt.
- Re-sending is limited per number (at most every RESEND_AFTER and
  MAX_SENDS times per code); past that nothing more is sent, but the request is
  answered as usual, because the owner already has the code. The tight limits
  are per address and per (number, address), in server/views/auth.py.
- Asking for a code for an unknown number creates an attempt without a code
  and the same answer. The SMS is sent after the answer, by
  server/notify/code_sender.py, so both answers take the same time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from server.extensions import db
from server.links import public_host
from server.locales import babel_locale
from server.models import (
    CodePurpose,
    OneTimeCode,
    Role,
    SignInMethod,
    SignInOutcome,
    User,
)
from server.models.base import utcnow
from server.notify.code_sender import CodeSms, sender
from server.services import sign_in_log
from server.services.errors import DomainError

CODE_LIFETIME = timedelta(minutes=10)
MAX_WRONG_TRIES = 5
#: Wrong tries over every attempt sharing one sign-in code before the code is void.
MAX_WRONG_TRIES_PER_CODE = 10
#: A live code is re-sent at most this often, and at most MAX_SENDS times in all.
RESEND_AFTER = timedelta(seconds=60)
MAX_SENDS = 5
#: A live code with less time left than this is not shared: a new code is made instead.
SHARE_WHILE = timedelta(minutes=3)


class CodeError(DomainError):
    """A code that cannot be accepted; ``code`` says why (for the event log)."""


def _digest(attempt_id: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{attempt_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _code_for(group_id: str) -> str:
    """The 6-digit code of a group of attempts, from the secret key (never stored)."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"sign-in-code:{group_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest, 'big') % 1_000_000:06d}"


def _new_attempt_id() -> str:
    return secrets.token_urlsafe(32)


def _message(user: User | None, phone: str, code: str, template: str) -> CodeSms:
    with force_locale(babel_locale(user.language if user else None)):
        body = render_template(template, code=code, minutes=10, host=public_host()).strip()
    return CodeSms(to=phone, body=body)


def _live_group(phone: str, now: object) -> OneTimeCode | None:
    """The first attempt of the number's live sign-in code, if one may still be shared."""
    return db.session.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.phone == phone, OneTimeCode.purpose == CodePurpose.SIGN_IN,
               OneTimeCode.id == OneTimeCode.group_id, OneTimeCode.used_at.is_(None),
               OneTimeCode.voided_at.is_(None), OneTimeCode.expires_at > now + SHARE_WHILE)
        .order_by(OneTimeCode.created_at.desc())
        .limit(1)
    )


def request_sign_in_code(phone: str) -> str:
    """Start a sign-in attempt for ``phone`` (E.164) and return its id.

    A code is sent only when the number belongs to an active patient or
    relative whose number staff have verified, and only within the re-send limits.
    """
    now = utcnow()
    user = db.session.scalar(
        select(User).where(
            User.phone == phone,
            User.phone_verified_at.is_not(None),
            User.disabled_at.is_(None),
            User.role.in_([Role.PATIENT, Role.RELATIVE]),
        )
    )
    head = _live_group(phone, now)
    if head is not None and head.user_id != (user.id if user else None):
        head = None  # the account behind the number changed: start afresh
    attempt = OneTimeCode(id=_new_attempt_id(), purpose=CodePurpose.SIGN_IN, phone=phone,
                          user_id=user.id if user else None, created_at=now, sent_count=0,
                          failed_tries=0)
    attempt.group_id = head.id if head is not None else attempt.id
    attempt.expires_at = head.expires_at if head is not None else now + CODE_LIFETIME
    db.session.add(attempt)
    message = None
    if user is not None:
        code = _code_for(attempt.group_id)
        attempt.code_hash = _digest(attempt.id, code)
        sending = head if head is not None else attempt
        due = sending.last_sent_at is None or now - sending.last_sent_at >= RESEND_AFTER
        if due and sending.sent_count < MAX_SENDS:
            sending.sent_count += 1
            sending.last_sent_at = now
            message = _message(user, phone, code, "notifications/sms/sign_in_code.txt")
    sign_in_log.record(
        SignInMethod.SMS_CODE_REQUEST,
        SignInOutcome.SUCCESS if user else SignInOutcome.FAILURE,
        user.id if user else None,
        ("" if message else "not_resent") if user else "unknown_number",
    )
    db.session.commit()
    if message is not None:
        sender().submit(message)
    return attempt.id


def request_verification_code(user: User | None, phone: str,
                              purpose: CodePurpose = CodePurpose.VERIFY_PHONE) -> str:
    """Send a code to a number being confirmed for ``user`` (staff registering a patient's
    number, or a relative accepting an invitation); return the attempt id."""
    attempt = OneTimeCode(
        id=_new_attempt_id(),
        purpose=purpose,
        phone=phone,
        user_id=user.id if user else None,
        expires_at=utcnow() + CODE_LIFETIME,
    )
    attempt.group_id = attempt.id
    code = _code_for(attempt.group_id)
    attempt.code_hash = _digest(attempt.id, code)
    attempt.sent_count, attempt.last_sent_at = 1, utcnow()
    db.session.add(attempt)
    template = ("notifications/sms/verify_number.txt" if purpose is CodePurpose.VERIFY_PHONE
                else "notifications/sms/sign_in_code.txt")
    message = _message(user, phone, code, template)
    db.session.commit()
    sender().submit(message)
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
        group_tries = db.session.scalar(select(func.sum(OneTimeCode.failed_tries)).where(
            OneTimeCode.group_id == attempt.group_id)) or 0
        if attempt.failed_tries >= MAX_WRONG_TRIES or group_tries >= MAX_WRONG_TRIES_PER_CODE:
            # Too many wrong tries on this browser's attempt; or, over all browsers, on this
            # code, which then ends for all of them (the owner asks for a new one).
            attempt.voided_at = now
            if group_tries >= MAX_WRONG_TRIES_PER_CODE:
                _end_group(attempt.group_id, voided_at=now)
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
    _end_group(attempt.group_id, used_at=now)  # the code works once, in one browser
    return attempt


def _end_group(group_id: str | None, **values: object) -> None:
    """End every attempt that shares a code (used in one browser, or guessed at too often)."""
    if group_id:
        db.session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.group_id == group_id, OneTimeCode.used_at.is_(None),
                   OneTimeCode.voided_at.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False))


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
