"""Staff sign in with HelseID against the real test provider (tests/oidc_provider.py): PAR,
PKCE, private_key_jwt and DPoP-bound tokens; the staff member found by the keyed hash of
their number; the HPR number kept and shown; password sign-in off where it is turned off."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from server.config import OidcSettings
from server.extensions import db
from server.models.session import UserSession
from server.national_id import oidc, pid
from tests.conftest import Client, World
from tests.oidc_provider import RunningProvider, openid_provider
from tests.test_idporten import through_provider

PID_KEY = "test-pid-key-0123456789-abcdefghijklmnop"
DOCTOR = "13097210181"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    with openid_provider(tmp_path_factory.mktemp("oidc")) as running:
        yield running


@pytest.fixture
def config_overrides(provider: RunningProvider) -> dict[str, Any]:
    oidc.forget_clients()
    return {"helseid": OidcSettings(issuer=provider.issuer, client_id="folge-helseid",
                                    jwks=provider.client_jwks("folge-helseid"), acr=""),
            "pid_key": PID_KEY}


def test_a_doctor_signs_in_with_helseid_and_the_hpr_number_is_shown(
        client: Client, provider: RunningProvider, world: World, app: Any) -> None:
    world.doctor_a.pid_hash = pid.keyed_hash(DOCTOR, PID_KEY)
    db.session.commit()
    page = client.get("/staff/sign-in")
    assert 'href="/staff/sign-in/helseid"' in page.text
    back = client.get(through_provider(client, provider, account="doctor",
                                       start="/staff/sign-in/helseid"))
    assert back.status_code == 302 and back.headers["Location"].endswith("/staff/")
    db.session.refresh(world.doctor_a)
    assert world.doctor_a.hpr_number == "9144889"
    assert "HPR 9144889" in client.get("/staff/").text
    row = db.session.scalars(select(UserSession).where(
        UserSession.user_id == world.doctor_a.id, UserSession.ended_at.is_(None))).one()
    assert row.method == "helseid"
    assert "with HelseID" in client.get("/signed-in/").text


def test_the_token_is_dpop_bound(client: Client, provider: RunningProvider, world: World,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider requires DPoP for this client; a client without it is refused there."""
    world.doctor_a.pid_hash = pid.keyed_hash(DOCTOR, PID_KEY)
    db.session.commit()
    real = oidc.client
    monkeypatch.setattr(oidc, "client", lambda config, dpop=False: real(config, dpop=False))
    refused = client.get(through_provider(client, provider, account="doctor",
                                          start="/staff/sign-in/helseid"))
    assert refused.headers["Location"].endswith("/problem/failed")


def test_an_unknown_staff_member_gets_a_clear_page(client: Client, provider: RunningProvider,
                                                   world: World) -> None:
    page = client.get(through_provider(client, provider, account="doctor",
                                       start="/staff/sign-in/helseid"))
    assert page.status_code == 200 and "No staff account for this HelseID" in page.text
    # A patient's number does not make a staff sign-in.
    world.patient_x.user.pid_hash = pid.keyed_hash(DOCTOR, PID_KEY)
    db.session.commit()
    again = client.get(through_provider(client, provider, account="doctor",
                                        start="/staff/sign-in/helseid"))
    assert "No staff account for this HelseID" in again.text


def test_password_sign_in_can_be_turned_off(client: Client, app: Any, world: World) -> None:
    app.config["FOLGE"] = replace(app.config["FOLGE"], staff_password_sign_in=False)
    page = client.get("/staff/sign-in")
    assert 'name="password"' not in page.text and "Sign in with HelseID" in page.text
    assert client.submit("/staff/sign-in", {"email": "x", "password": "y"}).status_code == 404
    assert client.get("/staff/sign-in/code").status_code == 404
