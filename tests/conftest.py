"""Fixtures for every test: an app per test on a clean database, factories, helpers.

The database comes from FOLGE_TEST_DATABASE_URL (a PostgreSQL URL) or is
SQLite. Either way the schema is built once per run by the Alembic
migrations, so the migrations are tested too. Isolation: SQLite tests each
get a copy of the migrated file; PostgreSQL tests start with every table
truncated. (We clean rather than roll back because browser tests drive a
live server in another thread, which must see committed data.)
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask, has_app_context, url_for
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from werkzeug.routing import Rule

from server import create_app
from server.cli import run_migrations
from server.config import Config
from server.extensions import db
from server.models import (
    Appointment,
    Channel,
    Clinic,
    ConsentMethod,
    MeetingKind,
    ObservationKind,
    PatientAnswer,
    PatientProfile,
    Role,
    ServiceKind,
    StaffMembership,
    StaffRole,
    TotpSecret,
    User,
    WorkItem,
)
from server.models.base import empty_all_tables, utcnow
from server.notify.code_sender import InlineCodeSender
from server.notify.sms import SentSms
from server.services import appointments as appointments_service
from server.services import sessions
from server.services.staff_auth import hash_password

PG_URL = os.environ.get("FOLGE_TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery staple"
#: FOLGE_DATA_KEY of the tests (a Fernet key made for them; it protects nothing real).
DATA_KEY = "bR4mF3yQe6Jm9xVh2o7Cw1sK5nZ8tL0aP3dG6uE9iYc="

def _remember_url_builders() -> None:
    """Every test builds its own app, and Werkzeug compiles two URL builders per rule from an
    AST each time: 0.11 s of the 0.12 s an app takes, about three minutes per run of the suite.
    A builder is a function of the rule's text, parts and defaults only (the rule comes in as
    its first argument), so the suite compiles each once and hands the same one to every app.
    Only the tests do this; the app builds its map once per process."""
    compile_builder = Rule._compile_builder
    built: dict[tuple[Any, ...], Any] = {}

    def remembered(self: Rule, append_unknown: bool = True) -> Any:
        try:
            key = (self.rule, self.host, self.subdomain, tuple(self._trace),
                   tuple(sorted((self.defaults or {}).items())), append_unknown)
            hash(key)
        except TypeError:  # a default that cannot be a key: compile as Werkzeug does
            return compile_builder(self, append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = remembered  # type: ignore[method-assign]


_remember_url_builders()


#: Lines the property-based tests add about what they ran; printed at the end of the run.
FUZZ_FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in FUZZ_FIGURES:
        terminalreporter.write_line(f"Følge {line}")


# Argon2 with production cost makes staff factories slow; tests use the same
# code with a cheaper hash made once.
_PASSWORD_HASH = hash_password(PASSWORD)


@dataclass
class CapturingSms:
    """Test SMS provider: keeps what would have been sent."""

    sent: list[SentSms] = field(default_factory=list)
    keys: dict[str, SentSms] = field(default_factory=dict)

    def send(self, to: str, body: str, idempotency_key: str | None = None,
             status_callback: str | None = None) -> SentSms:
        if idempotency_key and idempotency_key in self.keys:
            return self.keys[idempotency_key]
        message = SentSms(to=to, body=body, provider_id=f"SM{len(self.sent) + 1:032x}")
        self.sent.append(message)
        if idempotency_key:
            self.keys[idempotency_key] = message
        return message

    def last_code(self, to: str | None = None) -> str:
        for message in reversed(self.sent):
            if to is None or message.to == to:
                found = re.search(r"\b(\d{6})\b", message.body)
                if found:
                    return found.group(1)
        raise AssertionError(f"no code was sent to {to}")


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run the migrations once; return the template (SQLite file) or the PostgreSQL URL."""
    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        run_migrations(PG_URL)
        return PG_URL
    template = tmp_path_factory.mktemp("db") / "template.sqlite3"
    run_migrations(f"sqlite:///{template}")
    return str(template)


