"""Booking appointments through the FHIR interface, as a record system does, and a large search.

Run by hand from the project root (Node.js and `npm ci` in tests/oidc are needed: the test
OpenID provider issues the record system's token, as HelseID would):

    .venv/bin/python bench/fhir_appointments.py [--appointments 10000] [--threads 4]
                                                [--patients 500] [--database-url URL]

It builds a fresh SQLite database in a temporary directory (or uses ``--database-url``, e.g.
a throwaway PostgreSQL database: its tables are emptied), runs the migrations, adds a clinic
with ``--patients`` patients and registers a record system for it. It then serves
``wsgi:app`` with gunicorn (2 sync workers) on 127.0.0.1 and POSTs ``--appointments``
Appointments to /fhir/Appointment from ``--threads`` client threads (one connection each),
each with its own identifier, so every request books one appointment and plans its notice
and reminders. It prints requests per second, p50/p95/p99, the answers by status, and the
statements per request (counted in process on a sample). Then it searches all of them in
one Bundle (GET /fhir/Appointment?date=ge…&_count=N) and prints its time and size. It
asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.common import StatementCounter, load_average, percentile, shown_url  # noqa: E402
from bench.home_latency import HOST, server_env, start_gunicorn, stop_gunicorn  # noqa: E402

AUDIENCE = "https://folge.bench.invalid/fhir"
CLIENT_ID = "bench-epj"
SCOPES = ["system/Patient.rs", "system/Appointment.cruds"]
IDENTIFIER_SYSTEM = "https://epj.bench.invalid/appointment"


def seed(database_url: str, patients: int) -> tuple[list[int], Any]:
    """Migrations, one clinic with its patients, the record system registered."""
    from sqlalchemy import insert, select

    from server import create_app
    from server.cli import run_migrations
    from server.config import load_config
    from server.extensions import db
    from server.fhir import clients
    from server.models import Clinic, PatientProfile, Role, User
    from server.models.base import empty_all_tables

    if database_url.startswith("postgresql"):
        run_migrations(database_url)
        empty_all_tables(database_url)
    else:
        run_migrations(database_url)
    app = create_app(load_config({**server_env("x" * 40, database_url)}))
    with app.app_context():
        clinic = Clinic(name="Benkeklinikken", health_trust="Helse Benk HF",
                        address="Postboks 1, 0001 Benk", phone="22 00 00 00",
                        timezone="Europe/Oslo")
        db.session.add(clinic)
        db.session.commit()
        users = [{"role": Role.PATIENT, "display_name": f"Pasient {n}",
                  "phone": f"+479{n:07d}", "phone_verified_at": datetime.now(UTC)}
                 for n in range(patients)]
        user_ids = list(db.session.scalars(insert(User).returning(User.id), users))
        db.session.execute(insert(PatientProfile), [
            {"user_id": uid, "clinic_id": clinic.id, "contact_channels": ["sms"],
             "postal_address": ""}
            for uid in user_ids])
        db.session.commit()
        clients.register(clinic, CLIENT_ID, "Bench EPJ", " ".join(SCOPES))
        ids = list(db.session.scalars(select(PatientProfile.id).order_by(PatientProfile.id)))
    return ids, app


def appointment(patient_id: int, number: int, first: datetime) -> dict[str, Any]:
    starts = first + timedelta(minutes=15 * number)
    return {
        "resourceType": "Appointment",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"B-{number}"}],
        "status": "booked",
        "serviceType": [{"text": "Poliklinikken"}],
        "start": starts.isoformat(), "end": (starts + timedelta(minutes=30)).isoformat(),
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"},
                         "status": "needs-action"}],
    }


def post_all(port: int, token: str, bodies: list[bytes], threads: int
             ) -> tuple[list[float], Counter[int], float]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    chunks = [bodies[n::threads] for n in range(threads)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}

    def worker(mine: list[bytes]) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        own: list[float] = []
        codes: Counter[int] = Counter()
        for body in mine:
            began = time.perf_counter()
            try:
                conn.request("POST", "/fhir/Appointment", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                codes[response.status] += 1
            except (OSError, http.client.HTTPException):
                codes[0] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
            own.append((time.perf_counter() - began) * 1000)
        conn.close()
        with lock:
            latencies.extend(own)
            statuses.update(codes)

    began = time.perf_counter()
    running = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return latencies, statuses, time.perf_counter() - began


def statements_per_request(app: Any, token: str, patient_id: int, first: datetime,
                           sample: int = 50) -> tuple[float, list[tuple[str, float]]]:
    """Statements per POST, counted in process over ``sample`` new bookings."""
    from sqlalchemy import event

    from server.extensions import db

    counter = StatementCounter()
    client = app.test_client()
    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            for n in range(sample):
                client.post("/fhir/Appointment", data=json.dumps(appointment(
                    patient_id, 10_000_000 + n, first + timedelta(days=400))),
                    content_type="application/fhir+json",
                    headers={"Authorization": f"Bearer {token}"})
        finally:
            event.remove(engine, "before_cursor_execute", counter)
    return counter.total / sample, [(kind, n / sample) for kind, n in counter.kinds.most_common()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="folge-fhir-bench-"))
    database_url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    from tests.oidc_provider import openid_provider

    fhir = {"resource": AUDIENCE, "scopes": SCOPES, "clients": {CLIENT_ID: SCOPES}, "ttl": 3600}
    with openid_provider(work, fhir=fhir) as provider:
        os.environ.pop("FOLGE_FHIR_ISSUER", None)
        patient_ids, _ = seed(database_url, args.patients)
        token = provider.system_token(CLIENT_ID, " ".join(SCOPES), AUDIENCE)
        env = server_env(secrets.token_urlsafe(32), database_url)
        env.update(FOLGE_FHIR_ISSUER=provider.issuer, FOLGE_FHIR_AUDIENCE=AUDIENCE)
        first = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
        bodies = [json.dumps(appointment(patient_ids[n % len(patient_ids)], n, first)).encode()
                  for n in range(args.appointments)]
        server = start_gunicorn("wsgi:app", env, work / "gunicorn.log")
        try:
            latencies, statuses, seconds = post_all(server.port, token, bodies, args.threads)
            conn = http.client.HTTPConnection(HOST, server.port, timeout=300)
            began = time.perf_counter()
            conn.request("GET", f"/fhir/Appointment?date=ge{first.date().isoformat()}"
                         f"&_count={args.appointments}",
                         headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            payload = response.read()
            search_seconds = time.perf_counter() - began
            conn.close()
        finally:
            stop_gunicorn(server)
        for key in ("FOLGE_FHIR_ISSUER", "FOLGE_FHIR_AUDIENCE"):
            os.environ[key] = env[key]
        os.environ["FOLGE_ENV"] = "development"
        from server import create_app
        from server.config import load_config

        app = create_app(load_config(env))
        per_request, kinds = statements_per_request(app, token, patient_ids[0], first)
    found = json.loads(payload) if response.status == 200 else {}
    print(f"Følge FHIR bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load {load_average()}, database {shown_url(database_url)}")
    print(f"POST /fhir/Appointment: {len(latencies)} requests from {args.threads} threads to "
          f"gunicorn (2 sync workers) in {seconds:.1f} s = {len(latencies) / seconds:.0f} req/s")
    print(f"  latency ms: p50 {percentile(latencies, 50):.1f}, p95 {percentile(latencies, 95):.1f}"
          f", p99 {percentile(latencies, 99):.1f}; answers {dict(sorted(statuses.items()))}")
    print(f"  statements per booking (in process, 50 more): {per_request:.1f}: "
          + ", ".join(f"{kind} {n:g}" for kind, n in kinds))
    print(f"GET /fhir/Appointment (one Bundle of {found.get('total', '?')}, "
          f"{len(found.get('entry', []))} entries): {search_seconds:.2f} s, "
          f"{len(payload) / 1_000_000:.1f} MB, status {response.status}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
