"""A signed SMS webhook cannot be replayed as a new message (security review item 7).

Twilio's signature joins the sorted names and values without separators, so a
signed request can be cut up differently and keep its signature. Only Twilio's
own parameters, each in its own format and from our own account, are accepted;
and the same sender and text within 10 minutes under a new message id is not
acted on.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from server.extensions import db
from server.models import InboundSms, PatientAnswer
from server.models.base import utcnow
from server.notify.twilio_webhook import INBOUND, WebhookRefused, check_parameters
from tests.conftest import Client, Factory, World, deliver_now

TOKEN = "test-twilio-auth-token"
ACCOUNT = "AC" + "a" * 32
BASE = "https://folge.example"
SID_1 = "SM" + "1a" * 16
SID_2 = "SM" + "2" * 32


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"twilio_auth_token": TOKEN, "twilio_account_sid": ACCOUNT, "public_base_url": BASE}


def sign(params: dict[str, str], path: str = "/webhooks/sms/inbound") -> str:
    return RequestValidator(TOKEN).compute_signature(BASE + path, params)


def post(client: Client, params: dict[str, str], signature: str | None = None,
         path: str = "/webhooks/sms/inbound") -> Any:
    return client.post(path, data=params,
                       headers={"X-Twilio-Signature": signature or sign(params, path)})


def twilio_params(world: World, sid: str = SID_1, body: str = "JA") -> dict[str, str]:
    """What Twilio posts for an SMS, with the parameters it really sends."""
    return {"ToCountry": "NO", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
            "FromCity": "", "Body": body, "FromCountry": "NO", "To": "+4759440000",
            "ToZip": "", "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT,
            "From": world.patient_x.user.phone or "", "ApiVersion": "2010-04-01"}


def stored() -> list[InboundSms]:
    return list(db.session.scalars(select(InboundSms).order_by(InboundSms.id)))


def test_a_real_twilio_request_is_accepted(client: Client, world: World) -> None:
    assert post(client, twilio_params(world)).status_code == 200
    [sms] = stored()
    assert sms.provider_message_id == SID_1 and sms.body == "JA"


def test_a_re_split_request_with_a_new_message_id_is_refused(client: Client,
                                                            world: World) -> None:
    """The review's attack: the same signed characters, split so MessageSid changes."""
    original = twilio_params(world)
    signature = sign(original)
    assert post(client, original, signature).status_code == 200
    # "MessageSid" + sid + "NumMedia" + "0": the sid swallows the next name and value ...
    swallowed = {k: v for k, v in original.items() if k != "NumMedia"}
    swallowed["MessageSid"] = SID_1[:-1]
    swallowed["MessageSid" + SID_1[-1:]] = ""
    # ... or an extra parameter takes the rest of a shortened sid.
    extra = dict(original)
    extra["MessageSid"] = SID_1[:20]
    extra["MessageSid" + SID_1[:20] + "X"] = ""
    for forged in (swallowed, extra):
        forged.pop("X", None)
        response = post(client, forged, signature)
        assert response.status_code in (400, 403)
    assert [s.provider_message_id for s in stored()] == [SID_1]


def test_each_parameter_must_have_its_own_format() -> None:
    good = {"MessageSid": SID_1, "From": "+4791234567", "Body": "JA", "AccountSid": ACCOUNT}
    assert check_parameters(MultiDict(good), INBOUND, ("MessageSid",), ACCOUNT)["Body"] == "JA"
    for name, value in (("MessageSid", "SM1"), ("MessageSid", SID_1 + "0"),
                        ("MessageSid", "XX" + "1" * 32), ("MessageSid", SID_1.upper()),
                        ("From", "91234567"), ("From", "+47 912"), ("NumMedia", "0x1"),
                        ("AccountSid", "AC" + "b" * 32), ("Body", "a\x00b"),
                        ("Unknown", "1")):
        with pytest.raises(WebhookRefused):
            check_parameters(MultiDict({**good, name: value}), INBOUND, ("MessageSid",),
                             ACCOUNT)
    with pytest.raises(WebhookRefused, match="2 times"):
        check_parameters(MultiDict([*good.items(), ("Body", "NEI")]), INBOUND, (), ACCOUNT)


def test_another_accounts_request_is_refused(client: Client, world: World) -> None:
    params = {**twilio_params(world), "AccountSid": "AC" + "b" * 32}
    assert post(client, params).status_code == 400
    assert stored() == []


def test_an_unknown_parameter_can_be_allowed_by_configuration(
        app: Any, client: Client, world: World) -> None:
    params = {**twilio_params(world), "ChannelMetadata": "{}"}
    assert post(client, params).status_code == 400
    app.config["FOLGE"] = dataclasses.replace(app.config["FOLGE"],
                                              twilio_extra_params=("ChannelMetadata",))
    assert post(client, params).status_code == 200


def test_the_same_sender_and_text_under_a_new_id_within_10_minutes_is_not_acted_on(
        client: Client, world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    deliver_now()
    assert post(client, twilio_params(world, SID_1, "NEI")).status_code == 200
    assert appointment.answer is PatientAnswer.CANNOT_COME
    appointment.answer = PatientAnswer.NONE
    db.session.commit()
    assert post(client, twilio_params(world, SID_2, "NEI")).status_code == 200
    db.session.refresh(appointment)
    assert appointment.answer is PatientAnswer.NONE  # the replay changed nothing
    assert [s.provider_message_id for s in stored()] == [SID_1]
    # Later than 10 minutes the same words are a new message.
    db.session.execute(update(InboundSms).values(received_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    assert post(client, twilio_params(world, "SM" + "3" * 32, "NEI")).status_code == 200
    assert len(stored()) == 2


def test_delivery_reports_are_held_to_the_same_rules(client: Client, world: World) -> None:
    path = "/webhooks/sms/status"
    good = {"MessageSid": SID_1, "MessageStatus": "delivered", "AccountSid": ACCOUNT}
    assert post(client, good, path=path).status_code == 204
    for bad in ({**good, "MessageSid": "SM1"}, {**good, "MessageStatus": "delivered; DROP"},
                {**good, "Extra": "1"}):
        assert post(client, bad, path=path).status_code == 400