def _database_url(migrated_database: str, tmp_path: Path) -> str:
    if PG_URL:
        empty_all_tables(PG_URL)
        return PG_URL
    copy = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated_database, copy)
    return f"sqlite:///{copy}"


def make_config(database_url: str, **overrides: Any) -> Config:
    """A testing configuration."""
    values: dict[str, Any] = {
        "env": "testing",
        "secret_key": "test-secret-key-not-for-production",
        "database_url": database_url,
        "data_keys": (DATA_KEY,),
        # National identity numbers can be registered (server/national_id/pid.py).
        "pid_key": "test-pid-key-for-the-suite-0123456789abcdef",
    }
    values.update(overrides)
    return Config(**values)


@contextmanager
def another_app(migrated_database: str, tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    """An app with its own configuration, on a fresh database (on PostgreSQL the tables are
    emptied, so build its rows inside). Its connections are closed whatever happens."""
    app = create_app(make_config(_database_url(migrated_database, tmp_path), **overrides))
    app.extensions["folge_sms"] = CapturingSms()
    app.extensions["folge_code_sender"] = InlineCodeSender()
    app.test_client_class = Client
    try:
        with app.app_context():
            yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Override in a test module to change configuration values."""
    return {}


@pytest.fixture
def app(migrated_database: str, tmp_path: Path, config_overrides: dict[str, Any]) -> Iterator[Flask]:
    flask_app = create_app(make_config(_database_url(migrated_database, tmp_path),
                                       **config_overrides))
    flask_app.config["TESTING"] = True
    flask_app.extensions["folge_sms"] = CapturingSms()
    # Codes are sent in the request here, so a test can read one right after asking;
    # tests/test_security_hardening.py checks the threaded sender production uses.
    flask_app.extensions["folge_code_sender"] = InlineCodeSender()
    with flask_app.app_context():
        yield flask_app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sms(app: Flask) -> CapturingSms:
    return app.extensions["folge_sms"]  # type: ignore[no-any-return]


class Client(FlaskClient):
    """Test client that fills in the CSRF token the way a browser form does.

    Each request runs in a fresh app context, as in production. (Flask would
    otherwise reuse the test's own app context, sharing ``g`` - and with it
    flask-login's cached user and flask-wtf's token - across requests.)
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # noqa: A003
        with self.application.app_context():
            response = super().open(*args, **kwargs)
            response.get_data()  # read it all, then close: a file response holds a file open
            response.close()
        if has_app_context():  # the test's own context; a request thread of a test has none
            db.session.expire_all()
        return response

    def csrf_token(self, page: str = "/sign-in") -> str:
        response = self.get(page, follow_redirects=True)
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.text)
        assert found, f"no CSRF token on {page}"
        return found.group(1)

    def submit(self, url: str, data: dict[str, str] | None = None, page: str | None = None,
               **kwargs: Any) -> Any:
        """POST ``data`` to ``url`` with a fresh CSRF token from ``page`` (default: ``url``)."""
        token = self.csrf_token(page or url)
        return self.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


@pytest.fixture
def new_client(app: Flask) -> Callable[..., Client]:
    """Another browser: a client with its own cookies (English unless told otherwise)."""
    app.test_client_class = Client

    def make(language: str = "en") -> Client:
        browser: Client = app.test_client()  # type: ignore[assignment]
        browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        return browser

    return make


@pytest.fixture
def client(new_client: Callable[..., Client]) -> Client:
    """A browser that prefers English, so assertions can read the English text."""
    return new_client()


# -- factories -----------------------------------------------------------------

@dataclass
class World:
    """Two clinics with staff and patients, as most tests need."""

    clinic_a: Clinic
    clinic_b: Clinic
    patient_x: PatientProfile
    patient_y: PatientProfile
    patient_b: PatientProfile
    doctor_a: User
    coordinator_a: User
    nurse_b: User
    relative: User


