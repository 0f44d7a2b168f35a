"""Passkeys with Chromium's virtual authenticator: add one, sign out, sign in with it."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from server.extensions import db
from server.models import Passkey, SignInEvent, SignInMethod, SignInOutcome
from tests.conftest import World

pytestmark = pytest.mark.browser

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def test_add_passkey_then_sign_in_with_it(
    page: Page, world: World, sign_in_patient: Callable[..., None]
) -> None:
    patient = world.patient_x
    user_id = patient.user_id
    # One DevTools session and one authenticator for the whole test: the passkey lives in it.
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    authenticator_id = authenticator["authenticatorId"]

    sign_in_patient(page, patient)
    page.goto("/account/passkeys")
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    expect(page.locator("[data-passkey-unsupported]")).to_be_hidden()
    add = page.locator("[data-passkey-register] [data-passkey-button]")
    expect(add).to_have_text("Add a passkey on this phone")
    add.click()

    expect(page.get_by_text("The passkey is added.")).to_be_visible()
    rows = page.locator("ul.plain-list li.row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Passkey added")
    expect(page.locator("[data-passkey-error]")).to_be_hidden()

    # The authenticator holds a discoverable credential for this site and this person...
    credentials = cdp.send("WebAuthn.getCredentials",
                           {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1
    credential = credentials[0]
    assert credential["isResidentCredential"] is True
    assert credential["rpId"] == "localhost"
    assert base64.b64decode(credential["userHandle"]) == f"folge-user-{user_id}".encode()
    # ... and the server stored the same credential for the same person.
    db.session.expire_all()
    stored = db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)).all()
    assert len(stored) == 1
    assert stored[0].credential_id == base64.b64decode(credential["credentialId"])
    assert stored[0].last_used_at is None
    db.session.rollback()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in\?signed_out=1$"))
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    sign_in = page.locator("[data-passkey-sign-in]")
    expect(sign_in).to_be_visible()
    sign_in.get_by_role("button", name="Sign in with passkey").click()

    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Xena Pasient")
    db.session.expire_all()
    stored_key = db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)).one()
    assert stored_key.last_used_at is not None
    outcomes = db.session.scalars(
        select(SignInEvent.outcome).where(SignInEvent.user_id == user_id,
                                          SignInEvent.method == SignInMethod.PASSKEY)
    ).all()
    assert outcomes == [SignInOutcome.SUCCESS]
    db.session.rollback()
    # The passkey page now says when it was last used.
    page.goto("/account/passkeys")
    expect(page.locator("ul.plain-list li.row").first).to_contain_text("last used")


def _press_passkey_sign_in_without_a_passkey(page: Page) -> Locator:
    """Press "Sign in with passkey" when the phone holds none; return the error element."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    page.goto("/sign-in")
    page.locator("[data-passkey-sign-in] [data-passkey-button]").click()
    error = page.locator("[data-passkey-sign-in] [data-passkey-error]")
    expect(error).to_be_visible()
    return error


def test_passkey_sign_in_without_a_passkey_shows_an_error(page: Page) -> None:
    error = _press_passkey_sign_in_without_a_passkey(page)
    expect(error).not_to_be_empty()
    expect(error).to_have_attribute("role", "alert")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator("[data-passkey-sign-in] [data-passkey-button]")).to_be_enabled()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_passkey_cancelled_message_is_the_apps_own(page: Page) -> None:
    error = _press_passkey_sign_in_without_a_passkey(page)
    expect(error).not_to_contain_text("w3.org", timeout=1000)
    expect(error).not_to_contain_text("The operation either timed out", timeout=1000)
    expect(error).to_have_text("The passkey was not used. Try again, or sign in with a code by SMS.")
