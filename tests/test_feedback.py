"""Feedback check-ins in the app: answering, the invitation, history, alerts, settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    Attendance,
    FeedbackInvitation,
    FeedbackResponse,
    InvitationStatus,
    ServiceKind,
    StaffRole,
    WorkItem,
    WorkKind,
    WorkStatus,
)
from server.services import appointments, feedback, instruments
from tests.conftest import Client, Factory, World, sign_in_as

ALL_NINE = {"feel": "9", "close": "9", "daily": "9", "overall": "9"}


def responses() -> int:
    return db.session.scalar(select(func.count()).select_from(FeedbackResponse)) or 0


def attended(make: Factory, world: World) -> Any:
    appointment = make.appointment(world.patient_x, service=ServiceKind.CLINIC,
                                   service_name="Poliklinikken")
    appointment.starts_at -= timedelta(days=3)
    db.session.commit()
    appointments.mark_attendance(appointment, Attendance.ATTENDED, world.doctor_a)
    return appointment


def test_patient_checks_in_from_the_app_and_sees_the_answer_over_time(
        client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    form = client.get("/me/feedback/how_are_things").text
    assert "How are things?" in form and form.count('type="radio"') >= 44
    assert "My care team, with my name" in form
    sent = client.submit("/me/feedback/how_are_things", {**ALL_NINE, "client_key": "a" * 32,
                                                         "destination": "team",
                                                         "comment": "Bedre uke"})
    assert sent.status_code == 302
    stored = db.session.scalars(select(FeedbackResponse)).one()
    assert stored.total == 36 and stored.instrument_version == 1 and stored.comment == "Bedre uke"
    page = client.get("/me/feedback/").text
    assert "<svg" in page and page.count('class="chart-dot"') == 1
    assert "36" in page and "Bedre uke" in page
    client.submit("/me/feedback/how_are_things", {**ALL_NINE, "feel": "5",
                                                  "client_key": "b" * 32, "destination": "team"})
    page = client.get("/me/feedback/").text
    assert page.count('class="chart-dot"') == 2 and "<polyline" in page and "32" in page


def test_an_attended_clinic_appointment_brings_one_invitation_and_a_banner(
        client: Client, world: World, make: Factory) -> None:
    appointment = attended(make, world)
    invitation = db.session.scalars(select(FeedbackInvitation)).one()
    assert invitation.appointment_id == appointment.id
    assert invitation.instrument_key == "how_was_the_meeting"
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    sign_in_as(client, world.patient_x.user)
    assert "How was your last meeting?" in client.get("/me/").text
    assert "Answer now" in client.get("/me/feedback/").text
    form = client.get("/me/feedback/how_was_the_meeting").text
    assert f'name="invitation" type="hidden" value="{invitation.id}"' in form
    scores = {"listened": "10", "topics": "9", "approach": "9", "overall": "9"}
    client.submit("/me/feedback/how_was_the_meeting", {
        **scores, "client_key": "c" * 32, "invitation": str(invitation.id),
        "destination": "team"})
    db.session.refresh(invitation)
    assert invitation.status is InvitationStatus.ANSWERED
    assert "Answer now" not in client.get("/me/feedback/").text
    assert "How was your last meeting?" not in client.get("/me/").text
    again = client.submit("/me/feedback/how_was_the_meeting", {
        **scores, "client_key": "d" * 32, "invitation": str(invitation.id),
        "destination": "team"}, follow_redirects=True)
    assert "already answered this check-in" in again.text
    assert responses() == 1


def test_bad_values_keep_what_was_chosen_and_store_nothing(client: Client,
                                                            world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    response = client.submit("/me/feedback/how_are_things", {
        "feel": "7", "close": "11", "daily": "", "overall": "3", "client_key": "e" * 32,
        "comment": "Min tekst"})
    assert response.status_code == 200 and "There is a problem" in response.text
    assert response.text.count("Choose a number from 0 to 10.") >= 2
    assert 'id="item-feel-7" value="7" checked' in response.text
    assert 'id="item-overall-3" value="3" checked' in response.text
    assert "Min tekst" in response.text
    assert responses() == 0


def test_a_fall_of_five_puts_a_discuss_item_on_the_worklist_until_done(
        client: Client, world: World, new_client: Any) -> None:
    instrument = instruments.latest("how_are_things")
    assert instrument is not None
    for n, scores in enumerate(({"feel": 9, "close": 9, "daily": 9, "overall": 9},
                                {"feel": 8, "close": 8, "daily": 8, "overall": 7})):
        feedback.submit(world.patient_x, feedback.Answer(instrument, scores,
                                                        client_key=f"k{n}"))
    item = db.session.scalars(select(WorkItem).where(
        WorkItem.kind == WorkKind.FEEDBACK_ALERT)).one()
    assert item.details["previous"] == 36 and item.details["total"] == 31
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/worklist").text
    assert "Discuss at the next meeting" in page and "fell from 36 to 31 of 40" in page
    assert "fell from 36 to 31" in client.get(f"/staff/patients/{world.patient_x.id}/feedback").text
    client.submit(f"/staff/worklist/{item.id}/done", {"note": "Tatt opp"}, page="/staff/worklist")
    db.session.refresh(item)
    assert item.status is WorkStatus.DONE
    assert "fell from 36 to 31" not in client.get("/staff/worklist").text


def test_clinic_admins_set_thresholds_and_the_page_patients_read(
        world: World, make: Factory, client: Client, new_client: Any) -> None:
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN)
    url = f"/staff/clinics/{world.clinic_a.id}/feedback"
    sign_in_as(client, world.doctor_a)
    assert client.get(url).status_code == 403
    boss = new_client()
    sign_in_as(boss, admin)
    page = boss.get(url).text
    assert 'value="5"' in page and 'value="36"' in page
    bad = boss.submit(url, {"threshold_how_are_things": "x", "threshold_how_was_the_meeting":
                            "30", "you_said_we_did": "Kortere ventetid"})
    assert "Write a whole number from 0 to 40." in bad.text and "Kortere ventetid" in bad.text
    assert feedback.settings_for(world.clinic_a.id).you_said_we_did == ""
    boss.submit(url, {"threshold_how_are_things": "4", "threshold_how_was_the_meeting": "30",
                      "you_said_we_did": "Dere ba om <kveldstimer>. Nå har vi det."})
    settings = feedback.settings_for(world.clinic_a.id)
    assert settings.thresholds == {"how_are_things": 4, "how_was_the_meeting": 30}
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    text = patient.get("/me/feedback/you-said-we-did").text
    assert "Dere ba om &lt;kveldstimer&gt;. Nå har vi det." in text


def test_an_invitation_closes_only_with_an_answer_to_its_own_instrument(
        client: Client, world: World, make: Factory) -> None:
    attended(make, world)
    invitation = db.session.scalars(select(FeedbackInvitation)).one()
    sign_in_as(client, world.patient_x.user)
    wrong = client.submit("/me/feedback/how_are_things", {
        **ALL_NINE, "client_key": "f" * 32, "invitation": str(invitation.id),
        "destination": "team"}, follow_redirects=True)
    assert "This check-in was not found." in wrong.text
    db.session.refresh(invitation)
    assert invitation.status is InvitationStatus.OPEN and responses() == 0


def test_the_response_rate_counts_whole_months(world: World) -> None:
    from datetime import UTC, date, datetime

    for day in (2, 9, 16, 23, 30):
        moment = datetime(2026, 3, day, 12, tzinfo=UTC)
        db.session.add(FeedbackInvitation(
            patient_id=world.patient_x.id, clinic_id=world.clinic_a.id,
            instrument_key="how_was_the_meeting", created_at=moment,
            expires_at=moment + timedelta(days=7),
            status=InvitationStatus.ANSWERED if day == 2 else InvitationStatus.OPEN))
    db.session.commit()
    # A period from the middle of the month shows the same as the whole month, so moving
    # the dates by a day can never single out one invitation.
    for first, last in ((date(2026, 3, 1), date(2026, 3, 31)),
                        (date(2026, 3, 15), date(2026, 3, 16))):
        board = feedback.dashboard(world.clinic_a.id, first, last, today=date(2026, 11, 1))
        assert (board.invited, board.answered) == (5, 1)
