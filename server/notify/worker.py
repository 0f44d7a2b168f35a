"""The outbox worker: claims due messages and delivers them, one commit per message.

Several workers may run side by side. On PostgreSQL they claim with
``FOR UPDATE SKIP LOCKED``; on every database the claim is a conditional
UPDATE, so two workers never hold the same message. A claim is a lease: a
worker killed mid-batch leaves its messages SENDING until the lease ends,
then another worker takes them over and sends them again with the same
idempotency key, so the provider sees each (message, channel) once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import (
    AppointmentStatus,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientProfile,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.notify.channels import ChannelUnavailable, deliver
from server.notify.errors import PermanentDeliveryError, TemporaryDeliveryError
from server.services.outbox import INSTANT
from server.services.reminder_plan import end_of_quiet, in_quiet_hours

log = logging.getLogger("folge.worker")

#: Answers to something the person just did go out at once, even in quiet hours.
IMMEDIATE = (MessagePurpose.REPLY, MessagePurpose.PUSH_TEST)

#: Tries per channel before a temporary failure counts as permanent.
MAX_ATTEMPTS = 5

#: How often the worker looks for time-based work (see Worker.sweep).
SWEEP_SECONDS = 300


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class Worker:
    """Delivers due outbox messages. ``run_once`` for tests, ``run`` for the command."""

    def __init__(self, name: str | None = None, batch_size: int = 50,
                 lease: timedelta = timedelta(minutes=2)) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.batch_size = batch_size
        self.lease = lease
        self.stopping = threading.Event()

    # -- claiming ---------------------------------------------------------------
    def claim(self, now: datetime | None = None) -> list[int]:
        """Take up to ``batch_size`` due messages; returns their ids. Commits."""
        now = now or utcnow()
        due = or_(
            and_(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.due_at <= now),
            and_(OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.lease_until < now),
        )
        query = select(OutboxMessage.id).where(due).order_by(OutboxMessage.due_at,
                                                             OutboxMessage.id)
        query = query.limit(self.batch_size)
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(query))
        if not ids:
            db.session.rollback()
            return []
        token = f"{self.name}:{uuid.uuid4().hex[:8]}"
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids), due)
            .values(status=MessageStatus.SENDING, lease_until=now + self.lease, claimed_by=token)
            .execution_options(synchronize_session=False)
        )
        claimed = list(db.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == token)))
        db.session.commit()
        return claimed

    # -- delivering -------------------------------------------------------------
    def _load(self, message_id: int) -> OutboxMessage | None:
        return db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.id == message_id).options(
                joinedload(OutboxMessage.patient).joinedload(PatientProfile.user),
                joinedload(OutboxMessage.patient).joinedload(PatientProfile.clinic),
                joinedload(OutboxMessage.appointment),
                joinedload(OutboxMessage.recipient),
            )
        )

    def _obsolete(self, message: OutboxMessage, now: datetime) -> bool:
        if message.recipient_user_id is not None and message.purpose is MessagePurpose.REMINDER:
            from server.services.relatives import copy_still_allowed

            if not copy_still_allowed(message):
                return True  # the access or its reminders scope ended since the copy was made
        if message.purpose is MessagePurpose.MESSAGE:
            from server.messages.conversations import notice_obsolete

            return notice_obsolete(message)
        if message.purpose in (MessagePurpose.FEEDBACK_INVITE, MessagePurpose.FEEDBACK_REMINDER):
            from server.services.feedback import message_obsolete

            return message_obsolete(message, now)
        appointment = message.appointment
        if appointment is None or message.purpose is MessagePurpose.NO_SHOW:
            return False
        if appointment.status is AppointmentStatus.CANCELLED:
            return True
        return message.purpose is MessagePurpose.REMINDER and appointment.starts_at <= now

    def deliver_one(self, message_id: int, now: datetime | None = None) -> MessageStatus | None:
        """Deliver one claimed message and record the outcome. Commits."""
        now = now or utcnow()
        message = self._load(message_id)
        if message is None or message.status is not MessageStatus.SENDING:
            db.session.rollback()
            return None
        if self._obsolete(message, now):
            message.status = MessageStatus.CANCELLED
            message.note("cancelled")
            db.session.commit()
            return message.status
        if message.purpose is MessagePurpose.REMINDER and message.recipient_user_id is None:
            from server.services.relatives import fan_out_reminder

            fan_out_reminder(message)  # copies for relatives, committed with the outcome
        from server.services.appointments import rule_for

        zone = ZoneInfo(message.patient.clinic.timezone or "Europe/Oslo")
        rule = rule_for(message.patient)
        while True:
            channel = message.channel
            if channel is None:
                self._give_up(message)
                break
            if channel in INSTANT and message.purpose not in IMMEDIATE and \
                    in_quiet_hours(now, rule, zone):
                message.status = MessageStatus.PENDING
                message.due_at = end_of_quiet(now, rule, zone)
                message.note("quiet_hours")
                break
            try:
                result = deliver(message, channel)
            except TemporaryDeliveryError as exc:
                message.attempts += 1
                message.last_error = str(exc)[:500]
                if message.attempts < MAX_ATTEMPTS:
                    retry = getattr(exc, "retry_after", None)
                    wait = timedelta(seconds=retry) if retry else backoff(message.attempts)
                    message.status = MessageStatus.PENDING
                    message.due_at = now + wait
                    message.note("retry", error=message.last_error)
                    break
                message.note("gave_up_on_channel", error=message.last_error)
                message.next_channel()
            except PermanentDeliveryError as exc:
                message.last_error = str(exc)[:500]
                kind = "unavailable" if isinstance(exc, ChannelUnavailable) else "refused"
                message.note(kind, error=message.last_error)
                message.next_channel()
            else:
                message.provider_message_id = result.provider_id or None
                message.sent_to = result.sent_to
                message.sent_at = now
                message.lease_until = None
                message.status = (MessageStatus.LETTER_QUEUED if result.queued_letter
                                  else MessageStatus.SENT)
                message.note("queued" if result.queued_letter else "sent")
                if message.purpose is MessagePurpose.MESSAGE:
                    from server.messages.conversations import delivered

                    delivered(message, channel, now)
                break
        db.session.commit()
        return message.status

    def _give_up(self, message: OutboxMessage) -> None:
        message.status = MessageStatus.FAILED
        message.lease_until = None
        message.note("failed")
        if message.recipient_user_id is not None:
            return  # a copy for a relative: the patient's own message is what staff follow up
        db.session.add(WorkItem(
            clinic_id=message.patient.clinic_id, patient_id=message.patient_id,
            appointment_id=message.appointment_id, kind=WorkKind.MESSAGE_FAILED,
            details={"message_id": message.id, "purpose": message.purpose.value,
                     "error": message.last_error},
        ))

    # -- loops ------------------------------------------------------------------
    def run_once(self) -> int:
        """Claim and deliver one batch; returns how many messages were handled."""
        ids = self.claim()
        for message_id in ids:
            try:
                self.deliver_one(message_id)
            except Exception:  # a bug must not stop the other messages
                db.session.rollback()
                log.exception("message %s failed unexpectedly; it is retried after its lease",
                              message_id)
        return len(ids)

    def run_until_idle(self, max_batches: int = 1000) -> int:
        """Deliver everything due now; for tests and the demo."""
        total = 0
        for _ in range(max_batches):
            handled = self.run_once()
            total += handled
            if handled == 0:
                break
        return total

    def run(self, poll_seconds: float = 2.0) -> None:
        """Deliver until SIGTERM or SIGINT; finishes the current message first."""
        def stop(signum: int, frame: Any) -> None:
            log.info("worker %s stopping", self.name)
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("worker %s started", self.name)
        last_sweep = 0.0
        while not self.stopping.is_set():
            try:
                handled = self.run_once()
                if time.monotonic() - last_sweep > SWEEP_SECONDS:
                    last_sweep = time.monotonic()
                    self.sweep()
            except Exception:  # the database restarted or was locked: wait and try again
                db.session.rollback()
                log.exception("worker %s could not claim messages; retrying", self.name)
                handled = 0
            if handled == 0:
                self.stopping.wait(poll_seconds)
            db.session.remove()

    def sweep(self) -> None:
        """Work that waits on time rather than on a message: handovers waiting too long go
        to the clinic admin (also run when a worklist is opened)."""
        from server.care_team.handovers import escalate_overdue

        escalated = escalate_overdue()
        if escalated:
            log.info("worker %s: %d handover(s) went to the clinic admin", self.name, escalated)
