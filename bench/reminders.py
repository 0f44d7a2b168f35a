"""Plan reminders for many appointments, then deliver them with two workers on PostgreSQL.

Run by hand from the project root:

    .venv/bin/python bench/reminders.py [--appointments 100000] [--patients 2000]
                                        [--database-url URL] [--chunk 2000] [--profile]

Without ``--database-url`` it starts a throwaway PostgreSQL cluster in a
temporary directory (like scripts/test.sh; as root through ``runuser -u
postgres``) and removes it afterwards. With ``--database-url`` the database
must be a throwaway one whose outbox is empty: it is migrated and filled.

1. Setup (not timed): migrations, clinics, patients with a verified mobile
   number and SMS as their channel, their reminder settings.
2. Planning (timed): ``server.services.appointments.create_many`` in chunks
   of ``--chunk`` appointments, one call and one commit per chunk, as a CSV
   import does. Every SQL statement sent during planning is counted with a
   ``before_cursor_execute`` listener (a multi-row INSERT page counts once).
3. The claim's plans: the first 100,000 messages (by id) are made due and the
   rest a day away, the table is vacuumed and analysed, and the worker's two claim
   statements (expired leases, pending work) are shown with ``EXPLAIN
   (ANALYZE, BUFFERS)`` in a transaction that is rolled back.
4. Delivery: every pending message is made due now, and two ``flask worker``
   processes (``--batch 200 --poll 0.2``) deliver them through the
   development SMS adapter, which stores each SMS in ``dev_sms`` in the same
   transaction as the "sent" mark, under a unique key. Each worker's VmRSS and
   VmHWM (``/proc/<pid>/status``) are sampled when the SENT count first reaches
   1,000, 10,000, 100,000 and at the end (300,000 by default).
5. Checks: duplicates (a key in dev_sms more than once, a message with more
   than one dev_sms row or more than one "sent" event) and lost messages (a
   due message not SENT, a SENT message without its dev_sms row).

It prints figures and asserts nothing. Targets: planning under 10 seconds,
delivery at least 1,000 messages a second, duplicates 0, lost 0, worker memory
flat after the first 1,000 messages.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import platform
import pstats
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import (  # noqa: E402  (after the path above)
    Cluster,
    StatementCounter,
    load_average,
    timed_calls,
)

WORKERS = 2
BATCH = 200
POLL = 0.2
LEASE = 120
CLINICS = 10
PROGRESS_EVERY = 10.0
#: SENT counts at which the workers' memory is sampled (and once more at the end).
RSS_AT = (1_000, 10_000, 100_000, 300_000)
#: The backlog at which the claim statements' plans are printed.
EXPLAIN_AT = 100_000
PLANNING_TARGET = 10.0


# -- setup -------------------------------------------------------------------------------


def quiet_hours_elsewhere() -> tuple[clock, clock]:
    """A one-hour quiet window half a day away, so that delivery never waits for morning."""
    start = (datetime.now(ZoneInfo("Europe/Oslo")) + timedelta(hours=12)).hour
    return clock(start, 0), clock((start + 1) % 24, 0)


def create_people(patients: int) -> list[int]:
    """Clinics, patients (SMS, verified numbers) and their settings; returns patient ids."""
    from sqlalchemy import insert

    from server.extensions import db
    from server.models import Clinic, PatientProfile, ReminderSettings, Role, User
    from server.models.base import utcnow

    clinic_ids = list(db.session.scalars(insert(Clinic).returning(
        Clinic.id, sort_by_parameter_order=True), [
        {"name": f"Bench-klinikk {n}", "health_trust": "Helse Bench HF",
         "address": f"Postboks {n}, 0001 Benchby", "phone": "22 00 00 00",
         "timezone": "Europe/Oslo", "offered_channels": ["push", "sms", "letter"],
         "show_staff_names": True} for n in range(CLINICS)]))
    now = utcnow()
    user_ids = list(db.session.scalars(insert(User).returning(
        User.id, sort_by_parameter_order=True), [
        {"role": Role.PATIENT, "display_name": f"Pasient {n}", "phone": f"+479{n:07d}",
         "phone_verified_at": now, "language": "nb"} for n in range(patients)]))
    patient_ids = list(db.session.scalars(insert(PatientProfile).returning(
        PatientProfile.id, sort_by_parameter_order=True), [
        {"user_id": user_id, "clinic_id": clinic_ids[n % CLINICS], "contact_channels": ["sms"],
         "postal_address": f"Gate {n}, 0001 Benchby"} for n, user_id in enumerate(user_ids)]))
    quiet_from, quiet_until = quiet_hours_elsewhere()
    db.session.execute(insert(ReminderSettings), [
        {"patient_id": pid, "evening_before_at": clock(18, 0), "hours_before": 2,
         "quiet_from": quiet_from, "quiet_until": quiet_until} for pid in patient_ids])
    db.session.commit()
    return patient_ids


# -- planning ----------------------------------------------------------------------------


class PhaseClock:
    """Adds up the time spent in the reminder planner itself, inside create_many.

    create_many records the appointments and plans their messages in one
    transaction; this separates the two by timing the two planner functions.
    """

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextlib.contextmanager
    def timing(self) -> Any:
        from server.services import appointments, outbox

        with timed_calls([(appointments, "planned_messages"), (outbox, "insert_planned")],
                         self._add):
            yield self

    def _add(self, seconds: float) -> None:
        self.seconds += seconds


def plan(patient_ids: list[int], count: int, chunk: int, preload_settings: bool = False) -> None:
    """Create ``count`` appointments through the service, ``chunk`` per call and commit.

    ``preload_settings`` (an experiment) loads the chunk's reminder settings with one
    query first, so that ``rule_for`` finds them in the session instead of asking
    the database (and autoflushing) once per patient.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from server.extensions import db
    from server.models import MeetingKind, PatientProfile, ReminderSettings, ServiceKind
    from server.models.base import utcnow
    from server.services import appointments

    base = utcnow().replace(second=0, microsecond=0) + timedelta(days=1, hours=2)
    spread = 60 * 24 * 60 // 5  # five-minute slots over sixty days
    for first in range(0, count, chunk):
        numbers = range(first, min(count, first + chunk))
        wanted = {patient_ids[n % len(patient_ids)] for n in numbers}
        # One query per chunk for the chunk's patients, as an import would look them up.
        patients = {p.id: p for p in db.session.scalars(
            select(PatientProfile).where(PatientProfile.id.in_(wanted))
            .options(selectinload(PatientProfile.clinic)))}
        # Kept referenced: the session's identity map holds objects only weakly.
        settings = list(db.session.scalars(select(ReminderSettings).where(
            ReminderSettings.patient_id.in_(wanted)))) if preload_settings else []
        items = [
            (patients[patient_ids[n % len(patient_ids)]], appointments.AppointmentInput(
                starts_at=base + timedelta(minutes=5 * ((n * 7919) % spread)),
                duration_minutes=30, service=ServiceKind.CLINIC, service_name="Poliklinikken",
                meeting=MeetingKind.IN_PERSON, place_name="Poliklinikken",
                address="Storgata 1, 0155 Oslo", meet_role="sykepleier",
                prepare="Ta med legitimasjon"))
            for n in numbers
        ]
        appointments.create_many(items, by=None)
        del items, patients, settings


