"""Record 100,000 appointments through the CSV import, with their reminders, on PostgreSQL.

Run by hand from the project root:

    .venv/bin/python bench/import_appointments.py [--appointments 100000] [--patients 2000]
                                                  [--phase one-file|files|both]
                                                  [--database-url URL] [--durable] [--profile]

Without ``--database-url`` it starts a throwaway PostgreSQL cluster in a temporary
directory (``bench.common.Cluster``; as root through ``runuser -u postgres``) and
removes it afterwards. With ``--database-url`` the database must be a throwaway one:
it is migrated and filled, and its appointments and outbox are emptied between phases.

The import staff use (``server.services.csv_import.import_csv``, called by the view
``staff_appointments.import_csv``) takes at most ``MAX_ROWS`` (5,000) lines and
``MAX_BYTES`` (2 MB) per file, and imports each file in one transaction. So there are
two phases:

* ``one-file``: one file of ``--appointments`` lines through ``import_csv`` with those
  two limits lifted for the run, i.e. the whole number in one transaction, as one
  import does. This is the figure the target (under 10 s on PostgreSQL) is about.
* ``files``: the same lines in files of 5,000, each through ``import_csv`` as it is
  (one transaction per file), as a clinic would have to upload them today.

Setup (not timed): one clinic, its patients (channels SMS; push and SMS; SMS and
letter; letter only) with saved reminder settings for half of them, and a
coordinator who imports. Timed: ``import_csv`` from the bytes of the file to the
commit, parsing and checking every line included. Every SQL statement sent is
counted with a ``before_cursor_execute`` listener (one executemany, or one page of
a multi-row INSERT, counts once; COPY counts once). It prints figures and asserts
nothing.
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
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import (  # noqa: E402
    Cluster,
    StatementCounter,
    load_average,
    timed_calls,
    version,
)

TARGET = 10.0
HEADER = ("patient,date,time,duration,service,service_name,meeting,place_name,address,"
          "meet_role,meet_name,prepare,cancel_by\n")
#: Patients' channels, in turn: reminders by SMS or push, or (letter only) only a notice.
CHANNELS = (["sms"], ["push", "sms"], ["sms", "letter"], ["letter"])
SERVICES = (("clinic", "Poliklinikken"), ("gp", "Legekontoret på Torget"),
            ("municipality", "NAV Sentrum"), ("psychiatry", "DPS Vest"))


# -- setup -------------------------------------------------------------------------------


def create_people(patients: int) -> tuple[int, int, list[int]]:
    """One clinic, its patients and a coordinator; returns (clinic id, user id, patient ids)."""
    from sqlalchemy import insert

    from server.extensions import db
    from server.models import Clinic, PatientProfile, ReminderSettings, Role, User
    from server.models.base import utcnow

    clinic_id = db.session.scalar(insert(Clinic).returning(Clinic.id), {
        "name": "Bench-klinikken", "health_trust": "Helse Bench HF",
        "address": "Postboks 1, 0001 Benchby", "phone": "22 00 00 00",
        "timezone": "Europe/Oslo", "offered_channels": ["push", "sms", "letter"],
        "show_staff_names": True})
    staff_id = db.session.scalar(insert(User).returning(User.id), {
        "role": Role.STAFF, "display_name": "Koordinator Bench", "language": "nb"})
    now = utcnow()
    user_ids = list(db.session.scalars(insert(User).returning(
        User.id, sort_by_parameter_order=True), [
        {"role": Role.PATIENT, "display_name": f"Pasient {n}", "phone": f"+479{n:07d}",
         "phone_verified_at": now, "language": "nb"} for n in range(patients)]))
    patient_ids = list(db.session.scalars(insert(PatientProfile).returning(
        PatientProfile.id, sort_by_parameter_order=True), [
        {"user_id": user_id, "clinic_id": clinic_id, "contact_channels": CHANNELS[n % 4],
         "postal_address": f"Gate {n}, 0001 Benchby"} for n, user_id in enumerate(user_ids)]))
    # Half keep the defaults; the others the evening before at 19:00, 3 hours before, quiet
    # 23-07, or the evening reminder only.
    db.session.execute(insert(ReminderSettings), [
        {"patient_id": pid, "evening_before_at": clock(19, 0),
         "hours_before": 3 if n % 4 == 1 else None, "quiet_from": clock(23, 0),
         "quiet_until": clock(7, 0)} for n, pid in enumerate(patient_ids) if n % 2])
    db.session.commit()
    return clinic_id, staff_id, patient_ids


def csv_lines(patient_ids: list[int], count: int) -> list[str]:
    """``count`` lines, days 2 to 60 ahead between 08:00 and 16:55 local time (no line falls
    in a change of the clocks), every column used on some lines."""
    today = datetime.now(ZoneInfo("Europe/Oslo")).date()
    lines = []
    for n in range(count):
        day = today + timedelta(days=2 + (n * 7919) % 58)
        minutes = 8 * 60 + 5 * ((n * 31) % 108)
        service, name = SERVICES[n % len(SERVICES)]
        meeting = ("in_person", "phone", "video")[n % 3]
        cancel_by = (f"{day - timedelta(days=1)} 12:00" if n % 5 == 0 else "")
        lines.append(
            f"{patient_ids[n % len(patient_ids)]},{day.isoformat()},"
            f"{minutes // 60:02d}:{minutes % 60:02d},{(30, 45, 60)[n % 3]},{service},{name},"
            f"{meeting},{'Poliklinikken' if meeting == 'in_person' else ''},"
            f"\"Storgata {1 + n % 90}, 0155 Oslo\",sykepleier,{'Nina' if n % 2 else ''},"
            f"{'Ta med bankkortet ditt' if n % 7 == 0 else ''},{cancel_by}\n")
    return lines


# -- the timed part ----------------------------------------------------------------------


class Split:
    """Adds up the time spent inside ``appointments.create_many`` or ``record_many`` (recording
    the rows and planning their messages), to tell it from reading and checking the lines;
    and counts COPY statements, which go to psycopg directly, past the statement listener."""

    RECORDERS = ("create_many", "record_many")

    def __init__(self, counter: StatementCounter) -> None:
        self.seconds = 0.0
        self.counter = counter

    @contextlib.contextmanager
    def timing(self) -> Iterator[Split]:
        import psycopg

        from server.services import appointments

        copy = psycopg.Cursor.copy

        def counted(cursor: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
            self.counter(None, cursor, str(statement), None, None, False)
            return copy(cursor, statement, *args, **kwargs)

        recorders = [(appointments, name) for name in self.RECORDERS
                     if hasattr(appointments, name)]
        psycopg.Cursor.copy = counted  # type: ignore[method-assign]
        try:
            with timed_calls(recorders, self._add):
                yield self
        finally:
            psycopg.Cursor.copy = copy  # type: ignore[method-assign]

    def _add(self, seconds: float) -> None:
        self.seconds += seconds


@contextlib.contextmanager
def limits_lifted(rows: int) -> Iterator[None]:
    """The import's per-file limits, raised for one file of ``rows`` lines."""
    from server.services import csv_import

    saved = csv_import.MAX_ROWS, csv_import.MAX_BYTES
    csv_import.MAX_ROWS, csv_import.MAX_BYTES = max(rows, saved[0]), 1 << 30
    try:
        yield
    finally:
        csv_import.MAX_ROWS, csv_import.MAX_BYTES = saved


