"""Smaller items of the security review (item 10): TOTP seeds sealed at rest, "Where you
are signed in" for every role, and sign-in codes sent outside the request."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import OutboxMessage, TotpSecret, UserSession
from server.notify.code_sender import CodeSms, ThreadedCodeSender
from server.notify.errors import TemporaryDeliveryError
from server.notify.sms import SentSms
from server.sealing import SealingError, seal, unseal
from tests.conftest import DATA_KEY, PASSWORD, CapturingSms, Client, World, sign_in_as, totp_now

OTHER_KEY = "Hk2r8Q3wYt6uPz9aB1cD4eF7gH0iJ3kL6mN9oP2qR5s="


# -- TOTP seeds -----------------------------------------------------------------------------

def test_totp_seeds_are_stored_sealed(world: World) -> None:
    stored = db.session.execute(text("SELECT secret FROM totp_secret WHERE user_id = :u"),
                                {"u": world.doctor_a.id}).scalar_one()
    plain = db.session.get(TotpSecret, world.doctor_a.id).secret  # type: ignore[union-attr]
    assert len(plain) >= 16 and plain not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert unseal(stored, (DATA_KEY,)) == plain
    with pytest.raises(SealingError):
        unseal(stored, (OTHER_KEY,))  # the database alone does not give it away


def test_staff_still_sign_in_with_a_sealed_seed(client: Client, world: World) -> None:
    client.submit("/staff/sign-in", {"email": world.doctor_a.email or "", "password": PASSWORD})
    response = client.submit("/staff/sign-in/code", {"code": totp_now(world.doctor_a)})
    assert response.headers["Location"].endswith("/staff/")


def test_a_new_key_in_front_still_opens_old_seals_and_reseal_moves_them(
        app: Flask, world: World) -> None:
    plain = db.session.get(TotpSecret, world.doctor_a.id).secret  # type: ignore[union-attr]
    app.config["FOLGE"] = dataclasses.replace(app.config["FOLGE"],
                                              data_keys=(OTHER_KEY, DATA_KEY))
    db.session.expire_all()
    assert db.session.get(TotpSecret, world.doctor_a.id).secret == plain  # type: ignore[union-attr]
    result = app.test_cli_runner().invoke(args=["reseal"])
    assert "Sealed" in result.output
    stored = db.session.execute(text("SELECT secret FROM totp_secret WHERE user_id = :u"),
                                {"u": world.doctor_a.id}).scalar_one()
    assert unseal(stored, (OTHER_KEY,)) == plain
    assert seal("x", (OTHER_KEY,)) != seal("x", (OTHER_KEY,))  # a fresh IV every time


# -- where you are signed in -------------------------------------------------------------------

@pytest.mark.parametrize("who", ["patient", "relative", "staff"])
def test_everyone_sees_where_they_are_signed_in_and_can_end_the_others(
        new_client: Callable[..., Client], world: World, who: str) -> None:
    user = {"patient": world.patient_x.user, "relative": world.relative,
            "staff": world.doctor_a}[who]
    phone, laptop = new_client(), new_client()
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Mobile Safari/537.36")
    sign_in_as(phone, user)
    sign_in_as(laptop, user)
    page = laptop.get("/signed-in/")
    assert page.status_code == 200
    assert page.text.count('class="section-card"') == 2 and "This browser" in page.text
    assert "Sign out everywhere else" in page.text
    response = laptop.submit("/signed-in/others/end", page="/signed-in/")
    assert response.status_code == 302
    assert "Signed out everywhere else (1)." in laptop.get("/signed-in/").text
    landing = phone.get("/signed-in/", follow_redirects=True)
    assert "You were signed out from another phone or computer." in landing.text


def test_the_device_is_named_from_the_browser(client: Client, world: World) -> None:
    client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
    client.submit("/staff/sign-in", {"email": world.doctor_a.email or "", "password": PASSWORD})
    client.submit("/staff/sign-in/code", {"code": totp_now(world.doctor_a)})
    assert db.session.scalars(select(UserSession)).one().device == "Mobile Safari, iOS"
    assert "Mobile Safari, iOS" in client.get("/signed-in/").text


def test_one_session_can_be_ended_but_only_ones_own(new_client: Callable[..., Client],
                                                    world: World) -> None:
    mine, other, theirs = new_client(), new_client(), new_client()
    sign_in_as(mine, world.patient_x.user)
    sign_in_as(other, world.patient_x.user)
    sign_in_as(theirs, world.patient_y.user)
    rows = {s.user_id: s for s in db.session.scalars(select(UserSession))}
    their_row = rows[world.patient_y.user_id]
    mine.submit(f"/signed-in/{their_row.id}/end", page="/signed-in/")
    db.session.refresh(their_row)
    assert their_row.ended_at is None and theirs.get("/me/").status_code == 200
    my_rows = db.session.scalars(select(UserSession).where(
        UserSession.user_id == world.patient_x.user_id).order_by(UserSession.id)).all()
    mine.submit(f"/signed-in/{my_rows[1].id}/end", page="/signed-in/")
    assert other.get("/me/").status_code == 302 and mine.get("/me/").status_code == 200


def test_ended_and_timed_out_sessions_are_not_listed(client: Client, world: World,
                                                     new_client: Callable[..., Client]) -> None:
    gone = new_client()
    sign_in_as(gone, world.patient_x.user)
    gone.submit("/sign-out", page="/me/")
    sign_in_as(client, world.patient_x.user)
    page = client.get("/signed-in/").text
    assert page.count('class="section-card"') == 1
    assert "Sign out everywhere else" not in page


# -- codes outside the request ------------------------------------------------------------------

class SlowSms(CapturingSms):
    """A provider that holds every send until released, like a slow network."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Event()

    def send(self, to: str, body: str, idempotency_key: str | None = None,
             status_callback: str | None = None) -> SentSms:
        self.started.set()
        assert self.release.wait(10), "the test never released the provider"
        return super().send(to, body, idempotency_key, status_callback)


