"""Issue 13, the patient's and relative's experience: "For you now" on home, the main
navigation, reminders paused by "I cannot come", one worklist item per answer, the simple
reminder question, the "Me" pages and asking about a read in the access log."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientAnswer,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.services import appointments, take_home
from tests.conftest import Client, Factory, World, sign_in_as


def _for_you(page: str) -> str:
    found = re.search(r'<section class="for-you".*?</section>', page, re.S)
    assert found, "no For you now block"
    return found.group(0)


def test_for_you_says_nothing_new_in_one_line(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    block = _for_you(client.get("/me/").text)
    assert "Nothing new. You are up to date." in block
    assert "<li" not in block


def test_for_you_lists_an_unanswered_appointment_tomorrow_first_and_drops_it_when_answered(
        client: Client, world: World, make: Factory) -> None:
    soon = make.appointment(world.patient_x, starts_in=timedelta(days=1))
    make.appointment(world.patient_x, starts_in=timedelta(days=30))  # too far ahead to ask
    sign_in_as(client, world.patient_x.user)
    block = _for_you(client.get("/me/").text)
    assert block.count('class="for-you-item') == 1
    assert "for-you-appointment soon" in block
    assert "You have an appointment tomorrow at" in block
    assert f'href="/me/appointments/{soon.id}"' in block
    appointments.answer(soon, PatientAnswer.CONFIRMED)
    assert "Nothing new" in _for_you(client.get("/me/").text)


def test_for_you_shows_an_unread_decision_until_it_is_opened(
        client: Client, world: World, make: Factory) -> None:
    request = take_home.decide(make.take_home(world.patient_x), take_home.DecisionInput(
        take_home.Outcome.APPROVE, "Stabil lenge."), world.doctor_a)
    sign_in_as(client, world.patient_x.user)
    block = _for_you(client.get("/me/").text)
    assert "You have an answer to your take-home request for" in block
    assert f'href="/me/take-home/{request.id}"' in block
    client.get(f"/me/take-home/{request.id}")  # read it
    assert "Nothing new" in _for_you(client.get("/me/").text)


def test_for_you_shows_a_message_from_the_team(client: Client, world: World) -> None:
    from server.messages import conversations

    written = conversations.start(world.patient_x, "Kan jeg flytte timen?", None, "fy-1")
    conversations.answer(written.conversation, world.coordinator_a, "Ja, ring oss.")
    sign_in_as(client, world.patient_x.user)
    block = _for_you(client.get("/me/").text)
    assert "You have a new message from your team." in block
    assert f'href="/me/messages/{written.conversation_id}"' in block


def test_home_buttons_do_not_repeat_their_headings_and_sign_in_moved_to_me(
        client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    home = client.get("/me/").text
    cards = re.findall(r"<h2>([^<]+)</h2>.*?class=\"button-secondary\"[^>]*>([^<]+)</a>",
                       home, re.S)
    assert len(cards) == 6
    assert all(heading.strip() != button.strip() for heading, button in cards)
    assert "/account/passkeys" not in home
    me = client.get("/me/settings").text
    assert "Sign in with fingerprint or face" in me
    assert 'href="/account/passkeys"' in me and 'href="/me/reminders"' in me


def _nav(page: str) -> list[tuple[str, str]]:
    found = re.search(r'<nav class="main-nav".*?</nav>', page, re.S)
    assert found, "no main navigation"
    return [(href, current) for href, current in re.findall(
        r'<a href="([^"]+)"(?: aria-current="(\w+)")?>', found.group(0))]


def test_main_navigation_marks_the_current_place(
        client: Client, world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    sign_in_as(client, world.patient_x.user)
    assert _nav(client.get("/me/").text) == [
        ("/me/", "page"), ("/me/appointments/", ""), ("/me/messages/", ""), ("/me/settings", "")]
    # A deeper page marks its section, and has a back link to its parent.
    detail = client.get(f"/me/appointments/{appointment.id}").text
    assert ("/me/appointments/", "true") in _nav(detail)
    assert 'class="back"' in detail
    assert ("/me/settings", "true") in _nav(client.get("/me/reminders").text)


def test_relatives_have_their_own_navigation_and_staff_none(
        client: Client, new_client: object, world: World) -> None:
    sign_in_as(client, world.relative)
    assert _nav(client.get("/relative/").text) == [("/relative/", "page"),
                                                   ("/relative/settings", "")]
    staff = new_client()  # type: ignore[operator]
    sign_in_as(staff, world.doctor_a)
    assert 'class="main-nav"' not in staff.get("/staff/").text


def _waiting_reminders(appointment_id: int) -> list[str]:
    return sorted(m.idempotency_key.split(":")[-1] for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.appointment_id == appointment_id,
                                    OutboxMessage.purpose == MessagePurpose.REMINDER,
                                    OutboxMessage.status == MessageStatus.PENDING)))


def test_cannot_come_stops_the_reminders_and_coming_after_all_plans_them_again(
        world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    assert _waiting_reminders(appointment.id) == ["evening", "h2"]
    appointments.answer(appointment, PatientAnswer.CANNOT_COME, "Jeg er syk.")
    assert _waiting_reminders(appointment.id) == []
    appointments.answer(appointment, PatientAnswer.CONFIRMED)
    assert _waiting_reminders(appointment.id) == ["evening", "h2"]
    # Only the reminders: the notice of the appointment is not sent a second time.
    notices = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment.id,
        OutboxMessage.purpose == MessagePurpose.NOTICE)).all()
    assert len(notices) == 1


def test_the_appointment_page_reflects_i_cannot_come(
        client: Client, world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    appointments.answer(appointment, PatientAnswer.CANNOT_COME, "Jeg er syk.")
    sign_in_as(client, world.patient_x.user)
    page = client.get(f"/me/appointments/{appointment.id}").text
    assert "You said you cannot come" in page
    assert "We do not send reminders for this appointment." in page
    # Coming is still there, to change the answer, but no longer the main button.
    assert re.search(r'class="button-secondary">I can come after all<', page)
    assert 'class="button">I' not in page


def test_changing_an_answer_updates_the_worklist_item(world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    appointments.answer(appointment, PatientAnswer.CANNOT_COME, "Jeg er syk.", call_me=True)
    appointments.answer(appointment, PatientAnswer.CONFIRMED)
    items = db.session.scalars(select(WorkItem).where(
        WorkItem.appointment_id == appointment.id, WorkItem.kind == WorkKind.ANSWER)).all()
    assert len(items) == 1
    assert items[0].details["answer"] == "confirmed"
    assert items[0].details["changed_from"] == "cannot_come"


#: What the browser sends with the settings form as it is shown (every select has a value).
_SETTINGS = {"first": "sms", "second": "", "third": "", "evening_before": "18:00",
             "hours_before": "2", "quiet_from": "22:00", "quiet_until": "08:00"}


def test_reminders_ask_one_simple_question_first(
        client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/reminders").text
    assert "How do you want reminders?" in page
    assert page.count('name="way"') >= 3
    assert "<details" in page  # the ranked order, folded
    response = client.submit("/me/reminders", {**_SETTINGS, "way": "sms"})
    assert response.status_code == 302
    db.session.refresh(world.patient_x)
    assert world.patient_x.contact_channels == ["sms"]


def test_reminders_refuse_the_same_way_twice_and_keep_what_was_chosen(
        client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    before = list(world.patient_x.contact_channels)
    response = client.submit("/me/reminders", {**_SETTINGS, "way": "custom", "first": "sms",
                                               "second": "sms"})
    assert response.status_code == 200
    assert "You chose the same way twice" in response.text
    db.session.refresh(world.patient_x)
    assert world.patient_x.contact_channels == before


def test_reminders_warn_when_app_notifications_reach_no_phone(
        client: Client, world: World) -> None:
    world.patient_x.clinic.offered_channels = ["sms", "push", "letter"]
    db.session.commit()
    world.patient_x.contact_channels = ["push"]
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/reminders").text
    assert "Notifications are on for 0 phones" in page
    assert "Send a test notification" not in page


def test_asking_about_a_read_opens_a_message_about_it(
        client: Client, new_client: object, world: World) -> None:
    staff = new_client()  # type: ignore[operator]
    sign_in_as(staff, world.doctor_a)
    staff.get(f"/staff/patients/{world.patient_x.id}")
    sign_in_as(client, world.patient_x.user)
    log = client.get("/me/who-has-seen").text
    asked = re.findall(r'href="/me/messages/new\?about=(\d+)"', log)
    assert len(asked) == 1  # the overview and its sections: one line, one question
    entry = db.session.get(AccessLogEntry, int(asked[0]))
    assert entry is not None and entry.patient_id == world.patient_x.id
    page = client.get(f"/me/messages/new?about={entry.id}").text
    assert "Doktor A" in page and "Can you tell me why?" in page
    # Someone else's entry is not prefilled.
    other = new_client()  # type: ignore[operator]
    sign_in_as(other, world.patient_y.user)
    assert "Doktor A" not in other.get(f"/me/messages/new?about={entry.id}").text


def test_take_home_decision_is_marked_seen_only_by_the_patient(
        client: Client, world: World, make: Factory) -> None:
    request = take_home.decide(make.take_home(world.patient_x), take_home.DecisionInput(
        take_home.Outcome.APPROVE, "Stabil lenge."), world.doctor_a)
    sign_in_as(client, world.doctor_a)
    assert "Stabil lenge." in client.get(f"/staff/take-home/{request.id}").text
    db.session.refresh(request)
    assert request.decision_seen_at is None
    assert request.decided_at is not None and request.decided_at <= utcnow()


def test_reminders_come_back_when_staff_move_the_appointment(world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    appointments.answer(appointment, PatientAnswer.CANNOT_COME, "Jeg er syk.")
    assert _waiting_reminders(appointment.id) == []
    appointments.update(appointment, appointments.AppointmentInput(
        starts_at=appointment.starts_at + timedelta(days=4), duration_minutes=30,
        service=appointment.service, service_name=appointment.service_name,
        meeting=appointment.meeting, place_name=appointment.place_name))
    assert appointment.answer is PatientAnswer.NONE  # a new time asks again
    assert _waiting_reminders(appointment.id) == ["evening", "h2"]


def test_the_feedback_chart_has_dates_on_its_axis_also_with_one_point() -> None:
    from server.charts import line_chart

    one = line_chart([("01.12.2026", 12.0)], 40)
    assert one.dates == [(one.points[0].x, "01.12.2026", "middle")]
    three = line_chart([("01.10.2026", 30.0), ("01.11.2026", 20.0), ("01.12.2026", 12.0)], 40)
    assert [(label, anchor) for _x, label, anchor in three.dates] == [
        ("01.10.2026", "start"), ("01.12.2026", "end")]
    five = line_chart([(f"0{n}.12.2026", float(n)) for n in range(1, 6)], 40)
    assert [label for _x, label, _a in five.dates] == ["01.12.2026", "03.12.2026", "05.12.2026"]


def test_a_call_back_item_has_the_number_to_tap(
        client: Client, world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    appointments.answer(appointment, PatientAnswer.CANNOT_COME, "Syk.", call_me=True)
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/worklist").text
    phone = world.patient_x.user.phone or ""
    assert f'href="tel:{phone}"' in page
    assert "wants a call" in page
