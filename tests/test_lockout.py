"""Nobody can lock a patient or a staff member out (security review items 4 and 5).

The limits slow an attacker down at their own addresses; the owner's own
sign-in keeps working. Figures are in the README's "Security" section.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select, update

from server.extensions import db
from server.models import (
    OneTimeCode,
    SignInEvent,
    SignInMethod,
    SignInOutcome,
    StaffPendingSignIn,
    TotpSecret,
)
from server.models.base import utcnow
from server.services import codes, staff_auth, trusted_devices
from tests.conftest import PASSWORD, CapturingSms, Client, World, totp_now

ATTACKERS = [f"203.0.113.{n}" for n in range(1, 9)]
OWNER_ADDRESS = "198.51.100.20"


def from_address(new_client: Callable[..., Client], address: str) -> Client:
    browser = new_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def ask_code(client: Client, phone: str):  # type: ignore[no-untyped-def]
    return client.submit("/sign-in", {"phone": phone})


def enter_code(client: Client, code: str):  # type: ignore[no-untyped-def]
    return client.submit("/sign-in/code", {"code": code})


# -- patients and relatives: codes by SMS ------------------------------------------------------

def test_strangers_asking_for_codes_from_many_addresses_do_not_lock_the_owner_out(
        new_client: Callable[..., Client], world: World, sms: CapturingSms) -> None:
    phone = world.patient_x.user.phone or ""
    for address in ATTACKERS:  # more than any one limit, spread over addresses
        for _ in range(3):
            assert ask_code(from_address(new_client, address), phone).status_code == 302
    owner = from_address(new_client, OWNER_ADDRESS)
    assert ask_code(owner, phone).headers["Location"].endswith("/sign-in/code")
    # The strangers made the owner's phone get the one live code, not 25 different ones.
    assert len({message.body for message in sms.sent}) == 1
    assert enter_code(owner, sms.last_code(phone)).headers["Location"].endswith("/me/")


def test_a_valid_code_is_sent_again_rather_than_replaced(
        new_client: Callable[..., Client], world: World, sms: CapturingSms) -> None:
    phone = world.patient_x.user.phone or ""
    ask_code(new_client(), phone)
    first = sms.last_code(phone)
    assert ask_code(new_client(), phone).status_code == 302
    assert len(sms.sent) == 1  # within a minute: not sent again, the owner has it
    db.session.execute(update(OneTimeCode).values(last_sent_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    browser = new_client()
    ask_code(browser, phone)
    assert len(sms.sent) == 2 and sms.last_code(phone) == first
    assert enter_code(browser, first).headers["Location"].endswith("/me/")


def test_re_sends_of_one_code_are_limited_per_number(
        new_client: Callable[..., Client], world: World, sms: CapturingSms) -> None:
    phone = world.patient_x.user.phone or ""
    for _ in range(codes.MAX_SENDS + 3):
        ask_code(from_address(new_client, ATTACKERS[0]), phone)
        db.session.execute(update(OneTimeCode).values(
            last_sent_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    assert len(sms.sent) == codes.MAX_SENDS


def test_a_strangers_wrong_codes_do_not_void_the_owners(
        new_client: Callable[..., Client], world: World, sms: CapturingSms) -> None:
    phone = world.patient_x.user.phone or ""
    stranger = from_address(new_client, ATTACKERS[0])
    ask_code(stranger, phone)
    owner = from_address(new_client, OWNER_ADDRESS)
    ask_code(owner, phone)
    code = sms.last_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(codes.MAX_WRONG_TRIES):
        enter_code(stranger, wrong)
    assert "no longer works" in enter_code(stranger, code).text  # the stranger's attempt is void
    assert enter_code(owner, code).headers["Location"].endswith("/me/")


def test_a_code_used_in_one_browser_works_nowhere_else(
        new_client: Callable[..., Client], world: World, sms: CapturingSms) -> None:
    phone = world.patient_x.user.phone or ""
    first, second = new_client(), new_client()
    ask_code(first, phone)
    ask_code(second, phone)
    code = sms.last_code(phone)
    assert enter_code(first, code).headers["Location"].endswith("/me/")
    assert enter_code(second, code).status_code == 200  # refused, with a message
    assert second.get("/me/").status_code == 302


def test_guessing_one_code_from_many_browsers_ends_it(
        new_client: Callable[..., Client], world: World, sms: CapturingSms) -> None:
    phone = world.patient_x.user.phone or ""
    browsers = [from_address(new_client, address) for address in ATTACKERS[:3]]
    for browser in browsers:
        ask_code(browser, phone)
    code = sms.last_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    for browser in browsers:
        for _ in range(4):  # under the per-browser limit, over the per-code one in total
            enter_code(browser, wrong)
    assert db.session.scalar(select(func.count()).select_from(OneTimeCode).where(
        OneTimeCode.voided_at.is_(None))) == 0
    owner = from_address(new_client, OWNER_ADDRESS)
    ask_code(owner, phone)
    fresh = sms.last_code(phone)
    assert fresh != code  # a new code; the guessed one is gone
    assert enter_code(owner, fresh).headers["Location"].endswith("/me/")


def test_an_unknown_number_is_answered_the_same_way(
        new_client: Callable[..., Client], world: World, sms: CapturingSms) -> None:
    known = ask_code(new_client(), world.patient_x.user.phone or "")
    unknown = ask_code(new_client(), "+4799999999")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert len(sms.sent) == 1


# -- staff: password ---------------------------------------------------------------------------

def password_step(client: Client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.submit("/staff/sign-in", {"email": email, "password": password})


def totp_step(client: Client, code: str):  # type: ignore[no-untyped-def]
    return client.submit("/staff/sign-in/code", {"code": code})


def sign_in_fully(client: Client, world: World) -> None:
    assert password_step(client, world.doctor_a.email or "").status_code == 302
    assert totp_step(client, totp_now(world.doctor_a)).headers["Location"].endswith("/staff/")


def test_wrong_passwords_from_anywhere_do_not_lock_out_a_known_device(
        new_client: Callable[..., Client], world: World) -> None:
    email = world.doctor_a.email or ""
    own_pc = from_address(new_client, OWNER_ADDRESS)
    sign_in_fully(own_pc, world)
    own_pc.post("/sign-out", data={"csrf_token": own_pc.csrf_token("/staff/")})
    assert own_pc.get_cookie(trusted_devices.cookie_name()) is not None
    statuses = []
    for address in ATTACKERS:
        browser = from_address(new_client, address)
        statuses += [password_step(browser, email, "guess").status_code for _ in range(3)]
    assert 429 in statuses  # the account's own limit is reached for unknown browsers
    assert password_step(from_address(new_client, "192.0.2.99"), email).status_code == 429
    # The staff member's own computer still gets in.
    response = password_step(own_pc, email)
    assert response.headers["Location"].endswith("/staff/sign-in/code")


def test_a_forged_or_foreign_device_cookie_does_not_lift_the_limit(
        new_client: Callable[..., Client], world: World) -> None:
    email = world.doctor_a.email or ""
    for address in ATTACKERS:
        browser = from_address(new_client, address)
        for _ in range(3):
            password_step(browser, email, "guess")
    forged = from_address(new_client, "192.0.2.50")
    forged.set_cookie(trusted_devices.cookie_name(), "eyJ1IjoxfQ.forged.signature")
    assert password_step(forged, email).status_code == 429
    colleague = from_address(new_client, "192.0.2.51")  # a device cookie of another account
    colleague.set_cookie(trusted_devices.cookie_name(),
                         trusted_devices.issue(world.coordinator_a.id))
    assert password_step(colleague, email).status_code == 429


def test_the_device_cookie_is_signed_and_http_only(new_client: Callable[..., Client],
                                                   world: World) -> None:
    browser = new_client()
    sign_in_fully(browser, world)
    cookie = browser.get_cookie(trusted_devices.cookie_name())
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert trusted_devices.read(cookie.value) is not None
    assert trusted_devices.read(cookie.value + "x") is None


# -- staff: second factor ----------------------------------------------------------------------

def wrong_totp(user_code: str) -> str:
    return "000000" if user_code != "000000" else "111111"


def test_wrong_second_factor_codes_from_many_addresses_end_the_pending_sign_in(
        new_client: Callable[..., Client], world: World) -> None:
    """The review's case: one pending sign-in took 50 wrong codes from 5 addresses."""
    browser = new_client()
    password_step(browser, world.doctor_a.email or "")
    cookie = browser.get_cookie("folge_session")
    assert cookie is not None
    copies = []
    for address in ATTACKERS[:5]:  # the same session cookie, replayed from other addresses
        copy = from_address(new_client, address)
        copy.set_cookie("folge_session", cookie.value)
        copies.append(copy)
    for copy in copies:
        totp_step(copy, wrong_totp(totp_now(world.doctor_a)))
    answer = totp_step(copies[0], totp_now(world.doctor_a))  # even the right code, now
    assert answer.headers["Location"].endswith("/staff/sign-in")
    assert browser.get("/staff/").status_code == 302  # not signed in
    pending = db.session.scalars(select(StaffPendingSignIn)).one()
    assert pending.ended_at is not None and pending.tries == staff_auth.MAX_TOTP_TRIES
    wrong = db.session.scalar(select(func.count()).select_from(SignInEvent).where(
        SignInEvent.method == SignInMethod.TOTP, SignInEvent.outcome == SignInOutcome.FAILURE,
        SignInEvent.detail == "wrong_code"))
    assert wrong == staff_auth.MAX_TOTP_TRIES


