"""Staff print the day's letters as one PDF, then mark them printed."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from server.extensions import db
from server.models import AccessLogEntry, Channel, MessageStatus, OutboxMessage
from tests.conftest import Client, Factory, World, deliver_now, sign_in_as


def letter_patient_with_notice(make: Factory, world: World, name: str):  # type: ignore[no-untyped-def]
    patient = make.patient(world.clinic_a, name=name, phone=None, channels=(Channel.LETTER,),
                           language="en")
    make.appointment(patient, starts_in=timedelta(days=6))
    deliver_now(OutboxMessage.patient_id == patient.id)
    return patient


def test_letter_patients_get_a_notice_and_no_paper_reminders(make: Factory, world: World) -> None:
    patient = letter_patient_with_notice(make, world, "Per Brev")
    messages = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.patient_id == patient.id)).all()
    assert [(m.template, m.status) for m in messages] == [("notice", MessageStatus.LETTER_QUEUED)]


def test_download_pdf_then_mark_printed(client: Client, make: Factory, world: World) -> None:
    letter_patient_with_notice(make, world, "Per Brev")
    letter_patient_with_notice(make, world, "Pål Papir")
    sign_in_as(client, world.coordinator_a)
    page = client.get("/staff/letters").text
    assert "Per Brev" in page and "Pål Papir" in page
    response = client.get("/staff/letters.pdf")
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 2
    first = reader.pages[0].extract_text()
    assert "Per Brev" in first and "You have an appointment on" in first
    assert "Klinikk A" not in first  # the return address never names the clinic
    logged = {e.patient_id for e in db.session.scalars(select(AccessLogEntry))}
    assert len(logged) == 2
    client.submit("/staff/letters/printed",
                  {"message_id": [str(m.id) for m in db.session.scalars(select(OutboxMessage))]},
                  page="/staff/letters")
    statuses = {m.status for m in db.session.scalars(select(OutboxMessage))}
    assert statuses == {MessageStatus.PRINTED}
    assert "No letters are waiting." in client.get("/staff/letters").text


def test_other_clinics_letters_are_neither_shown_nor_printed(client: Client, make: Factory,
                                                             world: World) -> None:
    letter_patient_with_notice(make, world, "Per Brev")
    sign_in_as(client, world.nurse_b)
    assert "Per Brev" not in client.get("/staff/letters").text
    assert len(PdfReader(io.BytesIO(client.get("/staff/letters.pdf").data)).pages) == 1
    ids = [str(m.id) for m in db.session.scalars(select(OutboxMessage))]
    client.submit("/staff/letters/printed", {"message_id": ids}, page="/staff/letters")
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == \
        {MessageStatus.LETTER_QUEUED}