@dataclass
class CareTeam:
    """What Factory.care_team made (rows of server/care_team/models.py)."""

    doctor: Any
    coordinator: Any
    gp: Any
    handover: Any


class Factory:
    """Creates rows and commits them. Returned by the ``make`` fixture."""

    def __init__(self) -> None:
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def clinic(self, name: str | None = None) -> Clinic:
        n = self._next()
        clinic = Clinic(name=name or f"Klinikk {n}", health_trust="Helse Test HF",
                        address=f"Postboks {n}, 0001 Testby", phone="22 00 00 00",
                        timezone="Europe/Oslo")
        db.session.add(clinic)
        db.session.commit()
        return clinic

    def patient(self, clinic: Clinic, name: str | None = None, phone: str | None = "auto",
                verified: bool = True, channels: tuple[Channel, ...] = (Channel.SMS,),
                language: str | None = None) -> PatientProfile:
        n = self._next()
        if phone == "auto":
            phone = f"+479{n:07d}"
        user = User(role=Role.PATIENT, display_name=name or f"Pasient {n}", phone=phone,
                    phone_verified_at=utcnow() if phone and verified else None,
                    language=language)
        profile = PatientProfile(user=user, clinic=clinic,
                                 contact_channels=[c.value for c in channels],
                                 postal_address=f"Gate {n}, 0001 Testby")
        db.session.add_all([user, profile])
        db.session.commit()
        return profile

    def staff(self, clinic: Clinic, role: StaffRole = StaffRole.DOCTOR,
              email: str | None = None, name: str | None = None) -> User:
        n = self._next()
        user = User(role=Role.STAFF, display_name=name or f"Ansatt {n}",
                    email=email or f"ansatt{n}@test.folge", password_hash=_PASSWORD_HASH)
        db.session.add(user)
        db.session.flush()
        db.session.add(TotpSecret(user_id=user.id, secret=pyotp.random_base32()))
        db.session.add(StaffMembership(user_id=user.id, clinic_id=clinic.id, role=role))
        db.session.commit()
        return user

    def appointment(self, patient: PatientProfile, starts_in: timedelta = timedelta(days=2),
                    by: User | None = None, **fields: Any) -> Appointment:
        """An appointment through the service, so its messages are planned too."""
        from server.services import appointments

        values: dict[str, Any] = {
            "starts_at": utcnow() + starts_in, "duration_minutes": 30,
            "service": ServiceKind.GP, "service_name": "Legekontoret på Torget",
            "meeting": MeetingKind.IN_PERSON, "place_name": "Legekontoret",
            "address": "Torget 1, 0150 Oslo", "meet_role": "fastlege", "meet_name": "Dr. Berg",
            "prepare": "Ta med bankkortet ditt", "cancel_by": None,
        }
        values.update(fields)
        return appointments.create(patient, appointments.AppointmentInput(**values), by)

    def take_home(self, patient: PatientProfile, starts_in_days: int = 30, days: int = 5,
                  **fields: Any) -> Any:
        """A take-home period request through the service (asked anyway if beyond the rules)."""
        from server.models import PeriodReason, PickupPlace, RequestKind
        from server.services import take_home

        first = take_home.today_for(patient.clinic) + timedelta(days=starts_in_days)
        values: dict[str, Any] = {
            "kind": RequestKind.PERIOD, "client_key": take_home.new_client_key(),
            "first_day": first, "last_day": first + timedelta(days=days - 1),
            "reason": PeriodReason.TRAVEL, "place": PickupPlace.PHARMACY,
            "place_name": "Apotek Torget",
        }
        values.update(fields)
        stored, _ = take_home.submit(patient, take_home.RequestInput(**values), ask_anyway=True)
        assert stored is not None
        return stored

    def relative(self, name: str | None = None) -> User:
        n = self._next()
        user = User(role=Role.RELATIVE, display_name=name or f"Pårørende {n}",
                    phone=f"+474{n:07d}", phone_verified_at=utcnow())
        db.session.add(user)
        db.session.commit()
        return user

    def contact(self, clinic: Clinic, service: str = "gp", organisation: str = "Legekontoret",
                name: str = "Dr. Berg", phone: str = "+4722334455") -> Any:
        from server.care_team.models import ExternalContact, TeamService

        contact = ExternalContact(clinic_id=clinic.id, service=TeamService(service),
                                  organisation=organisation, name=name, role="fastlege",
                                  phone=phone, opens_at=time(8, 0), closes_at=time(15, 30),
                                  answers_within_days=1)
        db.session.add(contact)
        db.session.commit()
        return contact

    def care_team(self, world: World) -> CareTeam:
        """Patient X's team: the doctor holds medication, the coordinator coordinates, the
        GP holds physical health, and a handover of medication to the coordinator waits."""
        from server.care_team import handovers, team

        patient = world.patient_x
        doctor = team.add_staff_member(patient, world.doctor_a, "lege", world.doctor_a)
        coordinator = team.add_staff_member(patient, world.coordinator_a, "koordinator",
                                            world.doctor_a)
        gp = team.add_external_member(patient, self.contact(world.clinic_a), "", world.doctor_a)
        team.fill_gap(patient, "medication", doctor, world.doctor_a)
        team.fill_gap(patient, "coordinator", coordinator, world.doctor_a)
        team.fill_gap(patient, "somatic", gp, world.doctor_a)
        handover = handovers.propose(patient, "medication", coordinator, world.doctor_a)
        return CareTeam(doctor, coordinator, gp, handover)

    def world(self) -> World:
        clinic_a = self.clinic("Klinikk A")
        clinic_b = self.clinic("Klinikk B")
        return World(
            clinic_a=clinic_a,
            clinic_b=clinic_b,
            patient_x=self.patient(clinic_a, "Xena Pasient"),
            patient_y=self.patient(clinic_a, "Yngve Pasient"),
            patient_b=self.patient(clinic_b, "Berit Pasient"),
            doctor_a=self.staff(clinic_a, StaffRole.DOCTOR, name="Doktor A"),
            coordinator_a=self.staff(clinic_a, StaffRole.COORDINATOR, name="Koordinator A"),
            nurse_b=self.staff(clinic_b, StaffRole.NURSE, name="Sykepleier B"),
            relative=self.relative("Rita Pårørende"),
        )