def test_wrong_codes_count_per_account_over_every_pending_sign_in(
        new_client: Callable[..., Client], world: World) -> None:
    first, second = new_client(), new_client()
    password_step(first, world.doctor_a.email or "")
    password_step(second, world.doctor_a.email or "")
    wrong = wrong_totp(totp_now(world.doctor_a))
    for _ in range(3):
        totp_step(first, wrong)
    for _ in range(2):
        totp_step(second, wrong)
    assert db.session.scalar(select(func.count()).select_from(StaffPendingSignIn).where(
        StaffPendingSignIn.ended_at.is_(None))) == 0
    assert totp_step(first, totp_now(world.doctor_a)).headers["Location"].endswith(
        "/staff/sign-in")
    # Starting again with the password works, and the count starts afresh.
    assert db.session.get(TotpSecret, world.doctor_a.id).failed_tries == 0  # type: ignore[union-attr]
    sign_in_fully(new_client(), world)


def test_parallel_wrong_codes_cannot_share_a_try(new_client: Callable[..., Client],
                                                 world: World) -> None:
    browser = new_client()
    password_step(browser, world.doctor_a.email or "")
    cookie = browser.get_cookie("folge_session")
    assert cookie is not None
    wrong = wrong_totp(totp_now(world.doctor_a))
    copies = []
    for n in range(12):
        copy = from_address(new_client, f"203.0.113.{100 + n}")
        copy.set_cookie("folge_session", cookie.value)
        copies.append((copy, copy.csrf_token("/staff/sign-in")))
    threads = [threading.Thread(target=lambda c=c, t=t: c.post(
        "/staff/sign-in/code", data={"csrf_token": t, "code": wrong})) for c, t in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    checked = db.session.scalar(select(func.count()).select_from(SignInEvent).where(
        SignInEvent.method == SignInMethod.TOTP, SignInEvent.detail == "wrong_code"))
    assert checked == staff_auth.MAX_TOTP_TRIES  # 12 tried at once, exactly 5 were checked
    assert db.session.scalars(select(StaffPendingSignIn)).one().tries == staff_auth.MAX_TOTP_TRIES
