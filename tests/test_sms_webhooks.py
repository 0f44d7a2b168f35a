"""Two-way SMS: signed webhooks, replies applied to the right appointment, STOPP, reports."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from server.extensions import db
from server.messages import conversations
from server.messages.conversations import sms_segments
from server.models import (
    Channel,
    InboundSms,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientAnswer,
    WorkItem,
    WorkKind,
)
from server.notify.worker import Worker
from tests.conftest import CapturingSms, Client, Factory, World, deliver_now

TOKEN = "test-twilio-auth-token"
BASE = "https://folge.example"


@pytest.fixture(autouse=True)
def english_patients(world: World) -> None:
    """Messages are rendered in the patient's language; these tests read English."""
    for patient in (world.patient_x, world.patient_y):
        patient.user.language = "en"
    db.session.commit()



@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"twilio_auth_token": TOKEN, "public_base_url": BASE}


def sid(name: str) -> str:
    """A message id in Twilio's format (SM and 32 hex digits), made from a short name."""
    return "SM" + hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()


def post(client: Client, path: str, params: dict[str, str], signature: str | None = "auto") -> Any:
    if signature == "auto":
        signature = RequestValidator(TOKEN).compute_signature(BASE + path, params)
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post(path, data=params, headers=headers)


def reply(client: Client, name: str, sender: str, body: str) -> Any:
    return post(client, "/webhooks/sms/inbound", {"MessageSid": sid(name), "From": sender,
                                                  "Body": body})


def remind(make: Factory, world: World, **fields: Any):  # type: ignore[no-untyped-def]
    """An appointment whose reminder went out by SMS."""
    appointment = make.appointment(world.patient_x, **fields)
    deliver_now(OutboxMessage.appointment_id == appointment.id)
    return appointment


@pytest.mark.parametrize("signature", [None, "", "bm90LWEtc2lnbmF0dXJl"])
def test_unsigned_or_wrongly_signed_requests_get_403(client: Client, world: World,
                                                     signature: str | None) -> None:
    params = {"MessageSid": sid("1"), "From": world.patient_x.user.phone, "Body": "JA"}
    assert post(client, "/webhooks/sms/inbound", params, signature).status_code == 403
    assert post(client, "/webhooks/sms/status", {"MessageSid": sid("1"), "MessageStatus": "failed"},
                signature).status_code == 403
    assert db.session.scalar(select(InboundSms)) is None


def test_signature_over_other_parameters_is_refused(client: Client, world: World) -> None:
    signed = {"MessageSid": sid("1"), "From": world.patient_x.user.phone, "Body": "JA"}
    signature = RequestValidator(TOKEN).compute_signature(BASE + "/webhooks/sms/inbound", signed)
    tampered = {**signed, "Body": "STOPP"}
    assert post(client, "/webhooks/sms/inbound", tampered, signature).status_code == 403


def test_without_a_configured_token_everything_is_refused(client: Client, world: World) -> None:
    client.application.config["FOLGE"] = client.application.config["FOLGE"].__class__(
        **{**client.application.config["FOLGE"].__dict__, "twilio_auth_token": ""})
    assert reply(client, "SM1", world.patient_x.user.phone, "JA").status_code == 403


def test_yes_confirms_the_latest_reminded_appointment(client: Client, world: World,
                                                      make: Factory, sms: CapturingSms) -> None:
    older = remind(make, world, starts_in=timedelta(days=5))
    latest = remind(make, world, starts_in=timedelta(days=2))
    response = reply(client, "SM100", world.patient_x.user.phone, "Ja takk 👍")
    assert response.status_code == 200 and "<Response>" in response.text
    db.session.refresh(latest)
    db.session.refresh(older)
    assert latest.answer is PatientAnswer.CONFIRMED
    assert older.answer is PatientAnswer.NONE
    Worker(name="w").run_until_idle()
    assert "We have noted that you are coming" in sms.sent[-1].body
    item = db.session.scalars(select(WorkItem)).one()
    assert item.details["via"] == "sms" and item.appointment_id == latest.id


