"""Staff sign in with email, argon2 password and a TOTP code that works once."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import SignInEvent, SignInMethod, SignInOutcome, TotpSecret, User
from server.services import staff_auth
from tests.conftest import PASSWORD, Client, World, totp_now


def password_step(client: Client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.submit("/staff/sign-in", {"email": email, "password": password})


def totp_step(client: Client, code: str):  # type: ignore[no-untyped-def]
    return client.submit("/staff/sign-in/code", {"code": code})


def test_password_is_stored_as_argon2(world: World) -> None:
    assert world.doctor_a.password_hash.startswith("$argon2id$")
    assert PASSWORD not in world.doctor_a.password_hash


def test_staff_sign_in_with_password_and_totp_lands_on_staff_home(
    client: Client, world: World
) -> None:
    response = password_step(client, world.doctor_a.email.upper())
    assert response.headers["Location"].endswith("/staff/sign-in/code")
    assert client.get("/staff/").status_code == 302  # not signed in before the second step
    response = totp_step(client, totp_now(world.doctor_a))
    assert response.headers["Location"].endswith("/staff/")
    assert "Waiting for the clinic" in client.get("/staff/").text  # Today
    home = client.get("/staff/patients?who=all")
    assert "Xena Pasient" in home.text and "Yngve Pasient" in home.text
    assert "Berit Pasient" not in home.text


@pytest.mark.parametrize(
    ("email", "password"),
    [("nobody@test.folge", PASSWORD), ("doctor", "wrong password")],
)
def test_wrong_email_or_password_gets_one_message(
    client: Client, world: World, email: str, password: str
) -> None:
    if email == "doctor":
        email = world.doctor_a.email
    response = password_step(client, email, password)
    assert response.status_code == 200
    assert "The email address or the password is not right." in response.text
    assert f'value="{email}"' in response.text
    assert password not in response.text
    assert client.get("/staff/sign-in/code").status_code == 302


def test_empty_fields_get_messages(client: Client, world: World) -> None:
    response = client.submit("/staff/sign-in", {"email": "", "password": ""})
    assert "Write your work email address." in response.text
    assert "Write your password." in response.text


def test_totp_code_cannot_be_used_twice(client: Client, world: World, new_client) -> None:  # type: ignore[no-untyped-def]
    code = totp_now(world.doctor_a)
    password_step(client, world.doctor_a.email)
    assert totp_step(client, code).headers["Location"].endswith("/staff/")
    other = new_client()
    password_step(other, world.doctor_a.email)
    response = totp_step(other, code)
    assert response.status_code == 200
    assert "already been used" in response.text
    assert other.get("/staff/").status_code == 302


def test_totp_replay_is_refused_by_the_service_across_the_window(world: World) -> None:
    now = time.time()
    secret = db.session.get(TotpSecret, world.doctor_a.id)
    previous_code = pyotp.TOTP(secret.secret).at(now - 30)
    staff_auth.verify_totp(world.doctor_a, pyotp.TOTP(secret.secret).at(now), now)
    # An older code inside the drift window is refused once a newer step was used.
    with pytest.raises(staff_auth.StaffSignInError):
        staff_auth.verify_totp(world.doctor_a, previous_code, now)


@pytest.mark.parametrize(("code", "message"), [
    ("12ab56", "Write the 6 digits"),
    ("000000", "The code is not right"),
])
def test_bad_totp_codes(client: Client, world: World, code: str, message: str) -> None:
    if code == totp_now(world.doctor_a):
        code = "999999"
    password_step(client, world.doctor_a.email)
    response = totp_step(client, code)
    assert message in response.text
    assert client.get("/staff/").status_code == 302


def test_totp_step_without_password_goes_back(client: Client) -> None:
    response = client.get("/staff/sign-in/code")
    assert response.headers["Location"].endswith("/staff/sign-in")


def test_totp_step_expires_after_five_minutes(client: Client, world: World) -> None:
    password_step(client, world.doctor_a.email)
    with client.session_transaction() as s:
        s["staff_pending"] = {"user_id": world.doctor_a.id, "at": time.time() - 301}
    response = totp_step(client, totp_now(world.doctor_a))
    assert response.headers["Location"].endswith("/staff/sign-in")


def test_patients_cannot_use_the_staff_sign_in(client: Client, world: World) -> None:
    user = world.patient_x.user
    user.email = "patient@test.folge"
    user.password_hash = world.doctor_a.password_hash
    db.session.commit()
    response = password_step(client, "patient@test.folge")
    assert "not right" in response.text


def test_too_many_password_tries_from_one_address_are_limited(client: Client,
                                                               world: World) -> None:
    statuses = [password_step(client, world.doctor_a.email, "wrong").status_code
                for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    page = password_step(client, world.doctor_a.email, "wrong")
    assert "Too many tries" in page.text
    assert world.doctor_a.email in page.text


def test_staff_attempts_are_logged_without_secrets(client: Client, world: World) -> None:
    password_step(client, world.doctor_a.email, "wrong-secret")
    password_step(client, world.doctor_a.email)
    totp_step(client, totp_now(world.doctor_a))
    events = db.session.scalars(select(SignInEvent).order_by(SignInEvent.id)).all()
    assert [(e.method, e.outcome) for e in events] == [
        (SignInMethod.PASSWORD, SignInOutcome.FAILURE),
        (SignInMethod.PASSWORD, SignInOutcome.SUCCESS),
        (SignInMethod.TOTP, SignInOutcome.SUCCESS),
    ]
    assert all("wrong-secret" not in e.detail for e in events)
    assert {e.user_id for e in events} == {world.doctor_a.id}


def test_disabled_staff_cannot_sign_in(client: Client, world: World) -> None:
    from server.services import accounts

    accounts.disable(db.session.get(User, world.doctor_a.id))
    response = password_step(client, world.doctor_a.email)
    assert "disabled" in response.text
