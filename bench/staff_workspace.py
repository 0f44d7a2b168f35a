"""The staff workspace at clinic size: Today, the worklist and the patient search.

Run by hand from the project root:

    .venv/bin/python bench/staff_workspace.py [--renders 20] [--warmup 3]
        [--scenarios 200:4000:2000:1000,2000:40000:20000:10000] [--database-url URL]

For each scenario ("patients:appointments:work items:messages") it builds a throwaway
database with bulk INSERTs: one clinic, a doctor and a coordinator, the patients (each with a
date of birth; the doctor in the care team of one in ten), appointments spread evenly over
300 days back and 100 ahead (so a clinic day holds about a quarter of a percent of them), work
items of every kind (a third still open, a third of the open ones taken by the doctor), and
conversations of five messages. Through the Flask test client, with a real server-side
session, the doctor renders Today (the whole clinic, and "my patients"), the worklist
(unfiltered, filtered to "mine" and one kind, sorted by due date, grouped by patient), the
patient search (by name and by date of birth) and one patient overview, ``--warmup`` times
unmeasured and ``--renders`` times measured, after ``gc.freeze()`` as in wsgi.py (leave
it out with ``--no-freeze``). Every SQL statement is counted with a
``before_cursor_execute`` listener: the count must not grow with the clinic.

The database is a fresh SQLite file per scenario, or, with ``--database-url`` (default:
FOLGE_BENCH_DATABASE_URL), a throwaway PostgreSQL database that is migrated, must hold no
clinic, and is emptied after each scenario. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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
from bench.messages import make_app, seed_conversation_rows  # noqa: E402

DEFAULT_SCENARIOS = "200:4000:2000:1000,2000:40000:20000:10000"
MINE_SHARE = 0.1
OPEN_SHARE = 1 / 3


@dataclass(frozen=True)
class Scenario:
    patients: int
    appointments: int
    items: int
    messages: int


@dataclass
class Seeded:
    doctor_id: int
    patient_id: int
    birth: date
    today_rows: int
    open_items: int


def seed(s: Scenario, rng: random.Random) -> Seeded:
    from server.care_team.models import TeamMember, TeamService
    from server.extensions import db
    from server.models import (
        Appointment,
        AppointmentStatus,
        Attendance,
        Clinic,
        MeetingKind,
        PatientAnswer,
        PatientProfile,
        Role,
        ServiceKind,
        StaffMembership,
        StaffRole,
        User,
        WorkItem,
        WorkKind,
        WorkStatus,
    )
    from server.models.base import utcnow
    from server.services.local_time import oslo_today, to_utc

    now = utcnow()
    clinic = Clinic(name="Bench-klinikken", health_trust="Helse Bench HF",
                    address="Postboks 1, 0001 Benchby", phone="22 00 00 00",
                    timezone="Europe/Oslo", answers_within_days=2)
    doctor = User(role=Role.STAFF, display_name="Doktor Bench", email="doktor@bench.folge",
                  language="nb")
    coordinator = User(role=Role.STAFF, display_name="Koordinator Bench",
                       email="koordinator@bench.folge", language="nb")
    db.session.add_all([clinic, doctor, coordinator])
    db.session.flush()
    db.session.add_all([
        StaffMembership(user_id=doctor.id, clinic_id=clinic.id, role=StaffRole.DOCTOR),
        StaffMembership(user_id=coordinator.id, clinic_id=clinic.id,
                        role=StaffRole.COORDINATOR)])
    births = [date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
              for _ in range(s.patients)]
    user_ids = bulk_insert(User, [
        {"role": Role.PATIENT, "display_name": f"Pasient {n}", "phone": f"+479{n:07d}",
         "phone_verified_at": now, "language": "nb"} for n in range(s.patients)], User.id)
    patient_ids = bulk_insert(PatientProfile, [
        {"user_id": user_id, "clinic_id": clinic.id, "contact_channels": ["sms"],
         "postal_address": f"Gate {n}, 0001 Benchby", "date_of_birth": births[n]}
        for n, user_id in enumerate(user_ids)], PatientProfile.id)
    bulk_insert(TeamMember, [
        {"patient_id": pid, "clinic_id": clinic.id, "service": TeamService.CLINIC,
         "staff_user_id": doctor.id, "role_text": "lege", "added_at": now}
        for n, pid in enumerate(patient_ids) if n % round(1 / MINE_SHARE) == 0])
    first = to_utc(oslo_today() - timedelta(days=300), datetime.min.time())
    span = timedelta(days=400).total_seconds()
    rows = []
    for n in range(s.appointments):
        starts = first + timedelta(seconds=rng.uniform(0, span))
        past = starts < now
        rows.append({
            "patient_id": patient_ids[n % s.patients], "clinic_id": clinic.id,
            "service": ServiceKind.CLINIC, "service_name": "Poliklinikken",
            "starts_at": starts, "duration_minutes": 30, "meeting": MeetingKind.IN_PERSON,
            "place_name": "Poliklinikken", "address": "Storgata 10", "meet_role": "lege",
            "status": AppointmentStatus.SCHEDULED,
            "attendance": (Attendance.ATTENDED if rng.random() < 0.85 else Attendance.MISSED)
            if past and starts < now - timedelta(days=1) else Attendance.UNKNOWN,
            "answer": rng.choice(list(PatientAnswer)), "created_at": now - timedelta(days=400),
            "updated_at": now, "plan_version": 1})
    appointment_ids = bulk_insert(Appointment, rows, Appointment.id)
    today = oslo_today()
    start_today = to_utc(today, datetime.min.time())
    end_tomorrow = to_utc(today + timedelta(days=2), datetime.min.time())
    today_rows = sum(start_today <= r["starts_at"] < end_tomorrow for r in rows)
    kinds = list(WorkKind)
    item_rows, open_items = [], 0
    for n in range(s.items):
        kind = kinds[n % len(kinds)]
        created = now - timedelta(days=rng.uniform(0, 120))
        is_open = rng.random() < OPEN_SHARE
        open_items += is_open
        with_appointment = kind in (WorkKind.OUTREACH, WorkKind.ANSWER)
        item_rows.append({
            "clinic_id": clinic.id, "patient_id": patient_ids[rng.randrange(s.patients)],
            "appointment_id": appointment_ids[rng.randrange(s.appointments)]
            if with_appointment else None,
            "kind": kind, "status": WorkStatus.OPEN if is_open else WorkStatus.DONE,
            "details": {"answer": "cannot_come", "methods": ["call", "sms"]}
            if with_appointment else {},
            "created_at": created, "due_at": created + timedelta(days=rng.choice((1, 2, 7))),
            "done_at": None if is_open else created + timedelta(days=1),
            "done_by_id": None if is_open else coordinator.id, "done_note": "",
            "assigned_to_id": doctor.id if is_open and rng.random() < 1 / 3 else None})
    bulk_insert(WorkItem, item_rows)
    seed_conversation_rows(patient_ids, user_ids, coordinator.id, s.messages, rng)
    db.session.commit()
    return Seeded(doctor.id, patient_ids[0], births[s.patients // 2], today_rows, open_items)


@dataclass
class Outcome:
    scenario: Scenario
    seeded: Seeded
    renders: list[Renders]


def run(url: str, s: Scenario, args: argparse.Namespace) -> Outcome:
    from sqlalchemy import event

    from server.extensions import db
    from server.models import User
    from server.services import sessions

    app = make_app(url)
    with app.app_context():
        engine = db.engine
        seeded = seed(s, random.Random(args.seed))
        doctor = db.session.get(User, seeded.doctor_id)
        assert doctor is not None
        token = sessions.start(doctor)
        db.session.remove()
    if not args.no_freeze:  # as wsgi.py does once the app has started
        gc.collect()
        gc.freeze()
    staff = signed_in_client(app, token)
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    birth = seeded.birth.strftime("%d.%m.%Y")
    pages = (
        ("Today (all)", "/staff/?who=all", "today-table"),
        ("Today (mine)", "/staff/?who=mine", 'class="counts"'),
        ("worklist", "/staff/worklist", "work-table"),
        ("worklist mine+kind", "/staff/worklist?assignee=me&kind=outreach", "work-table"),
        ("worklist by due", "/staff/worklist?sort=due", "work-table"),
        ("worklist grouped", "/staff/worklist?group=patient", "work-group"),
        ("search by name", "/staff/patients?q=Pasient%2012", "patient-list"),
        ("search by birth", f"/staff/patients?q={birth}", "patient-list"),
        ("patient overview", f"/staff/patients/{seeded.patient_id}", "s-identity"),
    )
    try:
        renders = [measure(label, lambda path=path: staff.get(path), expect, counter,
                           args.warmup, args.renders) for label, path, expect in pages]
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        engine.dispose()
        gc.unfreeze()
    return Outcome(s, seeded, renders)


def parse_scenarios(text: str) -> list[Scenario]:
    return [Scenario(*(int(x) for x in part.split(":"))) for part in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--scenarios", type=parse_scenarios,
                        default=parse_scenarios(DEFAULT_SCENARIOS),
                        help=f"patients:appointments:items:messages,... "
                             f"(default {DEFAULT_SCENARIOS})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave out gc.freeze() after the start (wsgi.py freezes)")
    parser.add_argument("--database-url", default=os.environ.get("FOLGE_BENCH_DATABASE_URL", ""))
    args = parser.parse_args(argv)

    from server.cli import run_migrations
    from server.models.base import empty_all_tables

    print(f"Følge staff workspace benchmark, {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}")
    print("gc.freeze() after the start: " + ("no" if args.no_freeze else "yes, as wsgi.py"))
    print(f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
          f"Python {platform.python_version()}, Flask {version('flask')}, "
          f"SQLAlchemy {version('sqlalchemy')}; 1-minute load average before: {load_average()}")
    temp = Path(tempfile.mkdtemp(prefix="folge-bench-staff-"))
    template = temp / "template.sqlite3"
    if args.database_url:
        print(f"database: {shown_url(args.database_url)} (emptied after each run)", flush=True)
        run_migrations(args.database_url)
    else:
        print(f"database: a new SQLite file per run in {temp}", flush=True)
        run_migrations(f"sqlite:///{template}")
    outcomes: list[Outcome] = []
    try:
        for n, s in enumerate(args.scenarios):
            url = str(args.database_url)
            if not args.database_url:
                copy = temp / f"run-{n}.sqlite3"
                shutil.copyfile(template, copy)
                url = f"sqlite:///{copy}"
            print(f"\n{s.patients:,} patients, {s.appointments:,} appointments, "
                  f"{s.items:,} work items, {s.messages:,} messages ...", flush=True)
            try:
                outcome = run(url, s, args)
            finally:
                if args.database_url:
                    empty_all_tables(args.database_url)
            outcomes.append(outcome)
            print(f"  {outcome.seeded.today_rows:,} appointments today and tomorrow, "
                  f"{outcome.seeded.open_items:,} open work items")
            for r in outcome.renders:
                print(f"  {r.label:<20} median {r.median:7.1f} ms   p95 {r.p95:7.1f} ms   "
                      f"queries {r.query_text:>3}   page {r.size_kb:6.1f} KB")
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    print("\nside by side (queries per render; median / p95 in ms):")
    print(f"{'patients':>9} | " + " | ".join(f"{r.label:>20}" for r in outcomes[0].renders))
    for o in outcomes:
        print(f"{o.scenario.patients:>9,} | " + " | ".join(
            f"{r.query_text:>3}q {r.median:5.1f}/{r.p95:5.1f}".rjust(20) for r in o.renders))
    print(f"1-minute load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
