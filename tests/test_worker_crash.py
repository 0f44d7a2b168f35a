"""Two workers. One is killed with SIGKILL mid-batch and restarted. Every due
reminder reaches a fake provider exactly once.

The workers are real ``flask worker`` processes on the suite's database (a
SQLite file shared by the processes, or PostgreSQL with
FOLGE_TEST_DATABASE_URL), sending through the Twilio adapter to a fake
Twilio on 127.0.0.1 (tests/fake_twilio.py). The fake kills worker A while
one of A's requests is in flight - after the fake accepted the message,
before A hears so - which is the window the idempotency key exists for:
A's claimed messages stay SENDING until the lease ends, another worker takes
them over and sends them again with the same key, and the fake answers the
repeat with the first message instead of sending a second one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select, update

from server.config import PROJECT_ROOT
from server.extensions import db
from server.models import Channel, MeetingKind, MessageStatus, OutboxMessage, ServiceKind
from server.models.base import utcnow
from server.services import appointments, reminder_settings
from tests.conftest import Factory
from tests.fake_twilio import FakeRequest, FakeTwilio

PATIENTS = 3
APPOINTMENTS = 60  # a notice and two reminders each: about 180 due messages
DELAY = 0.025  # seconds the fake takes per request, so that a batch takes time
LEASE = 3  # seconds
BATCH = 10
KILL_AT = 15  # worker A dies during its 15th request: the middle of its second batch
DEADLINE = 60.0  # seconds for everything to be delivered
FROM_NUMBER = "+4700000000"


def _quiet_hours_elsewhere() -> tuple[clock, clock]:
    """A one-hour quiet window half a day away, so that no message waits for morning."""
    start = (datetime.now(ZoneInfo("Europe/Oslo")) + timedelta(hours=12)).hour
    return clock(start, 0), clock((start + 1) % 24, 0)


def _plan_due_messages(make: Factory) -> dict[int, str]:
    """Patients, appointments and their messages, all due now; returns {id: key}."""
    clinic = make.clinic()
    quiet_from, quiet_until = _quiet_hours_elsewhere()
    patients = []
    for _ in range(PATIENTS):
        patient = make.patient(clinic, channels=(Channel.SMS,))
        reminder_settings.save(patient, reminder_settings.Choices(
            channels=[Channel.SMS.value], evening_before_at=clock(18, 0), hours_before=2,
            quiet_from=quiet_from, quiet_until=quiet_until))
        patients.append(patient)
    start = utcnow() + timedelta(days=2)
    items = [
        (patients[i % PATIENTS], appointments.AppointmentInput(
            starts_at=start + timedelta(minutes=37 * i), duration_minutes=30,
            service=ServiceKind.CLINIC, service_name="Poliklinikken", meeting=MeetingKind.IN_PERSON,
            place_name="Poliklinikken", address="Storgata 1, 0155 Oslo", prepare=""))
        for i in range(APPOINTMENTS)
    ]
    appointments.create_many(items, by=None)
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.status == MessageStatus.PENDING)
        .values(due_at=utcnow() - timedelta(seconds=5)).execution_options(synchronize_session=False))
    db.session.commit()
    due = dict(db.session.execute(
        select(OutboxMessage.id, OutboxMessage.idempotency_key)
        .where(OutboxMessage.status == MessageStatus.PENDING)).all())
    db.session.rollback()
    return due


def _worker_env(app: Flask, fake: FakeTwilio, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLGE_")}
    env.update({
        "FOLGE_ENV": "testing",
        "FOLGE_SECRET_KEY": "test-secret-key-not-for-production",
        "FOLGE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FOLGE_SMS_PROVIDER": "twilio",
        "FOLGE_TWILIO_ACCOUNT_SID": fake.account_sid,
        # One account, a token per worker: the fake tells the senders apart by it.
        "FOLGE_TWILIO_AUTH_TOKEN": f"token-{name}",
        "FOLGE_TWILIO_FROM": FROM_NUMBER,
        "FOLGE_TWILIO_BASE_URL": fake.base_url,
        "PYTHONUNBUFFERED": "1",
    })
    return env


class Workers:
    """The worker processes of one test, with their logs."""

    def __init__(self, app: Flask, fake: FakeTwilio, log_dir: Path) -> None:
        self.app, self.fake, self.log_dir = app, fake, log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{name}.log", "wb")  # noqa: SIM115
        self._logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--lease", str(LEASE),
             "--batch", str(BATCH), "--poll", "0.2", "--name", name],
            cwd=PROJECT_ROOT, env=_worker_env(self.app, self.fake, name),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs[name] = proc
        return proc

    def stop(self) -> None:
        """SIGTERM (they finish the current message), then SIGKILL what is left."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for log in self._logs:
            log.close()

    def log(self, name: str) -> str:
        path = self.log_dir / f"worker-{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tails(self, lines: int = 25) -> str:
        return "\n".join(f"--- worker {name} (exit {proc.poll()}) ---\n" +
                         "\n".join(self.log(name).splitlines()[-lines:])
                         for name, proc in self.procs.items())


