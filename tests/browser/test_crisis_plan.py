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


def test_before_the_appointment_and_what_we_agreed(
        page: Page, world: World, sign_in_patient: SignIn, axe: Axe,
        browser, live_server: str, sign_in_staff: SignIn, make) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from server.extensions import db
    from server.models import ServiceKind
    from server.models.base import utcnow
    from tests.browser.conftest import TIMEOUT_MS

    appointment = make.appointment(world.patient_x, service=ServiceKind.CLINIC,
                                   starts_in=timedelta(hours=3))
    appointment_id = appointment.id
    db.session.rollback()
    sign_in_patient(page, world.patient_x)
    page.goto(f"/me/appointments/{appointment_id}")
    page.locator(f'a[href$="/me/appointments/{appointment_id}/before"]').click()
    expect(page.get_by_text("What are my options?")).to_be_visible()
    page.get_by_label("Take-home doses").check()
    page.get_by_label("In your own words (if you want)").fill("Kan jeg slippe urinprøve?")
    axe(page)
    page.get_by_role("button", name="Send to the clinic").click()
    expect(page.locator(".flash")).to_contain_text("The clinic sees it before your appointment.")

    staff = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 900},
                                locale="en-GB")
    staff.set_default_timeout(TIMEOUT_MS)
    try:
        doctor = staff.new_page()
        sign_in_staff(doctor, world.doctor_a)
        doctor.goto("/staff/?who=all")
        expect(doctor.locator(f"#appointment-{appointment_id} a.talk")).to_contain_text(
            "Wants to talk about: Take-home doses")
        # The appointment has taken place (moved back in time), and the doctor writes.
        from server.models import Appointment

        db.session.get(Appointment, appointment_id).starts_at = (  # type: ignore[union-attr]
            utcnow() - timedelta(minutes=30))
        db.session.commit()
        doctor.goto(f"/staff/appointments/{appointment_id}")
        expect(doctor.get_by_text("Kan jeg slippe urinprøve?")).to_be_visible()
        doctor.get_by_label("What we agreed, one point per line, in plain words").fill(
            "Vi prøver blodprøve neste gang.\nNy time om to uker.")
        doctor.get_by_role("button", name="Save what we agreed").click()
        expect(doctor.locator(".flash")).to_contain_text("The patient can read what you agreed")
        axe(doctor)
    finally:
        staff.close()
    page.goto(f"/me/appointments/{appointment_id}")
    agreed = page.locator("section.agreed")
    expect(agreed).to_contain_text("Vi prøver blodprøve neste gang.")
    expect(agreed).to_contain_text("New")
    axe(page)
