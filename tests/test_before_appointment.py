"""Before my appointment: the patient says what to talk about; staff see it on the
appointment, on Today and on the worklist; afterwards staff write what was agreed, and the
patient reads it."""

from __future__ import annotations

import html
import re
from datetime import time, timedelta

from server.extensions import db
from server.models import ServiceKind
from server.models.base import utcnow
from server.plans import agenda
from server.services.local_time import oslo_today, to_utc
from tests.conftest import Client, Factory, World, sign_in_as


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


def clinic_appointment(make: Factory, world: World, **fields):  # type: ignore[no-untyped-def]
    return make.appointment(world.patient_x, service=ServiceKind.CLINIC, **fields)


def test_the_patient_says_what_to_talk_about_and_staff_see_it(
        client: Client, world: World, make: Factory, new_client) -> None:  # type: ignore[no-untyped-def]
    appointment = clinic_appointment(make, world, starts_in=timedelta(hours=20))
    sign_in_as(client, world.patient_x.user)
    page = client.get(f"/me/appointments/{appointment.id}")
    assert f'href="/me/appointments/{appointment.id}/before"' in page.text
    form = client.get(f"/me/appointments/{appointment.id}/before").text
    assert "What are my options?" in form and "What happens now?" in form
    response = client.submit(f"/me/appointments/{appointment.id}/before",
                             {"topics": ["take_home", "control"],
                              "text": "Kan jeg slippe urinprøve?"})
    assert response.status_code == 302
    shown = text(client.get(f"/me/appointments/{appointment.id}"))
    assert "You want to talk about: Take-home doses, Control measures" in shown
    staff = new_client()
    sign_in_as(staff, world.doctor_a)
    on_appointment = text(staff.get(f"/staff/appointments/{appointment.id}"))
    assert "Kan jeg slippe urinprøve?" in on_appointment and "Take-home doses" in on_appointment
    if to_utc(oslo_today() + timedelta(days=2), time(0)) > appointment.starts_at:
        today = text(staff.get("/staff/?who=all"))
        assert "Wants to talk about: Take-home doses, Control measures" in today
    worklist = text(staff.get("/staff/worklist"))
    assert "Xena Pasient" in worklist and "Kan jeg slippe urinprøve?" in worklist


def test_bad_wishes_are_explained_and_nothing_is_stored(client: Client, world: World,
                                                        make: Factory) -> None:
    appointment = clinic_appointment(make, world)
    gp = make.appointment(world.patient_x, service=ServiceKind.GP)
    sign_in_as(client, world.patient_x.user)
    empty = client.submit(f"/me/appointments/{appointment.id}/before", {})
    assert "Tick something, or write in your own words." in empty.text
    odd = client.submit(f"/me/appointments/{appointment.id}/before", {"topics": "weather",
                                                                       "text": "Hei"})
    assert odd.status_code == 200 and "Hei" in odd.text
    long = client.submit(f"/me/appointments/{appointment.id}/before", {"text": "x" * 1001})
    assert "under 1000 characters" in long.text
    assert agenda.for_appointment(appointment) is None
    # Only clinic appointments ahead: the GP's is not the clinic's to prepare.
    assert client.get(f"/me/appointments/{gp.id}/before").status_code == 302


def test_what_we_agreed_after_the_appointment(client: Client, world: World, make: Factory,
                                              new_client) -> None:  # type: ignore[no-untyped-def]
    appointment = clinic_appointment(make, world)
    sign_in_as(client, world.doctor_a)
    early = client.submit(f"/staff/appointments/{appointment.id}/agreed",
                          {"agreed": "Ny time om to uker"},
                          page=f"/staff/appointments/{appointment.id}")
    assert "once the appointment has started" in early.text
    appointment.starts_at = utcnow() - timedelta(minutes=40)
    db.session.commit()
    client.submit(f"/staff/appointments/{appointment.id}/agreed",
                  {"agreed": "Vi prøver blodprøve neste gang.\n\nNy time om to uker."},
                  page=f"/staff/appointments/{appointment.id}")
    talk = agenda.for_appointment(appointment)
    assert talk is not None and talk.agreed == ["Vi prøver blodprøve neste gang.",
                                                "Ny time om to uker."]
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    page = text(patient.get(f"/me/appointments/{appointment.id}"))
    assert "What we agreed New" in page and "Vi prøver blodprøve neste gang." in page
    db.session.refresh(talk)
    assert talk.agreed_read_at is not None
    assert "What we agreed New" not in text(patient.get(f"/me/appointments/{appointment.id}"))


def test_other_patients_and_clinics_are_refused(client: Client, world: World,
                                                make: Factory) -> None:
    appointment = clinic_appointment(make, world)
    sign_in_as(client, world.patient_y.user)
    assert client.get(f"/me/appointments/{appointment.id}/before").status_code == 404
    sign_in_as(client, world.nurse_b)
    token = client.csrf_token("/staff/")
    assert client.post(f"/staff/appointments/{appointment.id}/agreed",
                       data={"csrf_token": token, "agreed": "x"}).status_code == 404


