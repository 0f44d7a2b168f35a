"""The transactional outbox: every message to a person, planned in the same
transaction as the change that causes it, delivered by a worker.

A message tries the recipient's channels in order. Its idempotency key makes
each (message, channel) pair take effect at most once, even when a worker
dies between handing it to the provider and recording that it did.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from server.models.appointment import Appointment
    from server.models.patient import PatientProfile
    from server.models.user import User


class MessagePurpose(enum.Enum):
    REMINDER = "reminder"  # before an appointment
    NOTICE = "notice"  # a new or moved appointment (letters)
    NO_SHOW = "no_show"  # we missed you: offer a new time
    REPLY = "reply"  # answer to an SMS from the patient (help text, receipt)
    PUSH_TEST = "push_test"  # "send a test notification"
    DECISION = "decision"  # "you have an answer to your request"
    FEEDBACK_INVITE = "feedback_invite"  # "how was the meeting?" after an attended appointment
    FEEDBACK_REMINDER = "feedback_reminder"  # the one gentle reminder
    RELATIVE_ADDED = "relative_added"  # staff registered a relative for the patient
    ACCESS_ENDED = "access_ended"  # to a relative: an access has ended (never why)
    INVITE_FAILED = "invite_failed"  # to the patient: someone tried an old invitation link
    TEAM_SHEET = "team_sheet"  # the care team on paper, when it changes (letter patients)
    TRANSFER = "transfer"  # the follow-up is proposed to move, or has moved, to another clinic
    MESSAGE = "message"  # to the patient: the team wrote in a conversation (server/messages)
    STAFF_MESSAGE = "staff_message"  # to a staff member, by email: a conversation waits
    AGREED = "agreed"  # to the patient: the notes from an appointment ("what we agreed")
    CRISIS_PLAN = "crisis_plan"  # the crisis plan on paper, when it changes (letter patients)


class MessageStatus(enum.Enum):
    PENDING = "pending"  # waiting for its time or its next try
    SENDING = "sending"  # claimed by a worker (see lease_until)
    SENT = "sent"  # accepted by the provider on ``channel``
    LETTER_QUEUED = "letter_queued"  # waiting to be printed by staff
    PRINTED = "printed"
    CANCELLED = "cancelled"  # the appointment moved or was cancelled
    FAILED = "failed"  # no channel left; a work item tells staff


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_appointment", "appointment_id"),
        # The worker's claims (server/notify/worker.py), one index per query. Partial, so
        # that they hold only the work still to do: the sent history, which grows without
        # end, is not in them, and the pending one is read in claim order (due_at, id) up
        # to the batch size instead of sorting every due message.
        Index("ix_outbox_message_pending_due", "due_at", "id",
              postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_outbox_message_sending_lease", "lease_until",
              postgresql_where=text("status = 'sending'"),
              sqlite_where=text("status = 'sending'")),
        # The letters waiting to be printed (server/services/letters.py), oldest first.
        Index("ix_outbox_message_letter_queue", "sent_at", "id",
              postgresql_where=text("status = 'letter_queued'"),
              sqlite_where=text("status = 'letter_queued'")),
        # Delivery reports name the provider's id; most rows (everything not yet sent, every
        # push and letter) have none, and an import should not index 250,000 NULLs.
        Index("ix_outbox_message_provider_message_id", "provider_message_id",
              postgresql_where=text("provider_message_id IS NOT NULL"),
              sqlite_where=text("provider_message_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unique per planned message, e.g. "reminder:42:v1:evening".
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    purpose: Mapped[MessagePurpose] = mapped_column(enum_column(MessagePurpose, "message_purpose"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    #: Someone other than the patient receives it (a relative); None means the patient.
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Template name under templates/notifications/ (without channel folder) and its values.
    template: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Channels to try, in order; ``channel_index`` points at the current one.
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_index: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus, "message_status"),
                                                  default=MessageStatus.PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Tries on the current channel (for backoff); reset when moving to the next channel.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: While SENDING: the claim expires then, and another worker may take over.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")
    #: A log of what happened, for staff: [{"at": ..., "channel": ..., "event": ...}].
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    provider_message_id: Mapped[str | None] = mapped_column(String(120))
    #: Latest delivery status reported by the provider (delivered, undelivered ...).
    delivery_status: Mapped[str] = mapped_column(String(32), default="")
    #: The number or address used on the channel that succeeded, for matching replies.
    sent_to: Mapped[str] = mapped_column(String(254), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[PatientProfile] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    recipient: Mapped[User | None] = relationship()

    @property
    def receiver(self) -> User:
        """Who gets the message: the relative it is addressed to, else the patient."""
        return self.recipient or self.patient.user

    def note(self, event: str, **extra: Any) -> None:
        """Append an event to the history staff see (a new list, so the JSON change is saved)."""
        entry = {"at": utcnow().isoformat(timespec="seconds"), "channel": self.channel or "",
                 "event": event, **extra}
        self.history = [*(self.history or []), entry]

    def next_channel(self) -> None:
        """Give up on the current channel; the next one starts with a clean try count."""
        self.channel_index += 1
        self.attempts = 0

    @property
    def channel(self) -> str | None:
        if 0 <= self.channel_index < len(self.channels):
            return self.channels[self.channel_index]
        return None