@pytest.fixture
def make(app: Flask) -> Factory:
    return Factory()


@pytest.fixture
def things(world: World, make: Factory) -> dict[str, int | str]:
    """One of everything that belongs to patient X (clinic A), for walking every URL: an
    answered appointment (on the worklist), a decided take-home request, a relative's
    access with an agreement and a pending invitation. Values by URL argument name."""
    from server.care_team import transfers
    from server.messages import conversations
    from server.services import relatives, take_home
    from server.services.local_time import oslo_today

    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3),
                                   by=world.doctor_a, service=ServiceKind.GP)
    appointments_service.answer(appointment, PatientAnswer.CONFIRMED)
    item = db.session.scalars(select(WorkItem)).one()
    request = take_home.decide(make.take_home(world.patient_x), take_home.DecisionInput(
        take_home.Outcome.APPROVE, "Stabil lenge."), world.doctor_a)
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=relatives.SCOPES))
    access = relatives.accept(invitation, world.relative)
    relatives.save_agreement(access, relatives.AgreementInput("Støtte", "Svar", "Lege",
                                                              "Månedlig"), world.doctor_a)
    pending = relatives.invite(world.patient_x, relatives.InviteInput(
        "Ola", "venn", phone="+4790000002"))
    team = make.care_team(world)
    clinic_c = make.clinic("Klinikk C")
    moving = transfers.propose(world.patient_x, transfers.ProposalInput(
        clinic_c.id, oslo_today() + timedelta(days=14), ConsentMethod.IN_PERSON, oslo_today()),
        world.doctor_a)
    written = conversations.start(world.patient_x, "Kan jeg flytte timen?", None, "things-1")
    conversations.answer(written.conversation, world.coordinator_a, "Ja, ring oss.")
    observation = relatives.observe(access, ObservationKind.WORRY, "Sover dårlig.")
    quick = conversations.add_quick_answer(world.clinic_a.id, "Takk", "Takk for meldingen.",
                                           world.coordinator_a)
    from server.plans import crisis

    plan = crisis.save(world.patient_x, crisis.PlanInput(
        texts={"warning_signs": "Sover dårlig."},
        contacts=[crisis.Contact("Søster Line", "912 34 000")]), world.patient_x.user, None)
    from server.plans import goals

    goal = goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    # A responsibility group meeting that has started: its participants and minutes forms.
    meeting = make.appointment(world.patient_x, starts_in=timedelta(days=5), by=world.doctor_a,
                               service=ServiceKind.CLINIC, is_team_meeting=True)
    meeting.starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    return {"number": plan.version, "goal_id": goal.id, "what": "note",
            "patient_id": world.patient_x.id, "appointment_id": appointment.id,
            "item_id": item.id, "request_id": request.id, "clinic_id": world.clinic_a.id,
            "access_id": access.id, "invitation_id": pending.id, "token": "not-a-token",
            "passkey_id": 999, "session_id": 999, "filename": "icon-192.png", "lang": "nb",
            "key": "how_are_things", "member_id": team.gp.id, "handover_id": team.handover.id,
            "contact_id": team.gp.external_contact_id or 0, "transfer_id": moving.id,
            "conversation_id": written.conversation_id, "message_id": written.id,
            "observation_id": observation.id, "quick_id": quick.id,
            "kind": "pdf", "why": "failed",
            # The FHIR interface (server/fhir): ids of resources for the record system.
            "response_id": appointment.id, "questionnaire_id": "how-are-things-v1",
            "event_id": 1}


