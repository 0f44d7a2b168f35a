"""Each cause of a server error the review found, fixed where it lives (security review
items 8 and 9). The property-based walk over every form is tests/test_hostile_forms.py."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select
from wtforms.fields.choices import SelectFieldBase
from wtforms.validators import Optional

import server.errors as errors
from server.extensions import db
from server.forms.base import Form
from server.models import (
    Appointment,
    FeedbackResponse,
    Passkey,
    RelativeObservation,
    StaffRole,
    TakeHomeRequest,
    User,
)
from server.numbers import MAX_ID, row_id, whole_number
from server.services import passkeys
from tests.conftest import Client, Factory, World, endpoint_urls, sign_in_as

HUGE = "9" * 5000


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


# -- JSON bodies that are not objects ------------------------------------------------------

@pytest.mark.parametrize("body", ["[]", '"text"', "5", "null", '[1, {"a": 2}]', "{not json"])
def test_json_that_is_not_an_object_never_breaks_a_post(
        app: Flask, world: World, things: dict[str, Any], new_client: Any, body: str) -> None:
    """Sent to every POST endpoint, as every role: a 4xx answer, never a 5xx (the error page
    itself used to fail on it too)."""
    posts = [(e, u) for e, m, u in endpoint_urls(app, things) if m == "POST"]
    assert len(posts) >= 30
    for who in (None, world.patient_x.user, world.relative, world.doctor_a):
        browser = new_client()
        if who is not None:
            sign_in_as(browser, who)
        token = browser.csrf_token("/")
        for endpoint, url in posts:
            response = browser.post(url, data=body, content_type="application/json",
                                    headers={"X-CSRFToken": token})
            assert response.status_code < 500, (endpoint, body, response.status_code)


# -- numbers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/staff/patients/9223372036854775808", "/staff/patients/9223372036854775807",
    "/staff/patients/2147483648", "/staff/appointments/" + "9" * 40,
    "/me/appointments/18446744073709551616", "/me/take-home/99999999999",
    "/staff/patients/0",
])
def test_ids_too_large_for_the_database_are_not_found(client: Client, world: World,
                                                     url: str) -> None:
    sign_in_as(client, world.doctor_a if url.startswith("/staff") else world.patient_x.user)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("text", "expected"), [
    ("7", 7), (" 12 ", 12), ("0", 0), ("²", None), ("٣", None), ("７", None), (HUGE, None),
    ("1e3", None), ("-1", None), ("+5", None), ("", None), (None, None), ("3.0", None),
    (True, None), (4, 4),
])
def test_the_number_parser_takes_only_ascii_digits(text: object, expected: int | None) -> None:
    assert whole_number(text, 0, 10**6) == expected


def test_ids_are_bounded_to_the_database_integer() -> None:
    assert row_id(str(MAX_ID)) == MAX_ID
    assert row_id(str(MAX_ID + 1)) is None and row_id("0") is None


@pytest.mark.parametrize("score", ["²", HUGE, "٣", "-0", "10²", "\x00"])
def test_odd_digits_in_check_in_scores_get_a_message(client: Client, world: World,
                                                    score: str) -> None:
    sign_in_as(client, world.patient_x.user)
    page = "/me/feedback/how_are_things"
    fields = {"overall": score, "personally": "5", "relationships": "5", "social": "5",
              "comment": "hei", "destination": "team"}
    response = client.submit(page, fields)
    assert response.status_code == 200 and "Choose a number from 0 to 10." in response.text
    assert count(FeedbackResponse) == 0


@pytest.mark.parametrize("threshold", ["²", HUGE, "٣", "1" * 30])
def test_odd_digits_in_alert_thresholds_get_a_message(client: Client, make: Factory,
                                                      world: World, threshold: str) -> None:
    admin = make.staff(world.clinic_a, role=StaffRole.CLINIC_ADMIN)
    sign_in_as(client, admin)
    url = f"/staff/clinics/{world.clinic_a.id}/feedback"
    response = client.submit(url, {"threshold_how_are_things": threshold,
                                   "threshold_how_was_the_meeting": "36",
                                   "you_said_we_did": ""})
    assert response.status_code == 200 and "Write a whole number from 0 to" in response.text


@pytest.mark.parametrize("value", ["²", HUGE, "-1", "9223372036854775808", "\x00"])
def test_odd_message_ids_on_the_letter_queue_change_nothing(client: Client, world: World,
                                                           value: str) -> None:
    sign_in_as(client, world.doctor_a)
    response = client.submit("/staff/letters/printed", {"message_id": value},
                             page="/staff/letters")
    assert response.status_code == 302
    assert "0 letters marked as printed." in client.get("/staff/letters").text


# -- text -------------------------------------------------------------------------------------

def test_a_nul_byte_in_a_text_field_gets_a_message_and_keeps_the_text(
        client: Client, world: World, make: Factory, things: dict[str, Any]) -> None:
    sign_in_as(client, world.relative)
    url = f"/relative/patients/{world.patient_x.id}/observations"
    before = count(RelativeObservation)
    response = client.submit(url, {"kind": "worry", "text": "Hun sover lite\x00 om dagen"})
    assert response.status_code == 200
    assert "cannot be saved" in response.text
    assert "Hun sover lite om dagen" in response.text  # kept, without the NUL
    assert count(RelativeObservation) == before


def test_a_place_of_only_spaces_in_a_decision_gets_a_message(
        client: Client, world: World, make: Factory) -> None:
    request = make.take_home(world.patient_x)
    sign_in_as(client, world.doctor_a)
    url = f"/staff/take-home/{request.id}/decide"
    page = f"/staff/take-home/{request.id}"
    response = client.submit(url, {"outcome": "partly", "reason": "Kortere periode.",
                                   "place": "   "}, page=page)
    assert response.status_code == 200
    assert "Choose one of the options shown." in response.text
    assert "Kortere periode." in response.text  # what the doctor wrote is still there
    db.session.refresh(request)
    assert request.decided_at is None
    response = client.submit(url, {"outcome": "partly", "reason": "Kortere periode.",
                                   "place": "pharmacy", "place_name": "    "}, page=page)
    assert response.status_code == 302
    stored = db.session.get(TakeHomeRequest, request.id)
    assert stored is not None and stored.approved_place_name.strip() == stored.approved_place_name


def upload_csv(client: Client, world: World, column: str, value: str) -> Any:
    """Import one line for patient X, 30 days ahead, with ``column`` set to ``value``."""
    sign_in_as(client, world.doctor_a)
    day = (world.patient_x.user.created_at + timedelta(days=30)).strftime("%Y-%m-%d")
    content = (f"patient,date,time,service,service_name,{column}\n"
               f"{world.patient_x.id},{day},10:00,gp,Lege,{value}\n")
    token = client.csrf_token("/staff/appointments/import")
    return client.post("/staff/appointments/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode()), "a.csv")},
        content_type="multipart/form-data")


def test_csv_with_a_cell_over_the_csv_limit_is_refused_with_a_line(client: Client,
                                                                   world: World) -> None:
    response = upload_csv(client, world, "prepare", '"' + "x" * 140_000 + '"')
    assert response.status_code == 200 and "Nothing was imported" in response.text
    assert count(Appointment) == 0


@pytest.mark.parametrize("duration", ["0", "-30", "²", HUGE, "100000"])
def test_csv_lengths_out_of_range_are_refused_with_a_line(client: Client, world: World,
                                                          duration: str) -> None:
    response = upload_csv(client, world, "duration", duration)
    assert response.status_code == 200 and "is not a number of minutes" in response.text
    assert count(Appointment) == 0


# -- the database session after an error --------------------------------------------------------

def test_a_passkey_that_is_already_stored_gets_a_message(
        client: Client, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    db.session.add(Passkey(user_id=world.patient_y.user_id, credential_id=b"same-id",
                           public_key=b"k", name="Y's phone"))
    db.session.commit()
    monkeypatch.setattr(passkeys, "verify_registration_response", lambda **_: SimpleNamespace(
        credential_id=b"same-id", credential_public_key=b"k2", sign_count=0))
    sign_in_as(client, world.patient_x.user)
    token = client.csrf_token("/account/passkeys")
    client.post("/account/passkeys/options", headers={"X-CSRFToken": token})
    response = client.post("/account/passkeys", json={"id": "x", "response": {}},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400 and "already added" in response.json["error"]
    assert count(Passkey) == 1


def test_the_error_page_rolls_back_a_failed_transaction(app: Flask, client: Client,
                                                        world: World) -> None:
    def clash() -> str:
        db.session.add(User(role=world.doctor_a.role, display_name="Dup",
                            email=world.doctor_a.email))
        db.session.flush()  # unique email: IntegrityError inside the request
        return "unreachable"

    app.add_url_rule("/staff/clash", "staff.clash", clash)
    app.testing = False  # answer with the error page instead of raising into the test
    sign_in_as(client, world.doctor_a)
    response = client.get("/staff/clash")
    assert response.status_code == 500
    # The full translated page, drawn with the signed-in user: the session was rolled back.
    assert "Something went wrong on our side" in response.text and "Sign out" in response.text


def test_even_a_broken_error_page_answers_plainly(app: Flask, client: Client,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("template trouble")

    monkeypatch.setattr(errors, "render_template", broken)
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Something went wrong" in response.text


# -- redirects (item 9) ------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/%09/evil.example", "/\t/evil.example", "//evil.example", "/\\evil.example",
    "https://evil.example/", "/\r\nSet-Cookie: x=1", "/%0d%0aSet-Cookie:x=1", "/ /evil.example",
    "/\x00", "javascript:alert(1)", "evil.example", "/" + "a" * 3000, "/\u2028/evil.example",
])
def test_the_language_switch_never_leaves_the_site(client: Client, target: str) -> None:
    token = client.csrf_token("/sign-in")
    response = client.post("/language?x=1", data={"csrf_token": token, "lang": "nn",
                                                   "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    # As a browser reads it (WHATWG URL: tabs and new lines dropped, backslash as slash),
    # the redirect must stay on this site.
    seen = location.replace("\t", "").replace("\r", "").replace("\n", "").replace("\\", "/")
    assert urlsplit(urljoin("http://localhost/", seen)).netloc == "localhost", location
    assert not any(ord(ch) < 32 for ch in location)


def test_the_language_switch_returns_to_a_page_of_ours(client: Client) -> None:
    token = client.csrf_token("/sign-in")
    response = client.post("/language", data={"csrf_token": token, "lang": "nn",
                                              "next": "/sign-in?signed_out=1"})
    assert response.headers["Location"].endswith("/sign-in?signed_out=1")


def _all_form_classes() -> list[type[Form]]:
    found, todo = [], list(Form.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_no_choice_field_skips_its_choice_check(app: Flask) -> None:
    """The review's "place of only spaces": Optional() on a choice field took "   " as
    empty and cleared the "not a valid choice" error, so the view met a value it never
    offered. No choice field in any form may carry Optional()."""
    for module in ("appointments", "auth", "feedback", "relatives", "staff",
                   "staff_appointments", "take_home", "common"):
        __import__(f"server.forms.{module}")
    forms = _all_form_classes()
    assert len(forms) >= 20
    with app.test_request_context():
        for cls in forms:
            form = cls(formdata=None)
            for item in form:
                if isinstance(item, SelectFieldBase):
                    assert not any(isinstance(v, Optional) for v in item.validators), \
                        f"{cls.__name__}.{item.name}"
