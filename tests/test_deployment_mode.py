"""Deployment settings that must not be got wrong by accident (security review items 2, 3).

- No FOLGE_ENV means production, which refuses to start without its secrets and
  its public URL; the development pages exist only in development and answer only
  this machine.
- Every link that leaves the app is built on FOLGE_PUBLIC_BASE_URL, never on a
  Host or X-Forwarded-Host header; TRUSTED_HOSTS comes from the environment.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server import demo
from server.config import PROJECT_ROOT, ConfigError, load_config
from server.extensions import db
from server.models import InboundSms, OutboxMessage
from server.services import relatives
from server.services.relatives import InviteInput
from tests.conftest import (
    DATA_KEY,
    CapturingSms,
    Client,
    Factory,
    World,
    another_app,
    deliver_now,
    sign_in_as,
)

PRODUCTION = {"FOLGE_SECRET_KEY": "s" * 48, "FOLGE_DATA_KEY": DATA_KEY,
              "FOLGE_DATABASE_URL": "postgresql+psycopg://folge@/folge",
              "FOLGE_PUBLIC_BASE_URL": "https://folge.example.no",
              # No HelseID here: staff sign in with password and TOTP, which production has
              # to be told to allow.
              "FOLGE_STAFF_PASSWORD_SIGN_IN": "1"}


def test_without_folge_env_the_app_starts_as_production() -> None:
    config = load_config(PRODUCTION)
    assert config.is_production and not config.is_development
    assert config.trusted_hosts == ("folge.example.no",)


@pytest.mark.parametrize("missing", ["FOLGE_SECRET_KEY", "FOLGE_DATA_KEY", "FOLGE_DATABASE_URL",
                                     "FOLGE_PUBLIC_BASE_URL"])
def test_a_bare_production_start_refuses_without_each_required_setting(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError, match=missing) as refused:
        load_config(env)
    assert "FOLGE_ENV is not set" in str(refused.value)


def test_gunicorn_with_only_a_database_url_does_not_start() -> None:
    """The review's case: wsgi:app with nothing but a database URL. It must not come up
    in development mode (which shows every sign-in code); it stops with a message."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLGE_")}
    env["FOLGE_DATABASE_URL"] = "sqlite:////nonexistent/never-opened.sqlite3"
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "FOLGE_SECRET_KEY is not set" in result.stderr
    assert "FOLGE_ENV is not set, so this is a production start" in result.stderr


def test_production_needs_an_https_public_url() -> None:
    with pytest.raises(ConfigError, match="https"):
        load_config({**PRODUCTION, "FOLGE_PUBLIC_BASE_URL": "http://folge.example.no"})
    with pytest.raises(ConfigError, match="FOLGE_PUBLIC_BASE_URL"):
        load_config({**PRODUCTION, "FOLGE_PUBLIC_BASE_URL": "https://folge.example.no/app?x=1"})


def test_development_public_url_is_the_demos_own_address_with_its_port() -> None:
    env = {"FOLGE_ENV": "development", "FOLGE_SECRET_KEY": "dev", "FOLGE_DATA_KEY": DATA_KEY,
           "FOLGE_DATABASE_URL": "sqlite://", "FOLGE_VAPID_PRIVATE_KEY": "x"}
    assert load_config(env).public_base_url == "http://127.0.0.1:8000"
    assert load_config({**env, "PORT": "8123"}).public_base_url == "http://127.0.0.1:8123"
    assert load_config({**env, "FOLGE_PUBLIC_BASE_URL": "http://demo.local:9000/"}
                       ).public_base_url == "http://demo.local:9000"


def test_trusted_hosts_come_from_the_environment() -> None:
    config = load_config({**PRODUCTION, "FOLGE_TRUSTED_HOSTS": "folge.example.no, .example.no"})
    assert config.trusted_hosts == ("folge.example.no", ".example.no")
    assert config.flask_settings()["TRUSTED_HOSTS"] == ["folge.example.no", ".example.no"]


@pytest.fixture
def dev_app(migrated_database: str, tmp_path: Path) -> Iterator[Flask]:
    with another_app(migrated_database, tmp_path, env="development") as app:
        demo.seed()
        yield app


