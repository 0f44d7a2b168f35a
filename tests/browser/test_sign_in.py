"""A patient signs in with the mobile number and the code from the SMS, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import CapturingSms, World

pytestmark = pytest.mark.browser


def test_patient_signs_in_with_sms_code(page: Page, world: World, sms: CapturingSms) -> None:
    phone = world.patient_x.user.phone
    assert phone
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Mobile number").fill(phone)
    page.get_by_role("button", name="Send me a code").click()

    expect(page).to_have_url(re.compile(r"/sign-in/code$"))
    assert [m.to for m in sms.sent] == [phone]
    code = sms.last_code(phone)
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Xena Pasient")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The session cookie is not readable by scripts on the page.
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["folge_session"]["httpOnly"] is True
    assert cookies["folge_session"]["sameSite"] == "Lax"


def test_wrong_code_is_refused_and_said_next_to_the_field(
    page: Page, world: World, sms: CapturingSms
) -> None:
    phone = world.patient_x.user.phone
    assert phone
    page.goto("/sign-in")
    page.get_by_label("Mobile number").fill(phone)
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(re.compile(r"/sign-in/code$"))
    right = sms.last_code(phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    field = page.get_by_label("Code from the SMS")
    field.fill(wrong)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page).to_have_url(re.compile(r"/sign-in/code$"))
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
