"""Letters as PDF: local date and time in the patient's language, window-envelope
address, the health trust as sender (never the clinic's name), one letter per page."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from itertools import count

import pytest
from pypdf import PdfReader

from server.extensions import db
from server.models import Channel, Clinic, OutboxMessage, PatientProfile
from server.models.base import utcnow
from server.models.outbox import MessagePurpose
from server.notify.letter import address_lines, latin1, render_letter_pdf, render_letters_pdf
from tests.conftest import Factory
from tests.test_notifications import FORBIDDEN

WINTER = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)  # 10:30 in Oslo (CET)
SUMMER = datetime(2026, 6, 10, 8, 30, tzinfo=UTC)  # 10:30 in Oslo (CEST)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

_keys = count(1)


def clinic(make: Factory) -> Clinic:
    found = make.clinic("Testby LAR-poliklinikk")
    found.health_trust = "Helse Testby HF"
    found.address = "Postboks 77, 9999 Testby"
    found.phone = "22 33 44 55"
    db.session.commit()
    return found


def patient(make: Factory, where: Clinic, name: str = "Kari Nordmann", language: str | None = None,
            address: str = "Bakkeveien 3\n0123 Oslo") -> PatientProfile:
    profile = make.patient(where, name, channels=(Channel.LETTER,), language=language)
    profile.postal_address = address
    db.session.commit()
    return profile


def notice(profile: PatientProfile, starts_at: datetime = WINTER, address: str = "Storgata 1, 0155 Oslo",
           prepare: str = "ID-kort") -> OutboxMessage:
    message = OutboxMessage(
        purpose=MessagePurpose.NOTICE, template="notice",
        params={"starts_at": starts_at.isoformat(), "address": address, "meeting": "in_person",
                "prepare": prepare},
        channels=["letter"], due_at=utcnow(), idempotency_key=f"notice:test:{next(_keys)}",
        patient_id=profile.id,
    )
    db.session.add(message)
    db.session.commit()
    return message


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces as single spaces, for phrases that may wrap."""
    return " ".join(text.split())


def test_a_letter_is_a_pdf_with_a_neutral_title(make: Factory) -> None:
    pdf = render_letter_pdf(notice(patient(make, clinic(make))), now=NOW)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "Følge"
    assert not meta.subject
    assert not meta.get("/Keywords")
    assert not meta.author
    for value in meta.values():
        assert not FORBIDDEN.search(str(value)), value
        assert "poliklinikk" not in str(value).lower()


def test_english_letter_has_local_time_date_names_and_return_address(make: Factory) -> None:
    where = clinic(make)
    profile = patient(make, where, "Kari Nordmann", language="en")
    [text] = pages(render_letter_pdf(notice(profile), now=NOW))
    words = flat(text)
    assert "Tuesday, 10 March 2026" in words
    assert "10:30" in words and "09:30" not in words
    assert "You have an appointment on Tuesday, 10 March 2026 at 10:30." in words
    assert "Place: Storgata 1, 0155 Oslo" in words
    assert "Please bring or prepare: ID-kort" in words
    assert "Questions? Call us on 22 33 44 55." in words
    # Date of the letter, in English.
    assert "2 March 2026" in words
    # Heading.
    assert text.splitlines().count("Følge") == 1
    # Recipient, on separate lines.
    lines = [line.strip() for line in text.splitlines()]
    assert lines.index("Kari Nordmann") < lines.index("Bakkeveien 3") < lines.index("0123 Oslo")
    # Return address: the health trust and its address, never the clinic's name.
    assert "Helse Testby HF" in lines and "Postboks 77" in lines and "9999 Testby" in lines
    assert lines.index("Helse Testby HF") < lines.index("Kari Nordmann")
    assert where.name not in text
    assert "LAR" not in text
    assert not FORBIDDEN.search(text), text


@pytest.mark.parametrize(("language", "weekday"), [("nb", "tirsdag"), (None, "tirsdag"),
                                                    ("nn", "tysdag")])
def test_norwegian_letter_has_norwegian_dates(make: Factory, language: str | None,
                                              weekday: str) -> None:
    where = clinic(make)
    [text] = pages(render_letter_pdf(notice(patient(make, where, language=language)), now=NOW))
    words = flat(text)
    # Babel localises dates without the catalogs: "tirsdag 10. mars 2026" (nb), "tysdag ..." (nn).
    assert f"{weekday} 10. mars 2026" in words
    assert "Tuesday" not in words and "March" not in words
    assert "10:30" in words
    # The letter's own date, long form: "2. mars 2026".
    assert "2. mars 2026" in words
    assert "Følge" in text and "Kari Nordmann" in text and "0123 Oslo" in text
    assert "Helse Testby HF" in text and "Postboks 77" in text
    assert where.name not in text
    assert not FORBIDDEN.search(text), text


