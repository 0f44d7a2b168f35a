"""CSV import: all lines or none, and a bad line is named with what is wrong."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from server.extensions import db
from server.models import Appointment, OutboxMessage
from tests.conftest import Client, World, sign_in_as

HEADER = "patient,date,time,duration,service,service_name,meeting,address,cancel_by\n"


def upload(client: Client, content: str, name: str = "avtaler.csv"):  # type: ignore[no-untyped-def]
    token = client.csrf_token("/staff/appointments/import")
    return client.post("/staff/appointments/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode()), name)},
        content_type="multipart/form-data")


def count(model) -> int:  # type: ignore[no-untyped-def]
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_good_file_is_imported_with_reminders(client: Client, world: World) -> None:
    sign_in_as(client, world.coordinator_a)
    x, y = world.patient_x.id, world.patient_y.id
    content = HEADER + (
        f"{x},2031-02-03,10:00,30,gp,Legekontoret,in_person,Torget 1,2031-02-02 12:00\n"
        f"{y},2031-02-04,12:15,,municipality,NAV Sentrum,phone,,\n"
    )
    response = upload(client, content)
    assert response.status_code == 302
    assert count(Appointment) == 2
    assert count(OutboxMessage) == 6  # a notice and two reminders each
    assert "2 appointments were imported." in client.get("/staff/").text


def test_semicolons_and_a_byte_order_mark_are_fine(client: Client, world: World) -> None:
    sign_in_as(client, world.coordinator_a)
    content = "\ufeff" + HEADER.replace(",", ";") + \
        f"{world.patient_x.id};2031-02-03;10:00;30;gp;Legekontoret;video;;\n"
    assert upload(client, content).status_code == 302
    assert count(Appointment) == 1


def test_a_bad_line_names_its_line_and_nothing_is_imported(client: Client, world: World) -> None:
    sign_in_as(client, world.coordinator_a)
    x = world.patient_x.id
    content = HEADER + (
        f"{x},2031-02-03,10:00,30,gp,Legekontoret,in_person,,\n"
        f"{x},2031-02-30,10:00,30,gp,Legekontoret,in_person,,\n"
        f"{x},2031-02-05,10:00,30,dentist,Tannlegen,in_person,,\n"
        f"{world.patient_b.id},2031-02-05,10:00,30,gp,Annen klinikk,in_person,,\n"
        f"{x},2031-03-30,02:30,30,gp,Natt,in_person,,\n"
    )
    response = upload(client, content)
    assert response.status_code == 200
    text = response.text
    assert "Nothing was imported." in text
    assert "Line 3: The date “2031-02-30” is not in the form YYYY-MM-DD." in text
    assert "Line 4: Unknown service “dentist”." in text
    assert f"Line 5: Unknown patient number “{world.patient_b.id}”." in text
    assert "Line 6: This time does not exist that night" in text
    assert "Line 2" not in text
    assert count(Appointment) == 0 and count(OutboxMessage) == 0


def test_missing_columns_and_wrong_files(client: Client, world: World) -> None:
    sign_in_as(client, world.coordinator_a)
    response = upload(client, "patient,date\n1,2031-01-01\n")
    assert "Missing columns: time, service, service_name" in response.text
    response = upload(client, "x", name="avtaler.xlsx")
    assert "The file must be a .csv file." in response.text
    response = upload(client, HEADER)
    assert "The file has no appointments." in response.text
    response = upload(client, "\xff\xfe".encode("latin-1").decode("latin-1") + "æøå")
    assert count(Appointment) == 0


def test_a_past_appointment_line_is_refused(client: Client, world: World) -> None:
    sign_in_as(client, world.coordinator_a)
    content = HEADER + f"{world.patient_x.id},2020-02-03,10:00,30,gp,Gammel,in_person,,\n"
    response = upload(client, content)
    assert "Line 2: The appointment must be in the future." in response.text


def test_a_large_file_goes_in_whole_with_every_reminder(client: Client, world: World) -> None:
    """150 lines: on PostgreSQL this takes the bulk path (ids from the sequence, COPY)."""
    sign_in_as(client, world.coordinator_a)
    lines = [f"{world.patient_x.id},2031-{1 + n % 12:02d}-{1 + n % 28:02d},{8 + n % 9:02d}:00,"
             f"30,gp,Legekontoret {n},in_person,,\n" for n in range(150)]
    response = upload(client, HEADER + "".join(lines))
    assert response.status_code == 302
    assert count(Appointment) == 150
    assert count(OutboxMessage) == 450
    keys = set(db.session.scalars(select(OutboxMessage.idempotency_key)))
    ids = set(db.session.scalars(select(Appointment.id)))
    assert keys == {f"{kind}:{i}:{suffix}" for i in ids
                    for kind, suffix in (("notice", "v1"), ("reminder", "v1:evening"),
                                         ("reminder", "v1:h2"))}


def test_the_page_explains_the_columns_and_its_example_file_imports(
        client: Client, world: World) -> None:
    sign_in_as(client, world.coordinator_a)
    page = client.get("/staff/appointments/import").text
    assert "README" not in page
    for column in ("patient", "date", "time", "service", "service_name", "cancel_by"):
        assert f"<code>{column}</code>" in page
    example = client.get("/staff/appointments/import/example.csv")
    assert example.status_code == 200 and example.mimetype == "text/csv"
    assert "attachment" in example.headers["Content-Disposition"]
    # The example names patients 1 and 2: here patient X and Y of clinic A.
    assert (world.patient_x.id, world.patient_y.id) == (1, 2)
    response = upload(client, example.data.decode())
    assert response.status_code == 302
    assert count(Appointment) == 2


def test_a_line_that_gives_the_treatment_away_is_named_not_a_server_error(
        client: Client, world: World) -> None:
    """The service refuses texts that tell what the appointment is about; the import names
    the line like any other mistake and stores nothing."""
    sign_in_as(client, world.coordinator_a)
    x = world.patient_x.id
    content = HEADER + (
        f"{x},2031-02-03,10:00,30,gp,Legekontoret,in_person,Torget 1,\n"
        f"{x},2031-02-04,10:00,30,gp,Legekontoret,in_person,LAR-poliklinikken,\n"
    )
    response = upload(client, content)
    assert response.status_code == 200
    assert "Nothing was imported." in response.text
    assert "Line 3: Reminders and letters must not tell what the appointment is about" \
        in response.text
    assert "Line 2" not in response.text
    assert count(Appointment) == 0 and count(OutboxMessage) == 0
