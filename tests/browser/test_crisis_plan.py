"""The crisis plan in headless Chromium: written by the patient, kept on the phone, opened
with the network cut from "Need help now", removed by signing out; axe in nb, nn and en."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import choose_language
from tests.browser.test_appointments import wait_for_service_worker
from tests.conftest import World

Axe = Callable[[Page], list[dict[str, Any]]]
SignIn = Callable[[Page, Any], None]

KEPT_PLAN = """async () => {
  const personal = await caches.open("folge-personal");
  const pages = (await personal.keys()).map((r) => new URL(r.url).pathname);
  const flag = await (await caches.open("folge-settings")).match("/__keep-crisis-plan");
  return {pages, flag: Boolean(flag)};
}"""

FORGOTTEN = """async () => {
  for (let i = 0; i < 100; i++) {
    const left = (await caches.keys()).some((n) => n.startsWith("folge-personal"))
      || Boolean(await (await caches.open("folge-settings")).match("/__keep-crisis-plan"));
    if (!left) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}"""


def test_the_crisis_plan_is_written_kept_and_opened_offline(
        page: Page, world: World, sign_in_patient: SignIn, axe: Axe) -> None:
    sign_in_patient(page, world.patient_x)
    page.locator("header a.help-now").click()
    expect(page).to_have_url(re.compile(r"/me/crisis-plan$"))
    expect(page.locator('a[href="tel:113"]').first).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Write my crisis plan").click()
    page.get_by_label("1. Signs that things are getting worse").fill("Jeg sover ikke.")
    page.get_by_label("Who (1)").fill("Søster Line")
    page.get_by_label("Phone number (1)").fill("abc")
    page.get_by_role("button", name="Save my crisis plan").click()
    expect(page.locator(".error-summary")).to_contain_text("A phone number can only have digits")
    expect(page.get_by_label("1. Signs that things are getting worse")).to_have_value(
        "Jeg sover ikke.")  # nothing typed is lost
    axe(page)
    page.get_by_label("Phone number (1)").fill("912 34 000")
    page.get_by_role("button", name="Save my crisis plan").click()
    expect(page.locator(".flash")).to_contain_text("Your crisis plan is saved.")
    expect(page.locator('a[href="tel:+4791234000"]')).to_have_text("912 34 000")

    wait_for_service_worker(page)
    toggle = page.get_by_label("Keep my crisis plan on this phone")
    toggle.check()
    expect(page.locator("[data-offline-status]")).to_have_text("A copy is kept on this phone.")
    kept = page.evaluate(KEPT_PLAN)
    assert kept == {"pages": ["/me/crisis-plan"], "flag": True}, kept

    page.goto("/me/")
    page.context.set_offline(True)
    try:
        page.locator("header a.help-now").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("When things get hard")
        expect(page.get_by_text("Jeg sover ikke.")).to_be_visible()
        expect(page.locator('a[href="tel:113"]').first).to_be_visible()
        # Another personal page is not kept: the offline page, with the numbers and the way
        # to the plan.
        page.goto("/me/messages/")
        expect(page.get_by_role("heading", level=1)).to_have_text("No connection")
        expect(page.locator('a[href="tel:113"]')).to_be_visible()
        page.get_by_role("link", name="My crisis plan (if you keep it on this phone)").click()
        expect(page.get_by_text("Jeg sover ikke.")).to_be_visible()
    finally:
        page.context.set_offline(False)

    page.goto("/me/crisis-plan")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in\?signed_out=1$"))
    assert page.evaluate(FORGOTTEN), page.evaluate(KEPT_PLAN)
    page.context.set_offline(True)
    try:
        page.goto("/me/crisis-plan")
        expect(page.get_by_role("heading", level=1)).to_have_text("No connection")
        expect(page.get_by_text("Jeg sover ikke.")).to_have_count(0)
    finally:
        page.context.set_offline(False)


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_the_crisis_plan_and_goal_pages_are_accessible(page: Page, world: World, sign_in_patient: SignIn,
                                              axe: Axe, lang: str) -> None:
    from server.extensions import db
    from server.plans import crisis, goals

    crisis.save(world.patient_x, crisis.PlanInput(
        texts={"warning_signs": "Sover dårlig.", "naloxone": "I vesken."},
        contacts=[crisis.Contact("Mamma", "22 33 44 55")]), world.patient_x.user, None)
    goal = goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    goals.add(world.patient_x, "Mindre angst", world.doctor_a)  # a suggestion to answer
    goal_id = goal.id
    db.session.rollback()
    page.goto("/sign-in")
    choose_language(page, lang)
    sign_in_patient(page, world.patient_x)
    for url in ("/me/crisis-plan", "/me/crisis-plan/edit", "/me/crisis-plan/versions",
                "/me/crisis-plan/versions/1", "/me/goals", f"/me/goals/{goal_id}"):
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("main h1")).to_be_visible()
        axe(page)
