"""The dispensing notice: a one-page PDF in Bokmål for the pickup place, for granted
period requests only, with the patient's name and date of birth, the approved days and
place, the deciding doctor and a reference, and no word about medication."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from pypdf import PdfReader
from sqlalchemy import select

from server.extensions import db
from server.labels import PICKUP_PLACES_STAFF
from server.models import (
    AccessLogEntry,
    AccessTarget,
    ArrangementChange,
    Clinic,
    PatientProfile,
    PeriodReason,
    PickupPlace,
    RequestKind,
    RequestStatus,
    StaffRole,
    TakeHomeRequest,
    User,
)
from server.services import take_home
from server.services.dispensing_notice import render_dispensing_notice
from server.services.take_home import DecisionInput, Outcome, RequestInput
from tests.conftest import Client, Factory, sign_in_as

#: Medication names, words for medication, doses and strengths, in Norwegian and English.
#: (Not tests.test_notifications.FORBIDDEN: the notice is for the pickup place and may
#: say what it is, "take-home"; it must only not name the medication.)
MEDICATION = re.compile(
    r"\b(metadon|methadone|buprenorfin|buprenorphine|subutex|suboxone|morfin|morphine|"
    r"opioid\w*|heroin|legemiddel\w*|medisin\w*|medikament\w*|medication\w*|medicine\w*|"
    r"drug\w*|dose\w*|dosering\w*|mg|ml|tablett\w*|tablet\w*|mikstur\w*)\b",
    re.IGNORECASE,
)

#: The clinic's "today" when the requests are made, so the fixed dates stay in the future.
TODAY = date(2026, 12, 1)
#: When the notice is made (footer date): 3 December 2026 in Oslo.
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
#: When the doctor decided: 23:30 UTC on 1 December is 00:30 on 2 December in Oslo.
DECIDED_AT = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)


def nb(message: Any) -> str:
    """``message`` as the notice prints it: in Bokmål, or as written while the nb catalog
    lacks it."""
    with force_locale("nb"):
        return _(message) if isinstance(message, str) else str(message)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def setup(make: Factory, date_of_birth: date | None = date(1980, 5, 17)
          ) -> tuple[Clinic, PatientProfile, User]:
    clinic = make.clinic("Klinikk Nord")
    clinic.phone = "22 33 44 55"
    patient = make.patient(clinic, "Kari Nordmann")
    patient.date_of_birth = date_of_birth
    db.session.commit()
    doctor = make.staff(clinic, StaffRole.DOCTOR, name="Doktor Dahl")
    return clinic, patient, doctor


def ask(patient: PatientProfile, first: date = date(2026, 12, 24), last: date = date(2026, 12, 28),
        place: PickupPlace = PickupPlace.PHARMACY, place_name: str = "Apotek Torget",
        **fields: Any) -> TakeHomeRequest:
    data = RequestInput(kind=RequestKind.PERIOD, client_key=take_home.new_client_key(),
                        first_day=first, last_day=last, reason=PeriodReason.HOLIDAY,
                        place=place, place_name=place_name, **fields)
    stored, _advice = take_home.submit(patient, data, today=TODAY, ask_anyway=True)
    assert stored is not None
    return stored


def decide(request: TakeHomeRequest, doctor: User, outcome: str = Outcome.APPROVE,
           **fields: Any) -> TakeHomeRequest:
    decided = take_home.decide(request, DecisionInput(outcome=outcome, reason="Stabil over tid.",
                                                      **fields), doctor)
    decided.decided_at = DECIDED_AT
    db.session.commit()
    return decided


# --- the PDF -------------------------------------------------------------------------------

def test_notice_for_an_approved_request(make: Factory) -> None:
    clinic, patient, doctor = setup(make)
    request = decide(ask(patient), doctor)
    pdf = render_dispensing_notice(request, now=NOW)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    words = flat(text)

    assert nb("Dispensing notice: take-home") in words
    assert "Kari Nordmann" in words
    # Date of birth as the clinic has it, in Bokmål's long form.
    assert "17. mai 1980" in words
    assert nb("not registered") not in words
    # The approved first and last day, and the number of days (24-28 December: 5).
    assert "24. desember 2026" in words
    assert "28. desember 2026" in words
    lines = [flat(line) for line in text.splitlines()]
    assert any(line.startswith(nb("Number of days")) and line.endswith(" 5") for line in lines), \
        lines
    # The place as a label in Bokmål with the name the patient gave.
    assert f"{nb(PICKUP_PLACES_STAFF[PickupPlace.PHARMACY.value])}: Apotek Torget" in words
    assert "Doktor Dahl" in words
    # Decided 00:30 on 2 December in Oslo (still 1 December in UTC).
    assert "2. desember 2026" in words
    assert f"TH-{request.id}" in words
    # The clinic as sender, and the date the notice was made.
    assert clinic.name in words and "22 33 44 55" in words
    assert "3. desember 2026" in words
    # No medication named, in the text or the metadata.
    assert not MEDICATION.search(text), text
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None
    for value in meta.values():
        assert not MEDICATION.search(str(value)), value


def test_notice_for_a_partly_approved_request_shows_what_was_approved(make: Factory) -> None:
    _clinic, patient, doctor = setup(make)
    request = ask(patient, first=date(2026, 12, 20), last=date(2026, 12, 31))
    decide(request, doctor, Outcome.PARTLY, next_time="Spør igjen i januar.",
           first_day=date(2026, 12, 22), last_day=date(2026, 12, 27),
           place=PickupPlace.HOME_SERVICE, place_name="Hjemmetjenesten Bydel Nord")
    assert request.status is RequestStatus.PARTLY_APPROVED
    text = text_of(render_dispensing_notice(request, now=NOW))
    words = flat(text)

    assert "22. desember 2026" in words and "27. desember 2026" in words
    # What the patient asked for is not what the pickup place should go by.
    assert "20. desember 2026" not in words and "31. desember 2026" not in words
    lines = [flat(line) for line in text.splitlines()]
    assert any(line.startswith(nb("Number of days")) and line.endswith(" 6") for line in lines), \
        lines
    assert (f"{nb(PICKUP_PLACES_STAFF[PickupPlace.HOME_SERVICE.value])}: Hjemmetjenesten Bydel Nord"
            in words)
    assert "Apotek Torget" not in words
    assert "Kari Nordmann" in words and "17. mai 1980" in words
    assert "Doktor Dahl" in words
    assert f"TH-{request.id}" in words
    assert not MEDICATION.search(text), text


def test_partly_approved_at_another_place_without_a_name_drops_the_old_name(
        make: Factory) -> None:
    _clinic, patient, doctor = setup(make)
    request = ask(patient)
    decide(request, doctor, Outcome.PARTLY, next_time="", place=PickupPlace.CLINIC)
    words = flat(text_of(render_dispensing_notice(request, now=NOW)))
    assert nb(PICKUP_PLACES_STAFF[PickupPlace.CLINIC.value]) in words
    assert "Apotek Torget" not in words
    # The dates stay as asked when the doctor changed only the place.
    assert "24. desember 2026" in words and "28. desember 2026" in words


def test_notice_without_a_date_of_birth_says_it_is_not_registered(make: Factory) -> None:
    _clinic, patient, doctor = setup(make, date_of_birth=None)
    request = decide(ask(patient), doctor)
    text = text_of(render_dispensing_notice(request, now=NOW))
    lines = [flat(line) for line in text.splitlines()]
    # Whatever the Bokmål catalog says for "not registered" (the English words until it
    # is translated), on the date-of-birth line.
    expected = nb("not registered")
    assert expected.strip()
    assert any(line.startswith(nb("Date of birth")) and line.endswith(expected)
               for line in lines), lines


def test_notice_is_in_bokmal_whatever_the_staff_language(make: Factory) -> None:
    _clinic, patient, doctor = setup(make)
    request = decide(ask(patient), doctor)
    with force_locale("en"):
        words = flat(text_of(render_dispensing_notice(request, now=NOW)))
    assert "24. desember 2026" in words
    assert "December" not in words


# --- over HTTP -----------------------------------------------------------------------------

def url(request: TakeHomeRequest) -> str:
    return f"/staff/take-home/{request.id}/dispensing-notice.pdf"


def log_entries() -> list[AccessLogEntry]:
    return list(db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))


def test_the_clinics_doctor_downloads_the_notice_and_the_look_is_logged(
        make: Factory, client: Client) -> None:
    clinic, patient, doctor = setup(make)
    request = decide(ask(patient), doctor)
    sign_in_as(client, doctor)
    assert log_entries() == []

    response = client.get(url(request))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert f'filename="dispensing-notice-{request.id}.pdf"' in \
        response.headers["Content-Disposition"]
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Kari Nordmann" in flat(text_of(response.data))
    [entry] = log_entries()
    assert entry.patient_id == patient.id
    assert entry.viewer_user_id == doctor.id
    assert entry.viewer_role == "doctor"
    assert entry.clinic_id == clinic.id
    assert entry.target is AccessTarget.TAKE_HOME


def test_staff_of_another_clinic_get_404_and_nothing_is_logged(
        make: Factory, client: Client) -> None:
    _clinic, patient, doctor = setup(make)
    request = decide(ask(patient), doctor)
    elsewhere = make.clinic("Klinikk Sør")
    for role in (StaffRole.DOCTOR, StaffRole.CLINIC_ADMIN):
        stranger = make.staff(elsewhere, role)
        sign_in_as(client, stranger)
        assert client.get(url(request)).status_code == 404
    assert log_entries() == []


def test_the_patient_gets_404(make: Factory, client: Client) -> None:
    _clinic, patient, doctor = setup(make)
    request = decide(ask(patient), doctor)
    sign_in_as(client, patient.user)
    response = client.get(url(request))
    assert response.status_code == 404
    assert not response.data.startswith(b"%PDF")


@pytest.mark.parametrize("state", ["submitted", "under_review", "declined", "withdrawn"])
def test_a_request_that_is_not_granted_has_no_notice(make: Factory, client: Client,
                                                     state: str) -> None:
    _clinic, patient, doctor = setup(make)
    request = ask(patient)
    if state == "under_review":
        take_home.start_review(request)
    elif state == "declined":
        decide(request, doctor, Outcome.DECLINE, next_time="Spør igjen om en måned.")
    elif state == "withdrawn":
        take_home.withdraw(request)
    assert request.status.value == state
    sign_in_as(client, doctor)
    assert client.get(url(request)).status_code == 404


def test_an_approved_arrangement_request_has_no_notice(make: Factory, client: Client) -> None:
    _clinic, patient, doctor = setup(make)
    data = RequestInput(kind=RequestKind.ARRANGEMENT, client_key=take_home.new_client_key(),
                        change=ArrangementChange.FEWER_PICKUPS,
                        explanation="Jeg har fått ny jobb.")
    request, _advice = take_home.submit(patient, data, today=TODAY, ask_anyway=True)
    assert request is not None
    decide(request, doctor)
    assert request.is_granted
    sign_in_as(client, doctor)
    assert client.get(url(request)).status_code == 404


def test_an_unknown_request_gives_404(make: Factory, client: Client) -> None:
    _clinic, _patient, doctor = setup(make)
    sign_in_as(client, doctor)
    assert client.get("/staff/take-home/999999/dispensing-notice.pdf").status_code == 404
