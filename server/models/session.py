"""Server-side record of each sign-in session.

The cookie holds only a random token; its SHA-256 lives here. Ending the row
(sign-out, timeout, disabled account, revoked access) ends the session for
every copy of the cookie.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.user import User
from server.sealing import SealedString


class UserSession(Base):
    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it ended: signed_out, idle, expired, disabled, access_revoked, signed_out_elsewhere.
    end_reason: Mapped[str | None] = mapped_column(String(32))
    #: What the person sees on "Where you are signed in", e.g. "Chrome on Android".
    device: Mapped[str] = mapped_column(String(100), default="")
    #: How the person signed in: sms_code, passkey, password_totp, idporten.
    method: Mapped[str] = mapped_column(String(16), default="sms_code")
    #: The assurance level: the acr from ID-porten (idporten-loa-substantial or -high), or
    #: "low" for an SMS code, a passkey or a password.
    level: Mapped[str] = mapped_column(String(32), default="low")
    #: ID-porten's session id (sid), so its logout can end this session.
    oidc_sid: Mapped[str | None] = mapped_column(String(128), index=True)
    #: The ID token, sealed, for signing out of ID-porten too (id_token_hint); wiped at the end.
    id_token: Mapped[str | None] = mapped_column(SealedString(4000))

    user: Mapped[User] = relationship()
