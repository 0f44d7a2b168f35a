"""Every look at a patient's data by someone else is logged, and the patient can read it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from server.extensions import db
from server.models import AccessLogEntry, AccessTarget
from tests.conftest import Client, World, sign_in_as


def entries() -> list[AccessLogEntry]:
    return list(db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))


def test_staff_opening_a_patient_writes_an_entry_in_the_same_request(
    client: Client, world: World
) -> None:
    sign_in_as(client, world.doctor_a)
    assert entries() == []
    response = client.get(f"/staff/patients/{world.patient_x.id}")
    assert response.status_code == 200
    # The overview writes one entry per section type it shows, the page itself first.
    entry, *sections = entries()
    assert {e.target for e in sections} == {
        AccessTarget.CARE_TEAM, AccessTarget.APPOINTMENT, AccessTarget.TAKE_HOME,
        AccessTarget.FEEDBACK, AccessTarget.RELATIVES, AccessTarget.CONVERSATION}
    assert len(sections) == 6
    assert entry.patient_id == world.patient_x.id
    assert entry.viewer_user_id == world.doctor_a.id
    assert entry.viewer_role == "doctor"
    assert entry.clinic_id == world.clinic_a.id
    assert entry.target is AccessTarget.PATIENT_OVERVIEW
    assert entry.at.tzinfo is UTC


def test_the_list_of_patients_writes_one_entry_per_patient_shown(client: Client,
                                                                  world: World) -> None:
    sign_in_as(client, world.doctor_a)
    client.get("/staff/patients?who=all")
    shown = sorted((e.patient_id, e.target) for e in entries())
    assert shown == sorted([(world.patient_x.id, AccessTarget.NAME),
                            (world.patient_y.id, AccessTarget.NAME)])


def test_refused_views_write_nothing(client: Client, world: World) -> None:
    sign_in_as(client, world.nurse_b)
    assert client.get(f"/staff/patients/{world.patient_x.id}").status_code == 404
    assert entries() == []


def test_the_patients_own_views_are_not_logged(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    client.get("/me/")
    client.get("/me/who-has-seen")
    assert entries() == []


def test_patient_reads_the_log_in_plain_words_and_oslo_time(
    client: Client, world: World, new_client  # type: ignore[no-untyped-def]
) -> None:
    staff = new_client()
    sign_in_as(staff, world.doctor_a)
    staff.get(f"/staff/patients/{world.patient_x.id}")
    staff.get(f"/staff/patients/{world.patient_x.id}/phone")
    # Entries are append-only, so fixed times are added as new entries:
    # 09:30 UTC is 10:30 in Oslo in winter and 11:30 in summer.
    for moment in (datetime(2026, 1, 15, 9, 30, tzinfo=UTC),
                   datetime(2026, 7, 15, 9, 30, tzinfo=UTC)):
        db.session.add(AccessLogEntry(patient_id=world.patient_x.id,
                                      viewer_user_id=world.coordinator_a.id,
                                      viewer_role="coordinator", clinic_id=world.clinic_a.id,
                                      target=AccessTarget.PATIENT_OVERVIEW, at=moment))
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    page = html.unescape(client.get("/me/who-has-seen").text)  # this month
    # The overview's entries (the page and each section) read as one line.
    assert re.search(r"Doktor A, doctor at Klinikk A, opened your overview page, your care team, "
                     r"one of your appointments, .*your messages with your care team at "
                     r"\d\d:\d\d\.", page)
    assert "Doktor A, doctor at Klinikk A, opened your contact details at" in page
    july = html.unescape(client.get("/me/who-has-seen?month=2026-07").text)
    assert "Koordinator A, coordinator at Klinikk A, opened your overview page at 11:30." in july
    assert "15 July 2026" in july and "Doktor A" not in july
    january = html.unescape(client.get("/me/who-has-seen?month=2026-01").text)
    assert "opened your overview page at 10:30." in january  # winter time in Oslo
    # Months go newest first: the newest page links to an earlier one, not a later one.
    assert "Earlier month" in page and "Later month" not in page
    assert "Later month" in july and "Earlier month" in july
    other = new_client()
    sign_in_as(other, world.patient_y.user)
    assert "Doktor A" not in other.get("/me/who-has-seen").text


def test_log_is_shown_in_norwegian_for_a_norwegian_patient(
    client: Client, world: World, new_client  # type: ignore[no-untyped-def]
) -> None:
    staff = new_client()
    sign_in_as(staff, world.doctor_a)
    staff.get(f"/staff/patients/{world.patient_x.id}")
    world.patient_x.user.language = "nb"
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/who-has-seen").text
    assert '<html lang="nb">' in page
    assert "Doktor A" in page and "Klinikk A" in page
    assert "opened your overview page" not in page


def test_entries_cannot_be_changed_or_deleted_even_in_the_database(
    client: Client, world: World
) -> None:
    sign_in_as(client, world.doctor_a)
    client.get(f"/staff/patients/{world.patient_x.id}")
    entry = entries()[0]
    with pytest.raises(DBAPIError):
        db.session.execute(update(AccessLogEntry).values(viewer_role="nurse"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(delete(AccessLogEntry))
        db.session.flush()
    db.session.rollback()
    assert {e.viewer_role for e in entries()} == {"doctor"} and len(entries()) == 7
    assert entry.id == entries()[0].id


def test_no_route_can_change_the_log(app) -> None:  # type: ignore[no-untyped-def]
    import re

    log_path = re.compile(r"(^|/|-)log(/|$|-)|seen|access-log")  # "logout" is not a log
    for rule in app.url_map.iter_rules():
        assert not log_path.search(rule.rule.lower()) or \
            rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