def test_what_we_agreed_reaches_sms_and_letter_patients(world: World, make: Factory) -> None:
    from sqlalchemy import select

    from server.models import Channel, MessagePurpose, OutboxMessage
    from server.notify.texts import render

    world.clinic_a.offered_channels = [Channel.PUSH.value, Channel.SMS.value,
                                       Channel.LETTER.value]
    db.session.commit()
    for channels in ([Channel.SMS.value], [Channel.LETTER.value]):
        world.patient_x.contact_channels = channels
        db.session.commit()
        appointment = clinic_appointment(make, world)
        appointment.starts_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        agenda.save_agreed(appointment, "Vi prøver blodprøve neste gang.", world.doctor_a)
        notice = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.purpose == MessagePurpose.AGREED,
            OutboxMessage.appointment_id == appointment.id)).one()
        assert notice.channels == channels
        body = render("agreed", channels[0], notice.params, "en").body
        if channels == [Channel.SMS.value]:
            assert "notes from your appointment are ready" in body
            assert "blodprøve" not in body  # the SMS says only that they are ready
        else:
            assert "This is what we agreed at your appointment" in body
            assert "- Vi prøver blodprøve neste gang." in body
        # A change the same day is in the same letter, not a second one.
        agenda.save_agreed(appointment, "Vi prøver blodprøve neste gang.\nNy time om to uker.",
                           world.doctor_a)
        assert len(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.purpose == MessagePurpose.AGREED,
            OutboxMessage.appointment_id == appointment.id)).all()) == 1
        assert agenda.agreed_items(appointment.id)[-1] == "Ny time om to uker."


def test_a_reply_to_a_reminder_goes_to_before_my_appointment(world: World, make: Factory,
                                                            sms) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from server.messages.models import ConversationMessage
    from server.models import Channel, MessagePurpose, OutboxMessage
    from server.services import sms_inbound
    from tests.conftest import deliver_now

    world.clinic_a.asks_before_appointment = True
    world.patient_x.contact_channels = [Channel.SMS.value]
    db.session.commit()
    appointment = clinic_appointment(make, world, starts_in=timedelta(hours=30))
    # The notice of the new appointment goes first, as it would in life: the worker sends in
    # due order, and reminders made due "now" could otherwise go out before it, making the
    # notice (which invites no topics) the latest SMS the reply answers.
    deliver_now(OutboxMessage.appointment_id == appointment.id,
                OutboxMessage.purpose != MessagePurpose.REMINDER)
    deliver_now(OutboxMessage.appointment_id == appointment.id,
                OutboxMessage.purpose == MessagePurpose.REMINDER)
    sent = [s.body for s in sms.sent if s.to == world.patient_x.user.phone]
    assert any("Svar med det, med dine egne ord." in body for body in sent), sent
    phone = world.patient_x.user.phone or ""
    first = sms_inbound.receive("SM" + "1" * 32, phone, "Jeg vil snakke om jobben min")
    second = sms_inbound.receive("SM" + "2" * 32, phone, "Og om boligen")
    assert first is not None and first.understood_as == "topics"
    assert second is not None and second.understood_as == "topics"
    talk = agenda.for_appointment(appointment)
    assert talk is not None and talk.via == "sms"
    assert talk.text == "Jeg vil snakke om jobben min\nOg om boligen"  # nothing lost
    assert db.session.scalars(select(ConversationMessage)).all() == []  # not in the inbox
    replies = db.session.scalars(select(OutboxMessage.template).where(
        OutboxMessage.purpose == MessagePurpose.REPLY)).all()
    assert replies == ["reply_topics", "reply_topics"]
    # A clear answer still answers the appointment.
    sms_inbound.receive("SM" + "3" * 32, phone, "JA")
    db.session.refresh(appointment)
    assert appointment.answer.value == "confirmed"


def test_without_the_clinics_choice_a_sentence_goes_to_the_team(world: World,
                                                               make: Factory) -> None:
    from sqlalchemy import select

    from server.messages.models import ConversationMessage
    from server.models import Channel, MessagePurpose, OutboxMessage
    from server.services import sms_inbound
    from tests.conftest import deliver_now

    world.patient_x.contact_channels = [Channel.SMS.value]
    db.session.commit()
    appointment = clinic_appointment(make, world, starts_in=timedelta(hours=30))
    deliver_now(OutboxMessage.appointment_id == appointment.id,
                OutboxMessage.purpose == MessagePurpose.REMINDER)
    sms_inbound.receive("SM" + "4" * 32, world.patient_x.user.phone or "", "Jeg vil snakke om jobben")
    assert agenda.for_appointment(appointment) is None
    assert len(db.session.scalars(select(ConversationMessage)).all()) == 1


def test_two_saves_of_what_we_agreed_at_once_and_earlier_versions_kept(
        client: Client, world: World, make: Factory, new_client) -> None:  # type: ignore[no-untyped-def]
    appointment = clinic_appointment(make, world)
    appointment.starts_at = utcnow() - timedelta(minutes=40)
    db.session.commit()
    page = f"/staff/appointments/{appointment.id}"
    sign_in_as(client, world.doctor_a)
    other = new_client()
    sign_in_as(other, world.coordinator_a)
    client.submit(f"{page}/agreed", {"agreed": "Ny time om to uker.", "based_on": "0"}, page=page)
    late = other.submit(f"{page}/agreed", {"agreed": "Blodprøve neste gang.", "based_on": "0"},
                        page=page)
    assert late.status_code == 200
    assert "Someone saved these notes while you were writing" in html.unescape(late.text)
    assert "Blodprøve neste gang." in late.text  # kept to merge
    talk = agenda.for_appointment(appointment)
    assert talk is not None and talk.agreed == ["Ny time om to uker."]
    assert 'name="based_on" type="hidden" value="1"' in late.text  # the version it shows now
    other.submit(f"{page}/agreed", {"agreed": "Ny time om to uker.\nBlodprøve neste gang.",
                                    "based_on": "1"}, page=page)
    db.session.refresh(talk)
    assert talk.agreed == ["Ny time om to uker.", "Blodprøve neste gang."]
    assert talk.agreed_version == 2 and talk.agreed_history[0]["items"] == ["Ny time om to uker."]
    shown = text(client.get(page))
    assert "1 earlier version" in shown and "Doktor A" in shown