def _open_count(ids: list[int]) -> int:
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.id.in_(ids),
        OutboxMessage.status.in_((MessageStatus.PENDING, MessageStatus.SENDING))))
    db.session.rollback()  # hold no snapshot or lock while the workers write
    return int(count or 0)


def test_killed_worker_loses_and_duplicates_nothing(app: Flask, make: Factory,
                                                    tmp_path: Path) -> None:
    began = time.monotonic()
    due = _plan_due_messages(make)
    ids = sorted(due)
    assert len(due) >= 120, f"only {len(due)} messages were planned"

    killed = threading.Event()
    killed_request: list[FakeRequest] = []
    seen_from_a = Counter[str]()
    fake = FakeTwilio(delay=DELAY)
    workers = Workers(app, fake, tmp_path)

    def kill_a_in_flight(request: FakeRequest) -> None:
        """Runs in the fake's request thread: the message is accepted, A has no answer yet."""
        if request.caller != "token-A" or killed.is_set():
            return
        seen_from_a[request.caller] += 1
        if seen_from_a[request.caller] == KILL_AT:
            proc = workers.procs["A"]
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)  # dead before it can read an answer
            killed_request.append(request)
            killed.set()

    fake.before_reply = kill_a_in_flight
    fake.start()
    try:
        workers.start("A")
        workers.start("B")
        deadline = time.monotonic() + DEADLINE
        open_count = len(ids)
        while time.monotonic() < deadline:
            if killed.is_set() and "A2" not in workers.procs:
                workers.start("A2")
            open_count = _open_count(ids)
            if open_count == 0 and killed.is_set():
                break
            crashed = [n for n, p in workers.procs.items() if n != "A" and p.poll() is not None]
            assert not crashed, f"worker(s) {crashed} stopped on their own\n{workers.tails()}"
            time.sleep(0.2)
        assert killed.is_set(), (f"worker A never made {KILL_AT} requests "
                                 f"(fake saw {fake.request_count})\n{workers.tails()}")
        assert open_count == 0, (f"{open_count} message(s) still pending or sending after "
                                 f"{DEADLINE:.0f} s\n{workers.tails()}")
    finally:
        workers.stop()
        fake.stop()

    delivered = time.monotonic() - began
    assert workers.procs["A"].returncode == -signal.SIGKILL
    assert workers.procs["B"].returncode == 0, workers.tails()
    assert workers.procs["A2"].returncode == 0, workers.tails()

    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.idempotency_key, OutboxMessage.status,
               OutboxMessage.provider_message_id)
        .where(OutboxMessage.id.in_(ids))).all()
    db.session.rollback()
    effects = fake.effects()
    requests = fake.requests()
    expected_tokens = {f"{key}:sms" for key in due.values()}

    not_sent = [(key, status.value) for _, key, status, _ in rows if status is not MessageStatus.SENT]
    assert not not_sent, f"not sent: {not_sent[:10]}"
    assert set(effects) == expected_tokens, (
        f"lost: {sorted(expected_tokens - set(effects))[:10]}, "
        f"unexpected: {sorted(set(effects) - expected_tokens)[:10]}")
    assert len(effects) == len(due)  # each message took effect exactly once
    assert not fake.untokened(), "a message was sent without an idempotency key"
    wrong_sid = [key for _, key, _, sid in rows if sid != effects[f"{key}:sms"]["sid"]]
    assert not wrong_sid, f"provider_message_id differs from the fake's sid: {wrong_sid[:10]}"

    # The crash really opened the window: the in-flight message was accepted, its sender
    # died, and another worker sent it again with the same key.
    token = killed_request[0].token
    repeats = [r for r in requests if r.token == token]
    assert len(repeats) >= 2 and repeats[0].caller == "token-A", repeats
    assert all(r.repeated and r.caller != "token-A" for r in repeats[1:]), repeats
    assert len(requests) >= len(effects) + 1
    by_caller = Counter(r.caller.removeprefix("token-") for r in requests)
    unexpected = sum(workers.log(n).count("failed unexpectedly") for n in workers.procs)
    print(f"\n{len(due)} messages, {len(requests)} requests for {len(effects)} effects: "
          f"{len(requests) - len(effects)} repeated after the crash "
          f"({sum(1 for r in requests if r.repeated)} answered from the idempotency key); "
          f"requests per worker {dict(sorted(by_caller.items()))}; "
          f"unexpected errors logged {unexpected}; {db.engine.dialect.name}; {delivered:.1f} s")