# -- delivery ----------------------------------------------------------------------------


def worker_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLGE_")}
    env.update({"FOLGE_ENV": "development", "FOLGE_SECRET_KEY": secrets.token_urlsafe(32),
                "FOLGE_DATABASE_URL": url, "FOLGE_SMS_PROVIDER": "dev"})
    return env


def status_counts() -> Counter[str]:
    from sqlalchemy import func, select

    from server.extensions import db
    from server.models import OutboxMessage

    rows = db.session.execute(select(OutboxMessage.status, func.count())
                              .group_by(OutboxMessage.status)).all()
    db.session.rollback()
    return Counter({status.value: int(n) for status, n in rows})


def memory_of(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak resident) of a process, in kB."""
    found = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    return found


def sent_by_worker() -> dict[str, int]:
    """SENT messages per worker name (claimed_by is "<name>:<claim token>")."""
    from sqlalchemy import func, select

    from server.extensions import db
    from server.models import MessageStatus, OutboxMessage

    name = func.split_part(OutboxMessage.claimed_by, ":", 1)
    rows = db.session.execute(select(name, func.count()).where(
        OutboxMessage.status == MessageStatus.SENT).group_by(name)).all()
    db.session.rollback()
    return {worker: int(n) for worker, n in rows}


class MemorySamples:
    """The workers' memory when the SENT count first reaches each of RSS_AT (and at the
    end): flat figures after the first 1,000 mean that nothing accumulates per message."""

    def __init__(self, procs: list[subprocess.Popen[bytes]], total: int) -> None:
        self.procs = procs
        self.marks = [n for n in RSS_AT if n < total] + [total]
        self.rows: list[tuple[int, dict[str, int], list[dict[str, int]]]] = []

    def check(self, sent: int) -> None:
        if self.marks and sent >= self.marks[0]:
            while self.marks and sent >= self.marks[0]:
                self.marks.pop(0)
            self.rows.append((sent, sent_by_worker(), [memory_of(p.pid) for p in self.procs]))

    def report(self) -> None:
        print("worker memory (VmRSS now / VmHWM peak, MB, from /proc/<pid>/status), when the "
              "SENT count reached:")
        for sent, by_worker, memories in self.rows:
            print(f"  {sent:>9,} sent: " + "; ".join(
                f"bench-{n} ({by_worker.get(f'bench-{n}', 0):,} sent) "
                f"{m.get('VmRSS', 0) / 1024:.1f} / {m.get('VmHWM', 0) / 1024:.1f}"
                for n, m in enumerate(memories, start=1)))
        if len(self.rows) >= 2:
            first, last = self.rows[0][2], self.rows[-1][2]
            print("  growth from the first sample to the last (VmRSS): " + ", ".join(
                f"bench-{n} {(b.get('VmRSS', 0) - a.get('VmRSS', 0)) / 1024:+.1f} MB"
                for n, (a, b) in enumerate(zip(first, last, strict=True), start=1)))


def deliver(url: str, log_dir: Path, max_seconds: float, total: int
            ) -> tuple[float, bool, MemorySamples]:
    """Run the workers until nothing is pending or sending; returns (seconds, finished,
    the workers' memory samples)."""
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    started = time.monotonic()
    finished = False
    try:
        for n in range(1, WORKERS + 1):
            log = open(log_dir / f"worker-{n}.log", "wb")  # noqa: SIM115
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--batch", str(BATCH),
                 "--poll", str(POLL), "--lease", str(LEASE), "--name", f"bench-{n}"],
                cwd=PROJECT_ROOT, env=worker_env(url), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL))
        memory = MemorySamples(procs, total)
        last_report, last_sent = started, status_counts()["sent"]
        while time.monotonic() - started < max_seconds:
            time.sleep(1.0)
            counts = status_counts()
            memory.check(counts["sent"])
            if counts["pending"] + counts["sending"] == 0:
                finished = True
                break
            if any(p.poll() is not None for p in procs):
                print(f"  a worker stopped on its own: exit codes {[p.poll() for p in procs]}")
                break
            now = time.monotonic()
            if now - last_report >= PROGRESS_EVERY:
                rate = (counts["sent"] - last_sent) / (now - last_report)
                print(f"  {now - started:6.0f} s: sent {counts['sent']:,}, pending "
                      f"{counts['pending']:,}, sending {counts['sending']:,} "
                      f"({rate:,.0f}/s over the last {now - last_report:.0f} s)", flush=True)
                last_report, last_sent = now, counts["sent"]
        return time.monotonic() - started, finished, memory
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for log in logs:
            log.close()


