"""The responsibility group: a meeting is an appointment with participants from the care team,
the patient's agenda, and minutes linked to goals and measures that the patient, and relatives
with the "see meeting notes" scope, read."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    AccessTarget,
    Appointment,
    MessagePurpose,
    OutboxMessage,
    RelativeScope,
    ServiceKind,
)
from server.models.base import utcnow
from server.plans import goals, meetings
from server.plans.meetings import MeetingError
from server.services import relatives
from server.services.local_time import oslo_today
from tests.conftest import CareTeam, Client, Factory, World, sign_in_as


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


def meeting(make: Factory, world: World, starts_in: timedelta = timedelta(days=7)) -> Appointment:
    return make.appointment(world.patient_x, starts_in, world.doctor_a,
                            service=ServiceKind.CLINIC, service_name="Ansvarsgruppe",
                            is_team_meeting=True)


def started(appointment: Appointment) -> Appointment:
    appointment.starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    return appointment


def test_staff_plan_a_meeting_and_choose_who_takes_part(
        client: Client, world: World, kari_team: CareTeam) -> None:
    sign_in_as(client, world.doctor_a)
    day = (oslo_today() + timedelta(days=10)).isoformat()
    response = client.submit(f"/staff/patients/{world.patient_x.id}/appointments/new", {
        "team_meeting": "y", "day": day, "at": "13:00", "duration": "60", "service": "clinic",
        "service_name": "Ansvarsgruppemøte", "meeting": "in_person", "place_name": "Møterom 2"})
    created = db.session.scalars(select(Appointment).where(
        Appointment.is_team_meeting.is_(True))).one()
    assert response.headers["Location"].endswith(f"/staff/appointments/{created.id}")
    page = f"/staff/appointments/{created.id}"
    assert "Responsibility group: who takes part" in client.get(page).text
    client.submit(f"{page}/participants", {"members": [str(kari_team.coordinator.id),
                                                       str(kari_team.gp.id)]}, page=page)
    assert [m.id for m in meetings.participants(created)] == [kari_team.coordinator.id,
                                                              kari_team.gp.id]
    client.submit(f"{page}/participants", {"members": [str(kari_team.gp.id)]}, page=page)
    assert [m.id for m in meetings.participants(created)] == [kari_team.gp.id]
    # The patient sees the kind, who takes part, and the agenda offer.
    sign_in_as(client, world.patient_x.user)
    assert "Responsibility group meeting" in client.get("/me/appointments/").text
    mine = text(client.get(f"/me/appointments/{created.id}"))
    assert "Who takes part" in mine and "Before the meeting: my agenda" in mine
    assert "fastlege" in mine.lower()
    # The next meeting is on the lists: the patient's goals, the staff list and overview.
    assert "Next responsibility group meeting" in client.get("/me/goals").text
    sign_in_as(client, world.doctor_a)
    assert "Responsibility group:" in client.get("/staff/patients?who=all").text
    assert "Next responsibility group meeting" in \
        client.get(f"/staff/patients/{world.patient_x.id}").text


def test_participants_come_from_this_patients_team_only(
        world: World, make: Factory, kari_team: CareTeam) -> None:
    plain = make.appointment(world.patient_x)
    with pytest.raises(MeetingError):
        meetings.set_participants(plain, [kari_team.gp.id], world.doctor_a)  # not a meeting
    found = meeting(make, world)
    with pytest.raises(MeetingError):
        meetings.set_participants(found, [kari_team.gp.id + 999], world.doctor_a)


def test_the_patients_agenda_reaches_the_meeting_page(
        client: Client, world: World, make: Factory, kari_team: CareTeam) -> None:
    found = meeting(make, world)
    sign_in_as(client, world.patient_x.user)
    before = client.get(f"/me/appointments/{found.id}/before")
    assert "Before the meeting: my agenda" in before.text
    client.submit(f"/me/appointments/{found.id}/before",
                  {"topics": ["housing"], "text": "Boligsøknaden\nJobb på dagtid"})
    sign_in_as(client, world.doctor_a)
    page = text(client.get(f"/staff/appointments/{found.id}"))
    assert "The patient's agenda for the meeting" in page
    assert "Boligsøknaden" in page and "Housing" in page


def test_minutes_are_linked_to_goals_and_reach_the_patient(
        client: Client, world: World, make: Factory, kari_team: CareTeam) -> None:
    goal = goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    measure = goals.add_measure(goal, "Søke kommunal bolig", kari_team.coordinator,
                                oslo_today() + timedelta(days=14), world.doctor_a, oslo_today())
    found = meeting(make, world)
    sign_in_as(client, world.doctor_a)
    page = f"/staff/appointments/{found.id}"
    early = client.submit(f"{page}/minutes", {"rows-0-text": "For tidlig"}, page=page)
    assert "once the meeting has started" in early.text
    started(found)
    bad = client.submit(f"{page}/minutes", {"rows-0-text": "Søknaden sendes i mai",
                                            "rows-0-link": "goal:99999"}, page=page)
    assert bad.status_code == 200 and "Choose from the list." in bad.text
    assert "Søknaden sendes i mai" in bad.text  # kept
    no_text = client.submit(f"{page}/minutes", {"rows-0-link": f"goal:{goal.id}"}, page=page)
    assert "Write the point, or leave its goal empty." in no_text.text
    saved = client.submit(f"{page}/minutes", {
        "rows-0-text": "Søknaden sendes i mai", "rows-0-link": f"measure:{measure.id}",
        "rows-1-text": "", "rows-2-text": "Neste møte etter sommeren",
        "rows-3-link": ""}, page=page)
    assert saved.headers["Location"].endswith("#minutes")
    [minute, plain] = meetings.minutes(meetings.agenda.for_appointment(found))
    assert (minute.text, minute.measure.id, minute.goal.id) == ("Søknaden sendes i mai",
                                                                measure.id, goal.id)
    assert (plain.text, plain.goal) == ("Neste møte etter sommeren", None)
    assert db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.purpose == MessagePurpose.AGREED,
        OutboxMessage.appointment_id == found.id)) is not None
    sign_in_as(client, world.patient_x.user)
    mine = client.get(f"/me/appointments/{found.id}").text
    assert "Minutes from the meeting" in mine and "Søknaden sendes i mai" in mine
    assert f'href="/me/goals/{goal.id}"' in mine and "My goal: Få en fast bolig" in mine


def test_a_relative_needs_the_meeting_notes_scope_and_sees_no_goals(
        client: Client, world: World, make: Factory, kari_team: CareTeam) -> None:
    goal = goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    past = started(meeting(make, world))
    meetings.save_minutes(past, [("Søknaden sendes i mai", f"goal:{goal.id}")], world.doctor_a)
    upcoming = meeting(make, world, timedelta(days=30))
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=[RelativeScope.APPOINTMENTS.value]))
    access = relatives.accept(invitation, world.relative)
    sign_in_as(client, world.relative)
    url = f"/relative/patients/{world.patient_x.id}/meetings"
    assert client.get(url).status_code == 404
    assert "meetings" not in client.get(f"/relative/patients/{world.patient_x.id}/").text
    relatives.change(access, [RelativeScope.MEETING_NOTES.value], None)
    page = text(client.get(url))
    assert "Søknaden sendes i mai" in page and "Få en fast bolig" not in page
    assert "Next meeting" in page and str(upcoming.starts_at.year) in page
    assert db.session.scalars(select(AccessLogEntry.viewer_role).where(
        AccessLogEntry.target == AccessTarget.MEETINGS)).all() == ["relative"]


def test_staff_of_another_clinic_get_404(client: Client, world: World, make: Factory,
                                         kari_team: CareTeam) -> None:
    found = started(meeting(make, world))
    sign_in_as(client, world.nurse_b)
    for path in ("participants", "minutes"):
        response = client.post(f"/staff/appointments/{found.id}/{path}", data={})
        assert response.status_code in (400, 404)
    assert client.get(f"/staff/appointments/{found.id}").status_code == 404


def test_home_and_the_past_list_lead_to_notes_not_yet_read(
        client: Client, world: World, make: Factory, kari_team: CareTeam) -> None:
    past = started(meeting(make, world))
    past.starts_at = utcnow() - timedelta(days=2)
    db.session.commit()
    meetings.save_minutes(past, [("Neste møte etter sommeren", "")], world.doctor_a)
    sign_in_as(client, world.patient_x.user)
    home = text(client.get("/me/"))
    assert "The minutes from your meeting on" in home and "are ready" in home
    listed = client.get("/me/appointments/past").text
    assert f'href="/me/appointments/{past.id}#agreed-title"' in listed and "Read the minutes" in listed
    opened = client.get(f"/me/appointments/{past.id}").text  # opened: no longer new
    assert "Add to my calendar" not in opened and "answer_tag" not in opened
    assert 'class="answer"' not in opened  # no "are you coming?" for a meeting that is over
    assert "The minutes from your meeting on" not in text(client.get("/me/"))