@pytest.mark.parametrize("environ", [
    {"REMOTE_ADDR": "10.0.0.8"},
    {"REMOTE_ADDR": "192.0.2.44"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=198.51.100.7"},
])
def test_development_pages_refuse_requests_from_elsewhere(dev_app: Flask,
                                                           environ: dict[str, str]) -> None:
    browser: Client = dev_app.test_client()  # type: ignore[assignment]
    browser.environ_base.update(environ)
    assert browser.get("/dev/outbox").status_code == 404
    token = browser.csrf_token("/sign-in")  # a valid token does not help either
    response = browser.post("/dev/reply", data={"csrf_token": token, "from": "+4791234567",
                                                "body": "JA"})
    assert response.status_code == 404
    assert db.session.scalar(select(InboundSms).where(
        InboundSms.from_number == "+4791234567")) is None  # (the demo has an SMS from Ola)


def test_development_pages_answer_this_machine(dev_app: Flask) -> None:
    browser = dev_app.test_client()
    for address in ("127.0.0.1", "::1"):
        response = browser.get("/dev/outbox", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200 and "SMS" in response.text


def test_invitation_links_ignore_forwarded_hosts(migrated_database: str, tmp_path: Path) -> None:
    """The review's case: FOLGE_PROXY_COUNT=1, a patient sends X-Forwarded-Host: evil.example.
    The SMS carries the public URL, not the forwarded host."""
    with another_app(migrated_database, tmp_path, proxy_count=1,
                     public_base_url="https://folge.example.no") as app:
        patient = Factory().patient(Factory().clinic())
        browser: Client = app.test_client()  # type: ignore[assignment]
        sign_in_as(browser, patient.user)
        headers = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
        token = browser.csrf_token("/me/relatives/invite")
        browser.post("/me/relatives/invite", headers=headers, data={
            "csrf_token": token, "name": "Mona", "relationship": "mor", "phone": "412 34 567",
            "scopes": "appointments"})
        [message] = app.extensions["folge_sms"].sent
        assert "https://folge.example.no/invite/" in message.body
        assert "evil.example" not in message.body


def test_links_made_outside_a_request_use_the_public_url(app: Flask, world: World,
                                                         sms: CapturingSms) -> None:
    app.config["FOLGE"] = dataclasses.replace(app.config["FOLGE"],
                                              public_base_url="https://folge.example.no")
    relatives.invite(world.patient_x, InviteInput("Mona", "mor", phone="+4741234567"))
    assert "https://folge.example.no/invite/" in sms.sent[-1].body


def test_sms_delivery_callbacks_use_the_public_url(app: Flask, world: World, make: Any) -> None:
    app.config["FOLGE"] = dataclasses.replace(app.config["FOLGE"],
                                              public_base_url="https://folge.example.no")
    seen: list[str | None] = []

    class Recording(CapturingSms):
        def send(self, to: str, body: str, idempotency_key: str | None = None,
                 status_callback: str | None = None) -> Any:
            seen.append(status_callback)
            return super().send(to, body, idempotency_key, status_callback)

    app.extensions["folge_sms"] = Recording()
    appointment = make.appointment(world.patient_x)
    deliver_now(OutboxMessage.appointment_id == appointment.id)
    assert seen and set(seen) == {"https://folge.example.no/webhooks/sms/status"}
    assert db.session.scalars(select(OutboxMessage)).first() is not None


def test_requests_for_an_untrusted_host_are_refused(migrated_database: str,
                                                    tmp_path: Path) -> None:
    with another_app(migrated_database, tmp_path, trusted_hosts=("folge.example.no",)) as app:
        browser = app.test_client()
        assert browser.get("/sign-in", base_url="http://folge.example.no").status_code == 200
        assert browser.get("/sign-in", base_url="http://evil.example").status_code == 400


def test_passkeys_in_production_belong_to_the_public_url(migrated_database: str,
                                                          tmp_path: Path) -> None:
    with another_app(migrated_database, tmp_path, env="production",
                     public_base_url="https://folge.example.no") as app:
        browser: Client = app.test_client()  # type: ignore[assignment]
        page = browser.get("/sign-in", base_url="https://folge.example.no")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert token is not None
        options = browser.post("/sign-in/passkey/options", base_url="https://folge.example.no",
                               headers={"X-CSRFToken": token.group(1),
                                        "Referer": "https://folge.example.no/sign-in"})
        assert options.status_code == 200 and options.json["rpId"] == "folge.example.no"



def test_production_needs_a_way_for_staff_to_sign_in() -> None:
    without = {k: v for k, v in PRODUCTION.items() if k != "FOLGE_STAFF_PASSWORD_SIGN_IN"}
    with pytest.raises(ConfigError, match="FOLGE_HELSEID_ISSUER"):
        load_config(without)
    assert load_config(PRODUCTION).staff_password_sign_in is True
    assert load_config({**PRODUCTION, "FOLGE_ENV": "development"}).staff_password_sign_in
