"""Security baseline: headers, CSRF, cookies and the production secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from server.config import ConfigError, load_config
from server.extensions import db
from server.models import OneTimeCode
from tests.conftest import Client, World, sign_in_as


def csp_of(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = response.headers["Content-Security-Policy"]
    parts = [p.strip().split(" ", 1) for p in policy.split(";") if p.strip()]
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


@pytest.mark.parametrize("url", ["/sign-in", "/offline/nb", "/sw.js", "/manifest.webmanifest"])
def test_security_headers_everywhere(client: Client, url: str) -> None:
    response = client.get(url)
    csp = csp_of(response)
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_no_inline_script_in_any_template() -> None:
    for template in Path("templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and "onclick=" not in text, template


def test_signed_in_pages_are_no_store(client: Client, world: World) -> None:
    sign_in_as(client, world.doctor_a)
    for url in ("/staff/", f"/staff/patients/{world.patient_x.id}"):
        assert client.get(url).headers["Cache-Control"] == "no-store"


def test_post_without_csrf_token_changes_nothing(client: Client, world: World) -> None:
    response = client.post("/sign-in", data={"phone": world.patient_x.user.phone})
    assert response.status_code == 400
    assert "The form had expired" in response.text
    assert db.session.scalar(select(OneTimeCode)) is None
    sign_in_as(client, world.coordinator_a)
    response = client.post(f"/staff/patients/{world.patient_x.id}/disable")
    assert response.status_code == 400
    assert world.patient_x.user.disabled_at is None


def test_json_endpoints_need_the_csrf_header(client: Client) -> None:
    assert client.post("/sign-in/passkey/options").status_code == 400
    token = client.csrf_token()
    ok = client.post("/sign-in/passkey/options", headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and "challenge" in ok.json


def test_cookie_flags_in_development_and_test(client: Client, world: World) -> None:
    client.get("/sign-in")
    cookie = client.get_cookie("folge_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_production_cookie_is_secure_host_prefixed_and_hsts_is_sent(
    migrated_database: str, tmp_path: Path
) -> None:
    from tests.conftest import another_app

    with another_app(migrated_database, tmp_path, env="production") as app:
        browser = app.test_client()
        response = browser.get("/sign-in", base_url="https://folge.example")
        header = response.headers["Set-Cookie"]
        assert header.startswith("__Host-folge=")
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
        assert "Path=/" in header and "Domain" not in header
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
        # Plain http is sent to https in production.
        insecure = browser.get("/sign-in", base_url="http://folge.example")
        assert insecure.status_code in (301, 302)
        assert insecure.headers["Location"].startswith("https://")


def test_production_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="FOLGE_SECRET_KEY"):
        load_config({"FOLGE_ENV": "production",
                     "FOLGE_DATABASE_URL": "postgresql+psycopg://x@/y"})


def test_production_without_a_database_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="FOLGE_DATABASE_URL"):
        load_config({"FOLGE_ENV": "production", "FOLGE_SECRET_KEY": "s" * 40})


def test_bad_numbers_in_configuration_are_reported() -> None:
    with pytest.raises(ConfigError, match="FOLGE_STAFF_IDLE_MINUTES"):
        load_config({"FOLGE_ENV": "testing", "FOLGE_SECRET_KEY": "k",
                     "FOLGE_DATABASE_URL": "sqlite://", "FOLGE_STAFF_IDLE_MINUTES": "ten"})


def test_development_outbox_does_not_exist_outside_development(client: Client) -> None:
    assert client.get("/dev/outbox").status_code == 302 or \
        client.get("/dev/outbox").status_code == 404
    assert "dev.outbox" not in client.application.view_functions


def test_development_outbox_shows_codes_in_development(
    migrated_database: str, tmp_path: Path
) -> None:
    from server import demo
    from tests.conftest import another_app

    with another_app(migrated_database, tmp_path, env="development") as app:
        # The development SMS adapter, which keeps what it sends in the database; the code is
        # still sent in the request (a sending thread could outlive the test's connections).
        del app.extensions["folge_sms"]
        demo.seed()
        browser: Client = app.test_client()  # type: ignore[assignment]
        browser.submit("/sign-in", {"phone": "912 34 567"})
        outbox = browser.get("/dev/outbox").text
        assert "+4791234567" in outbox and "Følge" in outbox