def test_sign_in_codes_are_sent_after_the_answer(app: Flask, client: Client,
                                                 world: World) -> None:
    slow = SlowSms()
    app.extensions["folge_sms"] = slow
    sender = app.extensions["folge_code_sender"] = ThreadedCodeSender(app)
    response = client.submit("/sign-in", {"phone": world.patient_x.user.phone or ""})
    # The answer came while the provider was still holding the SMS.
    assert response.headers["Location"].endswith("/sign-in/code")
    assert slow.started.wait(5) and slow.sent == []
    slow.release.set()
    sender.wait_until_sent()
    assert len(slow.sent) == 1 and slow.sent[0].to == world.patient_x.user.phone
    code = slow.last_code()
    assert client.submit("/sign-in/code", {"code": code}).headers["Location"].endswith("/me/")


def test_codes_do_not_wait_behind_reminders_in_the_outbox(app: Flask, client: Client,
                                                          world: World, make: Any) -> None:
    make.appointment(world.patient_x)  # reminders and a notice waiting in the outbox
    waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    client.submit("/sign-in", {"phone": world.patient_x.user.phone or ""})
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == waiting
    sms: CapturingSms = app.extensions["folge_sms"]
    assert len(sms.last_code()) == 6


def test_a_code_sender_that_fails_is_logged_and_keeps_running(
        app: Flask, world: World, caplog: pytest.LogCaptureFixture) -> None:
    class Failing(CapturingSms):
        calls = 0

        def send(self, *args: Any, **kwargs: Any) -> SentSms:
            Failing.calls += 1
            if Failing.calls == 1:
                raise TemporaryDeliveryError("provider down")
            return super().send(*args, **kwargs)

    app.extensions["folge_sms"] = failing = Failing()
    sender = ThreadedCodeSender(app)
    sender.submit(CodeSms("+4791234567", "first"))
    sender.submit(CodeSms("+4791234567", "second"))
    sender.wait_until_sent()
    assert [m.body for m in failing.sent] == ["second"]
    assert "could not be sent" in caplog.text
