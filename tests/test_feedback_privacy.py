"""Check-ins and privacy: anonymous answers that cannot be traced, one answer per
invitation, figures only from groups of five, who may see what, and instruments as data."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, DateTime, func, inspect, select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    AccessTarget,
    AnonymousFeedback,
    Attendance,
    FeedbackInvitation,
    FeedbackResponse,
    InvitationStatus,
    PatientProfile,
    ServiceKind,
    StaffRole,
    User,
)
from server.models.base import utcnow
from server.services import appointments, feedback, instruments
from server.services.feedback import Answer, MonthFigures
from server.services.instruments import InstrumentError
from tests.conftest import Client, Factory, World, sign_in_as

HOW_ARE_THINGS = "/me/feedback/how_are_things"
MEETING = "/me/feedback/how_was_the_meeting"
ALREADY = "You have already answered this check-in. Thank you!"
CLOSED = "This check-in has closed. You can still check in at any time from the app."
CHOOSE = "Choose a number from 0 to 10."
THANKS = "Thank you! Your answer is saved."


# -- helpers ---------------------------------------------------------------------------------

def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return found.group(1)


def form_of(client: Client, url: str) -> dict[str, str]:
    """The hidden fields of a freshly opened check-in form (as a browser tab holds them)."""
    page = client.get(url).text
    return {name: hidden(page, name) for name in ("csrf_token", "client_key", "invitation")}


def scores(key: str, values: list[int | str]) -> dict[str, str]:
    instrument = instruments.latest(key)
    assert instrument is not None
    return {k: str(v) for k, v in zip(instrument.item_keys, values, strict=True)}


def check_in(client: Client, url: str, values: dict[str, str], comment: str = "",
             destination: str = "team", form: dict[str, str] | None = None) -> Any:
    data = {**(form or form_of(client, url)), **values, "comment": comment,
            "destination": destination}
    return client.post(url, data=data)


def invitation_for(make: Factory, patient: PatientProfile, by: User) -> FeedbackInvitation:
    appointment = make.appointment(patient, service=ServiceKind.CLINIC)
    appointment.starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    appointments.mark_attendance(appointment, Attendance.ATTENDED, by=by)
    return db.session.scalars(select(FeedbackInvitation).where(
        FeedbackInvitation.appointment_id == appointment.id)).one()


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def log_entries() -> list[AccessLogEntry]:
    return list(db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))


def submit(patient: PatientProfile, key: str, values: list[int], when: datetime | None = None,
           anonymous: bool = False, comment: str = "", version: int | None = None
           ) -> FeedbackResponse | AnonymousFeedback:
    instrument = instruments.get(key, version) if version else instruments.latest(key)
    assert instrument is not None
    return feedback.submit(patient, Answer(
        instrument=instrument, scores=dict(zip(instrument.item_keys, values, strict=True)),
        comment=comment, anonymous=anonymous), now=when)


def staff_browser(new_client: Any, user: User) -> Client:
    browser: Client = new_client()
    sign_in_as(browser, user)
    return browser


# -- anonymity -------------------------------------------------------------------------------

ANONYMOUS_COLUMNS = {"id", "clinic_id", "instrument_key", "instrument_version", "scores",
                     "total", "comment", "week", "client_key"}


def test_the_anonymous_table_holds_nothing_that_points_to_a_person(app: Any) -> None:
    # Both the model and the table the migrations built.
    table = AnonymousFeedback.__table__
    assert set(table.columns.keys()) == ANONYMOUS_COLUMNS
    migrated = {c["name"]: c for c in inspect(db.engine).get_columns("anonymous_feedback")}
    assert set(migrated) == ANONYMOUS_COLUMNS
    for column in table.columns:
        assert not isinstance(column.type, DateTime | Date), column.name
    foreign = inspect(db.engine).get_foreign_keys("anonymous_feedback")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in foreign] == [
        (["clinic_id"], "clinic")]
    for name in migrated:
        assert not re.search(r"patient|user|invitation|appointment|_at$|date|time|created",
                             name), name
    # Invitations keep no time of answering.
    invitation_columns = {c["name"] for c in inspect(db.engine).get_columns("feedback_invitation")}
    assert not [c for c in invitation_columns if "answer" in c]
    assert invitation_columns == {"id", "patient_id", "clinic_id", "appointment_id",
                                  "instrument_key", "status", "created_at", "expires_at"}


def test_an_anonymous_answer_through_the_app(client: Client, world: World, make: Factory,
                                            new_client: Any) -> None:
    patient = world.patient_x
    invitation = invitation_for(make, patient, world.doctor_a)
    sign_in_as(client, patient.user)
    form = form_of(client, MEETING)
    assert form["invitation"] == str(invitation.id)
    comment = "Secret <b>markup</b> from Xena"
    response = check_in(client, MEETING, scores("how_was_the_meeting", [2, 3, 4, 5]),
                        comment=comment, destination="anonymous", form=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/feedback/")
    assert THANKS in client.get("/me/feedback/").text

    [stored] = db.session.scalars(select(AnonymousFeedback)).all()
    assert stored.clinic_id == world.clinic_a.id
    assert stored.instrument_key == "how_was_the_meeting"
    assert stored.scores == {"listened": 2, "topics": 3, "approach": 4, "overall": 5}
    assert stored.total == 14
    assert stored.comment == comment
    assert re.fullmatch(r"\d{4}-W\d{2}", stored.week)
    assert stored.week == feedback.iso_week(utcnow())
    assert stored.client_key == form["client_key"]
    assert re.fullmatch(r"[0-9a-f]{32}", stored.id)
    # Nothing with the patient's name, no alert although 14 is far below 36, no log entry.
    assert count(FeedbackResponse) == 0
    assert feedback.alerts_for(patient) == []
    assert log_entries() == []
    # The invitation is answered, exactly as for a named answer.
    db.session.refresh(invitation)
    assert invitation.status is InvitationStatus.ANSWERED
    assert feedback.open_invitation(patient) is None
    # The patient's own history does not show it either: it cannot be linked to them.
    own = client.get("/me/feedback/").text
    assert "Secret" not in own and "You have not answered with your name yet" in own

    # Staff: the patient's page does not show it; the clinic page does not yet either.
    doctor = staff_browser(new_client, world.doctor_a)
    page = doctor.get(f"/staff/patients/{patient.id}/feedback")
    assert page.status_code == 200
    assert "Secret" not in page.text and "markup" not in page.text
    assert "No answers with the patient&#39;s name yet" in page.text \
        or "No answers with the patient's name yet" in page.text
    [entry] = log_entries()  # the page itself is logged, as always
    assert entry.target is AccessTarget.FEEDBACK
    clinic_page = doctor.get("/staff/feedback").text
    assert "Secret" not in clinic_page and "markup" not in clinic_page
    assert "None to show for this period." in clinic_page
    assert len(log_entries()) == 1  # the clinic page logs nobody


def test_anonymous_ids_are_random(world: World) -> None:
    ids = [submit(world.patient_x, "how_are_things", [5, 5, 5, 5], anonymous=True).id
           for _ in range(12)]
    assert len(set(ids)) == 12
    for value in ids:
        assert isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value)
        assert not value.isdigit()
    # Not in the order of answering (the chance that 12 random ids come sorted is 1 in 12!).
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    rows = db.session.scalars(select(AnonymousFeedback)).all()
    assert {r.week for r in rows} == {feedback.iso_week(utcnow())}


def last_month() -> datetime:
    """Noon on the 5th of the month before this one: a month that is over."""
    first_of_this = utcnow().replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    return (first_of_this - timedelta(days=20)).replace(day=5)


def test_the_clinic_sees_anonymous_comments_from_five_answers_in_a_month_that_is_over(
        world: World, new_client: Any) -> None:
    doctor = staff_browser(new_client, world.doctor_a)
    when = last_month()
    month = f"{when.year}-{when.month:02d}"
    comments = ["<b>markup</b> in comment 1", "Comment 2", "", "Comment 4", "Comment 5"]
    for n, comment in enumerate(comments[:4]):
        submit([world.patient_x, world.patient_y][n % 2], "how_are_things", [6, 6, 6, 6],
               when, anonymous=True, comment=comment)
    submit(world.patient_b, "how_are_things", [1, 1, 1, 1], when, anonymous=True,
           comment="From clinic B")  # another clinic's answer does not help reach five
    # This month's anonymous answers never count: they could be read off one by one.
    submit(world.patient_x, "how_are_things", [2, 2, 2, 2], anonymous=True,
           comment="This month")
    period = (date.today() - timedelta(days=90), date.today())
    board = feedback.dashboard(world.clinic_a.id, *period)
    assert board.anonymous_comments == {}
    page = doctor.get("/staff/feedback").text
    assert "markup" not in page and "Comment 2" not in page and "This month" not in page
    assert "None to show for this period." in page

    submit(world.patient_y, "how_was_the_meeting", [7, 7, 7, 7], when, anonymous=True,
           comment=comments[4])
    board = feedback.dashboard(world.clinic_a.id, *period)
    assert list(board.anonymous_comments) == [month]
    page = doctor.get("/staff/feedback").text
    assert "&lt;b&gt;markup&lt;/b&gt; in comment 1" in page
    assert "<b>markup</b>" not in page
    for comment in ("Comment 2", "Comment 4", "Comment 5"):
        assert comment in page
    assert "From clinic B" not in page and "This month" not in page
    assert log_entries() == []


# -- one response per invitation -------------------------------------------------------------

def test_a_double_submit_stores_one_answer(client: Client, world: World, make: Factory) -> None:
    invitation = invitation_for(make, world.patient_x, world.doctor_a)
    sign_in_as(client, world.patient_x.user)
    form = form_of(client, MEETING)
    values = scores("how_was_the_meeting", [9, 9, 9, 9])
    first = check_in(client, MEETING, values, comment="Fint", form=form)
    second = check_in(client, MEETING, values, comment="Fint", form=form)
    assert first.status_code == second.status_code == 302
    [response] = db.session.scalars(select(FeedbackResponse)).all()
    assert response.client_key == form["client_key"]
    db.session.refresh(invitation)
    assert invitation.status is InvitationStatus.ANSWERED
    assert response.total == 36 and response.comment == "Fint"
    page = client.get("/me/feedback/").text
    assert THANKS in page and ALREADY not in page


def test_a_second_form_for_the_same_invitation_is_refused(client: Client, world: World,
                                                          make: Factory) -> None:
    invitation_for(make, world.patient_x, world.doctor_a)
    sign_in_as(client, world.patient_x.user)
    tab_one, tab_two = form_of(client, MEETING), form_of(client, MEETING)
    assert tab_one["invitation"] == tab_two["invitation"] != ""
    assert tab_one["client_key"] != tab_two["client_key"]
    check_in(client, MEETING, scores("how_was_the_meeting", [9, 9, 9, 9]), form=tab_one)
    refused = check_in(client, MEETING, scores("how_was_the_meeting", [1, 1, 1, 1]),
                       destination="anonymous", form=tab_two)
    assert refused.status_code == 302
    assert ALREADY in client.get("/me/feedback/").text
    assert count(FeedbackResponse) == 1 and count(AnonymousFeedback) == 0
    # A new form without the invitation is a check-in of its own, and is stored.
    fresh = form_of(client, MEETING)
    assert fresh["invitation"] == ""
    check_in(client, MEETING, scores("how_was_the_meeting", [5, 5, 5, 5]), form=fresh)
    assert count(FeedbackResponse) == 2


def test_an_expired_invitation_is_refused(client: Client, world: World, make: Factory) -> None:
    invitation = invitation_for(make, world.patient_x, world.doctor_a)
    sign_in_as(client, world.patient_x.user)
    form = form_of(client, MEETING)
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    refused = check_in(client, MEETING, scores("how_was_the_meeting", [9, 9, 9, 9]), form=form)
    assert refused.status_code == 302
    assert CLOSED in client.get("/me/feedback/").text
    assert count(FeedbackResponse) == 0 and count(AnonymousFeedback) == 0
    assert form_of(client, MEETING)["invitation"] == ""  # no longer offered


def test_another_patients_invitation_is_not_found(client: Client, world: World,
                                                  make: Factory) -> None:
    invitation = invitation_for(make, world.patient_x, world.doctor_a)
    sign_in_as(client, world.patient_y.user)
    form = {**form_of(client, MEETING), "invitation": str(invitation.id)}
    check_in(client, MEETING, scores("how_was_the_meeting", [0, 0, 0, 0]), form=form)
    assert "This check-in was not found." in client.get("/me/feedback/").text
    assert count(FeedbackResponse) == 0
    db.session.refresh(invitation)
    assert invitation.status is InvitationStatus.OPEN


@pytest.mark.parametrize("bad", ["11", "-1", "x", "", " ", "7.5", "10.0", "1e1"])
def test_a_value_outside_the_scale_keeps_the_other_choices(client: Client, world: World,
                                                           bad: str) -> None:
    sign_in_as(client, world.patient_x.user)
    values = {"feel": "8", "close": bad, "daily": "0", "overall": "10"}
    if bad == "":
        del values["close"]  # nothing chosen: the field is missing from the request
    response = check_in(client, HOW_ARE_THINGS, values, comment="Kept comment")
    assert response.status_code == 200
    assert CHOOSE in response.text and "There is a problem" in response.text
    for key, value in values.items():
        if value.strip().isdigit() and 0 <= int(value) <= 10:
            assert f'id="item-{key}-{int(value)}" value="{int(value)}" checked' in response.text
    assert 'id="item-close-error"' in response.text
    for key in ("feel", "daily", "overall"):
        assert f'id="item-{key}-error"' not in response.text
    fieldset = re.search(r'<fieldset[^>]*id="item-close".*?</fieldset>', response.text, re.S)
    assert fieldset and "checked" not in fieldset.group()
    assert "Kept comment" in response.text
    assert count(FeedbackResponse) == 0 and count(AnonymousFeedback) == 0


def test_a_comment_over_1000_characters_is_refused_and_kept(client: Client,
                                                            world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    values = scores("how_are_things", [7, 6, 5, 4])
    long_comment = "Typed with care. " + "x" * 1000
    response = check_in(client, HOW_ARE_THINGS, values, comment=long_comment)
    assert response.status_code == 200
    assert "Please keep it under 1000 characters." in response.text
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.text, re.S)
    assert textarea and textarea.group(1).strip() == long_comment
    assert 'id="item-feel-7" value="7" checked' in response.text
    assert count(FeedbackResponse) == 0 and count(AnonymousFeedback) == 0
    # Exactly 1000 is fine.
    check_in(client, HOW_ARE_THINGS, values, comment="y" * 1000)
    [stored] = db.session.scalars(select(FeedbackResponse)).all()
    assert len(stored.comment) == 1000 and stored.total == 22


def test_the_service_refuses_a_long_comment_too(world: World) -> None:
    with pytest.raises(feedback.FeedbackError) as refused:
        submit(world.patient_x, "how_are_things", [1, 2, 3, 4], comment="z" * 1001,
               anonymous=True)
    assert refused.value.field == "comment"
    assert count(AnonymousFeedback) == 0


# -- groups of at least five -----------------------------------------------------------------

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def march(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_a_month_is_shown_from_five_full_answers_named_and_anonymous_apart(
        world: World, make: Factory) -> None:
    x, y, z = world.patient_x, world.patient_y, make.patient(world.clinic_a)
    submit(x, "how_are_things", [5, 5, 5, 5], march(10))                   # 20
    submit(y, "how_are_things", [6, 6, 6, 7], march(11))                   # 25
    submit(x, "how_are_things", [9, 9, 9, 8], march(17))                   # 35
    submit(y, "how_are_things", [10, 10, 10, 10], march(19))               # 40
    for total_of_four in (4, 5, 6, 7):                                     # 16, 20, 24, 28
        submit(z, "how_are_things", [total_of_four] * 4, march(12), anonymous=True)
    # Not counted: an answer to the overall item only, another clinic, another month.
    instrument = instruments.latest("how_are_things")
    assert instrument is not None
    feedback.submit(y, Answer(instrument=instrument, scores={"overall": 1}), now=march(18))
    submit(world.patient_b, "how_are_things", [0, 0, 0, 0], march(18))
    submit(x, "how_are_things", [0, 0, 0, 0], datetime(2026, 4, 15, 12, tzinfo=UTC))
    board = feedback.dashboard(world.clinic_a.id, *MARCH, today=date(2026, 11, 23))
    assert board.averages == {"how_are_things": [MonthFigures("2026-03", 4, None, 4, None)]}

    submit(z, "how_are_things", [8, 8, 8, 7], march(12))                   # 31, named
    submit(x, "how_are_things", [8, 8, 8, 8], march(13), anonymous=True)   # 32, anonymous
    board = feedback.dashboard(world.clinic_a.id, *MARCH, today=date(2026, 11, 23))
    [figures] = board.averages["how_are_things"]
    # Named: (20 + 25 + 31 + 35 + 40) / 5 = 151 / 5 = 30.2
    # Anonymous: (16 + 20 + 24 + 28 + 32) / 5 = 120 / 5 = 24.0
    assert figures == MonthFigures("2026-03", 5, pytest.approx(30.2), 5, pytest.approx(24.0))
    # While March is still going on, its anonymous figures stay hidden.
    during = feedback.dashboard(world.clinic_a.id, *MARCH, today=date(2026, 3, 31))
    assert during.averages["how_are_things"][0] == MonthFigures(
        "2026-03", 5, pytest.approx(30.2), 0, None)
    other = feedback.dashboard(world.clinic_b.id, *MARCH, today=date(2026, 11, 23))
    assert other.averages == {"how_are_things": [MonthFigures("2026-03", 1, None, 0, None)]}


def test_the_response_rate_needs_five_invitations(world: World, client: Client,
                                                  make: Factory) -> None:
    def invite(answered: bool, created_at: datetime, patient: PatientProfile = world.patient_x
               ) -> None:
        db.session.add(FeedbackInvitation(
            patient_id=patient.id, clinic_id=patient.clinic_id,
            instrument_key="how_was_the_meeting", created_at=created_at,
            expires_at=created_at + timedelta(days=7),
            status=InvitationStatus.ANSWERED if answered else InvitationStatus.OPEN))
        db.session.commit()

    invite(True, datetime(2026, 2, 28, 23, 30, tzinfo=UTC))  # 00:30 on 1 March in Oslo
    invite(False, march(5))
    invite(True, march(10))
    invite(False, march(20))
    # Not counted: 00:30 on 1 April in Oslo (summer time), 23:30 on 28 February, clinic B.
    invite(True, datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    invite(True, datetime(2026, 2, 28, 22, 30, tzinfo=UTC))
    invite(True, march(10), world.patient_b)
    board = feedback.dashboard(world.clinic_a.id, *MARCH)
    assert board.invited is None and board.answered is None and board.response_rate is None
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN)
    sign_in_as(client, admin)
    period = "first=2026-03-01&last=2026-03-31"
    assert "invitations answered" not in client.get(f"/staff/feedback?{period}").text

    invite(False, datetime(2026, 3, 31, 21, 30, tzinfo=UTC))  # 23:30 on 31 March in Oslo
    board = feedback.dashboard(world.clinic_a.id, *MARCH)
    assert (board.invited, board.answered) == (5, 2)
    assert board.response_rate == pytest.approx(0.4)
    assert "2 of 5 invitations answered" in client.get(f"/staff/feedback?{period}").text


def test_the_page_and_the_aggregates_csv_show_the_same_groups(world: World, client: Client,
                                                              make: Factory) -> None:
    for n, total in enumerate([4, 5, 6, 7]):
        submit(world.patient_x, "how_was_the_meeting", [total, total, total, total],
               march(10 + n))
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN)
    sign_in_as(client, admin)
    period = "first=2026-03-01&last=2026-03-31"
    url = f"/staff/clinics/{world.clinic_a.id}/feedback/aggregates.csv?{period}"
    rows = list(csv.reader(io.StringIO(client.get(url).text.lstrip("\ufeff")), delimiter=";"))
    assert rows == [["instrument", "month", "named_responses", "named_average",
                     "anonymous_responses", "anonymous_average"],
                    ["how_was_the_meeting", "2026-03", "", "", "", ""]]
    submit(world.patient_y, "how_was_the_meeting", [8, 8, 8, 8], march(20))
    rows = list(csv.reader(io.StringIO(client.get(url).text.lstrip("\ufeff")), delimiter=";"))
    # (16 + 20 + 24 + 28 + 32) / 5 = 24.0
    assert rows[1] == ["how_was_the_meeting", "2026-03", "5", "24.0", "", ""]
    page = client.get(f"/staff/feedback?{period}").text
    assert "24.0" in page


# -- who may see what ------------------------------------------------------------------------

def test_another_patient_sees_none_of_the_answers(client: Client, world: World,
                                                  new_client: Any) -> None:
    submit(world.patient_x, "how_are_things", [3, 3, 3, 3], comment="Xena's own words")
    sign_in_as(client, world.patient_x.user)
    assert "Xena&#39;s own words" in client.get("/me/feedback/").text
    other = new_client()
    sign_in_as(other, world.patient_y.user)
    page = other.get("/me/feedback/").text
    assert "own words" not in page and "You have not answered with your name yet" in page
    for url in (f"/staff/patients/{world.patient_x.id}/feedback", "/staff/feedback",
                "/staff/feedback/responses.csv"):
        assert other.get(url).status_code == 404


def test_a_relative_gets_404_everywhere(client: Client, world: World) -> None:
    submit(world.patient_x, "how_are_things", [3, 3, 3, 3])
    sign_in_as(client, world.relative)
    for url in ("/me/feedback/", HOW_ARE_THINGS, "/me/feedback/you-said-we-did",
                f"/staff/patients/{world.patient_x.id}/feedback", "/staff/feedback",
                "/staff/feedback/responses.csv", f"/staff/clinics/{world.clinic_a.id}/feedback",
                f"/staff/clinics/{world.clinic_a.id}/feedback/aggregates.csv"):
        assert client.get(url).status_code == 404, url
    assert log_entries() == []


def test_staff_of_another_clinic_see_nothing(client: Client, world: World) -> None:
    submit(world.patient_x, "how_are_things", [3, 3, 3, 3], comment="Only for clinic A")
    for _ in range(5):
        submit(world.patient_y, "how_are_things", [4, 4, 4, 4], anonymous=True,
               comment="Anonymous to clinic A")
    sign_in_as(client, world.nurse_b)
    assert client.get(f"/staff/patients/{world.patient_x.id}/feedback").status_code == 404
    page = client.get(f"/staff/feedback?clinic={world.clinic_a.id}")
    assert page.status_code == 200
    assert "Feedback for Klinikk B" in page.text and "Klinikk A" not in page.text
    assert "Anonymous to clinic A" not in page.text and "No answers in this period." in page.text
    export = client.get(f"/staff/feedback/responses.csv?clinic={world.clinic_a.id}").text
    assert "Only for clinic A" not in export and "Xena" not in export
    for url in (f"/staff/clinics/{world.clinic_a.id}/feedback",
                f"/staff/clinics/{world.clinic_a.id}/feedback/aggregates.csv"):
        assert client.get(url).status_code == 404
    assert log_entries() == []


def test_a_doctor_opening_the_page_writes_one_log_entry(client: Client, world: World) -> None:
    submit(world.patient_x, "how_are_things", [3, 3, 3, 3], comment="Seen by the doctor")
    sign_in_as(client, world.doctor_a)
    page = client.get(f"/staff/patients/{world.patient_x.id}/feedback")
    assert page.status_code == 200 and "Seen by the doctor" in page.text
    [entry] = log_entries()
    assert entry.patient_id == world.patient_x.id
    assert entry.viewer_user_id == world.doctor_a.id
    assert entry.target is AccessTarget.FEEDBACK
    assert entry.clinic_id == world.clinic_a.id and entry.viewer_role == "doctor"


def test_only_clinic_admins_manage_and_export_aggregates(world: World, make: Factory,
                                                        new_client: Any) -> None:
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN)
    settings = f"/staff/clinics/{world.clinic_a.id}/feedback"
    aggregates = f"{settings}/aggregates.csv"
    for user in (world.doctor_a, world.coordinator_a,
                 make.staff(world.clinic_a, StaffRole.NURSE),
                 make.staff(world.clinic_a, StaffRole.SOCIAL_WORKER)):
        browser = staff_browser(new_client, user)
        assert browser.get(settings).status_code == 403
        assert browser.get(aggregates).status_code == 403
        refused = browser.post(settings, data={"csrf_token": browser.csrf_token("/staff/feedback"),
                                               "threshold_how_was_the_meeting": "1"})
        assert refused.status_code == 403
        assert "Totals only (CSV)" not in browser.get("/staff/feedback").text
    browser = staff_browser(new_client, admin)
    assert browser.get(settings).status_code == 200
    assert browser.get(aggregates).status_code == 200
    assert "Totals only (CSV)" in browser.get("/staff/feedback").text
    assert browser.get(f"/staff/clinics/{world.clinic_b.id}/feedback").status_code == 404
    assert browser.get(f"/staff/clinics/{world.clinic_b.id}/feedback/aggregates.csv"
                       ).status_code == 404
    saved = browser.submit(settings, {"threshold_how_was_the_meeting": "30",
                                      "threshold_how_are_things": "4",
                                      "you_said_we_did": "Longer opening hours"})
    assert saved.status_code == 302
    assert feedback.settings_for(world.clinic_a.id).thresholds == {
        "how_was_the_meeting": 30, "how_are_things": 4}
    assert log_entries() == []


def test_the_identified_export(client: Client, world: World, make: Factory) -> None:
    submit(world.patient_x, "how_are_things", [5, 5, 5, 5], comment="=HYPERLINK(\"x\")")
    submit(world.patient_x, "how_was_the_meeting", [9, 9, 9, 9], comment="+47 call me")
    submit(world.patient_y, "how_are_things", [6, 6, 6, 6], comment="Plain words")
    submit(world.patient_b, "how_are_things", [1, 1, 1, 1], comment="Clinic B words")
    submit(world.patient_y, "how_are_things", [2, 2, 2, 2], anonymous=True,
           comment="Anonymous words")
    evil = make.patient(world.clinic_a, name="@SUM(1)")
    submit(evil, "how_are_things", [7, 7, 7, 7], comment="-2")
    sign_in_as(client, world.coordinator_a)
    response = client.get("/staff/feedback/responses.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert sorted(r["patient"] for r in rows) == ["'@SUM(1)", "Xena Pasient", "Xena Pasient",
                                                  "Yngve Pasient"]
    comments = {r["comment"] for r in rows}
    assert comments == {"'=HYPERLINK(\"x\")", "'+47 call me", "Plain words", "'-2"}
    assert "Clinic B" not in text and "Berit" not in text and "Anonymous" not in text
    for row in rows:
        assert row["via"] == "app"
    xena = next(r for r in rows if r["instrument"] == "how_was_the_meeting")
    assert (xena["listened"], xena["overall"], xena["total"]) == ("9", "9", "36")
    # One log entry per patient in the file, by the coordinator, for feedback.
    entries = log_entries()
    assert sorted(e.patient_id for e in entries) == sorted(
        [world.patient_x.id, world.patient_y.id, evil.id])
    for entry in entries:
        assert entry.target is AccessTarget.FEEDBACK
        assert entry.viewer_user_id == world.coordinator_a.id
        assert entry.viewer_role == "coordinator"


# -- instruments as data ---------------------------------------------------------------------

def instrument_file(version: int, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    def texts(en: str) -> dict[str, str]:
        return {"nb": f"{en} (nb)", "nn": f"{en} (nn)", "en": en}

    data: dict[str, Any] = {
        "key": "sleep_and_mood", "version": version, "licence": "Licensed to the clinic",
        "title": texts("Sleep and mood"), "intro": texts(f"Think about the last night, v{version}."),
        "items": [{"key": "sleep", "text": texts(f"How I slept (v{version})")},
                  {"key": "mood", "text": texts("My mood")}],
        "low": texts("Very bad"), "high": texts("Very good"), "overall_item": "mood",
        "alert": {"rule": "below", "default": 6},
    }
    data.update(changes or {})
    return data


class TestClinicInstruments:
    @pytest.fixture
    def folder(self, tmp_path: Path) -> Path:
        folder = tmp_path / "instruments"
        folder.mkdir()
        for version in (1, 2):
            (folder / f"sleep_and_mood.v{version}.json").write_text(
                json.dumps(instrument_file(version), ensure_ascii=False), encoding="utf-8")
        return folder

    @pytest.fixture
    def config_overrides(self, folder: Path) -> dict[str, Any]:
        return {"instruments_dir": str(folder)}

    def test_a_clinic_instrument_can_be_answered(self, client: Client, world: World) -> None:
        sign_in_as(client, world.patient_x.user)
        index = client.get("/me/feedback/").text
        for title in ("How are things?", "How was the meeting?", "Sleep and mood"):
            assert title in index
        assert "/me/feedback/sleep_and_mood" in index
        page = client.get("/me/feedback/sleep_and_mood").text
        assert "How I slept (v2)" in page and "Think about the last night, v2." in page
        response = check_in(client, "/me/feedback/sleep_and_mood", {"sleep": "3", "mood": "4"},
                            comment="Short nights")
        assert response.status_code == 302
        [stored] = db.session.scalars(select(FeedbackResponse)).all()
        assert (stored.instrument_key, stored.instrument_version) == ("sleep_and_mood", 2)
        assert stored.scores == {"sleep": 3, "mood": 4} and stored.total == 7
        # Its own alert rule: 7 is not below 6, 5 is.
        assert feedback.alerts_for(world.patient_x) == []
        submit(world.patient_x, "sleep_and_mood", [2, 3])
        [alert] = feedback.alerts_for(world.patient_x)
        assert alert.details["threshold"] == 6 and alert.details["max"] == 20
        assert "Short nights" in client.get("/me/feedback/").text

    def test_a_response_keeps_its_version(self, world: World) -> None:
        old = submit(world.patient_x, "sleep_and_mood", [5, 5], version=1)
        new = submit(world.patient_x, "sleep_and_mood", [6, 6])
        assert (old.instrument_version, new.instrument_version) == (1, 2)
        first = instruments.get("sleep_and_mood", old.instrument_version)
        assert first is not None and first.items[0].text["en"] == "How I slept (v1)"
        assert instruments.latest("sleep_and_mood").version == 2  # type: ignore[union-attr]
        db.session.expire_all()
        stored = db.session.get(FeedbackResponse, old.id)
        assert stored is not None and stored.instrument_version == 1

    def test_an_invalid_file_names_itself(self, folder: Path) -> None:
        broken = instrument_file(3)
        del broken["title"]["nn"]
        (folder / "sleep_and_mood.v3.json").write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(InstrumentError, match=r"sleep_and_mood\.v3\.json.*title.*nn"):
            instruments.load_folder(folder)

    @pytest.mark.parametrize("change", [
        {"items": [{"key": "sleep", "text": {"nb": "Søvn", "en": "Sleep"}}]},
        {"intro": {"nb": "Tekst", "nn": "", "en": "Text"}},
        {"version": 0},
        {"items": []},
        {"overall_item": "nothing"},
        {"alert": {"rule": "sometimes"}},
    ])
    def test_other_invalid_files(self, tmp_path: Path, change: dict[str, Any]) -> None:
        folder = tmp_path / "other"
        folder.mkdir()
        (folder / "clinic_special.json").write_text(json.dumps(instrument_file(1, change)),
                                                    encoding="utf-8")
        with pytest.raises(InstrumentError, match=r"^clinic_special\.json"):
            instruments.load_folder(folder)

    def test_a_file_that_is_not_json_names_itself(self, tmp_path: Path) -> None:
        folder = tmp_path / "other"
        folder.mkdir()
        (folder / "half.json").write_text("{\"key\": ", encoding="utf-8")
        with pytest.raises(InstrumentError, match=r"^half\.json: not readable JSON"):
            instruments.load_folder(folder)


def test_every_built_in_instrument_has_every_text_in_nb_nn_and_en() -> None:
    files = sorted(instruments.BUILT_IN.glob("*.json"))
    assert {p.name for p in files} >= {"how_are_things.v1.json", "how_was_the_meeting.v1.json"}

    def walk(value: Any, where: str) -> int:
        found = 0
        if isinstance(value, dict):
            if "nb" in value or "nn" in value or "en" in value:
                assert set(value) == {"nb", "nn", "en"}, where
                assert all(isinstance(t, str) and t.strip() for t in value.values()), where
                return 1
            for key, inner in value.items():
                found += walk(inner, f"{where}.{key}")
        elif isinstance(value, list):
            for n, inner in enumerate(value):
                found += walk(inner, f"{where}[{n}]")
        return found

    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        # title, intro, low, high and one text per item
        assert walk(data, path.name) == 4 + len(data["items"]), path.name
    for instrument in instruments.load_folder(instruments.BUILT_IN).values():
        for text in (instrument.title, instrument.intro, instrument.low, instrument.high,
                     *[item.text for item in instrument.items]):
            assert set(text) == {"nb", "nn", "en"} and all(t.strip() for t in text.values())
