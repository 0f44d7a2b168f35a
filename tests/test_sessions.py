"""Sessions live on the server: sign-out, timeouts and disabling end them for every copy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import UserSession
from server.models.base import utcnow
from server.services import accounts
from tests.conftest import CapturingSms, Client, World, sign_in_as


def cookie_of(client: Client) -> str:
    cookie = client.get_cookie("folge_session")
    assert cookie is not None
    return cookie.value


def sign_in_via_sms(client: Client, phone: str, sms: CapturingSms) -> None:
    client.submit("/sign-in", {"phone": phone})
    response = client.submit("/sign-in/code", {"code": sms.last_code(phone)})
    assert response.headers["Location"].endswith("/me/")


def age_session(token_user_id: int, **delta: Any) -> None:
    row = db.session.scalars(select(UserSession).where(UserSession.user_id == token_user_id)).one()
    row.last_seen_at = utcnow() - timedelta(**delta)
    db.session.commit()


def test_cookie_replayed_after_sign_out_is_refused(
    client: Client, world: World, sms: CapturingSms, new_client  # type: ignore[no-untyped-def]
) -> None:
    sign_in_via_sms(client, world.patient_x.user.phone, sms)
    stolen = cookie_of(client)
    thief = new_client()
    thief.set_cookie("folge_session", stolen)
    assert thief.get("/me/").status_code == 200  # the copy works while the session is open
    client.submit("/sign-out", page="/me/")
    assert client.get("/me/").status_code == 302
    response = thief.get("/me/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    row = db.session.scalars(select(UserSession)).one()
    assert row.ended_at is not None and row.end_reason == "signed_out"


def test_session_id_changes_at_sign_in(
    client: Client, world: World, sms: CapturingSms
) -> None:
    phone = world.patient_x.user.phone
    client.submit("/sign-in", {"phone": phone})
    before = cookie_of(client)
    with client.session_transaction() as s:
        assert "_user_id" not in s
        pre_keys = set(s.keys())
    client.submit("/sign-in/code", {"code": sms.last_code(phone)})
    after = cookie_of(client)
    assert before != after
    with client.session_transaction() as s:
        assert s["_user_id"]
        assert "sign_in_attempt" not in s  # the pre-sign-in state was cleared
    assert "sign_in_attempt" in pre_keys
    # A second sign-in gets a different server-side session id.
    client.submit("/sign-out", page="/me/")
    sign_in_via_sms(client, phone, sms)
    tokens = db.session.scalars(select(UserSession.token_hash)).all()
    assert len(set(tokens)) == 2


def test_patient_idle_timeout_is_30_minutes(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    age_session(world.patient_x.user_id, minutes=29)
    assert client.get("/me/").status_code == 200
    age_session(world.patient_x.user_id, minutes=31)
    response = client.get("/me/", follow_redirects=True)
    assert "inactive for a while" in response.text
    assert client.get("/me/").status_code == 302


def test_staff_idle_timeout_is_15_minutes(client: Client, world: World) -> None:
    sign_in_as(client, world.doctor_a)
    age_session(world.doctor_a.id, minutes=14)
    assert client.get("/staff/").status_code == 200
    age_session(world.doctor_a.id, minutes=16)
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/sign-in")


def test_every_session_ends_after_12_hours(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    row = db.session.scalars(select(UserSession)).one()
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)
    db.session.commit()
    response = client.get("/me/", follow_redirects=True)
    assert "signed in for a long time" in response.text
    assert db.session.scalars(select(UserSession)).one().end_reason == "expired"


class TestConfiguredLimits:
    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {"patient_idle_minutes": 5, "staff_idle_minutes": 2, "session_max_hours": 1}

    def test_limits_come_from_configuration(self, client: Client, world: World,
                                            new_client) -> None:  # type: ignore[no-untyped-def]
        sign_in_as(client, world.patient_x.user)
        age_session(world.patient_x.user_id, minutes=6)
        assert client.get("/me/").status_code == 302
        staff = new_client()
        sign_in_as(staff, world.doctor_a)
        age_session(world.doctor_a.id, minutes=3)
        assert staff.get("/staff/").status_code == 302


def test_disabled_account_is_signed_out_on_its_next_request(
    client: Client, world: World
) -> None:
    sign_in_as(client, world.patient_x.user)
    assert client.get("/me/").status_code == 200
    accounts.disable(world.patient_x.user)
    response = client.get("/me/", follow_redirects=True)
    assert "cannot be used right now" in response.text
    assert client.get("/me/").status_code == 302


def test_staff_disabling_a_patient_ends_the_patients_session(
    client: Client, world: World, new_client  # type: ignore[no-untyped-def]
) -> None:
    patient_browser = new_client()
    sign_in_as(patient_browser, world.patient_x.user)
    assert patient_browser.get("/me/").status_code == 200
    sign_in_as(client, world.coordinator_a)
    response = client.submit(f"/staff/patients/{world.patient_x.id}/disable",
                             page=f"/staff/patients/{world.patient_x.id}")
    assert response.status_code == 302
    assert patient_browser.get("/me/").status_code == 302
    page = client.get(f"/staff/patients/{world.patient_x.id}")
    assert "This account is disabled" in page.text
    client.submit(f"/staff/patients/{world.patient_x.id}/enable",
                  page=f"/staff/patients/{world.patient_x.id}")
    assert world.patient_x.user.disabled_at is None


def test_no_store_on_signed_in_pages(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    response = client.get("/me/")
    assert response.headers["Cache-Control"] == "no-store"
