"""The outbox worker: claims due messages in batches and delivers them.

Several workers may run side by side. A claim is one conditional UPDATE per
kind of due work (pending messages whose time has come, in due order, and
messages whose lease ended), over ids chosen with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so two workers never hold the same message; it is committed
on its own. A claim is a lease: a worker killed mid-batch leaves its messages
SENDING until the lease ends, then another worker takes them over and sends
them again with the same idempotency key, so the provider sees each
(message, channel) once.

A batch is delivered in groups of up to ``GROUP_MESSAGES``, one transaction
each: the group's messages are loaded with their patient, user, clinic and
appointment in one query, their reminder settings and whether their patients
have relatives in one more each, and the outcomes are committed together once
the group is done or has taken ``GROUP_SECONDS``. So what the worker read
about a message is at most about that old when it is handed to the provider
(a cancellation or a STOPP is seen by the next group), and a crash undoes at
most that much bookkeeping, which the lease and the idempotency keys repair.
With a slow provider a group is a single message, as before.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Update, and_, select, update
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import (
    AppointmentStatus,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientProfile,
    RelativeAccess,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.notify.channels import ChannelUnavailable, deliver
from server.notify.errors import PermanentDeliveryError, TemporaryDeliveryError
from server.services.outbox import INSTANT, status_literal
from server.services.reminder_plan import ReminderRule, end_of_quiet, in_quiet_hours

log = logging.getLogger("folge.worker")

#: Answers to something the person just did go out at once, even in quiet hours.
IMMEDIATE = (MessagePurpose.REPLY, MessagePurpose.PUSH_TEST)

#: Tries per channel before a temporary failure counts as permanent.
MAX_ATTEMPTS = 5

#: A group (see the module docstring) is at most this many messages, loaded together, and
#: its transaction ends once delivering them has taken GROUP_SECONDS. Fifty spread the
#: group's four queries and commit thinly; more would only load rows that wait longer.
GROUP_MESSAGES = 50
GROUP_SECONDS = 0.1

#: How often the worker looks for time-based work (see Worker.sweep).
SWEEP_SECONDS = 300


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class _Group:
    """The messages of a batch loaded together, with what their delivery looks up."""

    messages: list[OutboxMessage]
    rules: dict[int, ReminderRule]
    #: Patients with an access that is not revoked: only their reminders fan out.
    with_relatives: set[int]


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
        """Take up to ``batch_size`` due messages; returns their ids in due order. Commits.

        Expired leases and pending work are separate statements, each served by its own
        partial index (see OutboxMessage): one ``OR`` of the two made PostgreSQL read
        and sort the whole backlog on every claim. Expired leases go first: they were
        due before anything still pending.
        """
        now = now or utcnow()
        token = f"{self.name}:{uuid.uuid4().hex[:8]}"
        expired, pending = self.claim_statements(now, token, self.batch_size)
        claimed = list(db.session.execute(expired))
        if len(claimed) < self.batch_size:
            claimed += db.session.execute(
                self.claim_statements(now, token, self.batch_size - len(claimed))[1])
        db.session.commit()
        return [message_id for _, message_id in sorted(claimed)]

    def claim_statements(self, now: datetime, token: str, limit: int
                         ) -> tuple[Update, Update]:
        """The two claims, expired leases and pending work, as statements (the benchmark
        prints their plans). Each marks up to ``limit`` messages as ours and returns their
        (due_at, id): ``WITH claimable AS MATERIALIZED (SELECT ... LIMIT n FOR UPDATE
        SKIP LOCKED) UPDATE ... WHERE id IN (SELECT id FROM claimable) AND <due>
        RETURNING``, one round trip. The repeated condition makes the UPDATE
        conditional where there are no row locks (SQLite, whose writers take turns).
        """
        return (
            self._claim(and_(OutboxMessage.status == status_literal(MessageStatus.SENDING),
                             OutboxMessage.lease_until < now),
                        (OutboxMessage.lease_until, OutboxMessage.id), limit, now, token),
            self._claim(and_(OutboxMessage.status == status_literal(MessageStatus.PENDING),
                             OutboxMessage.due_at <= now),
                        (OutboxMessage.due_at, OutboxMessage.id), limit, now, token),
        )

    def _claim(self, due: ColumnElement[bool], order: tuple[Any, ...], limit: int,
               now: datetime, token: str) -> Update:
        candidates = select(OutboxMessage.id).where(due).order_by(*order).limit(limit)
        if db.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        # A MATERIALIZED CTE runs once. As a plain IN (subquery), PostgreSQL may run the
        # subquery again for each row of a nested loop, and with SKIP LOCKED each run
        # picks other rows: a claim of n took more than n messages.
        chosen = candidates.cte("claimable").prefix_with("MATERIALIZED")
        return (update(OutboxMessage).where(OutboxMessage.id.in_(select(chosen.c.id)), due)
                .values(status=MessageStatus.SENDING, lease_until=now + self.lease,
                        claimed_by=token)
                .returning(OutboxMessage.due_at, OutboxMessage.id)
                .execution_options(synchronize_session=False))

    # -- delivering -------------------------------------------------------------
    def _load(self, message_ids: list[int]) -> _Group:
        """The messages still being sent among ``message_ids``, in due order, with what
        delivering them reads: three queries at most, whatever the number of messages."""
        from server.services.appointments import rules_for

        messages = list(db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(message_ids),
                                        OutboxMessage.status == MessageStatus.SENDING)
            .order_by(OutboxMessage.due_at, OutboxMessage.id).options(
                joinedload(OutboxMessage.patient).joinedload(PatientProfile.user),
                joinedload(OutboxMessage.patient).joinedload(PatientProfile.clinic),
                joinedload(OutboxMessage.appointment),
                joinedload(OutboxMessage.recipient),
            )))
        patient_ids = {message.patient_id for message in messages}
        own_reminders = {message.patient_id for message in messages
                         if message.purpose is MessagePurpose.REMINDER
                         and message.recipient_user_id is None}
        with_relatives = set(db.session.scalars(
            select(RelativeAccess.patient_id).distinct().where(
                RelativeAccess.patient_id.in_(own_reminders),
                RelativeAccess.revoked_at.is_(None)))) if own_reminders else set()
        return _Group(messages, rules_for(patient_ids) if patient_ids else {}, with_relatives)

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
        return self.deliver([message_id], now).get(message_id)

    def deliver(self, message_ids: list[int], now: datetime | None = None
                ) -> dict[int, MessageStatus]:
        """Deliver claimed messages, a group per transaction (see the module docstring);
        returns the outcome of each message that was still being sent. Commits.

        A message failing unexpectedly (a bug) undoes its group: it stays SENDING and is
        retried after its lease, and the group's other messages are delivered again, with
        their keys, in transactions of their own.
        """
        outcomes: dict[int, MessageStatus] = {}
        remaining = list(message_ids)
        alone = False  # after a failed group: one message per transaction for the rest
        while remaining:
            wanted = remaining[:1 if alone else GROUP_MESSAGES]
            group = self._load(wanted)
            loaded = {message.id for message in group.messages}
            # Those not loaded are no longer being sent (by anyone): nothing to do for them.
            remaining = [i for i in remaining if i in loaded or i not in wanted]
            began = time.monotonic()
            done: dict[int, MessageStatus] = {}
            current = None
            try:
                for message in group.messages:
                    current = message.id
                    done[current] = self._deliver(message, now or utcnow(), group)
                    if time.monotonic() - began >= GROUP_SECONDS:
                        break  # the rest is loaded again, fresh, for the next group
                db.session.commit()
            except Exception:  # a bug must not stop the other messages
                db.session.rollback()
                log.exception("message %s failed unexpectedly; it is retried after its lease",
                              current)
                if current in remaining:
                    remaining.remove(current)
                done = {}
                alone = True
            outcomes.update(done)
            remaining = [i for i in remaining if i not in done]
        return outcomes

    def _deliver(self, message: OutboxMessage, now: datetime, group: _Group) -> MessageStatus:
        """Deliver one loaded message and record the outcome in the session."""
        if self._obsolete(message, now):
            message.status = MessageStatus.CANCELLED
            message.note("cancelled")
            return message.status
        if message.purpose is MessagePurpose.REMINDER and message.recipient_user_id is None \
                and message.patient_id in group.with_relatives:
            from server.services.relatives import fan_out_reminder

            fan_out_reminder(message)  # copies for relatives, committed with the outcome
        zone = ZoneInfo(message.patient.clinic.timezone or "Europe/Oslo")
        rule = group.rules[message.patient_id]
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
        if ids:
            self.deliver(ids)
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
        """Deliver until SIGTERM or SIGINT; finishes the current batch first."""
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
