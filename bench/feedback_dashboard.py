"""Render time and SQL queries of the clinic's feedback dashboard, for clinics of three sizes.

Run by hand from the project root:

    .venv/bin/python bench/feedback_dashboard.py [--renders 30] [--warmup 3]
        [--scenarios 500:20000,50:5000,2000:20000] [--database-url URL]

For each scenario ("patients:responses") it builds a throwaway database: one
clinic, its patients, one doctor, and the responses spread over the last 52
weeks (70% with a name in ``feedback_response``, 30% without in
``anonymous_feedback``, both instruments, about one in five with a comment),
plus an invitation behind every "How was the meeting?" answer and half as
many again unanswered, all written with bulk INSERTs. One patient has exactly
40 answers with a name. Then, through the Flask test client and with a real
server-side session (``server.services.sessions.start``, as tests/conftest.py
``sign_in_as`` does):

- the doctor renders ``GET /staff/feedback`` (the default period: the last 365
  days) ``--warmup`` times unmeasured and ``--renders`` times measured;
- the patient with 40 answers renders ``GET /me/feedback/`` the same way.

Every SQL statement sent during a render is counted with a
``before_cursor_execute`` listener. It prints the rows, median and p95 render
time in ms, the queries per render and the page size, then the scenarios side
by side. It prints figures and asserts nothing.

The database is a fresh SQLite file per scenario in a temporary directory
(migrated once by ``server.cli.run_migrations`` and copied), or, with
``--database-url`` (default: the environment variable
FOLGE_BENCH_DATABASE_URL), a throwaway PostgreSQL database: it is migrated,
must hold no clinic yet, and every table is emptied (TRUNCATE) after each
scenario.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
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

from bench.common import (  # noqa: E402  (after the path above)
    Renders,
    StatementCounter,
    bulk_insert,
    load_average,
    measure,
    percentile,
    shown_url,
    signed_in_client,
    version,
)

DEFAULT_SCENARIOS = "500:20000,50:5000,2000:20000"
DASHBOARD_PATH = "/staff/feedback"
PATIENT_PATH = "/me/feedback/"
#: Shares of the generated data.
ANONYMOUS_SHARE = 0.30
COMMENT_SHARE = 0.20
SMS_OVERALL_ONLY_SHARE = 0.05  # a one-number SMS reply: no total
UNANSWERED_PER_ANSWERED = 0.5
PATIENT_ANSWERS = 40
DAYS = 364  # 52 weeks
COMMENTS = [
    "Ventetiden var lang.", "Hyggelig personale.", "Fikk god tid i samtalen.",
    "Vanskelig å finne fram i bygget.", "Vil gjerne ha kveldstimer.", "Takk for hjelpen.",
    "Legen hørte på meg.", "For mange ulike behandlere.",
]


# -- the database ------------------------------------------------------------------------


def has_clinics(url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM clinic")).scalar()
    engine.dispose()
    return bool(found)


# -- the data ----------------------------------------------------------------------------


@dataclass
class Rows:
    patients: int = 0
    identified: int = 0
    anonymous: int = 0
    invitations: int = 0
    answered_invitations: int = 0
    comments: int = 0
    setup_seconds: float = 0.0


@dataclass
class Seeded:
    clinic_id: int
    doctor_id: int
    patient_id: int  # the one with PATIENT_ANSWERS answers
    rows: Rows


def _scores(instrument: Any, rng: random.Random, overall_only: bool) -> tuple[dict[str, int],
                                                                             int | None]:
    if overall_only:
        return {instrument.overall_item: rng.randint(0, 10)}, None
    scores = {key: min(10, max(0, round(rng.gauss(7, 2)))) for key in instrument.item_keys}
    return scores, sum(scores.values())


def seed(patients: int, responses: int, rng: random.Random) -> Seeded:
    """One clinic, ``patients`` patients, a doctor and ``responses`` answers (bulk INSERTs)."""
    from server.extensions import db
    from server.models import (
        AnonymousFeedback,
        Clinic,
        FeedbackInvitation,
        FeedbackResponse,
        FeedbackVia,
        InvitationStatus,
        PatientProfile,
        Role,
        StaffMembership,
        StaffRole,
        User,
    )
    from server.models.base import utcnow
    from server.services import feedback, instruments

    began = time.perf_counter()
    now = utcnow()
    how_are_things = instruments.latest("how_are_things")
    meeting = instruments.latest(feedback.INVITE_INSTRUMENT)
    assert how_are_things is not None and meeting is not None
    both = (how_are_things, meeting)

    clinic = Clinic(name="Bench-klinikken", health_trust="Helse Bench HF",
                    address="Postboks 1, 0001 Benchby", phone="22 00 00 00",
                    timezone="Europe/Oslo", offered_channels=["push", "sms", "letter"])
    doctor = User(role=Role.STAFF, display_name="Doktor Bench", email="doktor@bench.folge",
                  language="nb")
    db.session.add_all([clinic, doctor])
    db.session.flush()
    db.session.add(StaffMembership(user_id=doctor.id, clinic_id=clinic.id, role=StaffRole.DOCTOR))
    db.session.flush()

    user_ids = bulk_insert(User, [
        {"role": Role.PATIENT, "display_name": f"Pasient {n}", "phone": f"+479{n:07d}",
         "phone_verified_at": now, "language": "nb"} for n in range(patients)], User.id)
    patient_ids = bulk_insert(PatientProfile, [
        {"user_id": user_id, "clinic_id": clinic.id, "contact_channels": ["sms"],
         "postal_address": f"Gate {n}, 0001 Benchby"} for n, user_id in enumerate(user_ids)],
        PatientProfile.id)

    def moment() -> datetime:
        return now - timedelta(seconds=rng.uniform(60, DAYS * 86400))

    def comment() -> str:
        return rng.choice(COMMENTS) if rng.random() < COMMENT_SHARE else ""

    rows = Rows(patients=patients)
    anonymous_count = round(responses * ANONYMOUS_SHARE)
    identified_count = responses - anonymous_count
    # (patient id, instrument, when); the first patient has exactly PATIENT_ANSWERS.
    special = patient_ids[0]
    others = patient_ids[1:] or patient_ids
    identified = [(special, both[n % 2], moment()) for n in range(PATIENT_ANSWERS)]
    identified += [(rng.choice(others), rng.choice(both), moment())
                   for _ in range(identified_count - PATIENT_ANSWERS)]
    anonymous = [(rng.choice(patient_ids), rng.choice(both), moment())
                 for _ in range(anonymous_count)]

    # An answered invitation behind every "How was the meeting?" answer, a little before it.
    invited = [(p, when) for p, i, when in identified + anonymous if i is meeting]
    invitation_rows = []
    for patient_id, when in invited:
        created = when - timedelta(hours=rng.uniform(1, 72))
        invitation_rows.append({
            "patient_id": patient_id, "clinic_id": clinic.id, "appointment_id": None,
            "instrument_key": meeting.key, "status": InvitationStatus.ANSWERED,
            "created_at": created, "expires_at": created + timedelta(days=7)})
    answered_ids = bulk_insert(FeedbackInvitation, invitation_rows, FeedbackInvitation.id)
    unanswered = []
    for _ in range(round(len(invited) * UNANSWERED_PER_ANSWERED)):
        created = moment()
        unanswered.append({
            "patient_id": rng.choice(patient_ids), "clinic_id": clinic.id,
            "appointment_id": None, "instrument_key": meeting.key,
            "status": InvitationStatus.OPEN, "created_at": created,
            "expires_at": created + timedelta(days=7)})
    bulk_insert(FeedbackInvitation, unanswered)
    invitation_of = iter(answered_ids)

    response_rows = []
    for patient_id, instrument, when in identified:
        by_sms = instrument is meeting and rng.random() < SMS_OVERALL_ONLY_SHARE
        scores, total = _scores(instrument, rng, by_sms)
        text = comment()
        rows.comments += bool(text)
        response_rows.append({
            "patient_id": patient_id, "clinic_id": clinic.id,
            "invitation_id": next(invitation_of) if instrument is meeting else None,
            "instrument_key": instrument.key, "instrument_version": instrument.version,
            "scores": scores, "total": total, "comment": text,
            "via": FeedbackVia.SMS if by_sms else FeedbackVia.APP,
            "week": feedback.iso_week(when), "created_at": when, "client_key": None})
    bulk_insert(FeedbackResponse, response_rows)
    anonymous_rows = []
    for _, instrument, when in anonymous:
        if instrument is meeting:
            next(invitation_of)  # answered without a name: the invitation has no link
        scores, total = _scores(instrument, rng, False)
        text = comment()
        rows.comments += bool(text)
        anonymous_rows.append({
            "id": secrets.token_hex(16), "clinic_id": clinic.id, "instrument_key": instrument.key,
            "instrument_version": instrument.version, "scores": scores, "total": total,
            "comment": text, "week": feedback.iso_week(when), "client_key": None})
    bulk_insert(AnonymousFeedback, anonymous_rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # autovacuum would, soon after a bulk load
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()

    rows.identified, rows.anonymous = len(response_rows), len(anonymous_rows)
    rows.invitations = len(invitation_rows) + len(unanswered)
    rows.answered_invitations = len(invitation_rows)
    rows.setup_seconds = time.perf_counter() - began
    return Seeded(clinic.id, doctor.id, special, rows)


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Outcome:
    patients: int
    responses: int
    rows: Rows
    dashboard: Renders
    patient_page: Renders
    shown: str
    service_ms: list[float]


def run_scenario(url: str, patients: int, responses: int, args: argparse.Namespace
                 ) -> Outcome:
    from cryptography.fernet import Fernet
    from sqlalchemy import event

    from server import create_app
    from server.config import Config
    from server.extensions import db
    from server.models import PatientProfile, User
    from server.services import feedback, sessions
    from server.services.local_time import oslo_today

    app = create_app(Config(env="development", secret_key=secrets.token_urlsafe(32),
                            database_url=url, data_keys=(Fernet.generate_key().decode(),)))
    app.config["TESTING"] = True
    with app.app_context():
        engine = db.engine
        seeded = seed(patients, responses, random.Random(args.seed))
        rows = seeded.rows
        today = oslo_today()
        first = today - timedelta(days=364)
        service_ms = []
        for n in range(args.warmup + args.renders):  # the service alone: its queries and sums
            began = time.perf_counter()
            board = feedback.dashboard(seeded.clinic_id, first, today)
            if n >= args.warmup:
                service_ms.append((time.perf_counter() - began) * 1000)
            db.session.rollback()
        comments = board.anonymous_comments
        shown = (f"{board.answered} of {board.invited} invitations answered, "
                 f"{sum(len(a) for a in board.averages.values())} instrument-months, "
                 f"{sum(len(c) for c in comments.values())} comments without a name listed "
                 f"(for {len(comments)} months that are over)")
        doctor = db.session.get(User, seeded.doctor_id)
        patient = db.session.get(PatientProfile, seeded.patient_id)
        assert doctor is not None and patient is not None
        staff_token = sessions.start(doctor)
        patient_token = sessions.start(patient.user)
        clinic_name = patient.clinic.name
        db.session.remove()

    staff, own = signed_in_client(app, staff_token), signed_in_client(app, patient_token)
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        dashboard = measure(f"GET {DASHBOARD_PATH}", lambda: staff.get(DASHBOARD_PATH),
                            clinic_name, counter, args.warmup, args.renders)
        patient_page = measure(f"GET {PATIENT_PATH}", lambda: own.get(PATIENT_PATH),
                               "<svg", counter, args.warmup, args.renders)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        engine.dispose()
    return Outcome(patients, responses, rows, dashboard, patient_page, shown, service_ms)


# -- the run -----------------------------------------------------------------------------


def parse_scenarios(text: str) -> list[tuple[int, int]]:
    scenarios = []
    for part in text.split(","):
        patients, _, responses = part.strip().partition(":")
        if not patients.isdigit() or not responses.isdigit():
            raise argparse.ArgumentTypeError(f"not patients:responses: {part!r}")
        if int(patients) < 2 or int(responses) < PATIENT_ANSWERS * 2:
            raise argparse.ArgumentTypeError(
                f"{part!r}: at least 2 patients and {PATIENT_ANSWERS * 2} responses")
        scenarios.append((int(patients), int(responses)))
    return scenarios


def report(outcome: Outcome) -> None:
    rows = outcome.rows
    print(f"  rows: {rows.patients:,} patients, {rows.identified:,} answers with a name + "
          f"{rows.anonymous:,} without = {rows.identified + rows.anonymous:,} responses "
          f"({rows.comments:,} with a comment), {rows.invitations:,} invitations "
          f"({rows.answered_invitations:,} answered); setup {rows.setup_seconds:.1f} s")
    print(f"  the dashboard shows: {outcome.shown}")
    print(f"  feedback.dashboard() alone (the queries and sums, no request or template): "
          f"median {statistics.median(outcome.service_ms):.1f} ms, "
          f"p95 {percentile(outcome.service_ms, 95):.1f} ms")
    for renders in (outcome.dashboard, outcome.patient_page):
        print(f"  {renders.label:<22} median {renders.median:7.1f} ms   p95 {renders.p95:7.1f} ms"
              f"   queries/render {renders.query_text:>3}   page {renders.size_kb:6.1f} KB")
        print("    queries: " + ", ".join(f"{kind} {n}" for kind, n in
                                          sorted(renders.kinds.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=30,
                        help="measured renders of each page (default 30)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="unmeasured renders first (default 3)")
    parser.add_argument("--scenarios", type=parse_scenarios,
                        default=parse_scenarios(DEFAULT_SCENARIOS),
                        help=f"patients:responses,... (default {DEFAULT_SCENARIOS})")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data (default 1)")
    parser.add_argument("--database-url", default=os.environ.get("FOLGE_BENCH_DATABASE_URL", ""),
                        help="a throwaway PostgreSQL database, migrated, filled and emptied "
                             "(default: $FOLGE_BENCH_DATABASE_URL, else SQLite files in a "
                             "temporary directory)")
    args = parser.parse_args(argv)
    if args.renders < 1 or args.warmup < 0:
        parser.error("--renders must be positive and --warmup not negative")

    from server.cli import run_migrations

    print(f"Følge feedback dashboard benchmark, {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
          f"Python {platform.python_version()}, Flask {version('flask')}, "
          f"SQLAlchemy {version('sqlalchemy')}; 1-minute load average before: {load_average()}")
    print(f"renders: {args.warmup} unmeasured + {args.renders} measured per page, one at a time, "
          "Flask test client (no HTTP server), Accept-Language nb")
    temp = Path(tempfile.mkdtemp(prefix="folge-bench-feedback-"))
    outcomes: list[Outcome] = []
    try:
        if args.database_url:
            url = args.database_url
            print(f"database: {shown_url(url)} (migrated; emptied after each scenario)",
                  flush=True)
            run_migrations(url)
            if has_clinics(url):
                raise SystemExit("that database already holds clinics; use a throwaway database")
        else:
            template = temp / "template.sqlite3"
            print(f"database: a new SQLite file per scenario in {temp}", flush=True)
            run_migrations(f"sqlite:///{template}")
        for n, (patients, responses) in enumerate(args.scenarios, start=1):
            print(f"\nscenario {n}: one clinic, {patients:,} patients, {responses:,} responses "
                  "over 52 weeks ...", flush=True)
            if args.database_url:
                scenario_url = url
            else:
                copy = temp / f"scenario-{n}.sqlite3"
                shutil.copyfile(template, copy)
                scenario_url = f"sqlite:///{copy}"
            try:
                outcome = run_scenario(scenario_url, patients, responses, args)
            finally:
                if args.database_url:
                    from server.models.base import empty_all_tables

                    empty_all_tables(url)
            outcomes.append(outcome)
            report(outcome)
    finally:
        shutil.rmtree(temp, ignore_errors=True)

    print("\nside by side (queries per render; times are medians / p95 in ms):")
    print(f"{'patients':>9} {'responses':>10} {'invitations':>12} | "
          f"{'dashboard q':>11} {'median':>7} {'p95':>7} {'KB':>6} | "
          f"{'own page q':>10} {'median':>7} {'p95':>7}")
    for o in outcomes:
        print(f"{o.patients:>9,} {o.responses:>10,} {o.rows.invitations:>12,} | "
              f"{o.dashboard.query_text:>11} {o.dashboard.median:>7.1f} {o.dashboard.p95:>7.1f} "
              f"{o.dashboard.size_kb:>6.1f} | {o.patient_page.query_text:>10} "
              f"{o.patient_page.median:>7.1f} {o.patient_page.p95:>7.1f}")
    print(f"(the patient page is that of a patient with {PATIENT_ANSWERS} answers with a name)")
    print(f"1-minute load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