def explain_claims(due: int, planned: int) -> None:
    """Print the plans of the worker's two claim statements, as a worker sends them, with
    ``EXPLAIN (ANALYZE, BUFFERS)`` in a transaction that is rolled back (ANALYZE runs the
    UPDATE). The table is vacuumed and analysed first, as autovacuum would have done by
    then: right after the bench's mass UPDATEs the first claim would step over the old row
    versions' index entries (some 80 ms once), which says nothing about the claim."""
    from sqlalchemy import text

    from server.extensions import db
    from server.models.base import utcnow
    from server.notify.worker import Worker

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) outbox_message"))
    worker = Worker(name="bench-explain", batch_size=BATCH, lease=timedelta(seconds=LEASE))
    print(f"\nthe claim statements' plans at {due:,} due messages ({planned - due:,} more "
          f"pending, not yet due), batch {BATCH}:")
    for name, statement in zip(("expired leases", "pending work"),
                               worker.claim_statements(utcnow(), "bench-explain:0", BATCH),
                               strict=True):
        sql = statement.compile(dialect=db.engine.dialect,
                                compile_kwargs={"literal_binds": True})
        plan = db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars().all()
        db.session.rollback()
        print(f"  {name}:")
        print("\n".join(f"    {line}" for line in plan))


CHECKS = {
    "dev_sms keys stored more than once":
        "SELECT count(*) FROM (SELECT idempotency_key FROM dev_sms GROUP BY 1 "
        "HAVING count(*) > 1) d",
    "messages with more than one dev_sms row":
        "SELECT count(*) FROM (SELECT o.id FROM outbox_message o JOIN dev_sms s "
        "ON s.idempotency_key = o.idempotency_key || :suffix GROUP BY o.id "
        "HAVING count(*) > 1) d",
    "messages with more than one 'sent' event":
        "SELECT count(*) FROM outbox_message WHERE (SELECT count(*) FROM "
        "json_array_elements(history) e WHERE e->>'event' = 'sent') > 1",
    "dev_sms rows without an outbox message":
        "SELECT count(*) FROM dev_sms s WHERE NOT EXISTS (SELECT 1 FROM outbox_message o "
        "WHERE s.idempotency_key = o.idempotency_key || :suffix)",
    "due messages not SENT":
        "SELECT count(*) FROM outbox_message WHERE id <= :last AND status <> 'sent'",
    "SENT messages without their dev_sms row":
        "SELECT count(*) FROM outbox_message o WHERE o.status = 'sent' AND NOT EXISTS "
        "(SELECT 1 FROM dev_sms s WHERE s.idempotency_key = o.idempotency_key || :suffix)",
    "SENT messages whose provider id is not their dev_sms row":
        "SELECT count(*) FROM outbox_message o JOIN dev_sms s "
        "ON s.idempotency_key = o.idempotency_key || :suffix "
        "WHERE o.provider_message_id <> 'dev-' || s.id",
}
DUPLICATE_CHECKS = tuple(CHECKS)[:4]
LOST_CHECKS = tuple(CHECKS)[4:6]


