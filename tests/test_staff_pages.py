"""Staff register and verify a patient's number; only then can it sign in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from tests.conftest import CapturingSms, Client, Factory, World, sign_in_as


@pytest.fixture
def letter_patient(make: Factory, world: World):  # type: ignore[no-untyped-def]
    return make.patient(world.clinic_a, name="Per Brev", phone=None)


def test_register_verify_then_sign_in(
    client: Client, world: World, letter_patient, sms: CapturingSms, new_client  # type: ignore[no-untyped-def]
) -> None:
    sign_in_as(client, world.doctor_a)
    base = f"/staff/patients/{letter_patient.id}"
    assert "None registered" in client.get(base).text
    response = client.submit(f"{base}/phone", {"phone": "+47 955 55 555"})
    assert response.headers["Location"].endswith(f"{base}/phone/verify")
    assert sms.sent[-1].to == "+4795555555"
    assert "Tell it to the person" in sms.sent[-1].body or "Følge" in sms.sent[-1].body
    # Until verified the number cannot sign in.
    patient_browser = new_client()
    patient_browser.submit("/sign-in", {"phone": "95555555"})
    assert len(sms.sent) == 1
    code = sms.last_code("+4795555555")
    response = client.submit(f"{base}/phone/verify", {"code": code})
    assert response.headers["Location"].endswith(base)
    page = client.get(base).text
    assert "955 55 555" in page and "(verified)" in page
    patient_browser.submit("/sign-in", {"phone": "95555555"})
    response = patient_browser.submit("/sign-in/code", {"code": sms.last_code("+4795555555")})
    assert response.headers["Location"].endswith("/me/")


def test_register_bad_number_keeps_input(client: Client, world: World, letter_patient,  # type: ignore[no-untyped-def]
                                         sms: CapturingSms) -> None:
    sign_in_as(client, world.doctor_a)
    response = client.submit(f"/staff/patients/{letter_patient.id}/phone", {"phone": "+44 20 7946"})
    assert response.status_code == 200
    assert "Only Norwegian mobile numbers" in response.text
    assert 'value="+44 20 7946"' in response.text
    assert sms.sent == []


def test_number_of_another_person_is_refused(client: Client, world: World, letter_patient,  # type: ignore[no-untyped-def]
                                             sms: CapturingSms) -> None:
    sign_in_as(client, world.doctor_a)
    response = client.submit(f"/staff/patients/{letter_patient.id}/phone",
                             {"phone": world.patient_y.user.phone})
    assert "already registered for another person" in response.text
    assert sms.sent == []


def test_wrong_verification_code(client: Client, world: World, letter_patient,  # type: ignore[no-untyped-def]
                                 sms: CapturingSms) -> None:
    sign_in_as(client, world.doctor_a)
    base = f"/staff/patients/{letter_patient.id}"
    client.submit(f"{base}/phone", {"phone": "95555555"})
    right = sms.last_code()
    response = client.submit(f"{base}/phone/verify", {"code": "000000" if right != "000000"
                                                      else "111111"})
    assert "The code is not right" in response.text
    db.session.refresh(letter_patient.user)
    assert letter_patient.user.phone is None


def test_verify_without_a_pending_code_goes_back(client: Client, world: World,
                                                 letter_patient) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, world.doctor_a)
    response = client.get(f"/staff/patients/{letter_patient.id}/phone/verify")
    assert response.headers["Location"].endswith(f"/staff/patients/{letter_patient.id}/phone")


def test_code_for_one_patient_cannot_verify_another(
    client: Client, world: World, letter_patient, sms: CapturingSms  # type: ignore[no-untyped-def]
) -> None:
    sign_in_as(client, world.doctor_a)
    client.submit(f"/staff/patients/{letter_patient.id}/phone", {"phone": "95555555"})
    code = sms.last_code()
    with client.session_transaction() as s:
        s["phone_verification"]["patient_id"] = world.patient_y.id
        s.modified = True
    client.submit(f"/staff/patients/{world.patient_y.id}/phone/verify", {"code": code},
                  page=f"/staff/patients/{world.patient_y.id}")
    db.session.refresh(world.patient_y.user)
    assert world.patient_y.user.phone != "+4795555555"


def test_staff_home_lists_own_clinic_alphabetically(client: Client, world: World) -> None:
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/patients?who=all").text
    assert page.index("Xena Pasient") < page.index("Yngve Pasient")
    assert "doctor at Klinikk A" in client.get("/staff/").text
    assert client.get("/staff/patients?q=" + "x" * 500).status_code == 200


def test_search_by_date_of_birth_or_number_shows_birth_and_next_appointment(
        client: Client, world: World, make: Factory) -> None:
    from datetime import date, timedelta

    from server.models import AccessLogEntry, AccessTarget

    world.patient_x.date_of_birth = date(1984, 3, 12)
    namesake = make.patient(world.clinic_a, "Xena Pasient")
    namesake.date_of_birth = date(1990, 7, 1)
    db.session.commit()
    make.appointment(world.patient_x, starts_in=timedelta(days=5))
    sign_in_as(client, world.doctor_a)
    both = client.get("/staff/patients?q=Xena").text
    assert "born 12/03/1984" in both and "born 01/07/1990" in both  # namesakes told apart
    assert both.count("Next appointment:") == 1
    for term in ("12.03.1984", "1984-03-12", "12031984", str(world.patient_x.id)):
        page = client.get(f"/staff/patients?q={term}").text
        assert f'href="/staff/patients/{world.patient_x.id}"' in page, term
        assert f'href="/staff/patients/{namesake.id}"' not in page, term
    # Another clinic's patient is not found by number, and the search is logged per patient.
    assert "Berit" not in client.get(f"/staff/patients?q={world.patient_b.id}").text
    logged = db.session.scalars(select(AccessLogEntry.patient_id).where(
        AccessLogEntry.viewer_user_id == world.doctor_a.id,
        AccessLogEntry.target == AccessTarget.NAME)).all()
    assert world.patient_x.id in logged and world.patient_b.id not in logged


@pytest.mark.parametrize("term", ["²", "١٢٣", "12.03.١٩٨٤", "0", "99999999999", "31.02.1984"])
def test_odd_search_terms_find_nothing_and_break_nothing(client: Client, world: World,
                                                         term: str) -> None:
    sign_in_as(client, world.doctor_a)
    response = client.get("/staff/", query_string={"q": term})
    assert response.status_code == 200
    assert "Xena Pasient" not in response.text
