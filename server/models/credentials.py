"""Sign-in credentials and the sign-in event log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, enum_column, utcnow
from server.sealing import SealedString


class CodePurpose(enum.Enum):
    SIGN_IN = "sign_in"
    VERIFY_PHONE = "verify_phone"
    ACCEPT_INVITE = "accept_invite"  # a relative confirms their number to accept an invitation


class OneTimeCode(Base):
    """One code sent by SMS, bound to the attempt (browser session) it was sent for."""

    __tablename__ = "one_time_code"

    #: Random attempt id, kept in the requesting browser's session.
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    purpose: Mapped[CodePurpose] = mapped_column(enum_column(CodePurpose, "code_purpose"))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    #: The account the code is for; None when the number is unknown (no code is sent then).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: HMAC-SHA256 of the code, keyed with the secret key and the attempt id.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    #: The first attempt of those sharing this code (its own id when it is the first); the
    #: code is derived from it (server/services/codes.py). Indexed to end them together.
    group_id: Mapped[str | None] = mapped_column(String(43), index=True)
    #: On the group's first attempt: how often, and when last, the code was sent.
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failed_tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set after too many wrong tries.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Passkey(Base):
    __tablename__ = "passkey"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    #: A name the person recognises, e.g. "Phone added 3 Nov".
    name: Mapped[str] = mapped_column(String(100))
    #: The level of the session it was added in: a passkey added after an ID-porten sign-in
    #: signs in at that level (server/national_id/levels.py).
    level: Mapped[str] = mapped_column(String(32), default="low")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TotpSecret(Base):
    __tablename__ = "totp_secret"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    #: The base32 seed, sealed with FOLGE_DATA_KEY (server/sealing.py): the database holds
    #: only ciphertext.
    secret: Mapped[str] = mapped_column(SealedString(255))
    #: The last accepted 30-second time step; a code at or before it is refused.
    last_used_step: Mapped[int] = mapped_column(Integer, default=0)
    #: Wrong codes since the last sign-in, over all pending sign-ins (see staff_auth).
    failed_tries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffPendingSignIn(Base):
    """A staff sign-in between a correct password and the second factor.

    Kept on the server, not in the cookie, so wrong codes are counted where a
    replayed or parallel request cannot reset them.
    """

    __tablename__ = "staff_pending_sign_in"

    #: Random id, kept in the browser's session.
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Codes tried, right or wrong; taken before the code is checked (see staff_auth).
    tries: Mapped[int] = mapped_column(Integer, default=0)
    #: Set when the sign-in is finished or given up (too many wrong codes).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInMethod(enum.Enum):
    SMS_CODE_REQUEST = "sms_code_request"
    SMS_CODE = "sms_code"
    PASSKEY = "passkey"
    PASSWORD = "password"  # noqa: S105 (the name of a sign-in method)
    TOTP = "totp"
    SIGN_OUT = "sign_out"
    IDPORTEN = "idporten"  # an ID-porten sign-in (server/national_id)
    HELSEID = "helseid"  # a HelseID sign-in (staff)


class SignInOutcome(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    RATE_LIMITED = "rate_limited"


class SignInEvent(Base):
    """Every sign-in attempt, successful or not. Never holds a code or password."""

    __tablename__ = "sign_in_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    method: Mapped[SignInMethod] = mapped_column(enum_column(SignInMethod, "sign_in_method"))
    outcome: Mapped[SignInOutcome] = mapped_column(enum_column(SignInOutcome, "sign_in_outcome"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: Short machine-readable reason for a failure: unknown_number, wrong_code, expired ...
    detail: Mapped[str] = mapped_column(String(64), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")


class DevSms(Base):
    """SMS kept by the development adapter, shown on the development outbox page."""

    __tablename__ = "dev_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The outbox key; a second send with the same key returns the first message.
    idempotency_key: Mapped[str | None] = mapped_column(String(140), unique=True)
