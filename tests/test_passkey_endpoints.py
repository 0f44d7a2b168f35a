"""Passkey endpoints refuse bad input with a message, never a 500.

The full ceremony with a real authenticator runs in tests/browser/test_passkey.py.
"""

from __future__ import annotations

import pytest

from server.services import passkeys
from tests.conftest import Client, World, sign_in_as


def post_json(client: Client, url: str, body: object) -> object:
    token = client.csrf_token("/")
    return client.post(url, json=body, headers={"X-CSRFToken": token})


def test_sign_in_options_are_a_fresh_challenge_for_this_host(client: Client) -> None:
    token = client.csrf_token()
    first = client.post("/sign-in/passkey/options", headers={"X-CSRFToken": token}).json
    second = client.post("/sign-in/passkey/options", headers={"X-CSRFToken": token}).json
    assert first["rpId"] == "localhost"
    assert first["challenge"] != second["challenge"]


@pytest.mark.parametrize("body", [None, [], {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                                             "response": {}}, {"rawId": "%%%"}])
def test_sign_in_with_garbage_is_refused_politely(client: Client, body: object) -> None:
    token = client.csrf_token()
    client.post("/sign-in/passkey/options", headers={"X-CSRFToken": token})
    response = client.post("/sign-in/passkey", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert response.json["error"]
    assert client.get("/me/").status_code == 302


def test_sign_in_without_a_challenge_is_refused(client: Client) -> None:
    token = client.csrf_token()
    response = client.post("/sign-in/passkey", json={"rawId": "AAAA"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400 and "Start again" in response.json["error"]


def test_registration_options_name_the_patient(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    token = client.csrf_token("/account/passkeys")
    response = client.post("/account/passkeys/options", headers={"X-CSRFToken": token})
    options = response.json
    assert options["user"]["name"] == "Xena Pasient"
    assert options["authenticatorSelection"]["residentKey"] == "required"


def test_registration_with_garbage_is_refused(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    token = client.csrf_token("/account/passkeys")
    client.post("/account/passkeys/options", headers={"X-CSRFToken": token})
    response = client.post("/account/passkeys", json={"id": "x", "response": {}},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert "could not be added" in response.json["error"]
    assert passkeys.list_for(world.patient_x.user) == []


def test_staff_cannot_manage_passkeys(client: Client, world: World) -> None:
    sign_in_as(client, world.doctor_a)
    assert client.get("/account/passkeys").status_code == 404


def test_removing_someone_elses_passkey_is_refused(client: Client, world: World) -> None:
    from server.extensions import db
    from server.models import Passkey

    key = Passkey(user_id=world.patient_y.user_id, credential_id=b"abc", public_key=b"k",
                  sign_count=0, name="Y's phone")
    db.session.add(key)
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    response = client.submit(f"/account/passkeys/{key.id}/remove", page="/account/passkeys",
                             follow_redirects=True)
    assert "That passkey was not found." in response.text
    assert db.session.get(Passkey, key.id) is not None