@pytest.mark.parametrize(("text", "answer", "call_me", "receipt"), [
    ("NEI", PatientAnswer.CANNOT_COME, False, "We will contact you to find a new time"),
    ("avlys.", PatientAnswer.CANNOT_COME, False, "We will contact you"),
    ("2", PatientAnswer.CANNOT_COME, False, "We will contact you"),
    ("Ring meg", PatientAnswer.NONE, True, "We will call you"),
])
def test_replies_apply(client: Client, world: World, make: Factory, sms: CapturingSms,
                       text: str, answer: PatientAnswer, call_me: bool, receipt: str) -> None:
    appointment = remind(make, world)
    reply(client, "SM200", world.patient_x.user.phone, text)
    db.session.refresh(appointment)
    assert appointment.answer is answer and appointment.call_me is call_me
    Worker(name="w").run_until_idle()
    assert receipt in sms.sent[-1].body


def test_a_repeated_message_id_has_no_effect(client: Client, world: World, make: Factory,
                                             sms: CapturingSms) -> None:
    appointment = remind(make, world)
    reply(client, "SM300", world.patient_x.user.phone, "JA")
    reply(client, "SM300", world.patient_x.user.phone, "NEI")
    db.session.refresh(appointment)
    assert appointment.answer is PatientAnswer.CONFIRMED
    assert len(db.session.scalars(select(InboundSms)).all()) == 1
    assert len(db.session.scalars(select(WorkItem)).all()) == 1
    Worker(name="w").run_until_idle()
    replies = [m for m in db.session.scalars(select(OutboxMessage))
               if m.purpose is MessagePurpose.REPLY]
    assert len(replies) == 1


def test_unknown_reply_goes_to_the_team_with_a_short_help_text(
        client: Client, world: World, make: Factory, sms: CapturingSms) -> None:
    appointment = remind(make, world)
    reply(client, "SM400", world.patient_x.user.phone, "hva betyr dette?")
    Worker(name="w").run_until_idle()
    body = sms.sent[-1].body
    assert "YES, NO or CALL" in body and "gone to your team" in body
    assert sms_segments(body) <= 2
    db.session.refresh(appointment)
    assert appointment.answer is PatientAnswer.NONE
    [conversation] = conversations.for_patient(world.patient_x)
    assert [m.body for m in conversation.messages] == ["hva betyr dette?"]


def test_stop_ends_sms_reminders_and_tells_the_clinic(client: Client, world: World,
                                                      make: Factory, sms: CapturingSms) -> None:
    remind(make, world)
    reply(client, "SM500", world.patient_x.user.phone, "STOPP")
    db.session.refresh(world.patient_x)
    assert Channel.SMS.value not in world.patient_x.contact_channels
    item = db.session.scalars(select(WorkItem)).one()
    assert item.kind is WorkKind.SMS_STOPPED
    Worker(name="w").run_until_idle()
    assert "no more SMS reminders" in sms.sent[-1].body
    # The next reminder does not go by SMS.
    sent_before = len(sms.sent)
    later = make.appointment(world.patient_x)
    deliver_now(OutboxMessage.appointment_id == later.id)
    assert len(sms.sent) == sent_before


def test_unknown_sender_gets_no_answer(client: Client, world: World, sms: CapturingSms) -> None:
    reply(client, "SM600", "+4798765432", "JA")
    Worker(name="w").run_until_idle()
    assert sms.sent == []
    assert db.session.scalars(select(InboundSms)).one().understood_as == "unknown_sender"


def test_reply_without_a_reminded_appointment(client: Client, world: World,
                                              sms: CapturingSms) -> None:
    reply(client, "SM700", world.patient_x.user.phone, "JA")
    Worker(name="w").run_until_idle()
    assert "no coming appointment" in sms.sent[-1].body
    [conversation] = conversations.for_patient(world.patient_x)
    assert [m.body for m in conversation.messages] == ["JA"]


def test_delivery_report_updates_and_a_failure_falls_back(client: Client, world: World,
                                                          make: Factory) -> None:
    make.patient  # noqa: B018
    world.patient_x.contact_channels = ["sms", "letter"]
    db.session.commit()
    appointment = remind(make, world)
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment.id,
        OutboxMessage.status == MessageStatus.SENT)).first()
    assert message is not None and message.provider_message_id
    post(client, "/webhooks/sms/status", {"MessageSid": message.provider_message_id,
                                          "MessageStatus": "delivered"})
    db.session.refresh(message)
    assert message.delivery_status == "delivered" and message.status is MessageStatus.SENT
    post(client, "/webhooks/sms/status", {"MessageSid": message.provider_message_id,
                                          "MessageStatus": "undelivered"})
    db.session.refresh(message)
    assert message.status is MessageStatus.PENDING and message.channel == "letter"
    Worker(name="w").run_until_idle()
    db.session.refresh(message)
    assert message.status is MessageStatus.LETTER_QUEUED
