"""Time and SQL statements of moving one patient to another clinic, by the size of the
patient's history.

Run by hand from the project root:

    .venv/bin/python bench/transfer.py [--runs 5] [--sizes 200:50:100:3,20:5:10:1,2000:500:1000:3]
        [--database-url URL]

Each size is "appointments:take-home requests:feedback answers:relatives". For each
size and run it builds, in a throwaway database, two clinics with a doctor and a
coordinator each, one patient at the first clinic with that history (written with
bulk INSERTs: past appointments, decided and undecided take-home requests, named
feedback answers, open work items, relatives with active accesses), a care team
(the sending doctor and coordinator, a GP from the directory, three areas filled)
and a proposed move. It then times ``server.care_team.transfers.accept`` (the one
transaction that moves everything) and counts every SQL statement sent during it
with a ``before_cursor_execute`` listener. It prints the median and the slowest
run in ms and the statements per move, then the sizes side by side. The target:
under 1 s for 200:50:100:3, and a number of statements that does not grow with
the history. It prints figures and asserts nothing.

The database is a fresh SQLite file per run in a temporary directory (migrated once
and copied), or, with ``--database-url`` (default: FOLGE_BENCH_DATABASE_URL), a
throwaway PostgreSQL database: it is migrated and every table is emptied
(TRUNCATE) before each run.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shutil
import statistics
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


@dataclass(frozen=True)
class Size:
    appointments: int
    requests: int
    answers: int
    relatives: int

    def __str__(self) -> str:
        return f"{self.appointments}:{self.requests}:{self.answers}:{self.relatives}"


@dataclass
class Outcome:
    size: Size
    times_ms: list[float]
    statements: list[int]


def parse_sizes(text: str) -> list[Size]:
    sizes = []
    for part in text.split(","):
        values = part.strip().split(":")
        if len(values) != 4 or not all(v.isdigit() for v in values):
            raise argparse.ArgumentTypeError(f"not a:r:f:rel: {part!r}")
        sizes.append(Size(*map(int, values)))
    return sizes


def seed(size: Size) -> tuple[Any, Any, Any]:
    """The two clinics, their staff, the patient with ``size`` history, team and proposal.
    Returns (transfer, receiving doctor, receiving coordinator)."""
    from sqlalchemy import insert

    from server.care_team import team, transfers
    from server.care_team.models import ExternalContact, TeamService
    from server.extensions import db
    from server.models import (
        Appointment,
        Attendance,
        Clinic,
        ConsentMethod,
        FeedbackResponse,
        FeedbackVia,
        MeetingKind,
        PatientProfile,
        PeriodReason,
        PickupPlace,
        RelativeAccess,
        RequestKind,
        RequestStatus,
        Role,
        ServiceKind,
        StaffMembership,
        StaffRole,
        TakeHomeRequest,
        User,
        WorkItem,
        WorkKind,
    )
    from server.services.local_time import oslo_today

    now = datetime.now(UTC)
    clinics = [Clinic(name=f"Bench {n}", health_trust="Helse Bench HF", address="Postboks 1",
                      phone="22000000") for n in (1, 2)]
    db.session.add_all(clinics)
    db.session.flush()
    staff = {}
    for clinic in clinics:
        for role in (StaffRole.DOCTOR, StaffRole.COORDINATOR):
            user = User(role=Role.STAFF, display_name=f"{role.value} {clinic.id}",
                        email=f"{role.value}{clinic.id}@bench.folge")
            db.session.add(user)
            db.session.flush()
            db.session.add(StaffMembership(user_id=user.id, clinic_id=clinic.id, role=role))
            staff[(clinic.id, role)] = user
    user = User(role=Role.PATIENT, display_name="Bench Pasient", phone="+4791000000")
    patient = PatientProfile(user=user, clinic=clinics[0], contact_channels=["sms"],
                             postal_address="Gate 1")
    db.session.add_all([user, patient])
    db.session.flush()
    db.session.execute(insert(Appointment), [{
        "patient_id": patient.id, "clinic_id": clinics[0].id,
        "starts_at": (now - timedelta(days=n + 1)),
        "duration_minutes": 30, "service": ServiceKind.CLINIC, "service_name": "Bench",
        "meeting": MeetingKind.IN_PERSON, "attendance": Attendance.ATTENDED,
        "created_at": (now - timedelta(days=n + 2)),
    } for n in range(size.appointments)])
    today = oslo_today()
    db.session.execute(insert(TakeHomeRequest), [{
        "patient_id": patient.id, "clinic_id": clinics[0].id, "kind": RequestKind.PERIOD,
        "client_key": secrets.token_hex(8), "first_day": today + timedelta(days=10 * n),
        "last_day": today + timedelta(days=10 * n + 2), "reason": PeriodReason.TRAVEL,
        "place": PickupPlace.PHARMACY,
        "status": RequestStatus.SUBMITTED if n % 5 == 0 else RequestStatus.APPROVED,
        "decision_reason": "" if n % 5 == 0 else "Stabil.",
        "created_at": (now - timedelta(days=n)),
    } for n in range(size.requests)])
    if size.answers:
        db.session.execute(insert(FeedbackResponse), [{
            "patient_id": patient.id, "clinic_id": clinics[0].id,
            "instrument_key": "how_are_things", "instrument_version": 1,
            "scores": {"overall": 7}, "total": None, "comment": "", "via": FeedbackVia.APP,
            "week": "{}-W{:02d}".format(*(now - timedelta(days=n)).isocalendar()[:2]),
            "created_at": (now - timedelta(days=n)),
        } for n in range(size.answers)])
    db.session.execute(insert(WorkItem), [{
        "clinic_id": clinics[0].id, "patient_id": patient.id, "kind": WorkKind.ANSWER,
        "details": {}, "created_at": now} for _ in range(5)])
    for n in range(size.relatives):
        relative = User(role=Role.RELATIVE, display_name=f"Pårørende {n}",
                        phone=f"+474{n:07d}")
        db.session.add(relative)
        db.session.flush()
        db.session.add(RelativeAccess(patient_id=patient.id, relative_user_id=relative.id,
                                      name=relative.display_name, relationship_text="søster",
                                      scopes=["appointments"]))
    db.session.commit()
    doctor = staff[(clinics[0].id, StaffRole.DOCTOR)]
    coordinator = staff[(clinics[0].id, StaffRole.COORDINATOR)]
    gp_contact = ExternalContact(clinic_id=clinics[0].id, service=TeamService.GP,
                                 organisation="Legekontoret", phone="+4722112233")
    db.session.add(gp_contact)
    db.session.commit()
    members = [team.add_staff_member(patient, doctor, "", doctor),
               team.add_staff_member(patient, coordinator, "", doctor),
               team.add_external_member(patient, gp_contact, "", doctor)]
    for area_key, member in (("medication", members[0]), ("coordinator", members[1]),
                             ("somatic", members[2])):
        team.fill_gap(patient, area_key, member, doctor)
    moving = transfers.propose(patient, transfers.ProposalInput(
        clinics[1].id, today + timedelta(days=7), ConsentMethod.IN_PERSON, today), doctor)
    return (moving, staff[(clinics[1].id, StaffRole.DOCTOR)],
            staff[(clinics[1].id, StaffRole.COORDINATOR)])


def one_run(url: str, size: Size) -> tuple[float, int]:
    from sqlalchemy import event

    from server import create_app
    from server.care_team import transfers
    from server.config import Config
    from server.extensions import db

    key = "bR4mF3yQe6Jm9xVh2o7Cw1sK5nZ8tL0aP3dG6uE9iYc="
    app = create_app(Config(env="testing", secret_key=secrets.token_urlsafe(32),
                            database_url=url, data_keys=(key,)))
    with app.app_context():
        moving, doctor, coordinator = seed(size)
        engine = db.engine
        count = 0

        def counter(*_args: Any) -> None:
            nonlocal count
            count += 1

        event.listen(engine, "before_cursor_execute", counter)
        began = time.perf_counter()
        transfers.accept(moving, doctor, doctor.id, coordinator.id)
        elapsed = (time.perf_counter() - began) * 1000
        event.remove(engine, "before_cursor_execute", counter)
        db.session.remove()
        engine.dispose()
    return elapsed, count


def fresh_database(base: str | None, template: Path | None, workdir: Path, n: int) -> str:
    from server.models.base import empty_all_tables

    if base:
        empty_all_tables(base)
        return base
    assert template is not None
    copy = workdir / f"run-{n}.sqlite3"
    shutil.copyfile(template, copy)
    return f"sqlite:///{copy}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="moves per size (default 5)")
    parser.add_argument("--sizes", type=parse_sizes,
                        default=parse_sizes("200:50:100:3,20:5:10:1,2000:500:1000:3"),
                        help="appointments:requests:answers:relatives, comma-separated")
    parser.add_argument("--database-url", default=os.environ.get("FOLGE_BENCH_DATABASE_URL", ""),
                        help="a throwaway PostgreSQL database (default: SQLite files)")
    args = parser.parse_args(argv)

    from server.cli import run_migrations

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        template = None
        if args.database_url:
            run_migrations(args.database_url)
            where = "PostgreSQL"
        else:
            template = workdir / "template.sqlite3"
            run_migrations(f"sqlite:///{template}")
            where = "SQLite"
        print(f"database: {where}; Python {platform.python_version()}; {os.cpu_count()} cores")
        outcomes = []
        n = 0
        for size in args.sizes:
            times, statements = [], []
            for _ in range(args.runs):
                n += 1
                url = fresh_database(args.database_url or None, template, workdir, n)
                elapsed, count = one_run(url, size)
                times.append(elapsed)
                statements.append(count)
            outcomes.append(Outcome(size, times, statements))
            print(f"{size}: median {statistics.median(times):.1f} ms, slowest "
                  f"{max(times):.1f} ms, statements {sorted(set(statements))}")
        print()
        print(f"{'history (a:r:f:rel)':<22}{'median ms':>11}{'slowest ms':>12}{'statements':>12}")
        for o in outcomes:
            print(f"{str(o.size):<22}{statistics.median(o.times_ms):>11.1f}"
                  f"{max(o.times_ms):>12.1f}{max(o.statements):>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
