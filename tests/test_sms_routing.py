"""Every SMS from a patient is either applied as a clear answer or passed on to the care
team as a message: a table of replies in bokmål, nynorsk and English, sent through the
signed webhook, and a count that shows none was lost (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from server.extensions import db
from server.messages import conversations
from server.messages.models import ConversationMessage, MessageVia
from server.models import Channel, InboundSms, PatientAnswer
from tests.conftest import Client, Factory, World
from tests.test_sms_webhooks import BASE, TOKEN, remind, reply

APPLIED = {"confirm", "cancel", "call_me", "stop", "team"}

#: (reply, what it must be taken as): an intent applied, or "pass" to a person.
TABLE: list[tuple[str, str]] = [
    # bokmål: clear answers
    ("JA", "confirm"), ("Ja takk", "confirm"), ("ja, jeg kommer", "confirm"),
    ("Jaaa 👍", "confirm"), ("1", "confirm"), ("ok", "confirm"), ("Kommer!", "confirm"),
    ("NEI", "cancel"), ("Nei, kan ikke komme", "cancel"), ("kommer ikke dessverre", "cancel"),
    ("2", "cancel"), ("avlys timen", "cancel"), ("RING", "call_me"), ("ring meg", "call_me"),
    ("kan du ringe meg?", "call_me"), ("TEAM", "team"), ("koordinator", "team"),
    # bokmål: for a person
    ("ja men kan ikke", "pass"), ("Nei, ring meg", "pass"), ("kommer i morgen", "pass"),
    ("hva betyr dette?", "pass"), ("jaaaaaaaaaaa", "pass"),
    ("Jeg er syk og kan ikke komme i dag, kan vi finne en ny tid neste uke?", "pass"),
    ("ikke ring meg", "pass"), ("avslutt", "pass"), ("takk", "pass"), ("hei", "pass"),
    ("1 2", "pass"), ("3", "pass"), ("ok nei", "pass"), ("ja dessverre", "pass"),
    ("ring? nei", "pass"), ("🛑", "pass"), ("stopper", "pass"), ("JA JA NEI", "pass"),
    ("Har mistet lommeboka, kan noen hjelpe meg med bussbillett?", "pass"),
    # nynorsk
    ("Ja, eg kjem", "confirm"), ("eg kjem", "confirm"), ("kjem ikkje", "cancel"),
    ("eg kan ikkje kome", "cancel"), ("passar ikkje", "cancel"), ("ringje meg", "call_me"),
    ("kan de ringje meg", "call_me"), ("teamet mitt", "team"),
    ("eg kjem kanskje", "pass"), ("kva skjer no", "pass"),
    ("eg vil snakke med legen om dosen", "pass"), ("kjem ikkje, ring meg", "pass"),
    # English
    ("yes", "confirm"), ("Yes please", "confirm"), ("I'll be there", "confirm"),
    ("see you", "confirm"), ("no", "cancel"), ("can't make it", "cancel"),
    ("cancel", "cancel"), ("call me", "call_me"), ("call me back please", "call_me"),
    ("my team", "team"),
    ("yes but late", "pass"), ("maybe", "pass"), ("what is this", "pass"),
    ("I need to talk to someone", "pass"), ("no, call me", "pass"), ("who is this?", "pass"),
    ("yesyesyes", "pass"), ("running late 10 min", "pass"),
    # stopping comes last: it turns SMS reminders off (and is applied at once)
    ("STOPP", "stop"), ("stopp sms", "stop"), ("stop", "stop"), ("unsubscribe", "stop"),
]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"twilio_auth_token": TOKEN, "public_base_url": BASE}


def test_the_table_has_at_least_60_replies_in_three_languages() -> None:
    assert len(TABLE) >= 60
    assert len({body for body, _ in TABLE}) == len(TABLE)  # a repeat would be a replay
    assert sum(1 for _, taken in TABLE if taken == "pass") >= 25


def test_each_reply_is_applied_or_passed_on_and_none_is_lost(
        client: Client, world: World, make: Factory) -> None:
    patient = world.patient_x
    appointment = remind(make, world)
    for n, (body, expected) in enumerate(TABLE):
        response = reply(client, f"route{n}", patient.user.phone or "", body)
        assert response.status_code == 200, body
        inbound = db.session.scalars(select(InboundSms).where(
            InboundSms.body == body)).one()
        taken = inbound.understood_as if inbound.understood_as in APPLIED else "pass"
        assert taken == expected, (body, inbound.understood_as)
        passed = db.session.scalar(select(ConversationMessage).where(
            ConversationMessage.inbound_sms_id == inbound.id))
        assert (passed is not None) == (expected == "pass"), body
        if passed is not None:
            assert passed.body == body and passed.via is MessageVia.SMS
        if expected == "stop":  # let the next STOP be a real reply again
            patient.contact_channels = [Channel.SMS.value]
            db.session.commit()
    # None lost: every SMS from the patient is applied, or a message in the team's inbox.
    received = db.session.scalars(select(InboundSms).where(
        InboundSms.patient_id == patient.id)).all()
    in_inbox = {m.inbound_sms_id for c in conversations.for_patient(patient)
                for m in c.messages}
    applied = [i for i in received if i.understood_as in APPLIED]
    assert len(received) == len(TABLE)
    assert len(applied) + len(in_inbox) == len(received)
    assert {i.id for i in received if i.understood_as not in APPLIED} == in_inbox
    # They joined one open conversation, assigned as any other, and the inbox shows them.
    [conversation] = conversations.for_patient(patient)
    assert conversation.waiting_since is not None
    db.session.refresh(appointment)
    assert appointment.answer in (PatientAnswer.CONFIRMED, PatientAnswer.CANNOT_COME)


def test_a_garbled_reply_shows_up_in_the_inbox(client: Client, world: World,
                                               make: Factory) -> None:
    from tests.conftest import sign_in_as

    remind(make, world)
    reply(client, "garbled", world.patient_x.user.phone or "", "jjjjaaaaaaaa kkkk??")
    sign_in_as(client, world.coordinator_a)
    page = client.get("/staff/messages/").text
    assert "Xena Pasient" in page and "jjjjaaaaaaaa kkkk??" in page