# -- the run -----------------------------------------------------------------------------


def run(url: str, args: argparse.Namespace, log_dir: Path) -> None:
    from sqlalchemy import case, event, func, select, text, update

    from server import create_app
    from server.cli import run_migrations
    from server.config import Config
    from server.extensions import db
    from server.models import MessageStatus, OutboxMessage
    from server.models.base import utcnow

    print("migrating ...", flush=True)
    run_migrations(url)
    from cryptography.fernet import Fernet

    app = create_app(Config(env="development", secret_key=secrets.token_urlsafe(32),
                            database_url=url, data_keys=(Fernet.generate_key().decode(),)))
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(OutboxMessage)):
            raise SystemExit("the outbox of that database is not empty; use a throwaway database")
        print(f"server: PostgreSQL {db.session.scalar(text('SHOW server_version'))}")
        print(f"setup (not timed): {CLINICS} clinics, {args.patients:,} patients with SMS ...",
              flush=True)
        began = time.perf_counter()
        patient_ids = create_people(args.patients)
        print(f"  setup took {time.perf_counter() - began:.1f} s")

        print(f"planning {args.appointments:,} appointments, {args.chunk:,} per create_many "
              "call" + (" (experiment: reminder settings preloaded per chunk)"
                        if args.preload_settings else "") + " ...", flush=True)
        counter = StatementCounter()
        profiler = cProfile.Profile() if args.profile else None
        event.listen(db.engine, "before_cursor_execute", counter)
        reminder_clock = PhaseClock()
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        with reminder_clock.timing():
            plan(patient_ids, args.appointments, args.chunk, args.preload_settings)
        if profiler:
            profiler.disable()
        total = time.perf_counter() - began
        planning = reminder_clock.seconds
        event.remove(db.engine, "before_cursor_execute", counter)

        by_purpose = dict(db.session.execute(
            select(OutboxMessage.purpose, func.count()).group_by(OutboxMessage.purpose)).all())
        planned = sum(by_purpose.values())
        print()
        print(f"planning time:            {planning:.2f} s  (target < {PLANNING_TARGET:g} s: "
              f"{'met' if planning < PLANNING_TARGET else 'NOT met'})")
        print("  = computing the reminders and writing them to the outbox"
              " (appointments.planned_messages + outbox.insert_planned)")
        print(f"recording + planning:     {total:.2f} s  (create_many end to end, including "
              f"inserting the {args.appointments:,} appointments themselves)")
        print(f"appointments per second:  {args.appointments / total:,.0f} end to end")
        print(f"messages planned:         {planned:,}  (" + ", ".join(
            f"{purpose.value} {n:,}" for purpose, n in sorted(by_purpose.items(),
                                                               key=lambda i: i[0].value)) + ")")
        print(f"queries during planning:  {counter.total:,}  = {counter.total / planned:.3f} per "
              f"planned message, {counter.total / args.appointments:.3f} per appointment")
        print("  by kind: " + ", ".join(f"{kind} {n:,}" for kind, n in counter.kinds.most_common(8)))
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
            print("\nprofile of the planning (cumulative):")
            print("\n".join(out.getvalue().splitlines()[:60]))

        if args.skip_delivery:
            return
        last = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        # First EXPLAIN_AT messages are due (the others wait a day; the notices were due
        # from the start) and the claims' plans printed, then all of them.
        pending = OutboxMessage.status == MessageStatus.PENDING
        cut = db.session.scalar(select(OutboxMessage.id).where(pending).order_by(
            OutboxMessage.id).offset(min(EXPLAIN_AT, planned) - 1).limit(1))
        now = utcnow()
        db.session.execute(
            update(OutboxMessage).where(pending)
            .values(due_at=case((OutboxMessage.id <= cut, now - timedelta(seconds=1)),
                                else_=now + timedelta(days=1)))
            .execution_options(synchronize_session=False))
        db.session.commit()
        explain_claims(min(EXPLAIN_AT, planned), planned)
        db.session.execute(
            update(OutboxMessage).where(pending, OutboxMessage.due_at > utcnow())
            .values(due_at=utcnow() - timedelta(seconds=1))
            .execution_options(synchronize_session=False))
        db.session.commit()
        made_due = db.session.scalar(select(func.count()).where(pending)) or 0
        print(f"\ndelivering {made_due:,} due messages with {WORKERS} workers (--batch {BATCH} "
              f"--poll {POLL}), development SMS adapter ...", flush=True)
        seconds, finished, memory = deliver(url, log_dir, args.max_minutes * 60, made_due)
        counts = status_counts()
        span = db.session.execute(select(func.min(OutboxMessage.sent_at),
                                         func.max(OutboxMessage.sent_at))).one()
        db.session.rollback()
        if not finished:
            print(f"  NOT finished after {seconds:.0f} s: {dict(counts)}")
        print()
        print(f"delivery time:            {seconds:.1f} s (from starting the workers until "
              "nothing was pending or sending)")
        print(f"delivery rate:            {counts['sent'] / seconds:,.0f} messages/s "
              f"({counts['sent']:,} sent)")
        if span[0] and span[1] and span[1] > span[0]:
            steady = (span[1] - span[0]).total_seconds()
            print(f"  between the first and last sent_at: {counts['sent'] / steady:,.0f} "
                  f"messages/s over {steady:.1f} s")
        print(f"statuses:                 {dict(sorted(counts.items()))}")
        memory.report()
        results = {}
        for name, sql in CHECKS.items():
            results[name] = int(db.session.scalar(text(sql), {"last": last, "suffix": ":sms"}) or 0)
        db.session.rollback()
        duplicates = sum(results[name] for name in DUPLICATE_CHECKS)
        lost = sum(results[name] for name in LOST_CHECKS)
        print(f"duplicates:               {duplicates}  (target 0)")
        for name in DUPLICATE_CHECKS:
            print(f"  {name}: {results[name]}")
        print(f"lost:                     {lost}  (target 0)")
        for name in LOST_CHECKS:
            print(f"  {name}: {results[name]}")
        name = tuple(CHECKS)[6]
        print(f"other: {name}: {results[name]}")
        unexpected = sum((log_dir / f"worker-{n}.log").read_text(errors="replace")
                         .count("failed unexpectedly") for n in range(1, WORKERS + 1))
        print(f"unexpected errors in the worker logs: {unexpected}")
        db.session.remove()
        db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appointments", type=int, default=100_000,
                        help="appointments to plan (default 100000)")
    parser.add_argument("--patients", type=int, default=2000, help="patients (default 2000)")
    parser.add_argument("--chunk", type=int, default=2000,
                        help="appointments per create_many call and commit (default 2000)")
    parser.add_argument("--database-url", default="",
                        help="a throwaway PostgreSQL database (postgresql+psycopg://...) with an "
                             "empty outbox; default: a temporary cluster")
    parser.add_argument("--durable", action="store_true",
                        help="start the temporary cluster with fsync and synchronous_commit on "
                             "(default off, as scripts/test.sh)")
    parser.add_argument("--max-minutes", type=float, default=15.0,
                        help="give up delivering after this long (default 15)")
    parser.add_argument("--profile", action="store_true",
                        help="profile the planning with cProfile and print the top functions")
    parser.add_argument("--skip-delivery", action="store_true", help="plan only")
    parser.add_argument("--preload-settings", action="store_true",
                        help="experiment: load each chunk's reminder settings with one query "
                             "before create_many (what a prefetch inside create_many would save)")
    args = parser.parse_args(argv)
    if args.appointments < 1 or args.patients < 1 or args.chunk < 1:
        parser.error("--appointments, --patients and --chunk must be positive")
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (the workers rely on SKIP LOCKED)")

    print(f"Følge reminder planning and delivery benchmark, "
          f"{datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
          f"Python {platform.python_version()}; 1-minute load average before: {load_average()}")
    cluster: Cluster | None = None
    log_dir = Path(tempfile.mkdtemp(prefix="folge-bench-reminders-"))
    try:
        if args.database_url:
            url = args.database_url
            print("database: the given URL")
        else:
            print("database: a temporary PostgreSQL cluster (unix socket; "
                  f"{'durable' if args.durable else 'fsync=off, synchronous_commit=off'})",
                  flush=True)
            cluster = Cluster(durable=args.durable)
            url = cluster.url
        run(url, args, log_dir)
        print(f"1-minute load average after: {load_average()}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
