"""Which push subscriptions are stored, and who owns one (security review item 1).

The send-time checks (DNS answers, the connected socket's address) are in
tests/test_webpush.py, next to the stand-in push service.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from server.config import DEFAULT_PUSH_HOSTS, load_config
from server.extensions import db
from server.models import PushSubscription
from server.notify.push_endpoints import endpoint_allowed, is_ip_literal, is_public_address
from tests.conftest import Client, World, sign_in_as

KEYS = {"p256dh": "B" * 87, "auth": "A" * 22}


def subscribe(client: Client, endpoint: object, keys: object = None) -> Any:
    token = client.csrf_token("/me/push")
    return client.post("/me/push/subscription", json={"endpoint": endpoint, "keys": keys or KEYS},
                       headers={"X-CSRFToken": token})


@pytest.mark.parametrize("endpoint", [
    # Loopback spelled as the review found it, and more ways inet_aton reads an address.
    "https://127.1/x", "https://0177.0.0.1/x", "https://0x7f.0.0.1/x",
    "https://127.000.000.001/x", "https://2130706433/x", "https://0x7f000001/x",
    "https://017700000001/x", "https://[::1]/x", "https://[::ffff:127.0.0.1]/x",
    "https://[::ffff:7f00:1]/x", "https://10.0.0.5/x", "https://169.254.169.254/latest",
    # Names: internal ones with a dot, look-alikes of the push services, other ports/schemes.
    "https://db.internal/x", "https://intranet.sykehus.local/x", "https://localhost/x",
    "https://fcm.googleapis.com.evil.example/x", "https://evilfcm.googleapis.com/x",
    "https://fcm.googleapis.com:8443/x", "https://user:pw@fcm.googleapis.com/x",
    "http://fcm.googleapis.com/x", "ftp://fcm.googleapis.com/x", "https:///x", "not a url",
    "https://fcm.googleapis.com:99999/x",
])
def test_push_endpoint_that_could_reach_our_network_is_refused(
        client: Client, world: World, endpoint: str) -> None:
    sign_in_as(client, world.patient_x.user)
    response = subscribe(client, endpoint)
    assert response.status_code == 400 and response.json["error"]
    assert db.session.scalar(select(PushSubscription)) is None


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/abc123",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
    "https://wns2-db5p.notify.windows.com/w/?token=abc",
    "https://web.push.apple.com/QGuQyavXutnMH",
])
def test_the_big_browsers_push_services_are_accepted(client: Client, world: World,
                                                     endpoint: str) -> None:
    sign_in_as(client, world.patient_x.user)
    assert subscribe(client, endpoint).status_code == 200
    assert db.session.scalars(select(PushSubscription)).one().endpoint == endpoint


def test_push_hosts_come_from_the_environment() -> None:
    env = {"FOLGE_ENV": "testing", "FOLGE_SECRET_KEY": "k", "FOLGE_DATABASE_URL": "sqlite://"}
    assert load_config(env).push_hosts == DEFAULT_PUSH_HOSTS
    custom = load_config({**env, "FOLGE_PUSH_HOSTS": "push.example.no, .Other.Example"})
    assert custom.push_hosts == ("push.example.no", "other.example")
    assert endpoint_allowed("https://a.push.example.no/x", custom.push_hosts)
    assert not endpoint_allowed("https://fcm.googleapis.com/x", custom.push_hosts)


@pytest.mark.parametrize(("address", "public"), [
    ("142.250.74.10", True), ("2a00:1450:400f:80d::200a", True), ("127.0.0.1", False),
    ("10.1.2.3", False), ("172.31.255.255", False), ("192.168.0.1", False),
    ("169.254.0.1", False), ("100.64.0.1", False), ("100.127.255.255", False),
    ("224.0.0.251", False), ("239.255.255.250", False), ("0.0.0.0", False),
    ("255.255.255.255", False), ("::", False), ("::1", False), ("fe80::1", False),
    ("fc00::1", False), ("ff02::1", False), ("::ffff:127.0.0.1", False),
    ("::ffff:142.250.74.10", False), ("64:ff9b::a00:1", False), ("2002:a00:1::1", False),
    ("192.0.2.1", False), ("not an address", False),
])
def test_only_public_unicast_addresses_count_as_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize("host", ["127.1", "0177.0.0.1", "0x7f.0.0.1", "127.000.000.001",
                                  "2130706433", "1.2.3.4.", "[::1]", "::1", "10.0.0.5",
                                  "0x7f", "1.1"])
def test_ip_literals_in_any_notation_are_recognised(host: str) -> None:
    assert is_ip_literal(host)


def test_an_endpoint_stays_with_its_first_owner(client: Client, world: World,
                                                new_client: Any) -> None:
    endpoint = "https://fcm.googleapis.com/fcm/send/shared-phone"
    sign_in_as(client, world.patient_x.user)
    assert subscribe(client, endpoint).status_code == 200
    other = new_client()
    sign_in_as(other, world.patient_y.user)
    response = subscribe(other, endpoint, {"p256dh": "C" * 87, "auth": "D" * 22})
    # Refused with a hint for the page's script to get a fresh endpoint of its own.
    assert response.status_code == 409 and response.json["resubscribe"] is True
    stored = db.session.scalars(select(PushSubscription)).one()
    assert stored.user_id == world.patient_x.user_id and stored.p256dh == "B" * 87
    # Nor can the other account remove it.
    token = other.csrf_token("/me/push")
    other.post("/me/push/subscription/delete", json={"endpoint": endpoint},
               headers={"X-CSRFToken": token})
    assert db.session.scalars(select(PushSubscription)).one().user_id == world.patient_x.user_id


@pytest.mark.parametrize("body", ["just a string", ["a", "list"], 5, None])
def test_unsubscribe_with_a_body_that_is_not_an_object_changes_nothing(
        client: Client, world: World, body: object) -> None:
    sign_in_as(client, world.patient_x.user)
    subscribe(client, "https://fcm.googleapis.com/fcm/send/keep")
    token = client.csrf_token("/me/push")
    response = client.post("/me/push/subscription/delete", json=body,
                           headers={"X-CSRFToken": token})
    assert response.status_code in (200, 400)
    assert db.session.scalars(select(PushSubscription)).one().endpoint.endswith("/keep")


@pytest.mark.parametrize("keys", [{"p256dh": 5, "auth": "A" * 22}, {"p256dh": ["x"]}, "keys",
                                  {"p256dh": "B" * 86 + "\x00", "auth": "A" * 22}])
def test_subscription_keys_of_the_wrong_kind_are_refused(client: Client, world: World,
                                                         keys: object) -> None:
    sign_in_as(client, world.patient_x.user)
    response = subscribe(client, "https://fcm.googleapis.com/fcm/send/k", keys)
    assert response.status_code == 400 and response.json["error"]
    assert db.session.scalar(select(PushSubscription)) is None
