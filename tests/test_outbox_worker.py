"""The worker: exactly once per channel, retries with backoff, fallback push -> SMS -> letter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import (
    Channel,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientProfile,
    PushSubscription,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.notify import webpush
from server.notify.errors import TemporaryDeliveryError
from server.notify.worker import MAX_ATTEMPTS, Worker, backoff
from server.services import outbox
from tests.conftest import CapturingSms, Factory, World


@pytest.fixture(autouse=True)
def english_patients(world: World) -> None:
    """Messages are rendered in the patient's language; these tests read English."""
    for patient in (world.patient_x, world.patient_y):
        patient.user.language = "en"
    db.session.commit()



def due_message(patient: PatientProfile, purpose: MessagePurpose = MessagePurpose.NO_SHOW,
                channels: list[str] | None = None, key: str = "m1") -> OutboxMessage:
    message = outbox.enqueue(key=key, purpose=purpose, patient=patient, template="no_show",
                             channels=channels, due_at=utcnow() - timedelta(seconds=1))
    db.session.commit()
    assert message is not None
    return message


@pytest.fixture(autouse=True)
def daytime(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the worker at 12:00 Oslo time, outside quiet hours, whatever the real clock says."""
    from datetime import UTC, datetime

    import server.notify.worker as worker_module

    monkeypatch.setattr(worker_module, "utcnow", lambda: datetime(2031, 6, 2, 10, 0, tzinfo=UTC))


def subscribe(patient: PatientProfile) -> PushSubscription:
    subscription = PushSubscription(user_id=patient.user_id, endpoint="https://push.example/abc",
                                    p256dh="B" * 87, auth="A" * 22)
    db.session.add(subscription)
    db.session.commit()
    return subscription


def test_sms_is_sent_once_and_recorded(world: World, sms: CapturingSms) -> None:
    message = due_message(world.patient_x)
    worker = Worker(name="w1")
    assert worker.run_until_idle() == 1
    assert worker.run_until_idle() == 0
    db.session.refresh(message)
    assert message.status is MessageStatus.SENT
    assert message.provider_message_id == "SM" + "1".zfill(32)
    assert message.sent_to == world.patient_x.user.phone
    assert len(sms.sent) == 1 and "We missed you" in sms.sent[0].body


def test_a_reclaimed_message_reuses_its_idempotency_key(world: World, sms: CapturingSms) -> None:
    message = due_message(world.patient_x)
    first = Worker(name="dies", lease=timedelta(seconds=-1))
    [message_id] = first.claim()
    # The worker "dies" after the provider accepted the SMS but before recording it.
    from server.notify.channels import deliver

    deliver(db.session.get(OutboxMessage, message_id), "sms")
    db.session.rollback()
    second = Worker(name="takes-over")
    assert second.run_until_idle() == 1
    db.session.refresh(message)
    assert message.status is MessageStatus.SENT
    assert len(sms.sent) == 1  # the provider saw the same key twice and kept one


def test_full_fallback_chain_push_then_sms_then_letter(
    world: World, make: Factory, sms: CapturingSms, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = make.patient(world.clinic_a, phone=None,
                           channels=(Channel.PUSH, Channel.SMS, Channel.LETTER))
    subscription = subscribe(patient)

    def gone(sub: PushSubscription, payload: dict[str, Any], **kw: Any) -> str:
        raise webpush.SubscriptionGone("410 Gone")

    monkeypatch.setattr(webpush, "send", gone)
    message = due_message(patient, channels=["push", "sms", "letter"])
    Worker(name="w").run_until_idle()
    db.session.refresh(message)
    assert message.status is MessageStatus.LETTER_QUEUED
    assert [e["event"] for e in message.history] == ["unavailable", "unavailable", "queued"]
    assert [e["channel"] for e in message.history] == ["push", "sms", "letter"]
    assert db.session.get(PushSubscription, subscription.id) is None  # expired: deleted
    assert sms.sent == []


def test_push_success_stops_the_chain(world: World, make: Factory, sms: CapturingSms,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    patient = make.patient(world.clinic_a, channels=(Channel.PUSH, Channel.SMS))
    subscribe(patient)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(webpush, "send", lambda sub, payload, **kw: sent.append(payload) or "201")
    message = due_message(patient, channels=["push", "sms"])
    Worker(name="w").run_until_idle()
    db.session.refresh(message)
    assert message.status is MessageStatus.SENT and message.channel == "push"
    assert sent and sent[0]["title"] == "Følge" and sms.sent == []


def test_temporary_failures_back_off_then_fall_back(world: World, sms: CapturingSms,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import server.notify.worker as worker_module

    def flaky(*args: Any, **kwargs: Any) -> Any:
        raise TemporaryDeliveryError("provider overloaded")

    monkeypatch.setattr(sms, "send", flaky)
    message = due_message(world.patient_x, channels=["sms", "letter"])
    worker = Worker(name="w")
    now = worker_module.utcnow()
    for attempt in range(1, MAX_ATTEMPTS):
        [message_id] = worker.claim(now)
        worker.deliver_one(message_id, now)
        db.session.refresh(message)
        assert message.status is MessageStatus.PENDING and message.attempts == attempt
        assert message.due_at == now + backoff(attempt)
        now = message.due_at
    [message_id] = worker.claim(now)
    worker.deliver_one(message_id, now)
    db.session.refresh(message)
    assert message.status is MessageStatus.LETTER_QUEUED
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 8)] == [30, 60, 120, 3600]


def test_nothing_left_means_failed_and_staff_are_told(world: World, make: Factory) -> None:
    patient = make.patient(world.clinic_a, phone=None, channels=(Channel.SMS,))
    message = due_message(patient, channels=["sms"])
    Worker(name="w").run_until_idle()
    db.session.refresh(message)
    assert message.status is MessageStatus.FAILED
    item = db.session.scalars(select(WorkItem)).one()
    assert item.kind is WorkKind.MESSAGE_FAILED and item.details["message_id"] == message.id


def test_no_number_ends_in_the_letter_queue(world: World, make: Factory) -> None:
    patient = make.patient(world.clinic_a, phone=None, channels=(Channel.SMS, Channel.LETTER))
    appointment = make.appointment(patient)
    reminder = next(m for m in db.session.scalars(select(OutboxMessage))
                    if m.purpose is MessagePurpose.REMINDER)
    assert reminder.channels == ["sms", "letter"] and appointment.id == reminder.appointment_id
    from datetime import UTC, datetime

    appointment.starts_at = datetime(2031, 6, 5, 10, 0, tzinfo=UTC)  # after the fixed "now"
    reminder.due_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    Worker(name="w").run_until_idle()
    db.session.refresh(reminder)
    assert reminder.status is MessageStatus.LETTER_QUEUED


def test_quiet_hours_postpone_sms_and_push(world: World, sms: CapturingSms,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    import server.notify.worker as worker_module

    night = datetime(2031, 6, 2, 21, 30, tzinfo=UTC)  # 23:30 in Oslo
    monkeypatch.setattr(worker_module, "utcnow", lambda: night)
    message = due_message(world.patient_x)
    message.due_at = night - timedelta(minutes=1)
    db.session.commit()
    Worker(name="w").run_until_idle()
    db.session.refresh(message)
    assert message.status is MessageStatus.PENDING
    assert message.due_at == datetime(2031, 6, 3, 6, 0, tzinfo=UTC)  # 08:00 in Oslo
    assert sms.sent == []


def test_each_planned_reminder_goes_out_at_most_once_per_channel(world: World, make: Factory,
                                                                 sms: CapturingSms) -> None:
    from datetime import UTC, datetime

    later = datetime(2031, 6, 5, 10, 0, tzinfo=UTC) - utcnow()  # after the fixed "now"
    appointment = make.appointment(world.patient_x, starts_in=later)
    for message in db.session.scalars(select(OutboxMessage)):
        message.due_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    workers = [Worker(name="a"), Worker(name="b")]
    for _ in range(3):
        for worker in workers:
            worker.run_until_idle()
    assert len(sms.sent) == 3
    assert len(set(sms.keys)) == 3
    assert appointment.id


def test_the_worker_loop_survives_a_database_hiccup(world: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    worker = Worker(name="w")
    calls: list[str] = []

    def flaky_once() -> int:
        calls.append("call")
        if len(calls) == 1:
            raise RuntimeError("server closed the connection unexpectedly")
        worker.stopping.set()
        return 0

    monkeypatch.setattr(worker, "run_once", flaky_once)
    monkeypatch.setattr("signal.signal", lambda *args: None)
    worker.run(poll_seconds=0.01)
    assert calls == ["call", "call"]


def test_the_development_adapter_keeps_one_sms_per_key(app: Any) -> None:
    """The development SMS adapter (FOLGE_SMS_PROVIDER=dev, the benchmarks' provider):
    a second send with the same key returns the first message instead of storing another;
    sends without a key (sign-in codes) are each kept."""
    from server.models import DevSms
    from server.notify.sms import DevSmsProvider

    provider = DevSmsProvider()
    first = provider.send("+4791234567", "Hei", idempotency_key="reminder:1:v1:evening")
    again = provider.send("+4791234567", "Hei igjen", idempotency_key="reminder:1:v1:evening")
    assert again == first and first.provider_id.startswith("dev-")
    provider.send("+4791234567", "Kode 1")
    provider.send("+4791234567", "Kode 2")
    db.session.commit()
    kept = db.session.execute(select(DevSms.idempotency_key, DevSms.body)
                              .order_by(DevSms.id)).all()
    assert [tuple(row) for row in kept] == [("reminder:1:v1:evening", "Hei"), (None, "Kode 1"),
                                            (None, "Kode 2")]
