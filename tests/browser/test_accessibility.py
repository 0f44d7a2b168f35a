"""WCAG 2.2 AA checks with axe-core on the main pages, in each language.

The language is chosen the way a person does, with the buttons in the
footer (the browser itself asks for English), and must survive signing in.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import choose_language
from tests.conftest import World

pytestmark = pytest.mark.browser

LANGUAGES = ["nb", "nn", "en"]

Axe = Callable[[Page], object]


def _assert_lang(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator(f'footer button[name="lang"][value="{lang}"]')).to_have_attribute(
        "aria-current", "true")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sign_in_pages(page: Page, world: World, axe: Axe, lang: str) -> None:
    page.goto("/sign-in")
    choose_language(page, lang)
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    _assert_lang(page, lang)
    expect(page.locator("[data-passkey-sign-in]")).to_be_visible()  # shown by passkey.js
    axe(page)

    # The same page with an error: summary at the top, message tied to the field.
    page.locator('input[name="phone"]').fill("123")
    page.locator('form[action$="/sign-in"] button[type="submit"]').click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator('input[name="phone"]')).to_have_attribute("aria-invalid", "true")
    _assert_lang(page, lang)
    axe(page)

    page.goto("/staff/sign-in")
    _assert_lang(page, lang)
    axe(page)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_patient_home(page: Page, world: World, axe: Axe,
                      sign_in_patient: Callable[..., None], lang: str) -> None:
    page.goto("/sign-in")
    choose_language(page, lang)
    sign_in_patient(page, world.patient_x)
    _assert_lang(page, lang)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xena Pasient")
    axe(page)

    page.goto("/account/passkeys")
    _assert_lang(page, lang)
    expect(page.locator("[data-passkey-register] [data-passkey-button]")).to_be_visible()
    axe(page)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_staff_home(page: Page, world: World, axe: Axe,
                    sign_in_staff: Callable[..., None], lang: str) -> None:
    page.goto("/staff/sign-in")
    choose_language(page, lang)
    sign_in_staff(page, world.doctor_a)
    _assert_lang(page, lang)
    expect(page.locator("ul.counts > li")).to_have_count(6)  # Today, with its counts
    axe(page)
    # The clinic's patients are listed, so the list is checked too.
    page.goto("/staff/patients?who=all")
    expect(page.locator(".patient-list li")).to_have_count(2)
    _assert_lang(page, lang)
    axe(page)
