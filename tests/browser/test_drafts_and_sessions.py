"""Issue 13, drafts and sessions, in a real browser: a long form keeps what was typed on
the phone; a form sent after the session ended brings the person back to it after
signing in, with what they typed; a minute before an idle session ends, a warning offers
"Stay signed in"; and the sign-in page does not move while it loads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from server.extensions import db
from server.messages.models import ConversationMessage
from server.models import PatientProfile, User, UserSession
from server.models.base import utcnow
from tests.conftest import CapturingSms, World

SignIn = Callable[[Page, PatientProfile | User], None]
Axe = Callable[[Page], list[dict[str, Any]]]

TEXT = "Bussen er innstilt i morgen. Kan jeg komme på torsdag i stedet?"


def _end_the_session_as_idle(user_id: int) -> None:
    """What an hour without activity does: the session's last activity is long ago."""
    db.session.execute(update(UserSession).where(UserSession.user_id == user_id)
                       .values(last_seen_at=utcnow() - timedelta(hours=2)))
    db.session.commit()


def test_a_form_sent_after_the_session_ended_comes_back_with_what_was_typed(
        page: Page, world: World, sign_in_patient: SignIn, axe: Axe, sms: CapturingSms) -> None:
    user_id, phone = world.patient_x.user_id, world.patient_x.user.phone or ""
    db.session.rollback()
    sign_in_patient(page, world.patient_x)
    page.goto("/me/messages/new")
    page.get_by_label("Your message").fill(TEXT)
    page.wait_for_timeout(600)  # the draft is kept 0.3 s after the last key
    _end_the_session_as_idle(user_id)

    page.get_by_role("button", name="Send to my team").click()
    page.wait_for_url("**/sign-in")
    expect(page.locator(".flash")).to_contain_text("inactive for a while")
    assert not messages_from(user_id)  # nothing was stored

    # Signing in again leads back to the form, and what was typed is there.
    page.locator('input[name="phone"]').fill(phone)
    page.locator('form[action$="/sign-in"] button[type="submit"]').click()
    page.wait_for_url("**/sign-in/code")
    page.locator('input[name="code"]').fill(sms.last_code(phone))
    page.locator('form[action$="/sign-in/code"] button[type="submit"]').click()
    page.wait_for_url("**/me/messages/new")
    expect(page.get_by_label("Your message")).to_have_value(TEXT)
    expect(page.locator("[data-draft-notice]")).to_be_visible()
    axe(page)

    page.get_by_role("button", name="Send to my team").click()
    page.wait_for_url(re.compile(r"/me/messages/\d+$"))
    assert messages_from(user_id) == [TEXT]
    # Sent and stored: the draft is gone, the form is empty again.
    page.goto("/me/messages/new")
    expect(page.get_by_label("Your message")).to_have_value("")
    expect(page.locator("[data-draft-notice]")).to_be_hidden()


def messages_from(user_id: int) -> list[str]:
    db.session.rollback()
    found = list(db.session.scalars(select(ConversationMessage.body).where(
        ConversationMessage.author_id == user_id)))
    db.session.rollback()
    return found


def test_a_draft_survives_closing_the_page_and_start_again_clears_it(
        page: Page, world: World, sign_in_patient: SignIn) -> None:
    sign_in_patient(page, world.patient_x)
    page.goto("/me/take-home/new")
    page.get_by_label("Tell us more (optional)").fill("Begravelse i Tromsø.")
    page.wait_for_timeout(600)
    page.goto("/me/")
    page.goto("/me/take-home/new")
    expect(page.get_by_label("Tell us more (optional)")).to_have_value("Begravelse i Tromsø.")
    notice = page.locator("[data-draft-notice]")
    expect(notice).to_be_visible()
    notice.get_by_role("button", name="Start again").click()
    expect(page.get_by_label("Tell us more (optional)")).to_have_value("")
    expect(notice).to_be_hidden()


def test_signing_out_removes_drafts_from_the_phone(
        page: Page, world: World, sign_in_patient: SignIn) -> None:
    sign_in_patient(page, world.patient_x)
    page.goto("/me/messages/new")
    page.get_by_label("Your message").fill(TEXT)
    page.wait_for_timeout(600)
    assert page.evaluate("() => Object.keys(localStorage).some((k) => k.startsWith('folge-draft:'))")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in?signed_out=1")
    assert not page.evaluate(
        "() => Object.keys(localStorage).some((k) => k.startsWith('folge-draft:'))")


def test_a_minute_before_an_idle_sign_out_a_warning_offers_to_stay(
        page: Page, world: World, sign_in_patient: SignIn, axe: Axe) -> None:
    user_id = world.patient_x.user_id
    db.session.rollback()
    sign_in_patient(page, world.patient_x)
    dialog = page.locator("dialog[data-idle-warning]")
    expect(dialog).to_be_hidden()
    assert page.locator("body").get_attribute("data-idle-seconds") == "1800"
    # As if 29 and a half minutes had passed without anything happening.
    page.evaluate("() => localStorage.setItem('folge-last-activity', "
                  "String(Date.now() - 29.5 * 60 * 1000))")
    expect(dialog).to_be_visible(timeout=8000)
    expect(dialog).to_contain_text("You will be signed out in one minute")
    axe(page)
    before = _last_seen(user_id)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    assert _last_seen(user_id) >= before
    # Still signed in: the page works.
    page.goto("/me/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def _last_seen(user_id: int) -> Any:
    db.session.rollback()
    found = db.session.scalar(select(UserSession.last_seen_at).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)))
    db.session.rollback()
    return found


def test_the_sign_in_page_does_not_move_while_it_loads(page: Page) -> None:
    page.goto("/sign-in")
    page.wait_for_load_state("networkidle")
    shift = page.evaluate("""() => new Promise((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
        }).observe({type: "layout-shift", buffered: true});
        setTimeout(() => resolve(total), 500);
    })""")
    assert shift == 0
    # SMS first; the passkey card (shown by passkey.js) below it.
    sms_box = page.locator("section", has_text="With a code by SMS").bounding_box()
    passkey_box = page.locator("[data-passkey-sign-in]").bounding_box()
    assert sms_box and passkey_box and sms_box["y"] < passkey_box["y"]
    expect(page.locator("[data-passkey-sign-in]")).to_be_visible()
