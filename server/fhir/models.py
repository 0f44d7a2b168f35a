"""Record systems allowed to use the FHIR interface."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.clinic import Clinic
from server.models.user import User


class SystemClient(Base):
    """One record system of one clinic, known by the client id its tokens carry.

    It has an account of its own (role "system", never able to sign in) so the patient's
    access log names it like any other reader: "the clinic's record system".
    """

    __tablename__ = "system_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The OAuth client id at the token issuer (the token's client_id claim).
    client_id: Mapped[str] = mapped_column(String(200), unique=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    #: The most this client may do (SMART v2 system scopes, space-separated); a token's
    #: scopes count only as far as they are in here.
    scopes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    clinic: Mapped[Clinic] = relationship()
    user: Mapped[User] = relationship()
