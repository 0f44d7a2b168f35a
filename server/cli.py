"""Flask commands: migrate, seed-demo, create-staff, worker, vapid-keys, data-key, reseal,
totp-code."""

from __future__ import annotations

import sys

import click
import pyotp
from flask import Flask, current_app
from sqlalchemy import select

from server.config import PROJECT_ROOT


def run_migrations(url: str) -> None:
    """Bring the database at ``url`` to the newest schema with Alembic."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def init_app(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate() -> None:
        """Create or upgrade the database schema (Alembic upgrade head)."""
        run_migrations(current_app.config["SQLALCHEMY_DATABASE_URI"])
        click.echo("Database is up to date.")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Load the demo clinics, staff and patients (refused in production)."""
        if current_app.config["FOLGE"].is_production:
            click.echo("seed-demo is refused in production.", err=True)
            sys.exit(2)
        from server import demo

        created = demo.seed()
        click.echo("Demo data loaded." if created else "Demo data was already there.")

    @app.cli.command("staff-national-id")
    @click.option("--email", required=True)
    @click.option("--pid", "number", required=True, help="fødselsnummer or D-number")
    def staff_national_id(email: str, number: str) -> None:
        """Register a staff member's national identity number, so HelseID finds them (kept as
        a keyed hash only)."""
        from sqlalchemy import select

        from server.extensions import db
        from server.models import User
        from server.national_id import pid

        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.is_staff:
            raise click.ClickException(f"No staff account with the email {email}.")
        try:
            clean = pid.normalize(number)
        except pid.PidError as exc:
            raise click.ClickException(str(exc.message)) from None
        hashed = pid.keyed_hash(clean)
        if db.session.scalar(select(User.id).where(User.pid_hash == hashed,
                                                   User.id != user.id)) is not None:
            raise click.ClickException("This number is registered for another person.")
        user.pid_hash, user.pid_masked = hashed, pid.masked(clean)
        db.session.commit()
        click.echo(f"Registered {pid.masked(clean)} for {user.display_name}.")

    @app.cli.command("fhir-client")
    @click.argument("action", type=click.Choice(["add", "disable"]))
    @click.option("--client-id", required=True, help="the client id at the token issuer")
    @click.option("--clinic-id", type=int, help="add: the clinic whose record system it is")
    @click.option("--name", default="", help="add: how the patient's access log names it")
    @click.option("--scopes", default="", help="add: SMART system scopes (default: all)")
    def fhir_client(action: str, client_id: str, clinic_id: int | None, name: str,
                    scopes: str) -> None:
        """Register a clinic's record system for the FHIR interface, or end a registration."""
        from server.extensions import db
        from server.fhir import clients
        from server.models import Clinic

        try:
            if action == "disable":
                clients.disable(client_id)
                click.echo(f"The record system {client_id} can no longer use the interface.")
                return
            clinic = db.session.get(Clinic, clinic_id) if clinic_id else None
            if clinic is None:
                raise click.ClickException("add needs --clinic-id of an existing clinic.")
            found = clients.register(clinic, client_id, name or client_id,
                                     scopes or clients.DEFAULT_SCOPES)
        except clients.ClientError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Registered {found.client_id} for {clinic.name}: {found.scopes}")

    @app.cli.command("create-staff")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--clinic-id", type=int, required=True)
    @click.option("--role", type=click.Choice(["doctor", "nurse", "social_worker",
                                                "coordinator", "clinic_admin"]), required=True)
    @click.password_option()
    def create_staff(email: str, name: str, clinic_id: int, role: str, password: str) -> None:
        """Create a staff account and print its TOTP secret for the authenticator app."""
        from server.extensions import db
        from server.models import Role, StaffMembership, StaffRole, TotpSecret, User
        from server.services.staff_auth import hash_password

        secret = pyotp.random_base32()
        user = User(role=Role.STAFF, display_name=name, email=email.lower(),
                    password_hash=hash_password(password))
        db.session.add(user)
        db.session.flush()
        db.session.add(TotpSecret(user_id=user.id, secret=secret))
        db.session.add(StaffMembership(user_id=user.id, clinic_id=clinic_id,
                                       role=StaffRole(role)))
        db.session.commit()
        uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Følge")
        click.echo(f"Created {email}. Add this to the authenticator app:\n{uri}")

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then stop.")
    @click.option("--batch", default=50, show_default=True, help="Messages claimed at a time.")
    @click.option("--lease", default=120, show_default=True,
                  help="Seconds a claim lasts before another worker may take over.")
    @click.option("--poll", default=2.0, show_default=True, help="Seconds between polls when idle.")
    @click.option("--name", default=None, help="Name in logs and claims (default host:pid).")
    def worker(once: bool, batch: int, lease: int, poll: float, name: str | None) -> None:
        """Deliver due reminders and messages from the outbox (runs until stopped)."""
        import logging
        from datetime import timedelta

        from server.notify.worker import Worker

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # a dozen lines per SMS
        runner = Worker(name=name, batch_size=batch, lease=timedelta(seconds=lease))
        if once:
            click.echo(f"Delivered {runner.run_until_idle()} message(s).")
        else:
            runner.run(poll_seconds=poll)

    @app.cli.command("vapid-keys")
    def vapid_keys() -> None:
        """Print a new VAPID key pair for web push, as environment variables."""
        from server.notify.webpush import generate_vapid_keys

        private, public = generate_vapid_keys()
        click.echo(f"FOLGE_VAPID_PRIVATE_KEY={private}\nFOLGE_VAPID_PUBLIC_KEY={public}")

    @app.cli.command("data-key")
    def data_key() -> None:
        """Print a new key for FOLGE_DATA_KEY (put it first to rotate, then run reseal)."""
        from cryptography.fernet import Fernet

        click.echo(f"FOLGE_DATA_KEY={Fernet.generate_key().decode()}")

    @app.cli.command("reseal")
    def reseal() -> None:
        """Seal every stored secret again with the newest FOLGE_DATA_KEY (after a rotation)."""
        from sqlalchemy import text

        from server.extensions import db
        from server.sealing import reseal as reseal_token

        rows = db.session.execute(text("SELECT user_id, secret FROM totp_secret")).all()
        for user_id, sealed in rows:
            db.session.execute(text("UPDATE totp_secret SET secret = :s WHERE user_id = :u"),
                               {"s": reseal_token(sealed), "u": user_id})
        db.session.commit()
        click.echo(f"Sealed {len(rows)} secret(s) again with the newest key.")

    @app.cli.command("totp-code")
    @click.argument("email")
    def totp_code(email: str) -> None:
        """Print the current TOTP code of a staff account (development only)."""
        if not current_app.config["FOLGE"].is_development:
            click.echo("totp-code works only in development.", err=True)
            sys.exit(2)
        from server.extensions import db
        from server.models import TotpSecret, User

        user = db.session.scalar(select(User).where(User.email == email.lower()))
        secret = db.session.get(TotpSecret, user.id) if user else None
        if secret is None:
            click.echo("No such staff account.", err=True)
            sys.exit(1)
        click.echo(pyotp.TOTP(secret.secret).now())
