"""A doctor's clinic day in headless Chromium: Today, attendance in the row, the worklist's
filters by keyboard, assignment, grouping, the patient overview, and a decision with its
context, on a PC screen and on a phone, with axe-core in nb, nn and en."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from server.care_team import team
from server.extensions import db
from server.models import Attendance, PatientAnswer, TakeHomeRequest, WorkItem, WorkKind
from server.models.base import utcnow
from server.services import appointments
from server.services.local_time import oslo_today, to_utc
from tests.browser.conftest import LOCALES, TIMEOUT_MS, choose_language
from tests.conftest import Factory, World

Axe = Callable[[Page], list[dict[str, Any]]]
SignIn = Callable[[Page, Any], None]


def _started(make: Factory, patient, minutes_ago: int):  # type: ignore[no-untyped-def]
    appointment = make.appointment(patient)
    appointment.starts_at = max(utcnow() - timedelta(minutes=minutes_ago),
                                to_utc(oslo_today(), time(0)))
    db.session.commit()
    return appointment


def _no_sideways_scroll(page: Page) -> None:
    width, inner = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width} > {inner}"


def _check(page: Page, axe: Axe, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    _no_sideways_scroll(page)
    axe(page)


@pytest.mark.parametrize(("width", "height", "lang"), [(1366, 900, "nb"), (390, 844, "nn")])
def test_a_doctor_works_through_the_day(
        browser: Browser, live_server: str, world: World, make: Factory, axe: Axe,
        sign_in_staff: SignIn, width: int, height: int, lang: str) -> None:
    team.add_staff_member(world.patient_x, world.doctor_a, "lege", world.doctor_a)
    came = _started(make, world.patient_x, 50)
    missed = _started(make, world.patient_y, 20)
    later = make.appointment(world.patient_x, starts_in=timedelta(days=4))
    appointments.answer(later, PatientAnswer.CANNOT_COME, reason="Jobb", call_me=True)
    request = make.take_home(world.patient_x, starts_in_days=40, days=5)
    ids = {"came": came.id, "missed": missed.id, "request": request.id,
           "x": world.patient_x.id, "y": world.patient_y.id}
    db.session.rollback()

    context = browser.new_context(base_url=live_server, viewport={"width": width,
                                                                  "height": height},
                                  device_scale_factor=1, locale=LOCALES[lang])
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/staff/sign-in")
        choose_language(page, lang)
        sign_in_staff(page, world.doctor_a)

        # Today: "my patients" first; the whole clinic one click away.
        expect(page.locator(f"#appointment-{ids['came']}")).to_be_visible()
        expect(page.locator(f"#appointment-{ids['missed']}")).to_have_count(0)
        _check(page, axe, lang)
        page.locator('main a[href$="/staff/?who=all"]').click()
        row = page.locator(f"#appointment-{ids['came']}")
        row.locator('button[name="attendance"][value="attended"]').click()
        expect(page.locator(".flash")).to_be_visible()
        expect(page.locator(f"#appointment-{ids['came']} button")).to_have_count(0)
        page.locator(f"#appointment-{ids['missed']}").locator(
            'button[name="attendance"][value="missed"]').click()
        expect(page.locator(f"#appointment-{ids['missed']} button")).to_have_count(0)
        assert page.url.endswith(f"/staff/?who=all#appointment-{ids['missed']}")
        _check(page, axe, lang)
        db.session.expire_all()
        outreach = db.session.scalars(select(WorkItem).where(
            WorkItem.kind == WorkKind.OUTREACH)).one()
        assert outreach.patient_id == ids["y"]
        assert db.session.get(type(came), ids["came"]).attendance is Attendance.ATTENDED
        outreach_id = outreach.id
        db.session.rollback()

        # The worklist: nothing is mine yet; take the outreach item; then it is.
        page.goto("/staff/worklist")
        page.locator('main .quick-filters a[href*="assignee=me"]').click()
        expect(page.locator("table.work-table")).to_have_count(0)
        page.goto("/staff/worklist")
        item_row = page.locator(f"#item-{outreach_id}")
        item_row.locator("select[name=assignee]").select_option("me")
        item_row.locator("form.assign button[type=submit]").click()
        expect(page.locator(".flash")).to_be_visible()
        page.locator('main .quick-filters a[href*="assignee=me"]').click()
        expect(page.locator(f"#item-{outreach_id}")).to_be_visible()
        expect(page.locator("main tr[id^=item-]")).to_have_count(1)
        _check(page, axe, lang)

        # The filters without a mouse: Tab to "group by patient", Space, Enter on "Show".
        page.goto("/staff/worklist")
        page.locator("#f-sort").focus()
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"group=patient"))
        expect(page.locator("tbody.work-group")).to_have_count(2)
        _check(page, axe, lang)

        # The overview: two columns on a PC screen, one on a phone.
        page.goto(f"/staff/patients/{ids['x']}")
        left = page.locator("#s-identity").bounding_box()
        right = page.locator("#s-team").bounding_box()
        assert left and right
        assert (right["x"] > left["x"]) == (width >= 1024)
        _check(page, axe, lang)

        # Decide the request from the overview, with its context above the form.
        page.locator(f'#s-take-home ~ ul a[href$="/staff/take-home/{ids["request"]}"]').click()
        form = page.locator("form[action$='/decide']").bounding_box()
        context_box = page.locator("main h2").nth(3).bounding_box()
        assert form and context_box and context_box["y"] < form["y"]
        _check(page, axe, lang)
        page.locator('input[name="outcome"][value="approve"]').check()
        page.locator('textarea[name="reason"]').fill("Stabil og trygg oppbevaring.")
        page.locator("form[action$='/decide'] button[type=submit]").click()
        expect(page.locator(".flash")).to_be_visible()
        db.session.expire_all()
        decided = db.session.get(TakeHomeRequest, ids["request"])
        assert decided is not None and decided.decided_at is not None
        db.session.rollback()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_the_staff_workspace_is_accessible_in_each_language(
        browser: Browser, live_server: str, world: World, make: Factory, axe: Axe,
        sign_in_staff: SignIn, lang: str) -> None:
    _started(make, world.patient_x, 10)
    answered = make.appointment(world.patient_y)
    appointments.answer(answered, PatientAnswer.NEW_TIME, reason="Etter 12")
    item_id = db.session.scalars(select(WorkItem.id)).one()
    patient_id = world.patient_x.id
    from server.plans import goals

    goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    db.session.rollback()
    context = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 900},
                                  device_scale_factor=1, locale=LOCALES[lang])
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/staff/sign-in")
        choose_language(page, lang)
        sign_in_staff(page, world.doctor_a)
        for url in ("/staff/?who=all", "/staff/worklist", "/staff/worklist?group=patient",
                    "/staff/worklist?kind=nonsense", f"/staff/worklist/{item_id}",
                    "/staff/patients?who=all", f"/staff/patients/{patient_id}",
                    f"/staff/patients/{patient_id}/goals"):
            page.goto(url)
            expect(page.locator("main h1")).to_be_visible()
            _check(page, axe, lang)
    finally:
        context.close()