def endpoint_urls(app: Flask, values: dict[str, int | str]) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule but static files, with ``values`` filled in.
    The method is GET when the rule answers GET, else POST, else the rule's own (PUT)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = rule.methods or set()
        method = next((m for m in ("GET", "POST", "PUT", "DELETE") if m in methods), "POST")
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
        found.append((rule.endpoint, method, url))
    return found


def call(client: FlaskClient, method: str, url: str) -> Any:
    """GET ``url``, or POST (PUT) it with a valid CSRF token and nothing else."""
    if method == "GET":
        return client.get(url)
    token = client.csrf_token("/")  # type: ignore[attr-defined]
    return client.open(url, method=method, data={"csrf_token": token},
                       headers={"X-CSRFToken": token})


@pytest.fixture
def world(make: Factory) -> World:
    return make.world()


def sign_in_as(client: FlaskClient, user: User) -> str:
    """Open a server-side session for ``user`` in ``client`` without the sign-in pages."""
    token = sessions.start(user)
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = token
        flask_session["_fresh"] = True
    return token


def totp_now(user: User) -> str:
    secret = db.session.get(TotpSecret, user.id)
    assert secret is not None
    return pyotp.TOTP(secret.secret).now()


def deliver_now(*conditions: Any) -> int:
    """Make pending messages matching ``conditions`` due now and run a worker over them, as in
    the daytime: quiet hours (22-08 Oslo) would otherwise hold SMS and push when the suite
    runs at night (tests/test_outbox_worker.py tests quiet hours themselves)."""
    from unittest import mock

    from sqlalchemy import update

    import server.notify.worker as worker_module
    from server.models import MessageStatus, OutboxMessage
    from server.notify.worker import Worker

    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.PENDING, *conditions)
        .values(due_at=utcnow() - timedelta(seconds=1))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    with mock.patch.object(worker_module, "in_quiet_hours", lambda *args: False):
        return Worker(name="test").run_until_idle()