def empty_appointments() -> None:
    from sqlalchemy import text

    from server.extensions import db

    db.session.execute(text("TRUNCATE outbox_message, appointment RESTART IDENTITY CASCADE"))
    db.session.commit()


def backend_cpu(pid: int) -> float | None:
    """CPU seconds the PostgreSQL backend ``pid`` has used (user + system, from /proc; the
    cluster runs on this machine), or None when that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_phase(app: Any, label: str, files: list[bytes], clinic_id: int, staff_id: int,
              lift: int, profile: bool) -> None:
    from sqlalchemy import event, func, select, text

    from server.extensions import db
    from server.models import Appointment, OutboxMessage, User
    from server.services import csv_import

    sizes = [raw.count(b"\n") - 1 for raw in files]  # lines, less the header
    print(f"\n{label}: {sum(sizes):,} lines in {len(files)} file(s) of "
          f"{' or '.join(f'{n:,}' for n in sorted(set(sizes)))} lines, "
          f"{sum(map(len, files)) / 1e6:.1f} MB; 1-minute load average {load_average()} ...",
          flush=True)
    counter = StatementCounter()
    split = Split(counter)
    profiler = cProfile.Profile() if profile else None
    with app.test_request_context("/staff/appointments/import", method="POST"):
        by = db.session.get(User, staff_id)
        backend = int(db.session.scalar(text("SELECT pg_backend_pid()")))
        server_began = backend_cpu(backend)
        event.listen(db.engine, "before_cursor_execute", counter)
        began, cpu_began = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        with split.timing(), limits_lifted(lift) if lift else contextlib.nullcontext():
            imported = sum(csv_import.import_csv(raw, [clinic_id], by) for raw in files)
        if profiler:
            profiler.disable()
        total, cpu = time.perf_counter() - began, time.process_time() - cpu_began
        event.remove(db.engine, "before_cursor_execute", counter)
        server_ended = backend_cpu(backend)
        stored = db.session.scalar(select(func.count()).select_from(Appointment))
        by_purpose = dict(db.session.execute(
            select(OutboxMessage.purpose, func.count()).group_by(OutboxMessage.purpose)).all())
        db.session.rollback()
    planned = sum(by_purpose.values())
    print(f"  total time:            {total:.2f} s" + (
        f"  (target < {TARGET:g} s: {'met' if total < TARGET else 'NOT met'})" if lift else ""))
    print(f"    recording:           {split.seconds:.2f} s (appointments.create_many or "
          "record_many: writing the rows and planning their messages); reading and checking "
          f"the lines {total - split.seconds:.2f} s")
    server = ("n/a" if server_began is None or server_ended is None
              else f"{server_ended - server_began:.2f} s")
    print(f"  CPU used:              this process {cpu:.2f} s, its PostgreSQL backend {server} "
          "(less sensitive to other work on the machine than the time)")
    print(f"  appointments/s:        {imported / total:,.0f}  ({imported:,} imported, "
          f"{stored:,} stored)")
    print(f"  messages planned:      {planned:,}  (" + ", ".join(
        f"{purpose.value} {n:,}" for purpose, n in sorted(by_purpose.items(),
                                                           key=lambda i: i[0].value)) + ")")
    print(f"  SQL statements:        {counter.total:,}  ({counter.total / imported:.3f} per "
          "appointment)")
    print("    by kind: " + ", ".join(f"{kind} {n:,}" for kind, n in counter.kinds.most_common()))
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print("\n  profile (cumulative):")
        print("\n".join(out.getvalue().splitlines()[:60]))


def run(url: str, args: argparse.Namespace) -> None:
    from cryptography.fernet import Fernet
    from sqlalchemy import text

    from server import create_app
    from server.cli import run_migrations
    from server.config import Config
    from server.extensions import db
    from server.services.csv_import import MAX_ROWS

    print("migrating ...", flush=True)
    run_migrations(url)
    app = create_app(Config(env="development", secret_key=secrets.token_urlsafe(32),
                            database_url=url, data_keys=(Fernet.generate_key().decode(),)))
    with app.app_context():
        print(f"server: PostgreSQL {db.session.scalar(text('SHOW server_version'))}")
        print(f"setup (not timed): one clinic, {args.patients:,} patients (half with saved "
              "reminder settings), a coordinator ...", flush=True)
        clinic_id, staff_id, patient_ids = create_people(args.patients)
        lines = csv_lines(patient_ids, args.appointments)
        if args.phase in ("one-file", "both"):
            empty_appointments()
            run_phase(app, "one file, one transaction (the per-file limits lifted)",
                      [(HEADER + "".join(lines)).encode()], clinic_id, staff_id,
                      lift=len(lines), profile=args.profile)
        if args.phase in ("files", "both"):
            empty_appointments()
            files = [(HEADER + "".join(lines[first:first + MAX_ROWS])).encode()
                     for first in range(0, len(lines), MAX_ROWS)]
            run_phase(app, f"files of {MAX_ROWS:,} lines, one transaction each (the limits as "
                      "they are)", files, clinic_id, staff_id, lift=0, profile=args.profile)
        db.session.remove()
        db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appointments", type=int, default=100_000,
                        help="lines to import (default 100000)")
    parser.add_argument("--patients", type=int, default=2000,
                        help="patients of the clinic (default 2000)")
    parser.add_argument("--phase", choices=("one-file", "files", "both"), default="both",
                        help="one file in one transaction, files of 5,000, or both (default)")
    parser.add_argument("--database-url", default="",
                        help="a throwaway PostgreSQL database (postgresql+psycopg://...); "
                             "default: a temporary cluster")
    parser.add_argument("--durable", action="store_true",
                        help="start the temporary cluster with fsync, synchronous_commit and "
                             "full_page_writes on (default off, as scripts/test.sh)")
    parser.add_argument("--profile", action="store_true",
                        help="profile each phase with cProfile and print the top functions")
    args = parser.parse_args(argv)
    if args.appointments < 1 or args.patients < 1:
        parser.error("--appointments and --patients must be positive")
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (the target is about PostgreSQL)")

    print(f"Følge appointment import benchmark, {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
          f"Python {platform.python_version()}, SQLAlchemy {version('sqlalchemy')}, psycopg "
          f"{version('psycopg')}; 1-minute load average before: {load_average()}")
    cluster: Cluster | None = None
    try:
        if args.database_url:
            url = args.database_url
            print("database: the given URL")
        else:
            print("database: a temporary PostgreSQL cluster (unix socket; " + (
                "default durability: fsync, synchronous_commit and full_page_writes on"
                if args.durable else "fsync, synchronous_commit and full_page_writes off")
                + ")", flush=True)
            cluster = Cluster(durable=args.durable)
            url = cluster.url
        run(url, args)
        print(f"\n1-minute load average after: {load_average()}")
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
