"""User accounts: patients, staff and relatives share one table."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from server.models.patient import PatientProfile
    from server.models.staff import StaffMembership


class Role(enum.Enum):
    PATIENT = "patient"
    STAFF = "staff"
    RELATIVE = "relative"
    #: A clinic's record system using the FHIR interface (server/fhir): it never signs in;
    #: its account names it in the access log.
    SYSTEM = "system"


LANGUAGES = ("nb", "nn", "en")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    display_name: Mapped[str] = mapped_column(String(200))
    #: Mobile number in E.164 form (+47XXXXXXXX); patients and relatives sign in with it.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    #: Set when staff confirmed the number belongs to this person; only then may it sign in.
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Staff sign in with email and password.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    #: The national identity number as a keyed hash (server/national_id/pid.py): how an
    #: ID-porten sign-in finds the person. The number itself is never stored.
    pid_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: How staff recognise the saved number ("010170 *****").
    pid_masked: Mapped[str] = mapped_column(String(16), default="")
    #: Staff: the health personnel number (HPR) HelseID gave at the last sign-in.
    hpr_number: Mapped[str | None] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Chosen language; None until the person picks one (then the browser decides).
    language: Mapped[str | None] = mapped_column(String(2))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Staff: an email ("new message in Følge for your clinic", nothing more) when a
    #: conversation assigned to them gets a message. Off unless they turn it on.
    notify_messages_by_email: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient_profile: Mapped[PatientProfile | None] = relationship(
        back_populates="user", uselist=False
    )
    memberships: Mapped[list[StaffMembership]] = relationship(back_populates="user")

    #: The sign-in session this object was loaded for (set by the session service).
    __allow_unmapped__ = True  # for session_token below, a plain attribute
    session_token: str | None = None

    # -- flask-login protocol ------------------------------------------------
    # The id handed to flask-login is the sign-in session's token, not the
    # user's primary key: ending the session row on the server therefore makes
    # a copied cookie worthless (flask-login's "alternative tokens").
    @property
    def is_authenticated(self) -> bool:
        return self.session_token is not None

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_patient(self) -> bool:
        return self.role is Role.PATIENT

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def is_relative(self) -> bool:
        return self.role is Role.RELATIVE
