"""Patients sign in with a verified mobile number and a one-time SMS code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import OneTimeCode, SignInEvent, SignInMethod, SignInOutcome
from server.models.base import utcnow
from server.services.phone_numbers import display_mobile
from tests.conftest import CapturingSms, Client, Factory, World


def _csrf_pair(a: str, b: str) -> tuple[str, str]:
    """The CSRF tokens of two pages, so a comparison can ignore them."""
    import re

    pattern = r'name="csrf_token" type="hidden" value="([^"]+)"'
    found_a, found_b = re.search(pattern, a), re.search(pattern, b)
    assert found_a and found_b
    return found_a.group(1), found_b.group(1)


def ask_code(client: Client, phone: str):  # type: ignore[no-untyped-def]
    return client.submit("/sign-in", {"phone": phone})


def enter(client: Client, code: str):  # type: ignore[no-untyped-def]
    return client.submit("/sign-in/code", {"code": code})


def latest_attempt() -> OneTimeCode:
    attempt = db.session.scalars(select(OneTimeCode).order_by(OneTimeCode.created_at.desc())).first()
    assert attempt is not None
    return attempt


def test_code_is_six_digits_hashed_and_expires_in_ten_minutes(
    client: Client, world: World, sms: CapturingSms
) -> None:
    phone = world.patient_x.user.phone
    ask_code(client, phone)
    code = sms.last_code(phone)
    assert len(code) == 6 and code.isdigit()
    attempt = latest_attempt()
    assert attempt.code_hash and code not in attempt.code_hash
    assert attempt.user_id == world.patient_x.user_id
    lifetime = attempt.expires_at - attempt.created_at
    assert timedelta(minutes=9, seconds=59) <= lifetime <= timedelta(minutes=10)


def test_sms_text_is_discreet_and_in_the_patients_language(
    client: Client, make: Factory, sms: CapturingSms
) -> None:
    patient = make.patient(make.clinic(), language="en")
    ask_code(client, patient.user.phone)
    body = sms.sent[-1].body
    assert "Følge" in body and "10 minutes" in body
    assert "LAR" not in body and "clinic" not in body.lower()


def test_unknown_number_gets_the_same_answer_and_no_sms(
    client: Client, world: World, sms: CapturingSms, new_client  # type: ignore[no-untyped-def]
) -> None:
    known = ask_code(client, world.patient_x.user.phone)
    other = new_client()
    unknown = ask_code(other, "+47 98 76 54 32")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    page_known = client.get("/sign-in/code").text
    page_unknown = other.get("/sign-in/code").text
    # Same words for both; only the number itself differs.
    assert page_known.replace(display_mobile(world.patient_x.user.phone), "N") == \
        page_unknown.replace("987 65 432", "N").replace(*_csrf_pair(page_unknown, page_known))
    assert [m.to for m in sms.sent] == [world.patient_x.user.phone]
    # Any code for the unknown number is "not right", exactly like a wrong code.
    response = enter(other, "123456")
    assert "The code is not right" in response.text


def test_unverified_or_disabled_numbers_get_no_code(
    client: Client, make: Factory, sms: CapturingSms
) -> None:
    clinic = make.clinic()
    unverified = make.patient(clinic, verified=False)
    ask_code(client, unverified.user.phone)
    assert sms.sent == []


def test_plus47_with_spaces_signs_in(client: Client, world: World, sms: CapturingSms) -> None:
    digits = world.patient_x.user.phone.removeprefix("+47")
    spaced = f"+47 {digits[:3]} {digits[3:5]} {digits[5:]}"
    ask_code(client, spaced)
    response = enter(client, sms.last_code())
    assert response.headers["Location"].endswith("/me/")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abcdefgh", "can only have digits"),
        ("91234", "too short"),
        ("+46 70 123 45 67", "Only Norwegian mobile numbers"),
        ("", "Write your mobile number"),
    ],
)
def test_bad_numbers_get_a_clear_message_and_keep_what_was_typed(
    client: Client, world: World, sms: CapturingSms, typed: str, message: str
) -> None:
    response = ask_code(client, typed)
    assert response.status_code == 200
    assert message in response.text
    assert 'class="error-summary"' in response.text
    assert f'value="{typed}"' in response.text or typed == ""
    assert sms.sent == []
    assert db.session.scalar(select(OneTimeCode)) is None


def test_wrong_code_counts_down_and_the_sixth_try_is_refused(
    client: Client, world: World, sms: CapturingSms
) -> None:
    phone = world.patient_x.user.phone
    ask_code(client, phone)
    right = sms.last_code(phone)
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = enter(client, wrong)
        assert response.status_code == 200
        assert f"{left} tries left" in response.text
    fifth = enter(client, wrong)
    assert "too many times" in fifth.text
    sixth = enter(client, right)
    assert "too many times" in sixth.text
    assert client.get("/me/").status_code == 302
    assert latest_attempt().voided_at is not None


def test_expired_code_is_refused(client: Client, world: World, sms: CapturingSms) -> None:
    ask_code(client, world.patient_x.user.phone)
    attempt = latest_attempt()
    attempt.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = enter(client, sms.last_code())
    assert "expired" in response.text
    assert client.get("/me/").status_code == 302


def test_code_works_once(client: Client, world: World, sms: CapturingSms, new_client) -> None:  # type: ignore[no-untyped-def]
    ask_code(client, world.patient_x.user.phone)
    code = sms.last_code()
    with client.session_transaction() as s:
        attempt_id = s["sign_in_attempt"]
    assert enter(client, code).headers["Location"].endswith("/me/")
    # Replaying the same attempt and code in another browser session fails.
    other = new_client()
    other.get("/sign-in")
    with other.session_transaction() as s:
        s["sign_in_attempt"] = attempt_id
    response = enter(other, code)
    assert "already been used" in response.text


def test_code_is_bound_to_the_attempt_it_was_sent_for(
    client: Client, world: World, sms: CapturingSms, new_client  # type: ignore[no-untyped-def]
) -> None:
    phone = world.patient_x.user.phone
    ask_code(client, phone)
    first_code = sms.last_code(phone)
    other = new_client()
    ask_code(other, phone)
    second_code = sms.last_code(phone)
    if first_code == second_code:  # one chance in a million
        return
    response = enter(other, first_code)
    assert "The code is not right" in response.text


@pytest.mark.parametrize(("typed", "message"), [("12ab56", "only digits"), ("12345", "6 digits")])
def test_malformed_code_gets_a_message_and_costs_no_try(
    client: Client, world: World, typed: str, message: str
) -> None:
    ask_code(client, world.patient_x.user.phone)
    response = enter(client, typed)
    assert message in response.text
    assert f'value="{typed}"' in response.text
    assert latest_attempt().failed_tries == 0


def test_code_page_without_attempt_sends_back_to_the_number(client: Client) -> None:
    response = client.get("/sign-in/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")


def test_too_many_code_requests_for_one_number_from_one_address(
    client: Client, world: World, sms: CapturingSms, new_client  # type: ignore[no-untyped-def]
) -> None:
    phone = world.patient_x.user.phone
    for _ in range(5):
        ask_code(new_client(), phone)
    # One live code per number, re-sent at most once a minute: one SMS for five requests.
    assert len(sms.sent) == 1
    response = ask_code(client, phone)
    assert response.status_code == 429
    assert "Too many tries" in response.text
    assert 'name="phone"' in response.text and phone in response.text
    assert len(sms.sent) == 1
    events = db.session.scalars(
        select(SignInEvent).where(SignInEvent.outcome == SignInOutcome.RATE_LIMITED)
    ).all()
    assert len(events) == 1


def test_too_many_code_requests_from_one_address(
    client: Client, make: Factory, sms: CapturingSms
) -> None:
    clinic = make.clinic()
    phones = [make.patient(clinic).user.phone for _ in range(31)]
    statuses = [ask_code(client, p).status_code for p in phones]
    assert statuses[:30] == [302] * 30
    assert statuses[30] == 429


def test_every_attempt_is_logged_without_the_code(
    client: Client, world: World, sms: CapturingSms
) -> None:
    ask_code(client, world.patient_x.user.phone)
    code = sms.last_code()
    enter(client, "000000" if code != "000000" else "111111")
    enter(client, code)
    events = db.session.scalars(select(SignInEvent).order_by(SignInEvent.id)).all()
    kinds = [(e.method, e.outcome) for e in events]
    assert kinds == [
        (SignInMethod.SMS_CODE_REQUEST, SignInOutcome.SUCCESS),
        (SignInMethod.SMS_CODE, SignInOutcome.FAILURE),
        (SignInMethod.SMS_CODE, SignInOutcome.SUCCESS),
    ]
    for event in events:
        assert code not in event.detail
    assert events[-1].user_id == world.patient_x.user_id
