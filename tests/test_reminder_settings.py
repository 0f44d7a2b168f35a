"""Patients choose channels (within what the clinic offers), lead times and quiet hours;
and turn push on or off for a phone."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import MessagePurpose, MessageStatus, OutboxMessage, PushSubscription, ReminderSettings
from tests.conftest import Client, Factory, World, sign_in_as

VALID = {"first": "sms", "second": "letter", "third": "", "evening_before": "19:00",
         "hours_before": "3", "quiet_from": "21:00", "quiet_until": "09:00"}


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"vapid_public_key": "BPublicKeyForTheTest"}


def test_saving_settings_re_plans_upcoming_reminders(client: Client, world: World,
                                                     make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=4))
    sign_in_as(client, world.patient_x.user)
    response = client.submit("/me/reminders", VALID)
    assert response.status_code == 302
    settings = db.session.get(ReminderSettings, world.patient_x.id)
    assert settings.evening_before_at == time(19, 0) and settings.hours_before == 3
    assert (settings.quiet_from, settings.quiet_until) == (time(21, 0), time(9, 0))
    db.session.refresh(world.patient_x)
    assert world.patient_x.contact_channels == ["sms", "letter"]
    pending = [m.idempotency_key for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment.id,
        OutboxMessage.purpose == MessagePurpose.REMINDER,
        OutboxMessage.status == MessageStatus.PENDING))]
    assert sorted(pending) == [f"reminder:{appointment.id}:v2:evening",
                               f"reminder:{appointment.id}:v2:h3"]
    page = client.get("/me/reminders").text
    assert '<option selected value="19:00">' in page


def test_only_channels_the_clinic_offers(client: Client, world: World) -> None:
    world.clinic_a.offered_channels = ["sms", "letter"]
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/reminders").text
    assert 'value="push"' not in page
    response = client.submit("/me/reminders", {**VALID, "first": "push"})
    assert response.status_code == 200 and "Choose one of the options shown." in response.text


def test_no_channel_at_all_is_refused(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    response = client.submit("/me/reminders", {**VALID, "first": "", "second": ""})
    assert "Choose at least one way to reach you." in response.text
    assert db.session.get(ReminderSettings, world.patient_x.id) is None


def test_quiet_hours_default_is_22_to_08(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/reminders").text
    assert '<option selected value="22:00">' in page and '<option selected value="08:00">' in page


def subscription_json(endpoint: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}


def test_push_subscribe_and_unsubscribe(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    token = client.csrf_token("/me/push")
    endpoint = "https://fcm.googleapis.com/fcm/send/abc123"
    response = client.post("/me/push/subscription", json=subscription_json(endpoint),
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json["ok"]
    assert db.session.scalars(select(PushSubscription)).one().endpoint == endpoint
    assert "Notifications are on for 1 phone." in client.get("/me/push").text
    response = client.post("/me/push/subscription/delete", json={"endpoint": endpoint},
                           headers={"X-CSRFToken": token})
    assert response.json["ok"] and db.session.scalar(select(PushSubscription)) is None


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/x", "https://127.0.0.1/x", "https://10.0.0.5/x",
    "https://localhost/x", "ftp://push.example/x", "https://[::1]/x",
])
def test_push_endpoints_inside_our_network_are_refused(client: Client, world: World,
                                                       endpoint: str) -> None:
    sign_in_as(client, world.patient_x.user)
    token = client.csrf_token("/me/push")
    response = client.post("/me/push/subscription", json=subscription_json(endpoint),
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400 and response.json["error"]
    assert db.session.scalar(select(PushSubscription)) is None


def test_test_notification_is_queued_for_push_only(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    response = client.submit("/me/push/test", page="/me/push", follow_redirects=True)
    assert "Turn on notifications on this phone first." in response.text
    db.session.add(PushSubscription(user_id=world.patient_x.user_id,
                                    endpoint="https://push.example/1", p256dh="B" * 87,
                                    auth="A" * 22))
    db.session.commit()
    response = client.submit("/me/push/test", page="/me/push", follow_redirects=True)
    assert "A test notification is on its way." in response.text
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.purpose is MessagePurpose.PUSH_TEST and message.channels == ["push"]


def test_staff_and_relatives_cannot_reach_the_settings(client: Client, world: World,
                                                        new_client) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, world.doctor_a)
    assert client.get("/me/reminders").status_code == 404
    relative = new_client()
    sign_in_as(relative, world.relative)
    assert relative.get("/me/push").status_code == 404
