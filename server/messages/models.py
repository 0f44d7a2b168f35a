"""Tables of the conversations between a patient and their care team.

A conversation belongs to a patient, not to a clinic: the staff who may read
it are those of the patient's current clinic (server/policy.py), so after a
move between clinics the new clinic has it and the old one does not.
Nothing here is ever deleted; a message sent by mistake is withdrawn (its
text kept for the record, shown as withdrawn).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from server.models.clinic import Clinic
    from server.models.patient import PatientProfile
    from server.models.user import User


class Topic(enum.Enum):
    """What a conversation is about; the patient may leave it open."""

    APPOINTMENTS = "appointments"
    TAKE_HOME = "take_home"
    MEDICATION = "medication"
    PRACTICAL = "practical"
    OTHER = "other"


class ConversationStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class MessageVia(enum.Enum):
    """How a message came in."""

    APP = "app"  # written in Følge
    SMS = "sms"  # an SMS from the patient's verified number


class MessageKind(enum.Enum):
    TEXT = "text"
    #: Staff called the patient instead of writing; the text is an optional note.
    CALLED = "called"


class ConversationEventKind(enum.Enum):
    STARTED = "started"
    ASSIGNED = "assigned"  # to someone, by someone (None: by default, the coordinator)
    CLOSED = "closed"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"  # a message, within its minutes


class Conversation(Base):
    """A thread between one patient and their care team."""

    __tablename__ = "conversation"
    __table_args__ = (
        Index("ix_conversation_waiting", "status", "waiting_since"),
        Index("ix_conversation_patient", "patient_id", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"))
    topic: Mapped[Topic | None] = mapped_column(enum_column(Topic, "conversation_topic"))
    status: Mapped[ConversationStatus] = mapped_column(
        enum_column(ConversationStatus, "conversation_status"), default=ConversationStatus.OPEN)
    #: Who answers it: by default the patient's coordinator; reassignable.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    started_via: Mapped[MessageVia] = mapped_column(enum_column(MessageVia, "message_via"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The first patient message since the team last answered; None when nothing waits.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    patient: Mapped[PatientProfile] = relationship()
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    messages: Mapped[list[ConversationMessage]] = relationship(
        back_populates="conversation", order_by="ConversationMessage.id")

    @property
    def is_open(self) -> bool:
        return self.status is ConversationStatus.OPEN


class ConversationMessage(Base):
    """One message: from the patient (app or SMS) or from a staff member."""

    __tablename__ = "conversation_message"
    __table_args__ = (
        # Stored once per client key (the app's offline queue may send twice) ...
        UniqueConstraint("author_id", "client_key", name="uq_conversation_message_client_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    from_patient: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, "message_kind"),
                                              default=MessageKind.TEXT)
    via: Mapped[MessageVia] = mapped_column(enum_column(MessageVia, "message_via"),
                                            default=MessageVia.APP)
    body: Mapped[str] = mapped_column(Text, default="")
    client_key: Mapped[str | None] = mapped_column(String(64))
    #: ... and once per provider message id (an SMS webhook may be delivered twice).
    inbound_sms_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_sms.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A patient's message: when the team first opened it. A staff message: when the
    #: patient first opened it (or when it left as an SMS or a letter, which they read there).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    author: Mapped[User] = relationship(foreign_keys=[author_id])


class ConversationEvent(Base):
    """Who did what to a conversation, and when: assigned, closed, reopened, withdrawn."""

    __tablename__ = "conversation_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    kind: Mapped[ConversationEventKind] = mapped_column(
        enum_column(ConversationEventKind, "conversation_event_kind"))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("conversation_message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    by: Mapped[User | None] = relationship(foreign_keys=[by_id])
    to: Mapped[User | None] = relationship(foreign_keys=[to_id])


class QuickAnswer(Base):
    """A clinic's ready-made answer; staff start from it and may change the words."""

    __tablename__ = "quick_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    clinic: Mapped[Clinic] = relationship()