def test_summer_time_is_shown_in_local_time(make: Factory) -> None:
    profile = patient(make, clinic(make), language="en")
    [text] = pages(render_letter_pdf(notice(profile, starts_at=SUMMER), now=NOW))
    words = flat(text)
    assert "Wednesday, 10 June 2026 at 10:30" in words
    assert "08:30" not in words


def test_several_letters_are_one_pdf_one_letter_per_page_in_order(make: Factory) -> None:
    where = clinic(make)
    first = notice(patient(make, where, "Anne Først", language="en", address="Gate 1, 0001 Oslo"))
    second = notice(patient(make, where, "Bjørn Andre", language="nb", address="Vei 2\n5003 Bergen"),
                    starts_at=SUMMER)
    third = notice(patient(make, where, "Cecilie Tredje", language="nn", address="Sti 3, 7010 Trondheim"))
    texts = pages(render_letters_pdf([first, second, third], now=NOW))
    assert len(texts) == 3
    assert "Anne Først" in texts[0] and "0001 Oslo" in texts[0]
    assert "Tuesday, 10 March 2026" in flat(texts[0])
    assert "Bjørn Andre" in texts[1] and "5003 Bergen" in texts[1]
    assert "onsdag 10. juni 2026" in flat(texts[1])
    assert "Cecilie Tredje" in texts[2] and "7010 Trondheim" in texts[2]
    assert "tysdag 10. mars 2026" in flat(texts[2])
    assert "Bjørn" not in texts[0] + texts[2] and "Anne" not in texts[1] + texts[2]
    for text in texts:
        assert where.name not in text
        assert not FORBIDDEN.search(text), text


def test_characters_outside_latin1_do_not_break_the_letter(make: Factory) -> None:
    where = clinic(make)
    where.address = "Postboks 5 \u2013 7\n9999 Testby"
    db.session.commit()
    profile = patient(make, where, "Karel \u010capek", language="en",
                      address="Storgata 1 \u2013 3\n0155 Oslo \u2022 Norge")
    message = notice(profile, address="\u201cGården\u201d, Storgata 1 \u2013 3, 0155 Oslo",
                     prepare="ID\u2011kort \u2026 og \u263a")
    [text] = pages(render_letter_pdf(message, now=NOW))
    words = flat(text)
    assert "Karel Capek" in words
    assert "Storgata 1 - 3" in words
    assert "Postboks 5 - 7" in words
    assert '"Gården"' in words
    assert "ID-kort ... og ?" in words


def test_a_long_letter_marks_its_second_page_with_the_name(make: Factory) -> None:
    where = clinic(make)
    profile = patient(make, where, "Lang Adresse", language="en")
    message = notice(profile, prepare=" ".join(["ID-kort og bankkort"] * 300))
    other = notice(patient(make, where, "Neste Person", language="en"))
    texts = pages(render_letters_pdf([message, other], now=NOW))
    assert len(texts) >= 3
    assert "Lang Adresse - 2" in texts[1]
    assert "Neste Person" in texts[-1] and "Lang Adresse" not in texts[-1]
    assert "Questions? Call us on 22 33 44 55." in flat(texts[-2])


def test_a_patient_without_a_postal_address_still_gets_a_letter(make: Factory) -> None:
    profile = patient(make, clinic(make), "Uten Adresse", language="en", address="")
    [text] = pages(render_letter_pdf(notice(profile), now=NOW))
    assert "Uten Adresse" in text and "10:30" in text


def test_latin1_and_address_lines_helpers() -> None:
    assert latin1("Blåbærsyltetøy") == "Blåbærsyltetøy"
    assert latin1("a \u2013 b \u2014 \u201cc\u201d \u2018d\u2019") == 'a - b - "c" \'d\''
    assert latin1("\u010c\u0142\u0153 \u202f\ufb01") == "Cloe  fi"
    assert latin1("\u4e2d") == "?"
    latin1("".join(chr(c) for c in range(0x100, 0x3000))).encode("latin-1")
    assert address_lines("Storgata 1, 0155 Oslo") == ["Storgata 1", "0155 Oslo"]
    assert address_lines("c/o Hansen\r\nStorgata 1,\n\n0155 Oslo ") == [
        "c/o Hansen", "Storgata 1", "0155 Oslo"]
    assert address_lines("") == []
