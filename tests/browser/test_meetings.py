"""The responsibility group in headless Chromium: the coordinator chooses who takes part and
writes minutes linked to a goal (1366 px); the patient reads them (390 px) and follows the
link to the goal; a relative with the scope reads the minutes; axe on every page, nb/nn/en."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, choose_language
from tests.conftest import Factory, World

Axe = Callable[[Page], list[dict[str, Any]]]
SignIn = Callable[[Page, Any], None]


def meeting_with_goal(world: World, make: Factory) -> tuple[int, int, int]:
    """A started meeting of patient X with a care team and a goal: (meeting, goal, gp)."""
    from server.extensions import db
    from server.models import ServiceKind
    from server.models.base import utcnow
    from server.plans import goals

    team = make.care_team(world)
    goal = goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    meeting = make.appointment(world.patient_x, starts_in=timedelta(days=3), by=world.doctor_a,
                               service=ServiceKind.CLINIC, service_name="Ansvarsgruppemøte",
                               is_team_meeting=True)
    meeting.starts_at = utcnow() - timedelta(minutes=45)
    db.session.commit()
    ids = meeting.id, goal.id, team.gp.id
    db.session.rollback()
    return ids


def test_minutes_written_by_the_coordinator_reach_the_patient_and_the_relative(
        page: Page, world: World, make: Factory, sign_in_patient: SignIn, axe: Axe,
        browser, live_server: str, sign_in_staff: SignIn) -> None:  # type: ignore[no-untyped-def]
    from server.models import RelativeScope
    from server.services import relatives

    meeting_id, goal_id, gp_id = meeting_with_goal(world, make)
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=[RelativeScope.MEETING_NOTES.value]))
    relatives.accept(invitation, world.relative)
    staff = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 900},
                                locale="en-GB")
    staff.set_default_timeout(TIMEOUT_MS)
    try:
        coordinator = staff.new_page()
        sign_in_staff(coordinator, world.coordinator_a)
        coordinator.goto(f"/staff/appointments/{meeting_id}")
        coordinator.locator(f'#participants ~ form input[value="{gp_id}"]').check()
        coordinator.get_by_role("button", name="Save who takes part").click()
        expect(coordinator.locator(".flash")).to_contain_text("The participants are on")
        coordinator.get_by_label("Point 1", exact=True).fill("Søknaden om bolig sendes i mai.")
        coordinator.get_by_label("Point 1 is about").select_option(f"goal:{goal_id}")
        coordinator.get_by_label("Point 2", exact=True).fill("Neste møte etter sommeren.")
        coordinator.get_by_role("button", name="Save the minutes").click()
        expect(coordinator.locator(".flash")).to_contain_text("can read the minutes")
        expect(coordinator.get_by_label("Point 1", exact=True)).to_have_value(
            "Søknaden om bolig sendes i mai.")
        axe(coordinator)
    finally:
        staff.close()
    sign_in_patient(page, world.patient_x)
    page.goto(f"/me/appointments/{meeting_id}")
    minutes = page.locator("section.agreed")
    expect(minutes).to_contain_text("Minutes from the meeting")
    expect(minutes).to_contain_text("Søknaden om bolig sendes i mai.")
    expect(page.locator("main")).to_contain_text("Who takes part")
    axe(page)
    minutes.get_by_role("link", name="My goal: Få en fast bolig").click()
    expect(page.locator("main h1")).to_have_text("Få en fast bolig")
    page.context.clear_cookies()
    sign_in_patient(page, world.relative)
    page.goto(f"/relative/patients/{world.patient_x.id}/")
    page.get_by_role("link", name="Responsibility group: the next meeting and the minutes").click()
    expect(page.locator("main")).to_contain_text("Søknaden om bolig sendes i mai.")
    expect(page.locator("main")).not_to_contain_text("Få en fast bolig")
    axe(page)


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_the_meeting_pages_are_accessible(page: Page, world: World, make: Factory,
                                          sign_in_patient: SignIn, axe: Axe, lang: str) -> None:
    from server.extensions import db
    from server.models import ServiceKind

    meeting = make.appointment(world.patient_x, starts_in=timedelta(days=9), by=world.doctor_a,
                               service=ServiceKind.CLINIC, service_name="Ansvarsgruppemøte",
                               is_team_meeting=True)
    meeting_id = meeting.id
    db.session.rollback()
    page.goto("/sign-in")
    choose_language(page, lang)
    sign_in_patient(page, world.patient_x)
    for url in (f"/me/appointments/{meeting_id}", f"/me/appointments/{meeting_id}/before",
                "/me/appointments/"):
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("main h1")).to_be_visible()
        axe(page)
