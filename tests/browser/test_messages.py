"""Messages in real Chromium (issue 12): the patient writes while offline and the message
arrives once when the phone is back online; the coordinator finds it assigned to them and
answers; the patient reads the answer; a garbled SMS shows up in the inbox. axe-core on
every new page in nb, nn and en."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from server.extensions import db
from server.messages.models import ConversationMessage
from server.services import sms_inbound
from tests.browser.conftest import TIMEOUT_MS, choose_language
from tests.conftest import CareTeam, Factory, World

Axe = Callable[[Page], Any]
SignIn = Callable[[Page, Any], None]
WAITING_KEY = "folge-waiting-requests"


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


def wide(browser: Browser, live_server: str) -> BrowserContext:
    """A staff member's PC screen."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 900},
                                  locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    return context


def messages_of(user_id: int) -> list[str]:
    db.session.rollback()
    found = list(db.session.scalars(select(ConversationMessage.body).where(
        ConversationMessage.author_id == user_id)))
    db.session.rollback()
    return found


def test_offline_message_arrives_once_is_answered_and_read(
        page: Page, browser: Browser, live_server: str, world: World, kari_team: CareTeam,
        sign_in_patient: SignIn, sign_in_staff: SignIn, axe: Axe, shots: Path) -> None:
    patient_user_id = world.patient_x.user_id
    db.session.rollback()
    sign_in_patient(page, world.patient_x)
    page.get_by_role("link", name="Write or read").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages to my team")
    axe(page)
    page.get_by_role("link", name="Write to my team").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write to my team")
    expect(page.locator("main")).to_contain_text("This is not for emergencies")
    expect(page.locator("main a[href='tel:113']")).to_be_visible()
    axe(page)

    # 1. Offline: the message is kept on the phone, nothing reaches the server.
    waiting = page.locator("[data-waiting]")
    page.context.set_offline(True)
    try:
        page.get_by_label("Your message").fill("Bussen er innstilt. Kan timen min flyttes?")
        page.get_by_label("Appointments").check()
        page.get_by_role("button", name="Send to my team").click()
        expect(waiting.locator("[data-waiting-status]")).to_contain_text(
            "Your message is kept on this phone")
        expect(page).to_have_url(re.compile(r"/me/messages/new$"))
        assert messages_of(patient_user_id) == []
        page.screenshot(path=str(shots / "message_offline.png"), full_page=True)
        axe(page)
    finally:
        page.context.set_offline(False)

    # 2. Online again: sent once, with a link to the conversation.
    status = waiting.locator("[data-waiting-status]")
    expect(status).to_have_text("Your message is sent to your team.")
    link = waiting.locator("[data-waiting-link] a")
    expect(link).to_have_text("See the message")
    expect(link).to_have_attribute("href", re.compile(r"^/me/messages/\d+$"))
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(status).to_have_text("Your message is sent to your team.")
    assert messages_of(patient_user_id) == ["Bussen er innstilt. Kan timen min flyttes?"]
    assert page.evaluate(f"() => localStorage.getItem({WAITING_KEY!r})") is None
    link.click()
    expect(page.locator("ol.thread li").first).to_contain_text("Not read yet")
    axe(page)

    # 3. The coordinator finds it assigned to them, and answers.
    staff = wide(browser, live_server)
    coordinator = staff.new_page()
    sign_in_staff(coordinator, world.coordinator_a)
    expect(coordinator.locator(".messages-count")).to_contain_text(
        "1 message waits for an answer")
    coordinator.get_by_role("link", name="Messages", exact=True).first.click()
    coordinator.locator("select[name='show']").select_option("mine")
    coordinator.get_by_role("button", name="Show").click()
    row = coordinator.locator("table.inbox tbody tr", has_text="Xena Pasient")
    expect(row).to_contain_text("Koordinator A")
    expect(row).to_contain_text("Bussen er innstilt")
    coordinator.screenshot(path=str(shots / "message_inbox.png"), full_page=True)
    axe(coordinator)
    row.get_by_role("link", name="Xena Pasient").click()
    axe(coordinator)
    coordinator.get_by_label("Answer", exact=True).fill("Vi flytter den til fredag kl. 10.")
    coordinator.get_by_role("button", name="Send the answer").click()
    expect(coordinator.locator(".flash")).to_contain_text("Answer sent")
    coordinator.screenshot(path=str(shots / "message_staff_conversation.png"), full_page=True)
    staff.close()

    # 4. The patient reads the answer: their message is read and answered.
    page.reload()
    thread = page.locator("ol.thread")
    expect(thread).to_contain_text("Vi flytter den til fredag kl. 10.")
    expect(thread.locator("li").first).to_contain_text("Read by your team")
    expect(thread.locator("li").first).to_contain_text("Answered")
    page.screenshot(path=str(shots / "message_answered.png"), full_page=True)
    for lang in ("nb", "nn", "en"):
        choose_language(page, lang)
        axe(page)
        page.goto("/me/messages/new")
        axe(page)
        page.goto("/me/messages/")
        axe(page)
        page.go_back()
        page.go_back()


def test_a_garbled_sms_is_in_the_inbox_and_every_staff_page_passes_axe(
        page: Page, browser: Browser, live_server: str, world: World, kari_team: CareTeam,
        make: Factory, sign_in_staff: SignIn, sign_in_patient: SignIn, axe: Axe,
        shots: Path) -> None:
    from server.models import ObservationKind, StaffRole
    from server.services import relatives

    sms_inbound.receive("SM" + "e" * 32, world.patient_x.user.phone or "",
                        "jjaaaaaaaaa nei??? ring 🙃")
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN, name="Leder A")
    access = relatives.accept(relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=relatives.SCOPES)), world.relative)
    relatives.observe(access, ObservationKind.WORRY, "Hun virker sliten.")
    clinic_id, patient_id = world.clinic_a.id, world.patient_x.id
    assert db.session.scalar(select(func.count()).select_from(ConversationMessage)) == 1
    db.session.rollback()
    staff = wide(browser, live_server)
    desk = staff.new_page()
    sign_in_staff(desk, admin)
    desk.goto("/staff/messages/")
    row = desk.locator("table.inbox tbody tr", has_text="Xena Pasient")
    expect(row).to_contain_text("jjaaaaaaaaa nei??? ring")
    expect(row).to_contain_text("(SMS)")
    desk.screenshot(path=str(shots / "message_inbox_sms.png"), full_page=True)
    pages = ["/staff/messages/", "/staff/messages/settings",
             f"/staff/messages/quick-answers/{clinic_id}",
             f"/staff/messages/patients/{patient_id}/new",
             f"/staff/patients/{patient_id}/relatives", "/staff/worklist", "/staff/"]
    for lang in ("nb", "nn", "en"):
        choose_language(desk, lang)
        for url in pages:
            desk.goto(url)
            axe(desk)
        desk.goto("/staff/messages/")
        desk.locator("table.inbox tbody tr a").first.click()
        axe(desk)
    staff.close()
    # The relative sees that the team has read what they told it.
    sign_in_patient(page, world.relative)
    page.goto(f"/relative/patients/{patient_id}/observations")
    expect(page.locator("main")).to_contain_text("Read by the team")
    for lang in ("nb", "nn", "en"):
        choose_language(page, lang)
        axe(page)
