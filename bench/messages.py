"""The staff inbox of conversations, and inbound SMS through the signed webhook.

Run by hand from the project root:

    .venv/bin/python bench/messages.py [--renders 20] [--warmup 3]
        [--scenarios 200:5000,2000:50000] [--sms 2000] [--database-url URL]

Inbox. For each scenario ("patients:messages") it builds a throwaway database
with bulk INSERTs: one clinic, its patients, a coordinator and a doctor, and
conversations of five messages each (patient and team in turn; one in five
still waiting for an answer, a third of those past the answer time; half
assigned to the coordinator). Through the Flask test client, with a real
server-side session, the coordinator renders ``GET /staff/messages/`` with
the default filter (unanswered), with ``show=all`` and ``show=overdue``, and
Today (the staff home) with its counts, ``--warmup`` times unmeasured and
``--renders`` times measured. Every SQL statement is counted with a
``before_cursor_execute`` listener: the count must be the same for every size.

SMS. ``--sms`` sentences from 500 patients, none a clear answer, are posted to
``/webhooks/sms/inbound`` with a valid Twilio signature, one at a time (the
webhook's limit of 600 a minute per sending address is off: the benchmark
comes from one address, the provider from many), and
then every one of them again (a provider retrying). It prints messages per
second for the first pass, and counts what was stored: each SMS once in
``inbound_sms`` and once as a message in the team's inbox (0 lost, 0
duplicated), the retries changing nothing.

The database is a fresh SQLite file per scenario, or, with ``--database-url``
(default: FOLGE_BENCH_DATABASE_URL), a throwaway PostgreSQL database that is
migrated, must hold no clinic, and is emptied after each scenario. It prints
figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import (  # noqa: E402  (after the path above)
    Renders,
    StatementCounter,
    bulk_insert,
    load_average,
    measure,
    shown_url,
    signed_in_client,
    version,
)

DEFAULT_SCENARIOS = "200:5000,2000:50000"
PER_CONVERSATION = 5
WAITING_SHARE = 0.2
OVERDUE_SHARE = 1 / 3
TOKEN = "bench-twilio-token"  # noqa: S105 (a throwaway signing key for the local webhook)
BASE = "https://folge.bench"
SENTENCES = ["Kan jeg flytte timen?", "Bussen gikk ikke i dag.", "Hvem er legen min nå?",
             "Jeg trenger en ny resept, kan noen ringe?", "Takk for sist, alt går bra.",
             "Kan vi snakke om hjemmebruk før ferien?"]


def make_app(url: str) -> Any:
    from cryptography.fernet import Fernet

    from server import create_app
    from server.config import Config

    app = create_app(Config(env="development", secret_key=secrets.token_urlsafe(32),
                            database_url=url, data_keys=(Fernet.generate_key().decode(),),
                            twilio_auth_token=TOKEN, public_base_url=BASE,
                            ratelimit_enabled=False))
    app.config["TESTING"] = True
    return app


@dataclass
class Seeded:
    clinic_id: int
    coordinator_id: int
    conversations: int
    waiting: int


def seed_people(patients: int) -> tuple[int, int, list[int], list[int]]:
    """A clinic, a coordinator, a doctor and ``patients`` patients with phones."""
    from server.extensions import db
    from server.models import Clinic, PatientProfile, Role, StaffMembership, StaffRole, User
    from server.models.base import utcnow

    now = utcnow()
    clinic = Clinic(name="Bench-klinikken", health_trust="Helse Bench HF",
                    address="Postboks 1, 0001 Benchby", phone="22 00 00 00",
                    timezone="Europe/Oslo", answers_within_days=2)
    coordinator = User(role=Role.STAFF, display_name="Koordinator Bench",
                       email="koordinator@bench.folge", language="nb")
    doctor = User(role=Role.STAFF, display_name="Doktor Bench", email="doktor@bench.folge",
                  language="nb")
    db.session.add_all([clinic, coordinator, doctor])
    db.session.flush()
    db.session.add_all([
        StaffMembership(user_id=coordinator.id, clinic_id=clinic.id, role=StaffRole.COORDINATOR),
        StaffMembership(user_id=doctor.id, clinic_id=clinic.id, role=StaffRole.DOCTOR)])
    user_ids = bulk_insert(User, [
        {"role": Role.PATIENT, "display_name": f"Pasient {n}", "phone": f"+479{n:07d}",
         "phone_verified_at": now, "language": "nb"} for n in range(patients)], User.id)
    patient_ids = bulk_insert(PatientProfile, [
        {"user_id": user_id, "clinic_id": clinic.id, "contact_channels": ["sms"],
         "postal_address": f"Gate {n}, 0001 Benchby"} for n, user_id in enumerate(user_ids)],
        PatientProfile.id)
    db.session.commit()
    return clinic.id, coordinator.id, user_ids, patient_ids


def seed_conversations(patients: int, messages: int, rng: random.Random) -> Seeded:
    clinic_id, coordinator_id, user_ids, patient_ids = seed_people(patients)
    count, waiting = seed_conversation_rows(patient_ids, user_ids, coordinator_id, messages, rng)
    return Seeded(clinic_id, coordinator_id, count, waiting)


def seed_conversation_rows(patient_ids: list[int], user_ids: list[int], staff_id: int,
                           messages: int, rng: random.Random) -> tuple[int, int]:
    """Conversations of five messages each between these patients and ``staff_id`` (one in
    five waiting for an answer, a third of those overdue, half assigned to ``staff_id``);
    how many conversations, and how many wait."""
    from server.extensions import db
    from server.messages.models import (
        Conversation,
        ConversationMessage,
        ConversationStatus,
        MessageVia,
        Topic,
    )
    from server.models.base import utcnow

    patients = len(patient_ids)
    now = utcnow()
    count = max(1, messages // PER_CONVERSATION)
    topics = [*Topic, None]
    rows, waiting = [], 0
    for n in range(count):
        started = now - timedelta(days=rng.uniform(0.1, 300))
        open_one = rng.random() < WAITING_SHARE
        since = None
        if open_one:
            waiting += 1
            since = now - timedelta(days=rng.uniform(4, 20) if rng.random() < OVERDUE_SHARE
                                    else rng.uniform(0, 0.9))
        rows.append({
            "patient_id": patient_ids[n % patients], "topic": rng.choice(topics),
            "status": ConversationStatus.OPEN if open_one or rng.random() < 0.3
            else ConversationStatus.CLOSED,
            "assigned_to_id": staff_id if rng.random() < 0.5 else None,
            "started_via": MessageVia.SMS if rng.random() < 0.3 else MessageVia.APP,
            "created_at": started, "last_message_at": since or started + timedelta(hours=8),
            "waiting_since": since})
    conversation_ids = bulk_insert(Conversation, rows, Conversation.id)
    message_rows = []
    for n, conversation_id in enumerate(conversation_ids):
        patient_user = user_ids[n % patients]
        started = rows[n]["created_at"]
        for k in range(PER_CONVERSATION):
            from_patient = k % 2 == 0 or (rows[n]["waiting_since"] and k == PER_CONVERSATION - 1)
            message_rows.append({
                "conversation_id": conversation_id,
                "author_id": patient_user if from_patient else staff_id,
                "from_patient": bool(from_patient), "via": MessageVia.APP,
                "body": rng.choice(SENTENCES), "created_at": started + timedelta(hours=2 * k),
                "read_at": started + timedelta(hours=2 * k + 1)})
    bulk_insert(ConversationMessage, message_rows)
    db.session.commit()
    return len(conversation_ids), waiting


@dataclass
class InboxOutcome:
    patients: int
    messages: int
    seeded: Seeded
    renders: list[Renders]


def run_inbox(url: str, patients: int, messages: int, args: argparse.Namespace) -> InboxOutcome:
    from sqlalchemy import event

    from server.extensions import db
    from server.models import User
    from server.services import sessions

    app = make_app(url)
    with app.app_context():
        engine = db.engine
        seeded = seed_conversations(patients, messages, random.Random(args.seed))
        coordinator = db.session.get(User, seeded.coordinator_id)
        assert coordinator is not None
        token = sessions.start(coordinator)
        db.session.remove()
    staff = signed_in_client(app, token)
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        renders = [measure(f"GET {path}", lambda path=path: staff.get(path), expect, counter,
                           args.warmup, args.renders)
                   for path, expect in (("/staff/messages/", "Pasient"),
                                        ("/staff/messages/?show=all", "Pasient"),
                                        ("/staff/messages/?show=overdue", "Pasient"),
                                        ("/staff/", 'class="counts"'))]
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        engine.dispose()
    return InboxOutcome(patients, messages, seeded, renders)


@dataclass
class SmsOutcome:
    sent: int
    seconds: float
    inbound: int
    in_inbox: int
    retry_seconds: float


def run_sms(url: str, count: int) -> SmsOutcome:
    from sqlalchemy import func, select
    from twilio.request_validator import RequestValidator

    from server.extensions import db
    from server.messages.models import ConversationMessage
    from server.models import InboundSms

    app = make_app(url)
    with app.app_context():
        _clinic, _coordinator, _users, _patients = seed_people(500)
        db.session.remove()
    validator = RequestValidator(TOKEN)
    client = app.test_client()
    requests = []
    for n in range(count):
        params = {"MessageSid": f"SM{n:032x}", "From": f"+479{n % 500:07d}",
                  "Body": f"{SENTENCES[n % len(SENTENCES)]} ({n})"}
        requests.append((params, validator.compute_signature(f"{BASE}/webhooks/sms/inbound",
                                                             params)))

    def post_all() -> float:
        began = time.perf_counter()
        for params, signature in requests:
            response = client.post("/webhooks/sms/inbound", data=params,
                                   headers={"X-Twilio-Signature": signature})
            if response.status_code != 200:
                raise SystemExit(f"webhook answered {response.status_code}")
        return time.perf_counter() - began

    seconds = post_all()
    retry_seconds = post_all()  # the provider delivers every one again
    with app.app_context():
        inbound = db.session.scalar(select(func.count()).select_from(InboundSms)) or 0
        in_inbox = db.session.scalar(select(func.count(ConversationMessage.id)).where(
            ConversationMessage.inbound_sms_id.is_not(None))) or 0
        db.session.remove()
        db.engine.dispose()
    return SmsOutcome(count, seconds, inbound, in_inbox, retry_seconds)


def parse_scenarios(text: str) -> list[tuple[int, int]]:
    pairs = []
    for part in text.split(","):
        patients, _, messages = part.partition(":")
        pairs.append((int(patients), int(messages)))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--scenarios", type=parse_scenarios,
                        default=parse_scenarios(DEFAULT_SCENARIOS),
                        help=f"patients:messages,... (default {DEFAULT_SCENARIOS})")
    parser.add_argument("--sms", type=int, default=2000, help="inbound SMS to post (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("FOLGE_BENCH_DATABASE_URL", ""))
    args = parser.parse_args(argv)

    from server.cli import run_migrations
    from server.models.base import empty_all_tables

    print(f"Følge messages benchmark, {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
          f"Python {platform.python_version()}, Flask {version('flask')}, "
          f"SQLAlchemy {version('sqlalchemy')}; 1-minute load average before: {load_average()}")
    temp = Path(tempfile.mkdtemp(prefix="folge-bench-messages-"))
    template = temp / "template.sqlite3"
    if args.database_url:
        print(f"database: {shown_url(args.database_url)} (emptied after each run)", flush=True)
        run_migrations(args.database_url)
    else:
        print(f"database: a new SQLite file per run in {temp}", flush=True)
        run_migrations(f"sqlite:///{template}")

    def fresh(n: int) -> str:
        if args.database_url:
            return str(args.database_url)
        copy = temp / f"run-{n}.sqlite3"
        shutil.copyfile(template, copy)
        return f"sqlite:///{copy}"

    outcomes: list[InboxOutcome] = []
    try:
        for n, (patients, messages) in enumerate(args.scenarios):
            print(f"\ninbox: {patients:,} patients, {messages:,} messages ...", flush=True)
            try:
                outcome = run_inbox(fresh(n), patients, messages, args)
            finally:
                if args.database_url:
                    empty_all_tables(args.database_url)
            outcomes.append(outcome)
            print(f"  {outcome.seeded.conversations:,} conversations, "
                  f"{outcome.seeded.waiting:,} waiting")
            for r in outcome.renders:
                print(f"  {r.label:<34} median {r.median:7.1f} ms   p95 {r.p95:7.1f} ms   "
                      f"queries {r.query_text:>3}   page {r.size_kb:6.1f} KB")
                print("    queries: " + ", ".join(f"{kind} {k}" for kind, k in
                                                  sorted(r.kinds.items())))
        print(f"\ninbound SMS: {args.sms:,} through the signed webhook, then each again ...",
              flush=True)
        try:
            sms = run_sms(fresh(len(args.scenarios)), args.sms)
        finally:
            if args.database_url:
                empty_all_tables(args.database_url)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    lost = sms.sent - min(sms.inbound, sms.in_inbox)
    duplicated = max(sms.inbound, sms.in_inbox) - sms.sent
    print(f"  first pass: {sms.sent / sms.seconds:,.0f} messages/s ({sms.seconds:.1f} s); "
          f"the retries: {sms.sent / sms.retry_seconds:,.0f} requests/s")
    print(f"  stored: {sms.inbound:,} in inbound_sms, {sms.in_inbox:,} in the inbox; "
          f"lost {lost}, duplicated {duplicated}")
    print("\nside by side (queries per render; medians / p95 in ms):")
    print(f"{'patients':>9} {'messages':>9} | " + " | ".join(
        f"{r.label.removeprefix('GET '):>24}" for r in outcomes[0].renders))
    for o in outcomes:
        print(f"{o.patients:>9,} {o.messages:>9,} | " + " | ".join(
            f"{r.query_text:>3}q {r.median:6.1f} / {r.p95:6.1f}".rjust(24) for r in o.renders))
    print(f"1-minute load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
