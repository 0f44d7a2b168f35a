"""A sign-in with an OpenID provider under way: what Følge sent, to check what comes back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow
from server.sealing import SealedString


class OidcAttempt(Base):
    """One authorization request: its ``state`` (also in the browser's session, so a callback
    from another browser is refused), the request with its nonce and PKCE verifier (sealed),
    and when it was used (a callback is taken once)."""

    __tablename__ = "oidc_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(128), unique=True)
    #: idporten (later helseid)
    provider: Mapped[str] = mapped_column(String(16))
    #: sign_in, or step_up
    purpose: Mapped[str] = mapped_column(String(16), default="sign_in")
    #: The serialized authorization request (requests-oauth2client), sealed.
    request: Mapped[str] = mapped_column(SealedString(8000))
    #: A local path to go to afterwards (sealed: it may hold an invitation's token).
    next_path: Mapped[str] = mapped_column(SealedString(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
